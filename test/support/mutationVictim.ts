/**
 * The child process of test/native.mutation.test.ts. With DTLNS_VICTIM=all (or a comma-separated
 * list of the entry points below) it calls each native entry point once per typed-array input, overwrites that input with poison (ids past every
 * bound and increasing, lengths of 2e9, NaN) right after the call and again every millisecond until the promise
 * settles, and prints one line per call: `<entry>.<input> ok` or `<entry>.<input> <error name>`. A crash shows in
 * the parent as a signal exit, a hang as a timeout. Without DTLNS_VICTIM (the test runner loading
 * this file) it does nothing.
 */
import { native } from '../../src/native.js';
import { packPaths } from '../../src/trees/path-codes.js';
import { randomGraph, randomState } from './training.js';
import { randomDraws, randomPaths } from './sampling.js';
import { adamDefaults } from '../../src/defaults.js';

type Options = Record<string, unknown>;

// Built on first use: the test runner also loads this file, without DTLNS_VICTIM.
let built: ReturnType<typeof randomGraph> | undefined;
const graph = () => (built ??= randomGraph(1500, 800, 40, 11));
const dim = 16;
const threads = 2;
const paths = () => {
  const co = randomPaths(graph().nItems, 6, 4, 3), se = randomPaths(graph().nItems, 6, 4, 4);
  return { pathsCo: co.paths, pathsCoLengths: co.lengths, pathsSe: se.paths, pathsSeLengths: se.lengths };
};
const train = (model: 'mf' | 'lightgcn', layers: number) => ({
  ...randomState(graph(), dim, 5, true), model, layers, trainIndptr: graph().trainIndptr.slice(),
  trainIndices: graph().trainIndices.slice(), optimizer: 'adam', lr: 1e-3, ...adamDefaults, l2: 1e-4, threads,
});
const n = 512;
const draws = (negs: number, layers: number, topK: number) => randomDraws(graph(), n, 1, negs, layers, topK, 9);

/** Fresh, valid options of each entry point, one call each. */
const entryPoints: Record<string, () => Options> = {
  maskedTopK: () => {
    const s = randomState(graph(), dim, 1);
    return {
      userEmb: s.userEmb, itemEmb: s.itemEmb, dim, users: Uint32Array.from({ length: graph().nUsers }, (_, u) => u), k: 20,
      threads, maskIndptr: graph().trainIndptr.slice(), maskIndices: graph().trainIndices.slice(),
    };
  },
  trainEpochLightGCN: () => ({ ...train('lightgcn', 2), batch: 256, seed: 1 }),
  trainEpochDtlns: () => ({ ...train('mf', 0), batch: 64, seed: 1, sampler: 'dtlns', negs: 8, ...paths() }),
  trainEpochPop: () => ({ ...train('mf', 0), batch: 64, seed: 1, sampler: 'pop', positives: 'user-uniform' }),
  // Label uses: the rejection set (here the positives themselves) and per-positive weights.
  trainEpochLabelled: () => ({
    ...train('lightgcn', 1), batch: 256, seed: 1, sampler: 'mixgcf', negs: 4,
    nonNegativesIndptr: graph().trainIndptr.slice(), nonNegativesIndices: graph().trainIndices.slice(),
    positiveWeights: new Float32Array(graph().trainIndices.length).fill(0.5),
  }),
  trainStepDtlns: () => {
    const d = draws(8, 2, 1);
    return { ...train('lightgcn', 2), sampler: 'dtlns', negs: 8, ...paths(), users: d.users, pos: d.pos, candidates: d.candidates, alphas: d.alphas };
  },
  trainStepDns: () => {
    const d = draws(8, 0, 4);
    return { ...train('mf', 0), sampler: 'dns', negs: 8, dnsTopK: 4, users: d.users, pos: d.pos, candidates: d.candidates, picks: d.picks };
  },
  trainStepRns: () => {
    const d = draws(1, 0, 1);
    return { ...train('mf', 0), sampler: 'rns', users: d.users, pos: d.pos, neg: d.candidates };
  },
  propagate: () => ({ ...train('lightgcn', 3) }),
  sampleUniform: () => ({ trainIndptr: graph().trainIndptr.slice(), trainIndices: graph().trainIndices.slice(), nItems: graph().nItems, seed: 1, batch: 64, threads }),
  sampleNegatives: () => ({
    trainIndptr: graph().trainIndptr.slice(), trainIndices: graph().trainIndices.slice(), nItems: graph().nItems, seed: 1, batch: 64,
    threads, sampler: 'pop', k: 2,
  }),
  mineNegatives: () => {
    const d = draws(8, 2, 1);
    return { ...train('lightgcn', 2), sampler: 'dtlns', negs: 8, ...paths(), users: d.users, pos: d.pos, candidates: d.candidates, alphas: d.alphas };
  },
  buildBalancedTree: () => {
    const s = randomState(graph(), dim, 2);
    return { points: s.itemEmb, n: graph().nItems, dim, branching: 4, leafSize: 8, maxIter: 20, seed: 1, threads };
  },
  jaccardGraph: () => ({ indptr: graph().trainIndptr.slice(), indices: graph().trainIndices.slice(), nItems: graph().nItems, threads }),
  spectralEmbedding: () => {
    // A ring of items with chords: connected, symmetric, non-negative.
    const rows = Array.from({ length: graph().nItems }, (_, i) =>
      [...new Set([(i + 1) % graph().nItems, (i + graph().nItems - 1) % graph().nItems, (i * 7) % graph().nItems].filter((j) => j !== i))].sort((a, b) => a - b));
    for (let i = 0; i < rows.length; i++) for (const j of rows[i]) if (!rows[j].includes(i)) rows[j].push(i);
    rows.forEach((r) => r.sort((a, b) => a - b));
    const indptr = new Uint32Array(rows.length + 1);
    rows.forEach((r, i) => (indptr[i + 1] = indptr[i] + r.length));
    const indices = Uint32Array.from(rows.flat());
    return { indptr, indices, values: new Float32Array(indices.length).fill(1), dims: 4, seed: 1, threads };
  },
  prefixSimilarityPairs: () => {
    const p = packPaths(Array.from({ length: 4000 }, (_, i) => [i % 4, (i >> 2) % 4, (i >> 4) % 4]));
    const count = 200_000;
    return {
      paths: p.paths, lengths: p.lengths, maxDepth: p.maxDepth, threads,
      a: Uint32Array.from({ length: count }, (_, k) => k % 4000), b: Uint32Array.from({ length: count }, (_, k) => (k * 7) % 4000),
      out: new Float32Array(count),
    };
  },
  prefixSimilarityOneToMany: () => {
    const p = packPaths(Array.from({ length: 4000 }, (_, i) => [i % 4, (i >> 2) % 4, (i >> 4) % 4]));
    return { paths: p.paths, lengths: p.lengths, maxDepth: p.maxDepth, item: 3, threads, others: Uint32Array.from({ length: 200_000 }, (_, k) => k % 4000), out: new Float32Array(200_000) };
  },
};

function poison(array: ArrayBufferView): void {
  // Ids past every bound, increasing: an offset array's rows then span entries past its indices.
  if (array instanceof Uint32Array) for (let i = 0; i < array.length; i++) array[i] = 0x80000000 + i;
  else if (array instanceof Int32Array) array.fill(2e9);
  else if (array instanceof Float32Array || array instanceof Float64Array) array.fill(NaN);
}

async function attack(entry: string, input: string): Promise<string> {
  const options = entryPoints[entry]();
  const target = options[input] as ArrayBufferView;
  const call = (native as unknown as Record<string, (o: Options) => Promise<unknown>>)[entry.replace(/(LightGCN|Dtlns|Pop|Dns|Rns|Labelled)$/, '')];
  let settled = false;
  const promise = call(options).then(() => 'ok', (error: Error) => error.name);
  poison(target);
  const timer = setInterval(() => settled || poison(target), 1);
  const outcome = await promise;
  settled = true;
  clearInterval(timer);
  return outcome;
}

// Each entry point prints `<entry> begins`, then one line `<entry>.<input> <outcome>` per call.
const chosen = process.env.DTLNS_VICTIM;
if (chosen) {
  for (const entry of chosen === 'all' ? Object.keys(entryPoints) : chosen.split(',')) {
    if (!(entry in entryPoints)) throw new Error(`unknown entry point ${entry}`);
    console.log(`${entry} begins`);
    const inputs = Object.entries(entryPoints[entry]()).filter(([, v]) => ArrayBuffer.isView(v)).map(([k]) => k);
    for (const input of inputs) console.log(`${entry}.${input} ${await attack(entry, input)}`);
  }
}

export const victimEntryPoints = Object.keys(entryPoints);

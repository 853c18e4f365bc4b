/**
 * Index trees: balanced k-means tree build (100K items x 64 dims, b=4, leaf 30) native on 1 and 2
 * threads next to the plain-TS implementation of the same algorithm; Jaccard + spectral features
 * of the benchmark dataset and, when ../shared/datasets is there, of dtlns-sports and gowalla;
 * prefix similarity in pairs/s.
 * Fair settings: the same points, seed and options for every tree implementation (nInit 1: the
 * default 10 multiplies every implementation's time alike); the TS tree and the features run once
 * each (they take seconds to a minute), the rest through benchmark.js.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { buildBalancedTree } from '../trees/kmeans.js';
import { buildBalancedTreeReference } from '../trees/kmeans-reference.js';
import { jaccardGraph, spectralEmbedding } from '../trees/spectral.js';
import { prefixSimilarity, prefixSimilarityReference } from '../trees/prefix.js';
import type { PathCodes } from '../trees/path-codes.js';
import type { Csr } from '../data/types.js';
import { loadDataset } from '../data/load.js';
import { packageRoot } from '../native.js';
import { formatRate, loadLine, ratioLine, runCases, runInterleaved, type BenchRow, type BenchSettings } from './harness.js';
import { benchDataset } from './data.js';
import { mulberry32 } from '../util/random.js';

/** One timed run, reported like a benchmark.js row (1 sample). */
async function timedOnce(suite: string, name: string, fn: () => unknown, unitsPerRun: number, unit: string, log: (line: string) => void): Promise<BenchRow> {
  const started = performance.now();
  await fn();
  const seconds = (performance.now() - started) / 1000;
  const row: BenchRow = { suite, name, unit, perSecond: unitsPerRun / seconds, secondsPerRun: seconds, rme: 0, samples: 1 };
  log(`  ${name.padEnd(40)} ${formatRate(row.perSecond).padStart(12)} ${unit}/s  ${(seconds * 1000).toFixed(2).padStart(10)} ms/run  (1 run)`);
  return row;
}

async function benchTreeBuild(settings: BenchSettings, log: (line: string) => void, quick: boolean): Promise<{ rows: BenchRow[]; codes: PathCodes }> {
  const n = quick ? 20_000 : 100_000, dim = 64;
  const rand = mulberry32(5);
  const points = Float32Array.from({ length: n * dim }, () => rand());
  const options = { branching: 4, leafSize: 30, nInit: 1, seed: 2026 };
  const input = `${n}x${dim}-b4-leaf30`;
  log(`trees: balanced k-means tree, ${n} points x ${dim} dims (uniform), branching 4, leaf 30, nInit 1`);
  const rows = await runCases('trees', [
    { name: `native-1t-${input}`, fn: () => buildBalancedTree(points, n, dim, { ...options, threads: 1 }), unitsPerRun: n, unit: 'items' },
    { name: `native-2t-${input}`, fn: () => buildBalancedTree(points, n, dim, { ...options, threads: 2 }), unitsPerRun: n, unit: 'items' },
  ], settings, log);
  rows.push(await timedOnce('trees', `ts-${input}`, () => buildBalancedTreeReference(points, n, dim, options), n, 'items', log));
  for (const line of [ratioLine(rows, `native-1t-${input}`, `ts-${input}`), ratioLine(rows, `native-2t-${input}`, `ts-${input}`)]) if (line) log(line);
  const tree = await buildBalancedTree(points, n, dim, { ...options, threads: 2 });
  return { rows, codes: tree };
}

async function benchFeatures(name: string, train: Csr, log: (line: string) => void): Promise<BenchRow[]> {
  const input = `${name}-${train.cols}i-${train.indptr[train.rows]}nnz`;
  let graph = await jaccardGraph(train, { threads: 2 });
  const rows = [await timedOnce('trees', `native-2t-jaccard-${input}`, async () => (graph = await jaccardGraph(train, { threads: 2 })), train.cols, 'items', log)];
  let products = 0;
  rows.push(await timedOnce('trees', `native-2t-spectral32-${input}`, async () => (products = (await spectralEmbedding(graph, { dims: 32, threads: 2 })).products), train.cols, 'items', log));
  log(`  (Jaccard graph ${graph.indices.length} entries; ${products} matrix-vector products)`);
  return rows;
}

async function benchPrefix(codes: PathCodes, settings: BenchSettings, log: (line: string) => void, quick: boolean): Promise<BenchRow[]> {
  // Both sides take all the pairs in interleaved rounds and write into one output array each,
  // reused across runs (options.out on the native side), as a caller computing batches would.
  const pairs = quick ? 200_000 : 1_000_000;
  const rand = mulberry32(9);
  const a = Uint32Array.from({ length: pairs }, () => Math.floor(rand() * codes.nItems));
  const b = Uint32Array.from({ length: pairs }, () => Math.floor(rand() * codes.nItems));
  const input = `${codes.nItems}i-depth${codes.maxDepth}`;
  log(`trees: prefix similarity LCP/min(len) over ${pairs} random pairs of ${codes.nItems} items (max depth ${codes.maxDepth}), interleaved; ${loadLine()}`);
  const out = [1, 2, 3].map(() => new Float32Array(pairs));
  const rows = await runInterleaved('trees', [
    { name: `native-1t-prefix-${input}`, fn: () => prefixSimilarity(codes, a, b, { threads: 1, out: out[0] }), unitsPerRun: pairs, unit: 'pairs' },
    { name: `native-2t-prefix-${input}`, fn: () => prefixSimilarity(codes, a, b, { threads: 2, out: out[1] }), unitsPerRun: pairs, unit: 'pairs' },
    {
      name: `ts-prefix-${input}`,
      fn: () => {
        for (let t = 0; t < pairs; t++) out[2][t] = prefixSimilarityReference(codes, a[t], b[t]);
        return out[2];
      },
      unitsPerRun: pairs,
      unit: 'pairs',
    },
  ], quick ? 3 : 9, log);
  for (const line of [ratioLine(rows, `native-1t-prefix-${input}`, `ts-prefix-${input}`), ratioLine(rows, `native-2t-prefix-${input}`, `ts-prefix-${input}`)]) if (line) log(line);
  return rows;
}

export async function benchTrees(settings: BenchSettings, log: (line: string) => void, quick: boolean): Promise<BenchRow[]> {
  const { rows, codes } = await benchTreeBuild(settings, log, quick);
  const dataset = await benchDataset(quick);
  log(`trees: Jaccard graph + 32 spectral features, 2 threads`);
  rows.push(...(await benchFeatures(dataset.name, dataset.train, log)));
  const shared = join(packageRoot, '..', 'shared', 'datasets');
  for (const name of quick ? ['dtlns-sports'] : ['dtlns-sports', 'gowalla']) {
    if (!existsSync(join(shared, name, 'train.txt'))) {
      log(`  (${join(shared, name)} is absent: skipped)`);
      continue;
    }
    const real = await loadDataset(join(shared, name));
    rows.push(...(await benchFeatures(name, real.train, log)));
  }
  rows.push(...(await benchPrefix(codes, settings, log, quick)));
  return rows;
}


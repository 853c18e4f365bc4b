/** native.mineNegatives against the plain-TS selection formulas, for the same explicit draws. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { native, type TrainModel } from '../src/native.js';
import { referenceLayerTables } from '../src/train/step-reference.js';
import { referenceMineNegatives, type ReferenceMined, type ScoringSampler } from '../src/sampling/sampler-reference.js';
import { packPaths } from '../src/trees/path-codes.js';
import { assertClose, randomGraph, randomState } from './support/training.js';
import { pathFields, randomDraws, randomPaths } from './support/sampling.js';
import { samplerCatalogue, samplerNames } from '../src/sampling/catalogue.js';

const graph = randomGraph(30, 40, 8, 11);
const dim = 8;
const state = randomState(graph, dim, 12);
const pathsCo = randomPaths(graph.nItems, 4, 3, 13);
const pathsSe = randomPaths(graph.nItems, 5, 2, 14);
const negs = 6;

interface Case {
  sampler: ScoringSampler;
  dnsTopK?: number;
  alphaCo?: number;
  alphaSe?: number;
  ahnsAlpha?: number;
  ahnsBeta?: number;
  ahnsP?: number;
}

function layersOf(model: TrainModel, layers: number): number {
  return model === 'mf' ? 0 : layers;
}

async function mine(c: Case, model: TrainModel, layers: number, k: number, seed: number, threads = 1) {
  const draws = randomDraws(graph, 25, k, negs, layersOf(model, layers), c.dnsTopK ?? 1, seed);
  const options = {
    ...c, negs, k, model, layers, nUsers: graph.nUsers, nItems: graph.nItems, dim, userEmb: state.userEmb, itemEmb: state.itemEmb,
    trainIndptr: graph.trainIndptr, trainIndices: graph.trainIndices, threads, ...pathFields(pathsCo, pathsSe), ...draws,
  };
  const ours = await native.mineNegatives(options);
  const tables = referenceLayerTables({ ...options });
  const theirs = referenceMineNegatives({ ...c, negs, k, tables, nUsers: graph.nUsers, dim, pathsCo, pathsSe, ...draws });
  return { ours, theirs };
}

/**
 * The same choice per (sample, negative, layer). Float32 (native) and float64 (reference)
 * scores can only disagree on a near-tie: then the native choice must score within 1e-5
 * of the reference's best.
 */
function assertSameChoices(ours: Uint32Array, theirs: ReferenceMined, label: string): number {
  let nearTies = 0;
  for (let g = 0; g < theirs.choice.length; g++) {
    if (ours[g] === theirs.choice[g]) continue;
    const scores = theirs.scores.subarray(g * negs, (g + 1) * negs);
    assert.ok(scores[theirs.choice[g]] - scores[ours[g]] < 1e-5, `${label}: choice ${g} native ${ours[g]} vs reference ${theirs.choice[g]}`);
    nearTies++;
  }
  return nearTies;
}

const cases: Case[] = [
  { sampler: 'dns' },
  { sampler: 'dns', dnsTopK: 3 },
  { sampler: 'ahns' },
  { sampler: 'ahns', ahnsAlpha: 0.2, ahnsBeta: 1, ahnsP: 0 },
  // Target = s_ui: at this fixture's scale the choice turns on the positive's score.
  { sampler: 'ahns', ahnsAlpha: 0, ahnsBeta: 1, ahnsP: 0 },
  { sampler: 'mixgcf' },
  { sampler: 'dtlns' },
  { sampler: 'dtlns', alphaCo: 0.5, alphaSe: 2 },
];
test('the reference cases cover every sampler that scores candidates', () => {
  for (const name of samplerNames.filter((n) => samplerCatalogue[n].capabilities.scoresCandidates)) assert.ok(cases.some((c) => c.sampler === name), `no mineNegatives case for ${name}`);
});
for (const c of cases) {
  for (const [model, layers] of [['mf', 0], ['lightgcn', 1], ['lightgcn', 2], ['lightgcn', 3]] as const) {
    for (const k of [1, 2]) {
      const label = `${c.sampler}${c.dnsTopK ? ` top-${c.dnsTopK}` : ''}${c.alphaSe ? ` alphas ${c.alphaCo}/${c.alphaSe}` : ''}${c.ahnsP !== undefined ? ` ahns ${c.ahnsAlpha}/${c.ahnsBeta}/${c.ahnsP}` : ''} ${model}-${layers} k=${k}`;
      test(`mineNegatives ${label} chooses as the reference`, async () => {
        const { ours, theirs } = await mine(c, model, layers, k, 20 + layers + 10 * k);
        const L1 = layersOf(model, layers) + 1;
        assert.equal(ours.choice.length, 25 * k * L1);
        assert.equal(assertSameChoices(ours.choice, theirs, label), 0, 'no near-ties in this fixture');
        assert.deepEqual(ours.items, theirs.items);
        assertClose(ours.negatives, theirs.negatives, `${label} negatives`);
        assertClose(ours.layerRows, theirs.layerRows, `${label} layerRows`);
        if ((c.sampler === 'mixgcf' || c.sampler === 'dtlns') && L1 > 1) {
          const perLayerDiffers = Array.from({ length: 25 * k }, (_, g) => ours.choice.subarray(g * L1, (g + 1) * L1)).some((row) => row.some((x) => x !== row[0]));
          assert.ok(perLayerDiffers, 'hop mixing chose different candidates at different layers somewhere');
        }
      });
    }
  }
}

test('mineNegatives is identical at 1 and 2 threads', async () => {
  for (const c of cases) {
    const one = await mine(c, 'lightgcn', 2, 2, 40, 1);
    const two = await mine(c, 'lightgcn', 2, 2, 40, 2);
    assert.deepEqual(one.ours, two.ours, c.sampler);
  }
});

test('dtlns with alphaCo = alphaSe = 0 chooses as mixgcf (min-max normalising keeps the order)', async () => {
  for (const [model, layers] of [['mf', 0], ['lightgcn', 3]] as const) {
    const mixgcf = await mine({ sampler: 'mixgcf' }, model, layers, 2, 50);
    const dtlns = await mine({ sampler: 'dtlns', alphaCo: 0, alphaSe: 0 }, model, layers, 2, 50);
    assert.deepEqual(dtlns.ours.choice, mixgcf.ours.choice, `${model}-${layers}`);
    assert.deepEqual(dtlns.ours.negatives, mixgcf.ours.negatives, `${model}-${layers}`);
  }
});

test('dtlns with a dominant semantic weight picks the candidate sharing the longest semantic prefix', async () => {
  // Item 0's semantic path is 0-0-0; item 1 shares all of it, item 2 two levels, the rest none.
  const se = packPaths(Array.from({ length: graph.nItems }, (_, i) => (i === 0 ? [0, 0, 0] : i === 1 ? [0, 0, 0] : i === 2 ? [0, 0, 1] : [1, 1, 1])));
  const user = Array.from({ length: graph.nUsers }, (_, u) => u).find((u) => {
    const row = graph.trainIndices.subarray(graph.trainIndptr[u], graph.trainIndptr[u + 1]);
    return row.includes(0) && !row.includes(1) && !row.includes(2) && row.length < graph.nItems - 5;
  });
  assert.ok(user !== undefined, 'fixture has a user with item 0 but not items 1, 2');
  const row = graph.trainIndices.subarray(graph.trainIndptr[user], graph.trainIndptr[user + 1]);
  const others = Array.from({ length: graph.nItems }, (_, i) => i).filter((i) => i > 2 && !row.includes(i)).slice(0, 4);
  for (const [order, expected] of [[[2, ...others, 1], 1], [[...others, 2], 2]] as const) {
    const candidates = Uint32Array.from(order);
    const result = await native.mineNegatives({
      sampler: 'dtlns', negs: candidates.length, alphaCo: 0, alphaSe: 100, model: 'lightgcn', layers: 1, nUsers: graph.nUsers,
      nItems: graph.nItems, dim, userEmb: state.userEmb, itemEmb: state.itemEmb, trainIndptr: graph.trainIndptr,
      trainIndices: graph.trainIndices, threads: 1, ...pathFields(pathsCo, se), users: Uint32Array.of(user), pos: Uint32Array.of(0),
      candidates, alphas: Float32Array.of(0.3, 0.6),
    });
    assert.deepEqual(Array.from(result.items), [expected, expected]);
  }
});

test('ahns chooses the candidate whose score is nearest a target that follows the positive score', async () => {
  // beta = 1, p = 0, alpha = 0: the target is s_ui itself. Two users' positives with different
  // scores must pull the choice to different candidates among the same ones.
  const users = Uint32Array.from({ length: 25 }, (_, x) => x % graph.nUsers);
  const pos = Uint32Array.from(users, (u) => graph.trainIndices[graph.trainIndptr[u]]);
  const free = (u: number) => Array.from({ length: graph.nItems }, (_, i) => i).filter((i) => !graph.trainIndices.subarray(graph.trainIndptr[u], graph.trainIndptr[u + 1]).includes(i));
  const candidates = Uint32Array.from(Array.from(users).flatMap((u) => free(u).slice(0, negs)));
  const options = {
    sampler: 'ahns' as const, negs, ahnsAlpha: 0, ahnsBeta: 1, ahnsP: 0, model: 'mf' as const, layers: 0, nUsers: graph.nUsers, nItems: graph.nItems, dim,
    userEmb: state.userEmb, itemEmb: state.itemEmb, trainIndptr: graph.trainIndptr, trainIndices: graph.trainIndices, threads: 1, users, pos, candidates,
  };
  const ours = await native.mineNegatives(options);
  const dotRows = (u: number, i: number) => Array.from({ length: dim }, (_, d) => state.userEmb[u * dim + d] * state.itemEmb[i * dim + d]).reduce((a, b) => a + b, 0);
  for (let b = 0; b < users.length; b++) {
    const cand = Array.from(candidates.subarray(b * negs, (b + 1) * negs));
    const target = dotRows(users[b], pos[b]);
    const gaps = cand.map((j) => Math.abs(dotRows(users[b], j) - target));
    assert.equal(ours.choice[b], gaps.indexOf(Math.min(...gaps)), `sample ${b}`);
  }
  // The target moves with the positive: another positive score moves some choices.
  const shifted = await native.mineNegatives({ ...options, ahnsAlpha: 3 });
  assert.notDeepEqual(shifted.choice, ours.choice);
});

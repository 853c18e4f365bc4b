/**
 * The plain-TS selection formulas on a case worked out by hand (every choice, score and pooled
 * negative of dns, dns top-k, mixgcf and dtlns, two negatives per positive over two layers), and
 * the reference's argument errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { referenceMineNegatives, referenceSamplerStep, type ReferenceMineOptions } from '../src/sampling/sampler-reference.js';
import { packPaths } from '../src/trees/path-codes.js';
import { assertClose, cloneState, randomGraph, randomState, randomTriples } from './support/training.js';

// 1 user, 4 items, dim 1, two layers given directly: rows [user; items].
//   E^0: user 1, items [0.5, 1, 2, 3];  E^1: user 3, items [1, -1, 0.5, 2].
//   F_u = (1 + 3) / 2 = 2; item finals [0.75, 0, 1.25, 2.5].
const tables = [Float64Array.of(1, 0.5, 1, 2, 3), Float64Array.of(3, 1, -1, 0.5, 2)];
// One positive (user 0, item 0), k = 2 groups of negs = 3 candidates: [1, 2, 3] and [3, 2, 2].
const base: ReferenceMineOptions = {
  sampler: 'dns', negs: 3, k: 2, tables, nUsers: 1, dim: 1, users: Uint32Array.of(0), pos: Uint32Array.of(0), candidates: Uint32Array.of(1, 2, 3, 3, 2, 2),
};
// Mixing weights per (group, layer): g0 l0 0.5, g0 l1 0, g1 l0 0.25, g1 l1 1.
const alphas = [0.5, 0, 0.25, 1];

test('dns: the best candidate by <F_u, F_j>, the same at every layer; top-k picks by rank, ties to the lower index', () => {
  // Scores 2 x finals: group 0 [0, 2.5, 5] -> candidate 2 (item 3); group 1 [5, 2.5, 2.5] -> candidate 0 (item 3).
  const best = referenceMineNegatives(base);
  assert.deepEqual(best.choice, Uint32Array.of(2, 2, 0, 0));
  assert.deepEqual(best.items, Uint32Array.of(3, 3, 3, 3));
  assert.deepEqual(best.scores, Float64Array.of(0, 2.5, 5, 0, 2.5, 5, 5, 2.5, 2.5, 5, 2.5, 2.5));
  // The negative's per-layer rows are item 3's (3, then 2); its final embedding 2.5.
  assert.deepEqual(best.layerRows, Float64Array.of(3, 2, 3, 2));
  assert.deepEqual(best.negatives, Float64Array.of(2.5, 2.5));
  // dnsTopK 3, picks [1, 2]: group 0 ranks [2, 1, 0] -> rank 1 is candidate 1 (item 2);
  // group 1 ranks [0, 1, 2] (the tie 2.5 / 2.5 to the lower index) -> rank 2 is candidate 2 (item 2).
  const picked = referenceMineNegatives({ ...base, dnsTopK: 3, picks: Uint32Array.of(1, 2) });
  assert.deepEqual(picked.choice, Uint32Array.of(1, 1, 2, 2));
  assert.deepEqual(picked.negatives, Float64Array.of(1.25, 1.25));
});

test('mixgcf: per layer the argmax of <F_u, a e_i + (1 - a) e_c>; the negative is the mean of the mixed rows', () => {
  // g0 l0 (a 0.5):  2 (0.25 + 0.5 [1, 2, 3])   = [1.5, 2.5, 3.5]   -> 2, row 0.25 + 1.5 = 1.75
  // g0 l1 (a 0):    2 [-1, 0.5, 2]             = [-2, 1, 4]        -> 2, row 2
  // g1 l0 (a 0.25): 2 (0.125 + 0.75 [3, 2, 2]) = [4.75, 3.25, 3.25] -> 0, row 0.125 + 2.25 = 2.375
  // g1 l1 (a 1):    2 x 1 for every candidate  = [2, 2, 2]         -> 0 (tie), row 1
  const m = referenceMineNegatives({ ...base, sampler: 'mixgcf', alphas });
  assert.deepEqual(m.choice, Uint32Array.of(2, 2, 0, 0));
  assert.deepEqual(m.items, Uint32Array.of(3, 3, 3, 3));
  assert.deepEqual(m.scores, Float64Array.of(1.5, 2.5, 3.5, -2, 1, 4, 4.75, 3.25, 3.25, 2, 2, 2));
  assert.deepEqual(m.layerRows, Float64Array.of(1.75, 2, 2.375, 1));
  assert.deepEqual(m.negatives, Float64Array.of((1.75 + 2) / 2, (2.375 + 1) / 2));
});

test('dtlns: min-max normalised mixgcf scores plus alphaCo sim_co + alphaSe sim_se', () => {
  // sim_co(0, j): paths [0] [0] [1] [2] -> item 1: 1, items 2, 3: 0.
  // sim_se(0, j): paths [0,0] [1] [0,1] [0,0] -> item 1: 0, item 2: 1/2, item 3: 2/2 = 1.
  // alphaCo 2, alphaSe 0.3: bonus item 1 2, item 2 0.15, item 3 0.3.
  const pathsCo = packPaths([[0], [0], [1], [2]]);
  const pathsSe = packPaths([[0, 0], [1], [0, 1], [0, 0]]);
  const m = referenceMineNegatives({ ...base, sampler: 'dtlns', alphas, alphaCo: 2, alphaSe: 0.3, pathsCo, pathsSe });
  const span = (lo: number, hi: number) => hi - lo + 1e-8;
  // g0 l0: ([1.5, 2.5, 3.5] - 1.5) / span(1.5, 3.5) + [2, 0.15, 0.3] -> candidate 0 (item 1), row 0.25 + 0.5 = 0.75
  // g0 l1: ([-2, 1, 4] + 2) / span(-2, 4) + bonus                     -> candidate 0, row -1
  // g1 l0: ([4.75, 3.25, 3.25] - 3.25) / span(3.25, 4.75) + [0.3, 0.15, 0.15] -> candidate 0 (item 3), row 2.375
  // g1 l1: all 2: 0 / 1e-8 + [0.3, 0.15, 0.15]                       -> candidate 0, row 1
  const expected = [
    0 + 2, 1 / span(1.5, 3.5) + 0.15, 2 / span(1.5, 3.5) + 0.3,
    0 + 2, 3 / span(-2, 4) + 0.15, 6 / span(-2, 4) + 0.3,
    1.5 / span(3.25, 4.75) + 0.3, 0 + 0.15, 0 + 0.15,
    0.3, 0.15, 0.15,
  ];
  assertClose(m.scores, expected, 'dtlns scores', 1e-12, 1e-12);
  assert.deepEqual(m.choice, Uint32Array.of(0, 0, 0, 0));
  assert.deepEqual(m.items, Uint32Array.of(1, 1, 3, 3));
  assert.deepEqual(m.layerRows, Float64Array.of(0.75, -1, 2.375, 1));
  assert.deepEqual(m.negatives, Float64Array.of((0.75 - 1) / 2, (2.375 + 1) / 2));
});

test('referenceMineNegatives names each bad argument', () => {
  const paths = packPaths([[0], [0], [1], [2]]);
  const cases: Array<[Partial<ReferenceMineOptions>, RegExp]> = [
    [{ sampler: 'rns' as never }, /for sampler\b/],
    [{ negs: 0 }, /for negs\b/],
    [{ k: 0 }, /for k\b/],
    [{ dnsTopK: 4 }, /for dnsTopK\b/],
    [{ tables: [] }, /Expected at least the layer-0 table in tables but received none$/],
    [{ users: [0] as never }, /for users\b/],
    [{ pos: Uint32Array.of(0, 0) }, /for pos\b/],
    [{ candidates: Uint32Array.of(1, 2) }, /for candidates\b/],
    [{ sampler: 'mixgcf', alphas: [0.5] }, /Expected 4 elements in alphas but received 1$/],
    [{ sampler: 'mixgcf' }, /Expected 4 elements in alphas but received undefined$/],
    [{ dnsTopK: 2, picks: Uint32Array.of(0) }, /for picks\b/],
    [{ alphaCo: 'x' as never }, /for alphaCo\b/],
    [{ alphaSe: 'x' as never }, /for alphaSe\b/],
    [{ sampler: 'dtlns', alphas, pathsSe: paths }, /for pathsCo\b/],
    [{ sampler: 'dtlns', alphas, pathsCo: paths }, /for pathsSe\b/],
  ];
  for (const [override, message] of cases) {
    assert.throws(() => referenceMineNegatives({ ...base, ...override }), message, `${JSON.stringify(Object.keys(override))} -> ${message}`);
  }
  // dns reads no alphas and, with dnsTopK 1, no picks; mixgcf reads no picks whatever dnsTopK says.
  assert.doesNotThrow(() => referenceMineNegatives({ ...base, alphas: [1], picks: undefined }));
  assert.doesNotThrow(() => referenceMineNegatives({ ...base, sampler: 'mixgcf', alphas, dnsTopK: 2, picks: undefined }));
});

test('referenceSamplerStep: MF ignores layers, and rns names its negatives', () => {
  const graph = randomGraph(8, 10, 4, 61);
  const { users, pos, neg } = randomTriples(graph, 6, 62);
  const hyper = (layers: number) => ({
    model: 'mf' as const, layers, optimizer: 'sgd' as const, trainIndptr: graph.trainIndptr, trainIndices: graph.trainIndices,
    lr: 0.5, beta1: 0.9, beta2: 0.999, eps: 1e-8, l2: 0.01,
  });
  const start = randomState(graph, 3, 63);
  const zero = cloneState(start), two = cloneState(start), batch = cloneState(start);
  const rns = { sampler: 'rns' as const, negs: 1, k: 1 };
  referenceSamplerStep(zero, hyper(0), rns, users, pos, { neg });
  referenceSamplerStep(two, hyper(2), rns, users, pos, { neg });
  assert.deepEqual(two.itemEmb, zero.itemEmb, 'MF with layers 2 is MF');
  // Also with k = 2 negatives per positive (the mini-batch step, one item per layer of MF's one layer).
  const pairs = Uint32Array.from({ length: 2 * neg.length }, (_, x) => neg[x >> 1]);
  const zeroK2 = cloneState(start), twoK2 = cloneState(start);
  referenceSamplerStep(zeroK2, hyper(0), { ...rns, k: 2 }, users, pos, { neg: pairs });
  referenceSamplerStep(twoK2, hyper(2), { ...rns, k: 2 }, users, pos, { neg: pairs });
  assert.deepEqual(twoK2.itemEmb, zeroK2.itemEmb, 'MF with layers 2 and k = 2 is MF');
  // k = 1 with SGD on MF is the per-sample (Hogwild) step, not the mini-batch one.
  referenceSamplerStep(batch, hyper(0), { ...rns, sampler: 'dns', negs: 1 }, users, pos, { candidates: neg });
  assert.notDeepEqual(batch.itemEmb, zero.itemEmb);
  assert.throws(() => referenceSamplerStep(cloneState(start), hyper(0), rns, users, pos, {}), /for neg\b/);
  assert.throws(() => referenceSamplerStep(cloneState(start), hyper(0), { ...rns, sampler: 'dns' }, users, pos, {}), /for candidates\b/);
});

/**
 * What trainEpoch draws, read back from the parameters: with MF, plain SGD, no L2 and one
 * sample per epoch, the only item rows an epoch moves are the sample's positive and its chosen
 * negative, and the move is an exact function of the mixing weight. So each test sees the draw
 * of every seed: the dns pick among the top-k, the mixgcf mixing weight, the dtlns similarity
 * weights; and, through sampleNegatives, the user-uniform positive.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { native, type ModelState, type SamplerName } from '../src/native.js';
import { packPaths } from '../src/trees/path-codes.js';
import { pathFields } from './support/sampling.js';
import { graphFromRows, type Graph } from './support/training.js';
import { adamDefaults } from '../src/defaults.js';

// One user whose only positive is item 0; items 1..5 are the non-positives.
const nItems = 6;
const graph = graphFromRows([[0]], nItems);
// dim 2, user (1, 0): item j scores its first coordinate. Positive 0.05; items 1..5 score 0.1 .. 0.5.
const itemScores = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5];
const lr = 0.1;

function state(): ModelState {
  return {
    nUsers: 1, nItems, dim: 2, userEmb: Float32Array.of(1, 0), itemEmb: Float32Array.from(itemScores.flatMap((s) => [s, 0.25])),
    userM: new Float32Array(2), userV: new Float32Array(2), itemM: new Float32Array(2 * nItems), itemV: new Float32Array(2 * nItems), step: 0,
  };
}

async function oneSampleEpoch(sampler: SamplerName, seed: number, extra: object = {}, g: Graph = graph) {
  const s = state();
  const before = s.itemEmb.slice();
  await native.trainEpoch({
    ...s, model: 'mf', layers: 0, optimizer: 'sgd', lr, ...adamDefaults, l2: 0, batch: 1, seed, threads: 1,
    trainIndptr: g.trainIndptr, trainIndices: g.trainIndices, sampler, k: 1, ...extra,
  });
  // The negative: the one non-positive row that moved.
  const moved = [1, 2, 3, 4, 5].filter((j) => s.itemEmb[2 * j] !== before[2 * j]);
  assert.equal(moved.length, 1, `seed ${seed}: exactly one negative row moves (moved ${moved.join(', ')})`);
  return { negative: moved[0], delta: s.itemEmb[2 * moved[0]] - before[2 * moved[0]] };
}

test('dns with dnsTopK = negs picks a uniformly random candidate, not always the best', async () => {
  // negs = dnsTopK = 5 candidates drawn uniformly from items 1..5, then a uniform rank among them:
  // a uniform element of the draws, so each item is the negative with probability exactly 1/5.
  // The best-only bug picks item 1 (the lowest score) only when all five draws are item 1: (1/5)^5.
  const counts = new Array<number>(nItems).fill(0);
  for (let seed = 1; seed <= 200; seed++) counts[(await oneSampleEpoch('dns', seed, { negs: 5, dnsTopK: 5 })).negative]++;
  // 200 draws at p = 1/5: mean 40, std 5.7 per item.
  for (let j = 1; j <= 5; j++) assert.ok(counts[j] > 17 && counts[j] < 63, `item ${j} chosen ${counts[j]} times of 200 (expected 40)`);
  // dnsTopK = 1 is the argmax: item 5 whenever drawn, 1 - (4/5)^5 = 67 % of the seeds.
  const best = new Array<number>(nItems).fill(0);
  for (let seed = 1; seed <= 200; seed++) best[(await oneSampleEpoch('dns', seed, { negs: 5, dnsTopK: 1 })).negative]++;
  assert.ok(best[5] > 110 && best[1] <= 1, `argmax picks: ${best.join(' ')}`);
});

/** t sigma(t D) is increasing in t on [0, 1] for D >= 0: bisection. */
function solveOneMinusAlpha(m: number, D: number): number {
  const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
  let lo = 0, hi = 1;
  for (let it = 0; it < 60; it++) {
    const mid = (lo + hi) / 2;
    if (mid * sigmoid(mid * D) < m) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

test('mixgcf draws its mixing weight alpha uniformly in [0, 1) each epoch', async () => {
  // MF, one candidate c: the negative is a e_i + (1 - a) e_c, x = <e_u, neg> - <e_u, e_i> = (1 - a)(s_c - s_i),
  // loss softplus(x), so SGD moves e_c by -lr sigma(x) (1 - a) e_u: its first coordinate by
  // -lr (1 - a) sigma((1 - a) D) with D = s_c - s_i > 0. Solving for a recovers each epoch's weight.
  const alphas: number[] = [];
  for (let seed = 1; seed <= 100; seed++) {
    const { negative, delta } = await oneSampleEpoch('mixgcf', seed, { negs: 1 });
    const t = solveOneMinusAlpha(-delta / lr, itemScores[negative] - itemScores[0]);
    alphas.push(1 - t);
  }
  const mean = alphas.reduce((a, b) => a + b, 0) / alphas.length;
  // U[0, 1): mean 1/2 with std 0.289 / sqrt(100) = 0.029; the extremes of 100 draws lie near 0 and 1.
  assert.ok(Math.abs(mean - 0.5) < 0.1, `mean alpha ${mean}`);
  assert.ok(Math.min(...alphas) < 0.05 && Math.min(...alphas) > -1e-4, `smallest alpha ${Math.min(...alphas)}`);
  assert.ok(Math.max(...alphas) > 0.95 && Math.max(...alphas) < 1, `largest alpha ${Math.max(...alphas)}`);
});

test('dtlns weighs the structural tree by alphaCo and the semantic tree by alphaSe', async () => {
  // Item 1 shares item 0's semantic path only, item 2 its structural path only; the min-max
  // normalised scores lie in [0, 1), so a weight of 5 on one tree decides the choice whenever
  // its item is among the 48 candidates (absent with probability (4/5)^48 < 3e-5).
  const se = packPaths([[0, 0], [0, 0], [1, 0], [1, 1], [2, 0], [2, 1]]);
  const co = packPaths([[0, 0], [1, 0], [0, 0], [1, 1], [2, 0], [2, 1]]);
  const paths = pathFields(co, se);
  for (let seed = 1; seed <= 10; seed++) {
    const semantic = await oneSampleEpoch('dtlns', seed, { negs: 48, alphaCo: 0, alphaSe: 5, ...paths });
    assert.equal(semantic.negative, 1, `seed ${seed}: alphaSe = 5 picks the semantic neighbour`);
    const structural = await oneSampleEpoch('dtlns', seed, { negs: 48, alphaCo: 5, alphaSe: 0, ...paths });
    assert.equal(structural.negative, 2, `seed ${seed}: alphaCo = 5 picks the structural neighbour`);
  }
});

test('user-uniform positives: a user\'s positive is uniform over its items, not its first', async () => {
  // One heavy user (60 items) and 20 light users (1 item each): 80 draws per epoch, about 80/21 for the heavy user.
  const rows = [Array.from({ length: 60 }, (_, i) => i), ...Array.from({ length: 20 }, (_, u) => [60 + u])];
  const g = graphFromRows(rows, 100);
  const counts = new Array<number>(60).fill(0);
  for (let seed = 1; seed <= 200; seed++) {
    const t = await native.sampleNegatives({ ...g, sampler: 'rns', positives: 'user-uniform', seed, batch: 16, threads: 1 });
    for (let s = 0; s < t.users.length; s++) if (t.users[s] === 0) counts[t.pos[s]]++;
  }
  const total = counts.reduce((a, b) => a + b, 0);
  const expected = total / 60;
  const chiSquare = counts.reduce((acc, c) => acc + (c - expected) ** 2 / expected, 0);
  // df 59: mean 59, std 10.9; the first-item bug puts every draw on item 0 (chi-square 59 x total).
  assert.ok(total > 600 && total < 920, `heavy user drawn ${total} times (expected 16000/21 = 762)`);
  assert.ok(chiSquare < 59 + 6 * Math.sqrt(2 * 59), `chi-square ${chiSquare.toFixed(1)} for 59 degrees of freedom`);
});

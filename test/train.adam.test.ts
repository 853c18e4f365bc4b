/**
 * Dense Adam on MF, deferred (native/kernels/deferred_adam.hpp): rows without a
 * gradient are caught up in closed form when next read and at the end of the
 * call. Checked against the every-row native path (deferAdam: false) and the
 * TS reference over hundreds of steps in one call.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { native, type ModelState } from '../src/native.js';
import { referenceTrainStep } from '../src/train/step-reference.js';
import { assertClose, assertStatesEqual, cloneState, graphFromRows, randomGraph, randomState, seededRandom, TABLES, type Graph } from './support/training.js';

const dim = 8;

/**
 * 200 users with 1..8 items of 60 (about 900 interactions: one epoch at batch 1
 * is about 900 steps, so some rows wait longer than the closed form's window of
 * about 300 steps), then 4 users without items (never touched: only the final
 * catch-up moves them).
 */
const graph: Graph = (() => {
  const g = randomGraph(200, 60, 8, 21);
  const rows = Array.from({ length: 204 }, (_, u) =>
    u < 200 ? Array.from(g.trainIndices.subarray(g.trainIndptr[u], g.trainIndptr[u + 1])) : []);
  return graphFromRows(rows, 60);
})();
const COLD_USERS = [200, 201]; // m = v = 0 and no gradient: dense Adam leaves them exactly where they are

/**
 * Warm moments spread over many scales: v log-uniform in [1e-20, 1e-6] (sqrt(v)
 * from far below eps to far above it, so every branch of the catch-up runs,
 * the step-by-step one included), |m| up to sqrt(v), some v = 0 with m != 0;
 * the cold users' rows at zero.
 */
function spreadState(step: number, seed: number): ModelState {
  const state = randomState(graph, dim, seed);
  const random = seededRandom(seed + 100);
  for (const [m, v] of [[state.userM, state.userV], [state.itemM, state.itemV]] as const) {
    for (let k = 0; k < v.length; k++) {
      v[k] = random() < 0.05 ? 0 : 10 ** (-20 + 14 * random());
      m[k] = (v[k] === 0 ? 1e-9 : Math.sqrt(v[k])) * (2 * random() - 1);
    }
  }
  for (const u of COLD_USERS) {
    state.userM.fill(0, u * dim, (u + 1) * dim);
    state.userV.fill(0, u * dim, (u + 1) * dim);
  }
  return { ...state, step };
}

// Betas and eps as the kernels hold them (float32), so that the reference rounds like them.
const beta1 = Math.fround(0.9), beta2 = Math.fround(0.999), eps = Math.fround(1e-8);
const hyper = { model: 'mf', layers: 0, optimizer: 'adam', lr: 1e-3, beta1, beta2, eps, l2: 1e-3 } as const;

function epochOptions(state: ModelState, threads: number, batch: number, seed: number) {
  return { ...state, ...hyper, trainIndptr: graph.trainIndptr, trainIndices: graph.trainIndices, threads, batch, seed };
}

/**
 * Per table: |a - b| <= 1e-5 (|b| + max |b|). Float32 runs that round at
 * different steps drift apart by a few ulps per step a row is touched, and
 * training feeds that back; a wrong catch-up moves rows by whole steps.
 */
function assertStatesClose(actual: ModelState, expected: ModelState, label: string): void {
  for (const name of TABLES) {
    const scale = expected[name].reduce((a, x) => Math.max(a, Math.abs(x)), 0);
    assertClose(actual[name], expected[name], `${label}: ${name}`, 1e-5, 1e-5 * scale);
  }
}

/** The TS reference over the triples trainEpoch draws for this seed, one step per batch of 1. */
async function referenceEpoch(state: ModelState, seed: number): Promise<number[]> {
  const triples = await native.sampleUniform({ ...graph, seed, batch: 1, threads: 1 });
  const losses: number[] = [];
  for (let k = 0; k < triples.users.length; k++) {
    const s = referenceTrainStep(state, { ...hyper, trainIndptr: graph.trainIndptr, trainIndices: graph.trainIndices },
      triples.users.subarray(k, k + 1), triples.pos.subarray(k, k + 1), triples.neg.subarray(k, k + 1));
    state.step = s.step;
    losses.push(s.loss);
  }
  return losses;
}

/**
 * Rows that no batch touches move only by the closed form (nothing feeds back):
 * compare them with the zero-gradient steps one by one in float64. User 0 has
 * `steps` items (one step each at batch 1); users 1-3 none: 1 and 2 warm with v
 * from 1e-20 to 1e-6 and 0 (every branch of the catch-up, the step-by-step one
 * in the early steps included), 3 cold.
 */
for (const [steps, startStep] of [[60, 0], [60, 5000], [420, 0], [420, 5000]]) {
  test(`the catch-up of ${steps} zero-gradient steps from step ${startStep} is exact to float rounding`, async () => {
    const nItems = steps + 10, width = 16;
    const g = graphFromRows([Array.from({ length: steps }, (_, j) => j), [], [], []], nItems);
    const random = seededRandom(steps + startStep);
    const userEmb = Float32Array.from({ length: 4 * width }, () => random() - 0.5);
    const userM = new Float32Array(4 * width), userV = new Float32Array(4 * width);
    for (let k = width; k < 3 * width; k++) {
      userV[k] = k % width === 0 ? 0 : 10 ** (-20 + 14 * random());
      userM[k] = (userV[k] === 0 ? 1e-9 : Math.sqrt(userV[k])) * (2 * random() - 1);
    }
    const state: ModelState = {
      nUsers: 4, nItems, dim: width, userEmb: userEmb.slice(), userM: userM.slice(), userV: userV.slice(),
      itemEmb: Float32Array.from({ length: nItems * width }, () => random() - 0.5),
      itemM: new Float32Array(nItems * width), itemV: new Float32Array(nItems * width), step: startStep,
    };
    const stats = await native.trainEpoch({ ...state, ...hyper, trainIndptr: g.trainIndptr, trainIndices: g.trainIndices,
      threads: 1, batch: 1, seed: 1 });
    assert.equal(stats.steps, steps);
    for (let k = width; k < 4 * width; k++) {
      let p = userEmb[k], m = userM[k], v = userV[k];
      for (let t = startStep + 1; t <= startStep + steps; t++) {
        m *= beta1;
        v *= beta2;
        p -= (hyper.lr / (1 - beta1 ** t)) * (m / (Math.sqrt(v) / Math.sqrt(1 - beta2 ** t) + eps));
      }
      const ulp = (x: number) => Math.abs(x) * 2 ** -23 + 1e-44;
      const where = `user ${Math.floor(k / width)} element ${k % width}, v ${userV[k]}`;
      assert.ok(Math.abs(state.userEmb[k] - p) <= 2 * ulp(p), `${where}: p ${state.userEmb[k]} vs ${p} (from ${userEmb[k]})`);
      assert.ok(Math.abs(state.userM[k] - m) <= ulp(m), `${where}: m ${state.userM[k]} vs ${m}`);
      assert.ok(Math.abs(state.userV[k] - v) <= ulp(v), `${where}: v ${state.userV[k]} vs ${v}`);
    }
    assert.deepEqual(state.userEmb.subarray(3 * width), userEmb.subarray(3 * width), 'the cold row did not move');
  });
}

for (const startStep of [0, 5000]) {
  test(`deferred mf adam matches every-row adam and the reference over ~900 steps (from step ${startStep})`, async () => {
    const start = spreadState(startStep, 3 + startStep);
    const deferred = cloneState(start), everyRow = cloneState(start), reference = cloneState(start);
    const seed = 11;
    const a = await native.trainEpoch(epochOptions(deferred, 1, 1, seed));
    const b = await native.trainEpoch({ ...epochOptions(everyRow, 1, 1, seed), deferAdam: false });
    const losses = await referenceEpoch(reference, seed);
    assert.equal(a.steps, graph.trainIndices.length);
    assert.equal(a.step, startStep + a.steps);
    assert.equal(reference.step, a.step);
    const meanLoss = losses.reduce((x, y) => x + y, 0) / losses.length;
    assertClose([a.loss, b.loss], [meanLoss, meanLoss], 'mean loss', 1e-6);
    assertStatesClose(deferred, everyRow, 'deferred vs every-row');
    assertStatesClose(deferred, reference, 'deferred vs reference');
    for (const u of COLD_USERS) {
      const row = (s: ModelState) => s.userEmb.subarray(u * dim, (u + 1) * dim);
      assert.deepEqual(row(deferred), row(start), `cold user ${u} did not move`);
    }
    const warmUser = 203;
    assert.notDeepEqual(deferred.userEmb.subarray(warmUser * dim, (warmUser + 1) * dim),
      start.userEmb.subarray(warmUser * dim, (warmUser + 1) * dim), 'an untouched warm row moved');
  });
}

test('deferred mf adam: trainEpoch agrees with trainStep over the same batches', async () => {
  const start = spreadState(40, 5);
  const epoch = cloneState(start), steps = cloneState(start);
  const seed = 4, batch = 16;
  const stats = await native.trainEpoch(epochOptions(epoch, 1, batch, seed));
  const triples = await native.sampleUniform({ ...graph, seed, batch, threads: 1 });
  for (let k = 0; k < triples.users.length; k += batch) {
    const s = await native.trainStep({ ...epochOptions(steps, 1, batch, seed), users: triples.users.subarray(k, k + batch),
      pos: triples.pos.subarray(k, k + batch), neg: triples.neg.subarray(k, k + batch) });
    steps.step = s.step;
  }
  assert.equal(steps.step, stats.step);
  assertStatesClose(epoch, steps, 'epoch vs steps');
});

test('deferred mf adam in the general mini-batch trainer (two negatives per positive) matches every-row adam', async () => {
  // Ordinary warm moments: with the spread ones this run amplifies even a one-ulp change of p to 1e-5.
  const start = { ...randomState(graph, dim, 8, true), step: 5000 };
  const deferred = cloneState(start), everyRow = cloneState(start);
  const options = { k: 2, batch: 8, seed: 6, threads: 1 };
  const a = await native.trainEpoch({ ...epochOptions(deferred, 1, 8, 6), ...options });
  const b = await native.trainEpoch({ ...epochOptions(everyRow, 1, 8, 6), ...options, deferAdam: false });
  assert.equal(a.steps, b.steps);
  assertClose([a.loss], [b.loss], 'mean loss', 1e-6);
  assertStatesClose(deferred, everyRow, 'k = 2');
});

test('a call of more steps than the deferral keeps tables for (it starts over) matches every-row adam', async () => {
  // 300 users x 30 of 60 items at batch 1: 9000 steps in one call.
  const random = seededRandom(77);
  const rows = Array.from({ length: 300 }, () => {
    const items = Array.from({ length: 60 }, (_, j) => j).sort(() => random() - 0.5).slice(0, 30);
    return items.sort((a, b) => a - b);
  });
  const long = graphFromRows(rows, 60);
  const start = { ...randomState(long, 4, 12, true), step: 100 };
  const deferred = cloneState(start), everyRow = cloneState(start);
  const options = { ...hyper, trainIndptr: long.trainIndptr, trainIndices: long.trainIndices, batch: 1, seed: 3, threads: 1 };
  const a = await native.trainEpoch({ ...deferred, ...options });
  await native.trainEpoch({ ...everyRow, ...options, deferAdam: false });
  assert.equal(a.steps, 9000);
  assertStatesClose(deferred, everyRow, '9000 steps');
});

test('deferred mf adam is identical at 1 and 2 threads and over repeats', async () => {
  // Batches large enough that catch-up, update and final catch-up go multi-threaded.
  const big = randomGraph(3000, 2000, 24, 12);
  const start = randomState(big, 64, 3, true);
  const runs: ModelState[] = [];
  for (const threads of [1, 2, 2]) {
    const state = cloneState(start);
    for (let epoch = 0; epoch < 2; epoch++) {
      const s = await native.trainEpoch({ ...state, ...hyper, trainIndptr: big.trainIndptr, trainIndices: big.trainIndices, threads,
        batch: 4096, seed: epoch });
      state.step = s.step;
    }
    runs.push(state);
  }
  assertStatesEqual(runs[0], runs[1], '1 vs 2 threads');
  assertStatesEqual(runs[1], runs[2], 'repeat at 2 threads');
});

/**
 * The reference for the order of the MF Adam step: more threads run it phase
 * by phase over the whole batch, one thread a chunk of samples at a time with
 * the rows updated at the step before read in place (kernels/mf_adam.hpp).
 * The arithmetic and the order of every sum are the same, so the tables must
 * agree bit for bit. Spread moments reach every catch-up branch; batch 1 makes
 * most rows current in place, 16 and 256 span one and several chunks.
 */
for (const batch of [1, 16, 256]) {
  test(`deferred mf adam: one thread's chunked order gives the phase order's tables bit for bit (batch ${batch})`, async () => {
    const start = spreadState(batch === 1 ? 0 : 5000, 30 + batch);
    const runs: ModelState[] = [];
    for (const threads of [1, 2]) {
      const state = cloneState(start);
      for (let epoch = 0; epoch < 2; epoch++) {
        const s = await native.trainEpoch(epochOptions(state, threads, batch, epoch + 1));
        state.step = s.step;
      }
      runs.push(state);
    }
    assert.equal(runs[0].step, runs[1].step);
    assertStatesEqual(runs[0], runs[1], `batch ${batch}: 1 thread vs 2`);
  });
}

test('betas the closed form does not cover run the every-row path', async () => {
  const start = spreadState(0, 9);
  const a = cloneState(start), b = cloneState(start);
  const options = { ...hyper, beta2: 0.99, batch: 64, seed: 2, threads: 1, trainIndptr: graph.trainIndptr, trainIndices: graph.trainIndices };
  await native.trainEpoch({ ...a, ...options });
  await native.trainEpoch({ ...b, ...options, deferAdam: false });
  assertStatesEqual(a, b, 'beta2 0.99');
});

test('BAD CALL - deferAdam must be a boolean', () => {
  const state = spreadState(0, 1);
  assert.throws(() => native.trainEpoch({ ...epochOptions(state, 1, 8, 1), deferAdam: 1 as never }), (e: unknown) =>
    e instanceof TypeError && /\bdeferAdam\b/.test(e.message));
});

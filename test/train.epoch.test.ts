/** Epochs: uniform negatives, determinism, skipped users, NaN handling. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { native, type ModelState, type TrainModel, type TrainOptimizer } from '../src/native.js';
import { generateSynthetic } from '../src/data/synthetic.js';
import { train } from '../src/train/train.js';
import { ModelFitError } from '../src/train/errors.js';
import { assertStatesEqual, cloneState, graphFromRows, randomGraph, randomState, type Graph } from './support/training.js';

const graph = randomGraph(300, 200, 15, 11);
const dim = 16;

function epochOptions(state: ModelState, g: Graph, model: TrainModel, layers: number, optimizer: TrainOptimizer, threads: number, seed = 5) {
  return {
    ...state, model, layers, optimizer, trainIndptr: g.trainIndptr, trainIndices: g.trainIndices,
    lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, l2: 1e-4, batch: 300, seed, threads,
  };
}

function isPositive(g: Graph, u: number, item: number): boolean {
  return g.trainIndices.subarray(g.trainIndptr[u], g.trainIndptr[u + 1]).includes(item);
}

test('sampleUniform: every interaction once, negatives never positives, same at any thread count', async () => {
  const options = { trainIndptr: graph.trainIndptr, trainIndices: graph.trainIndices, nItems: graph.nItems, seed: 3, batch: 700 };
  const one = await native.sampleUniform({ ...options, threads: 1 });
  const two = await native.sampleUniform({ ...options, threads: 2 });
  assert.deepEqual(one, two);
  assert.equal(one.skipped, 0);
  assert.equal(one.users.length, graph.trainIndices.length);
  const pairs = Array.from(one.users, (u, k) => `${u}:${one.pos[k]}`).sort();
  const expected: string[] = [];
  for (let u = 0; u < graph.nUsers; u++) {
    for (let p = graph.trainIndptr[u]; p < graph.trainIndptr[u + 1]; p++) expected.push(`${u}:${graph.trainIndices[p]}`);
  }
  assert.deepEqual(pairs, expected.sort());
  for (let k = 0; k < one.users.length; k++) assert.ok(!isPositive(graph, one.users[k], one.neg[k]), `neg ${k} is a positive`);
  const other = await native.sampleUniform({ ...options, seed: 4, threads: 1 });
  assert.notDeepEqual(other.neg, one.neg);
});

/** Pearson's chi-square statistic of counts against equal expectations. */
function chiSquare(counts: number[]): number {
  const total = counts.reduce((a, b) => a + b, 0), e = total / counts.length;
  return counts.reduce((a, c) => a + (c - e) ** 2 / e, 0);
}

test('uniform negatives are uniform over the non-positives (chi-square)', async () => {
  // 2000 users with positives {0, 3} of 10 items: 4000 draws over 8 items.
  const sparse = graphFromRows(Array.from({ length: 2000 }, () => [0, 3]), 10);
  const a = await native.sampleUniform({ ...sparse, seed: 1, batch: 2048, threads: 2 });
  const counts = new Array(10).fill(0);
  for (const j of a.neg) counts[j]++;
  assert.equal(counts[0] + counts[3], 0);
  assert.ok(chiSquare(counts.filter((_, j) => j !== 0 && j !== 3)) < 24.32, `counts ${counts}`); // p = 0.001, 7 dof
  // Users holding 98 of 100 items take the exact fallback after the rejection tries.
  const dense = graphFromRows(Array.from({ length: 40 }, () => Array.from({ length: 100 }, (_, j) => j).filter((j) => j !== 17 && j !== 60)), 100);
  const b = await native.sampleUniform({ ...dense, seed: 2, batch: 512, threads: 1 });
  const hits = [0, 0];
  for (const j of b.neg) {
    assert.ok(j === 17 || j === 60, `negative ${j} is a positive`);
    hits[j === 17 ? 0 : 1]++;
  }
  assert.ok(chiSquare(hits) < 10.83, `hits ${hits}`); // p = 0.001, 1 dof
});

test('a user whose positives cover every item is skipped and counted, without looping', async () => {
  const full = graphFromRows([[0, 1, 2, 3], [1, 2], [0, 1, 2, 3], [3]], 4);
  const sampled = await native.sampleUniform({ ...full, seed: 1, batch: 3, threads: 1 });
  assert.equal(sampled.skipped, 8);
  assert.deepEqual(Array.from(sampled.users).sort(), [1, 1, 3]);
  for (const [model, layers, optimizer] of [['mf', 0, 'adam'], ['mf', 0, 'lazy-adam'], ['lightgcn', 2, 'adam']] as const) {
    const state = randomState(full, 4, 1);
    const stats = await native.trainEpoch({ ...epochOptions(state, full, model, layers, optimizer, 2), batch: 3 });
    assert.equal(stats.skipped, 8, `${model} ${optimizer}`);
    assert.equal(stats.samples, 3);
    assert.ok(stats.steps >= 1 && stats.steps <= 3);
    assert.equal(stats.step, stats.steps);
  }
  const nobody = graphFromRows([[0, 1], [0, 1]], 2);
  const state = randomState(nobody, 4, 1), before = cloneState(state);
  const stats = await native.trainEpoch({ ...epochOptions(state, nobody, 'mf', 0, 'adam', 1), step: 5 });
  assert.deepEqual([stats.samples, stats.skipped, stats.steps, stats.step, stats.loss], [0, 4, 0, 5, 0]);
  assertStatesEqual(state, before, 'no step taken');
});

// On the small graph every backward layer gathers; small batches of the larger,
// sparser one take the bucketed first backward layer, whose buffers one epoch reuses.
const sparse = randomGraph(400, 300, 4, 11);
const exactCases = [
  { name: 'dense layers', g: graph, batch: 300, runs: [['lightgcn', 2, 'adam'], ['mf', 0, 'adam'], ['mf', 0, 'sgd'], ['lightgcn', 1, 'lazy-adam']] },
  { name: 'bucketed first backward layer', g: sparse, batch: 20, runs: [['lightgcn', 3, 'adam'], ['lightgcn', 2, 'lazy-adam']] },
] as const;
for (const { name, g, batch, runs } of exactCases) {
  test(`trainEpoch is exactly trainStep over sampleUniform batches (${name})`, async () => {
    // Deferred dense Adam catches rows up at the end of every call, so it agrees to
    // float rounding only (test/train.adam.test.ts); here every row moves every step.
    const triples = await native.sampleUniform({ ...g, seed: 9, batch, threads: 2 });
    for (const [model, layers, optimizer] of runs) {
      const a = randomState(g, dim, 2), b = cloneState(a);
      const epoch = await native.trainEpoch({ ...epochOptions(a, g, model, layers, optimizer, 1, 9), batch, deferAdam: false });
      let loss = 0;
      for (let start = 0, step = 0; start < triples.users.length; start += batch, step++) {
        const slice = { users: triples.users.subarray(start, start + batch), pos: triples.pos.subarray(start, start + batch), neg: triples.neg.subarray(start, start + batch) };
        const s = await native.trainStep({ ...epochOptions(b, g, model, layers, optimizer, 1), step, ...slice, deferAdam: false });
        loss += s.loss;
      }
      assert.equal(epoch.steps, Math.ceil(triples.users.length / batch));
      assert.ok(Math.abs(epoch.loss - loss / epoch.steps) < 1e-9 * loss, `${model} ${optimizer} loss`);
      assertStatesEqual(a, b, `${model}-${layers} ${optimizer}`);
    }
  });
}

test('same seed and threads give identical epochs; dense adam is identical at 1 and 2 threads', async () => {
  // Large enough (batch 16384, dim 64) that every stage of a step goes multi-threaded at 2 threads.
  const big = randomGraph(3000, 2000, 24, 12);
  for (const [model, layers] of [['mf', 0], ['lightgcn', 3]] as const) {
    const start = randomState(big, 64, 3);
    const runs: ModelState[] = [];
    for (const threads of [2, 2, 1]) {
      const state = cloneState(start);
      await native.trainEpoch({ ...epochOptions(state, big, model, layers, 'adam', threads), batch: 16384 });
      runs.push(state);
    }
    assertStatesEqual(runs[0], runs[1], `${model} repeat`);
    assertStatesEqual(runs[0], runs[2], `${model} 1 vs 2 threads`);
  }
  // Hogwild is reproducible at one thread.
  const start = randomState(graph, dim, 4);
  const a = cloneState(start), b = cloneState(start);
  await native.trainEpoch(epochOptions(a, graph, 'mf', 0, 'lazy-adam', 1));
  await native.trainEpoch(epochOptions(b, graph, 'mf', 0, 'lazy-adam', 1));
  assertStatesEqual(a, b, 'hogwild at 1 thread');
});

test('training lowers the loss', async () => {
  for (const [model, layers, optimizer] of [['mf', 0, 'adam'], ['mf', 0, 'lazy-adam'], ['mf', 0, 'sgd'], ['lightgcn', 2, 'adam']] as const) {
    const state = randomState(graph, dim, 6);
    const losses: number[] = [];
    for (let epoch = 0; epoch < 8; epoch++) {
      const s = await native.trainEpoch({ ...epochOptions(state, graph, model, layers, optimizer, 2, epoch), lr: optimizer === 'sgd' ? 0.3 : 0.01 });
      state.step = s.step;
      losses.push(s.bprLoss);
    }
    assert.ok(losses[7] < losses[0] - 0.05, `${model} ${optimizer}: ${losses.map((l) => l.toFixed(3))}`);
  }
});

/** A plain Error with code 'ModelFitError' whose message matches: the trainer wraps it in its ModelFitError class. */
function fitError(message: RegExp): (e: unknown) => boolean {
  return (e) => e instanceof Error && e.constructor === Error && (e as { code?: unknown }).code === 'ModelFitError' && message.test(e.message);
}

test('a non-finite loss or parameter rejects with ModelFitError naming the epoch step', async () => {
  for (const [model, layers, optimizer] of [['mf', 0, 'adam'], ['mf', 0, 'lazy-adam'], ['mf', 0, 'sgd'], ['lightgcn', 2, 'adam']] as const) {
    const planted = randomState(graph, dim, 7);
    planted.userEmb[3] = NaN;
    await assert.rejects(
      native.trainEpoch(epochOptions(planted, graph, model, layers, optimizer, 2)),
      fitError(/^ModelFitError: .* became non-finite at epoch step \d+ \(Adam step \d+\)$/),
      `${model} ${optimizer} NaN planted`,
    );
    const exploding = randomState(graph, dim, 7);
    await assert.rejects(
      native.trainEpoch({ ...epochOptions(exploding, graph, model, layers, optimizer, 1), lr: 1e30 }),
      fitError(/^ModelFitError: .* at epoch step \d+/),
      `${model} ${optimizer} huge lr`,
    );
  }
  const state = randomState(graph, dim, 8);
  state.itemEmb.fill(Infinity, 0, dim);
  const triple = { users: Uint32Array.of(0), pos: Uint32Array.of(1), neg: Uint32Array.of(0) };
  await assert.rejects(
    native.trainStep({ ...epochOptions(state, graph, 'lightgcn', 1, 'adam', 1), ...triple }),
    fitError(/^ModelFitError: the loss became non-finite at epoch step 0 \(Adam step 1\)$/),
  );
});

test('train() turns the native error with code ModelFitError into its ModelFitError class, naming the epoch', async () => {
  const dataset = generateSynthetic({ preset: 'tiny' });
  await assert.rejects(
    train(dataset, { model: 'mf', dim: 8, lr: 1e30, epochs: 3, threads: 1 }),
    (e: unknown) => e instanceof ModelFitError && e.name === 'ModelFitError' && e.epoch >= 1 && e.message.startsWith(`epoch ${e.epoch}: ModelFitError: `),
  );
});

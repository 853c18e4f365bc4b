/** Native training step and propagation against the plain TS reference. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { native, type ModelState, type TrainModel, type TrainOptimizer } from '../src/native.js';
import { referencePropagate, referenceTrainStep } from '../src/train/step-reference.js';
import { assertClose, assertStatesEqual, cloneState, randomGraph, randomState, randomTriples, TABLES, type Graph } from './support/training.js';

const graph = randomGraph(12, 15, 5, 1);
const dim = 8;
const { users, pos, neg } = randomTriples(graph, 20, 2);

function hyper(model: TrainModel, layers: number, optimizer: TrainOptimizer, g: Graph = graph) {
  return {
    model, layers, optimizer, trainIndptr: g.trainIndptr, trainIndices: g.trainIndices,
    lr: optimizer === 'sgd' ? 0.5 : 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, l2: 0.01,
  };
}

async function nativeStep(state: ModelState, model: TrainModel, layers: number, optimizer: TrainOptimizer, threads = 1) {
  return native.trainStep({ ...state, ...hyper(model, layers, optimizer), threads, users, pos, neg });
}

const cases: [TrainModel, number][] = [['mf', 0], ['lightgcn', 1], ['lightgcn', 2], ['lightgcn', 3]];
for (const [model, layers] of cases) {
  for (const optimizer of ['adam', 'lazy-adam', 'sgd'] as const) {
    for (const warm of [false, true]) {
      test(`trainStep ${model}-${layers} ${optimizer}${warm ? ' (warm moments)' : ''} matches the reference`, async () => {
        const start = randomState(graph, dim, 3, warm);
        const ours = cloneState(start), theirs = cloneState(start);
        const stats = await nativeStep(ours, model, layers, optimizer);
        const expected = referenceTrainStep(theirs, hyper(model, layers, optimizer), users, pos, neg);
        assert.equal(stats.step, start.step + 1);
        assert.equal(stats.steps, 1);
        assert.equal(stats.samples, users.length);
        assert.equal(stats.skipped, 0);
        assertClose([stats.loss, stats.bprLoss, stats.regLoss], [expected.loss, expected.bprLoss, expected.regLoss], 'loss');
        for (const name of TABLES) assertClose(ours[name], theirs[name], name, 1e-4, 2e-6);
        assert.notDeepEqual(ours.userEmb, start.userEmb, 'the step changed the parameters');
      });
    }
  }
}

test('lightgcn with 0 layers is mf, bit for bit', async () => {
  for (const optimizer of ['adam', 'lazy-adam', 'sgd'] as const) {
    const a = randomState(graph, dim, 4, true), b = cloneState(a);
    const sa = await nativeStep(a, 'mf', 0, optimizer);
    const sb = await nativeStep(b, 'lightgcn', 0, optimizer);
    assert.equal(sa.loss, sb.loss);
    assertStatesEqual(a, b, optimizer);
  }
});

test('dense adam moves rows with zero gradient; lazy-adam and sgd leave them alone', async () => {
  const one = { users: users.subarray(0, 1), pos: pos.subarray(0, 1), neg: neg.subarray(0, 1) };
  const untouchedUser = (users[0] + 1) % graph.nUsers;
  const row = (s: ModelState) => s.userEmb.subarray(untouchedUser * dim, (untouchedUser + 1) * dim);
  for (const optimizer of ['adam', 'lazy-adam', 'sgd'] as const) {
    const start = randomState(graph, dim, 5, true);
    const state = cloneState(start);
    await native.trainStep({ ...state, ...hyper('mf', 0, optimizer), threads: 1, ...one });
    const theirs = cloneState(start);
    referenceTrainStep(theirs, hyper('mf', 0, optimizer), one.users, one.pos, one.neg);
    assertClose(row(state), row(theirs), `${optimizer} untouched row`);
    if (optimizer === 'adam') assert.notDeepEqual(row(state), row(start), 'adam moved the untouched row');
    else assert.deepEqual(row(state), row(start), `${optimizer} kept the untouched row`);
  }
});

test('mini-batch steps are bit-identical at 1 and 2 threads', async () => {
  // Large enough that every stage of the step crosses the size at which it goes multi-threaded.
  const big = randomGraph(3000, 2000, 20, 6);
  const triples = randomTriples(big, 6000, 7);
  for (const [model, layers] of [['mf', 0], ['lightgcn', 2]] as const) {
    for (const optimizer of ['adam', 'lazy-adam'] as const) {
      if (model === 'mf' && optimizer === 'lazy-adam') continue; // Hogwild: reproducible at 1 thread only
      const one = randomState(big, 64, 8, true), two = cloneState(one);
      const h = hyper(model, layers, optimizer, big);
      const s1 = await native.trainStep({ ...one, ...h, threads: 1, ...triples });
      const s2 = await native.trainStep({ ...two, ...h, threads: 2, ...triples });
      assert.equal(s1.loss, s2.loss);
      assertStatesEqual(one, two, `${model}-${layers} ${optimizer}`);
    }
  }
});

// A batch whose rows carry few edges of a larger graph: the first backward
// layer scatters from the batch's rows instead of gathering over every row.
const sparse = randomGraph(400, 300, 4, 11);
const sparseBatch = randomTriples(sparse, 5, 12);
for (const layers of [1, 2, 3]) {
  for (const optimizer of ['adam', 'lazy-adam', 'sgd'] as const) {
    test(`trainStep lightgcn-${layers} ${optimizer} on a small batch of a larger graph matches the reference`, async () => {
      const start = randomState(sparse, dim, 13, true);
      const ours = cloneState(start), theirs = cloneState(start);
      const h = hyper('lightgcn', layers, optimizer, sparse);
      const stats = await native.trainStep({ ...ours, ...h, threads: 1, ...sparseBatch });
      const expected = referenceTrainStep(theirs, h, sparseBatch.users, sparseBatch.pos, sparseBatch.neg);
      assertClose([stats.loss], [expected.loss], 'loss');
      for (const name of TABLES) assertClose(ours[name], theirs[name], name, 1e-4, 2e-6);
    });
  }
}

test('scattered backward layers are bit-identical at 1 and 2 threads', async () => {
  // Few enough batch rows to scatter, enough edges among them to split the scatter over threads.
  const big = randomGraph(6000, 4000, 20, 6);
  const triples = randomTriples(big, 500, 14);
  for (const optimizer of ['adam', 'lazy-adam'] as const) {
    const one = randomState(big, 64, 15, true), two = cloneState(one);
    const h = hyper('lightgcn', 3, optimizer, big);
    const s1 = await native.trainStep({ ...one, ...h, threads: 1, ...triples });
    const s2 = await native.trainStep({ ...two, ...h, threads: 2, ...triples });
    assert.equal(s1.loss, s2.loss);
    assertStatesEqual(one, two, `lightgcn-3 ${optimizer}`);
  }
});

for (const [model, layers] of [['mf', 0], ['lightgcn', 1], ['lightgcn', 2], ['lightgcn', 3], ['lightgcn', 4]] as const) {
  test(`propagate ${model}-${layers} matches the reference`, async () => {
    const state = randomState(graph, dim, 9);
    const options = { model, layers, nUsers: graph.nUsers, nItems: graph.nItems, dim, userEmb: state.userEmb, itemEmb: state.itemEmb,
      trainIndptr: graph.trainIndptr, trainIndices: graph.trainIndices };
    const ours = await native.propagate({ ...options, threads: 2 });
    const theirs = referencePropagate(options);
    assertClose(ours.users, theirs.users, 'users');
    assertClose(ours.items, theirs.items, 'items');
    if (layers === 0) assert.deepEqual(ours.users, state.userEmb);
  });
}

test('propagate leaves an item without interactions at its layer-0 row / (L+1)', async () => {
  const rows = [[0, 1], [1]];
  const g = { trainIndptr: Uint32Array.from([0, 2, 3]), trainIndices: Uint32Array.from(rows.flat()) };
  const userEmb = Float32Array.from([1, 2, 3, 4]), itemEmb = Float32Array.from([1, 1, 2, 2, 8, 4]);
  const out = await native.propagate({ model: 'lightgcn', layers: 3, nUsers: 2, nItems: 3, dim: 2, userEmb, itemEmb, ...g, threads: 1 });
  assert.deepEqual(Array.from(out.items.subarray(4)), [2, 1]);
});

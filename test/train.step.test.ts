/** Native training step and propagation against the plain TS reference. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { native, type ModelState, type TrainModel, type TrainOptimizer } from '../src/native.js';
import { referenceLayerTables, referenceMiniBatchStep, referencePropagate, referenceTrainStep } from '../src/train/step-reference.js';
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

test('BAD CALL - the references refuse bad input with the whole message, as the kernels do', () => {
  const message = (f: () => unknown): string => {
    try {
      f();
    } catch (error) {
      return `${(error as Error).constructor.name}: ${(error as Error).message}`;
    }
    return 'no error';
  };
  const state = randomState(graph, dim, 6);
  const base = { model: 'lightgcn' as TrainModel, layers: 1, nUsers: graph.nUsers, nItems: graph.nItems, dim, userEmb: state.userEmb, itemEmb: state.itemEmb, trainIndptr: graph.trainIndptr, trainIndices: graph.trainIndices };
  const nnz = graph.trainIndices.length;
  const shifted = Uint32Array.from(graph.trainIndptr, (v, u) => (u === 0 ? 1 : v));
  const short = Uint32Array.from(graph.trainIndptr, (v, u) => (u === graph.nUsers ? v - 1 : v));
  const outside = Uint32Array.from(graph.trainIndices, (v, p) => (p === 0 ? graph.nItems : v));
  const graphCases: [object, string][] = [
    [{ model: 'gcn' }, "RangeError: Expected 'mf' or 'lightgcn' for model but received gcn"],
    [{ layers: 5 }, 'RangeError: Expected layers in [0, 4] but received 5'],
    [{ layers: -1 }, 'RangeError: Expected layers in [0, 4] but received -1'],
    [{ layers: 1.5 }, 'RangeError: Expected layers in [0, 4] but received 1.5'],
    [{ userEmb: [] }, 'TypeError: Expected a Float32Array for userEmb but received object'],
    [{ itemEmb: state.itemEmb.subarray(1) }, `RangeError: Expected ${graph.nItems * dim} elements in itemEmb but received ${graph.nItems * dim - 1}`],
    [{ trainIndptr: Array.from(graph.trainIndptr) }, 'TypeError: Expected a Uint32Array for trainIndptr but received object'],
    [{ trainIndptr: graph.trainIndptr.subarray(1) }, `RangeError: Expected ${graph.nUsers + 1} elements in trainIndptr but received ${graph.nUsers}`],
    [{ trainIndices: outside }, `RangeError: Expected every value of trainIndices in [0, ${graph.nItems}) but trainIndices[0] is ${graph.nItems}`],
    [{ trainIndptr: shifted }, 'RangeError: Expected trainIndptr to run from 0 to trainIndices.length'],
    [{ trainIndptr: short }, 'RangeError: Expected trainIndptr to run from 0 to trainIndices.length'],
  ];
  for (const [bad, expected] of graphCases) {
    assert.equal(message(() => referencePropagate({ ...base, ...bad } as never)), expected, JSON.stringify(Object.keys(bad)));
    assert.equal(message(() => referenceLayerTables({ ...base, ...bad } as never)), expected, JSON.stringify(Object.keys(bad)));
  }
  assert.equal(message(() => referenceLayerTables({ ...base, userEmb: state.userEmb.subarray(1) })), `RangeError: Expected ${graph.nUsers * dim} elements in userEmb but received ${graph.nUsers * dim - 1}`);
  assert.equal(nnz, graph.trainIndptr[graph.nUsers]);

  const o = hyper('lightgcn', 1, 'adam');
  const n = users.length;
  const same = Uint32Array.from(neg, (v, k) => (k === 0 ? pos[0] : v));
  const stepCases: [() => unknown, string][] = [
    [() => referenceTrainStep(cloneState(state), { ...o, optimizer: 'rmsprop' as never }, users, pos, neg), 'RangeError: Expected one of adam, lazy-adam, sgd for optimizer but received "rmsprop"'],
    [() => referenceTrainStep(cloneState(state), { ...o, eps: Number.NaN }, users, pos, neg), 'RangeError: Expected a finite number for eps but received NaN'],
    [() => referenceTrainStep({ ...cloneState(state), userV: new Float32Array(1) }, o, users, pos, neg), `RangeError: Expected ${graph.nUsers * dim} elements in userV but received 1`],
    [() => referenceTrainStep(cloneState(state), o, Uint32Array.of(graph.nUsers), pos.subarray(0, 1), neg.subarray(0, 1)), `RangeError: Expected every value of users in [0, ${graph.nUsers}) but users[0] is ${graph.nUsers}`],
    [() => referenceTrainStep(cloneState(state), o, new Uint32Array(0), new Uint32Array(0), new Uint32Array(0)), 'RangeError: Expected at least one triple in users but received 0'],
    [() => referenceTrainStep(cloneState(state), o, users, pos.subarray(1), neg), `RangeError: Expected ${n} elements in pos but received ${n - 1}`],
    [() => referenceTrainStep(cloneState(state), o, users, pos, neg.subarray(1)), `RangeError: Expected ${n} elements in neg but received ${n - 1}`],
    [() => referenceTrainStep(cloneState(state), o, users, pos, same), `RangeError: Expected neg[0] to differ from pos[0] but both are ${pos[0]}`],
    [() => referenceMiniBatchStep(cloneState(state), o, users, pos, { k: 0, items: new Uint32Array(0) }), 'RangeError: Expected an integer >= 1 for negatives.k but received 0'],
    [() => referenceMiniBatchStep(cloneState(state), o, users, pos, { k: 1.5, items: new Uint32Array(0) }), 'RangeError: Expected an integer >= 1 for negatives.k but received 1.5'],
    [() => referenceMiniBatchStep(cloneState(state), o, users, pos, { k: 1, items: neg }), `RangeError: Expected ${2 * n} elements in negatives.items but received ${n}`],
    [() => referenceMiniBatchStep(cloneState(state), o, users, pos, { k: 1, items: new Uint32Array(2 * n), alphas: new Float64Array(n) }), `RangeError: Expected ${2 * n} elements in negatives.alphas but received ${n}`],
    [() => referenceMiniBatchStep(cloneState(state), o, users, pos, { k: 1, items: new Uint32Array(2 * n), weights: new Float64Array(n + 1) }), `RangeError: Expected ${n} elements in negatives.weights but received ${n + 1}`],
  ];
  for (const [call, expected] of stepCases) assert.equal(message(call), expected);
  // The edges of the checks: these are accepted.
  assert.equal(message(() => referenceMiniBatchStep(cloneState(state), o, users, pos, { k: 1, items: new Uint32Array(2 * n), alphas: new Float64Array(2 * n), weights: new Float64Array(n).fill(1) })), 'no error');
  assert.equal(message(() => referencePropagate({ ...base, layers: 4 })), 'no error');
});

test('lazy Adam in the reference moves a row whose gradient is zero in some components only', () => {
  // User 0's first coordinate and the two items' first coordinates are such that its gradient is exactly 0 there.
  const state = randomState(graph, dim, 7, true);
  const u = 0, p = 1, n = 2;
  state.userEmb[u * dim] = 0;
  state.itemEmb[n * dim] = state.itemEmb[p * dim];
  const before = state.userEmb.slice(u * dim, (u + 1) * dim);
  referenceMiniBatchStep(state, hyper('mf', 0, 'lazy-adam'), Uint32Array.of(u), Uint32Array.of(p), { k: 1, items: Uint32Array.of(n) });
  const after = state.userEmb.subarray(u * dim, (u + 1) * dim);
  for (let d = 1; d < dim; d++) assert.notEqual(after[d], before[d], `dimension ${d}`);
});

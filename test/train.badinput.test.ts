/** BAD CALL cases for every training binding: the right error class, naming the field, never a crash. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { native } from '../src/native.js';
import { randomGraph, randomState } from './support/training.js';

const graph = randomGraph(6, 5, 3, 1);
const state = randomState(graph, 4, 2);
const base = {
  ...state, model: 'lightgcn', layers: 2, optimizer: 'adam', trainIndptr: graph.trainIndptr, trainIndices: graph.trainIndices,
  lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, l2: 1e-4, threads: 1,
};
const triples = { users: Uint32Array.of(0, 1), pos: Uint32Array.of(0, 1), neg: Uint32Array.of(2, 3) };
const calls = {
  trainEpoch: (o: object) => native.trainEpoch({ ...base, batch: 4, seed: 1, ...o } as never),
  trainStep: (o: object) => native.trainStep({ ...base, ...triples, ...o } as never),
  propagate: (o: object) => native.propagate({ ...base, ...o } as never),
  sampleUniform: (o: object) =>
    native.sampleUniform({ trainIndptr: graph.trainIndptr, trainIndices: graph.trainIndices, nItems: graph.nItems, seed: 1, batch: 4, threads: 1, ...o } as never),
};
type Call = keyof typeof calls;

const unsorted = graph.trainIndices.slice();
const firstLong = Array.from({ length: graph.nUsers }, (_, u) => u).find((u) => graph.trainIndptr[u + 1] - graph.trainIndptr[u] >= 2)!;
unsorted.set([unsorted[graph.trainIndptr[firstLong] + 1], unsorted[graph.trainIndptr[firstLong]]], graph.trainIndptr[firstLong]);
const decreasing = graph.trainIndptr.slice();
decreasing[1] = decreasing[2] + 1;

/** [field, bad value, error class] applied to each function that reads the field. */
const shared: [string, unknown, typeof TypeError | typeof RangeError][] = [
  ['userEmb', new Float64Array(24), TypeError],
  ['userEmb', new Float32Array(23), RangeError],
  ['itemEmb', [0, 1], TypeError],
  ['nUsers', 1.5, TypeError],
  ['nItems', 0, RangeError],
  ['dim', 'four', TypeError],
  ['trainIndptr', new Int32Array(7), TypeError],
  ['trainIndptr', graph.trainIndptr.subarray(0, 6), RangeError],
  ['trainIndptr', decreasing, RangeError],
  ['trainIndices', graph.trainIndices.subarray(1), RangeError],
  ['trainIndices', graph.trainIndices.map((i, k) => (k === 0 ? 99 : i)), RangeError],
  ['trainIndices', unsorted, RangeError],
  ['model', 'gcn', RangeError],
  ['model', 3, TypeError],
  ['layers', 5, RangeError],
  ['threads', 0, RangeError],
];
const training: typeof shared = [
  ['optimizer', 'adagrad', RangeError],
  ['optimizer', undefined, TypeError],
  ['userM', new Float32Array(3), RangeError],
  ['itemV', undefined, TypeError],
  ['lr', NaN, RangeError],
  ['lr', 0, RangeError],
  ['lr', '0.1', TypeError],
  ['beta1', 1, RangeError],
  ['beta2', -0.1, RangeError],
  ['eps', Infinity, RangeError],
  // Required, with no default in the binding: trainDefaults holds the only ones.
  ['lr', undefined, TypeError],
  ['beta1', undefined, TypeError],
  ['beta2', undefined, TypeError],
  ['eps', undefined, TypeError],
  ['l2', -1, RangeError],
  ['step', -1, RangeError],
  ['step', 0.5, TypeError],
];
const cases: [Call, string, unknown, typeof TypeError | typeof RangeError][] = [
  ...(['trainEpoch', 'trainStep', 'propagate'] as const).flatMap((call) =>
    shared.map(([f, v, e]) => [call, f, v, e] as [Call, string, unknown, typeof TypeError])),
  ...(['trainEpoch', 'trainStep'] as const).flatMap((call) => training.map(([f, v, e]) => [call, f, v, e] as [Call, string, unknown, typeof TypeError])),
  ['trainEpoch', 'batch', 0, RangeError],
  ['trainEpoch', 'seed', 1.5, TypeError],
  ['trainEpoch', 'seed', undefined, TypeError],
  ['trainStep', 'users', new Int32Array(2), TypeError],
  ['trainStep', 'users', new Uint32Array(0), RangeError],
  ['trainStep', 'users', Uint32Array.of(0, 6), RangeError],
  ['trainStep', 'pos', Uint32Array.of(0), RangeError],
  ['trainStep', 'neg', Uint32Array.of(2, 5), RangeError],
  ['trainStep', 'neg', Uint32Array.of(0, 3), RangeError],
  ['sampleUniform', 'trainIndptr', Uint32Array.of(0), RangeError],
  ['sampleUniform', 'trainIndptr', [0, 1], TypeError],
  ['sampleUniform', 'trainIndices', graph.trainIndices.map((i, k) => (k === 1 ? 5 : i)), RangeError],
  ['sampleUniform', 'trainIndices', unsorted, RangeError],
  ['sampleUniform', 'nItems', -2, RangeError],
  ['sampleUniform', 'seed', -1, RangeError],
  ['sampleUniform', 'batch', 2 ** 30, RangeError],
  ['sampleUniform', 'threads', 'two', TypeError],
];

test('the valid base calls succeed', async () => {
  for (const call of Object.keys(calls) as Call[]) await calls[call]({});
  await calls.trainStep({ optimizer: 'sgd', userM: undefined, userV: undefined, itemM: undefined, itemV: undefined });
});

for (const [call, field, value, errorClass] of cases) {
  const shown = ArrayBuffer.isView(value) ? `${value.constructor.name}(${(value as Uint32Array).length})` : String(value);
  test(`BAD CALL - ${call} with ${field} = ${shown} throws ${errorClass.name} naming ${field}`, async () => {
    const mustName = (e: unknown) => {
      assert.ok(e instanceof errorClass, `expected ${errorClass.name}, got ${String(e)}`);
      assert.equal((e as Error).constructor, errorClass);
      assert.match((e as Error).message, new RegExp(`\\b${field}\\b`));
      return true;
    };
    assert.throws(() => calls[call]({ [field]: value }), mustName);
  });
}

test('BAD CALL - every function rejects a missing options object with a TypeError naming options', () => {
  for (const name of ['trainEpoch', 'trainStep', 'propagate', 'sampleUniform'] as const) {
    assert.throws(() => (native[name] as (o?: unknown) => unknown)(), (e: unknown) => e instanceof TypeError && /\boptions\b/.test(e.message));
    assert.throws(() => (native[name] as (o?: unknown) => unknown)([1]), TypeError);
  }
});

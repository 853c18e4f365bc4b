/**
 * The native side keeps the large blocks a call frees (kernels/memory.hpp's BlockCache) and hands
 * them to the next call that asks for the same size: an epoch's result must not depend on what an
 * earlier call on another dataset left in that memory, nor on a block of another size. Each case
 * trains one epoch on A, one on B (larger), one on C (smaller), then A again from the same state.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { native, type TrainEpochOptions } from '../src/native.js';
import { adamDefaults, samplerDefaults } from '../src/defaults.js';
import { generateSynthetic } from '../src/data/synthetic.js';
import { initModel } from '../src/model/state.js';
import type { Dataset } from '../src/data/types.js';

const datasets = {
  a: generateSynthetic({ preset: 'small', seed: 1 }),
  b: generateSynthetic({ preset: 'small', seed: 2, nUsers: 3000, nItems: 1500 }),
  c: generateSynthetic({ preset: 'small', seed: 3, nUsers: 1200, nItems: 700 }),
};

type Case = Pick<TrainEpochOptions, 'model' | 'layers' | 'optimizer' | 'sampler'>;

function epoch(d: Dataset, c: Case) {
  const state = initModel(d.nUsers, d.nItems, 64, 7, 0.1);
  return native.trainEpoch({
    ...samplerDefaults, ...state, ...c, trainIndptr: d.train.indptr, trainIndices: d.train.indices, lr: 1e-3, ...adamDefaults,
    l2: 1e-4, batch: 2048, seed: 11, threads: 1, negs: 4,
  }).then((stats) => ({ stats, userEmb: state.userEmb, itemEmb: state.itemEmb }));
}

const cases: Case[] = [
  { model: 'lightgcn', layers: 3, optimizer: 'adam', sampler: 'mixgcf' },
  { model: 'mf', layers: 0, optimizer: 'sgd', sampler: 'rns' },
  { model: 'mf', layers: 0, optimizer: 'adam', sampler: 'dns' },
];

for (const c of cases) {
  test(`${c.model} ${c.optimizer} ${c.sampler}: an epoch after epochs on larger and smaller data is the epoch on fresh memory`, async () => {
    const first = await epoch(datasets.a, c);
    await epoch(datasets.b, c);
    await epoch(datasets.c, c);
    const again = await epoch(datasets.a, c);
    assert.ok(first.stats.samples * 4 >= 64 * 1024, `the plan's arrays are large enough to be kept (CachedAllocator.kMinBytes) (${first.stats.samples} samples)`);
    assert.equal(again.stats.loss, first.stats.loss);
    assert.deepEqual(again.userEmb, first.userEmb);
    assert.deepEqual(again.itemEmb, first.itemEmb);
  });
}

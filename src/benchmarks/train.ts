/**
 * Training throughput (samples/s) on the Gowalla-sized synthetic dataset, dim 64, batch 2048:
 * - `native-epoch-*`: a whole epoch (permutation, negative draws, steps) in one native call;
 * - `native-step-*` and `ts-step-*`: ONE step on the same explicit batch of triples, native
 *   next to the plain-TS reference (src/train/step-reference.ts), so the ratio compares equal work.
 * MF with PyTorch-dense Adam (deferred, the default, next to the every-row path it
 * reproduces), MF with the fast row-sparse options, LightGCN with 3 layers.
 */
import { callNative, native, type ModelState, type TrainHyperparameters } from '../native.js';
import { referenceTrainStep } from '../train/step-reference.js';
import { initModel } from '../model/state.js';
import type { Dataset } from '../data/types.js';
import { ratioLine, runCases, type BenchCase, type BenchRow, type BenchSettings } from './harness.js';
import { benchDataset } from './data.js';
import { adamDefaults } from '../defaults.js';

type Setting = {
  label: string; model: 'mf' | 'lightgcn'; layers: number; optimizer: 'adam' | 'lazy-adam' | 'sgd'; epoch: boolean; ts: boolean;
  deferAdam?: boolean;
};

const SETTINGS: Setting[] = [
  { label: 'mf-adam', model: 'mf', layers: 0, optimizer: 'adam', epoch: true, ts: true },
  { label: 'mf-adam-every-row', model: 'mf', layers: 0, optimizer: 'adam', epoch: true, ts: false, deferAdam: false },
  { label: 'mf-lazy-adam', model: 'mf', layers: 0, optimizer: 'lazy-adam', epoch: true, ts: true },
  { label: 'mf-sgd', model: 'mf', layers: 0, optimizer: 'sgd', epoch: true, ts: false },
  { label: 'lightgcn3-adam', model: 'lightgcn', layers: 3, optimizer: 'adam', epoch: false, ts: true },
];

function freshState(dataset: Dataset): ModelState {
  return initModel(dataset.nUsers, dataset.nItems, 64, 3, 0.1);
}

export async function benchTrain(settings: BenchSettings, log: (line: string) => void, quick: boolean): Promise<BenchRow[]> {
  const dataset = await benchDataset(quick);
  const train = dataset.train;
  const nnz = train.indices.length;
  const batch = 2048;
  const triples = await callNative(() =>
    native.sampleUniform({ trainIndptr: train.indptr, trainIndices: train.indices, nItems: dataset.nItems, seed: 5, batch, threads: 1 }),
  );
  const users = triples.users.slice(0, batch), pos = triples.pos.slice(0, batch), neg = triples.neg.slice(0, batch);
  log(`train: ${dataset.name}, ${dataset.nUsers} users x ${dataset.nItems} items, ${nnz} train interactions, dim 64, batch ${batch}`);
  const cases: BenchCase[] = [];
  const input = quick ? 'medium' : 'gowalla';
  for (const s of SETTINGS) {
    const hyper = (threads: number): TrainHyperparameters => ({
      model: s.model, layers: s.layers, trainIndptr: train.indptr, trainIndices: train.indices, optimizer: s.optimizer,
      lr: 1e-3, ...adamDefaults, l2: 1e-4, threads, ...(s.deferAdam === undefined ? {} : { deferAdam: s.deferAdam }),
    });
    for (const threads of [1, 2]) {
      const state = freshState(dataset);
      let epoch = 0;
      if (s.epoch) {
        cases.push({
          name: `native-epoch-${threads}t-${s.label}-${input}`, unitsPerRun: nnz, unit: 'samples',
          fn: async () => {
            const stats = await native.trainEpoch({ ...state, ...hyper(threads), batch, seed: ++epoch });
            state.step = stats.step;
          },
        });
      }
      cases.push({
        name: `native-step-${threads}t-${s.label}-${input}`, unitsPerRun: batch, unit: 'samples',
        fn: async () => {
          const stats = await native.trainStep({ ...state, ...hyper(threads), users, pos, neg });
          state.step = stats.step;
        },
      });
    }
    if (s.ts) {
      const state = freshState(dataset);
      cases.push({
        name: `ts-step-${s.label}-${input}`, unitsPerRun: batch, unit: 'samples',
        fn: () => {
          state.step = referenceTrainStep(state, { ...hyper(1), beta1: 0.9, beta2: 0.999, eps: 1e-8 }, users, pos, neg).step;
        },
      });
    }
  }
  const rows = await runCases('train', cases, settings, log);
  for (const s of SETTINGS) {
    for (const line of [
      ratioLine(rows, `native-step-1t-${s.label}-${input}`, `ts-step-${s.label}-${input}`),
      ratioLine(rows, `native-step-2t-${s.label}-${input}`, `native-step-1t-${s.label}-${input}`),
      ratioLine(rows, `native-epoch-2t-${s.label}-${input}`, `native-epoch-1t-${s.label}-${input}`),
    ]) if (line) log(line);
  }
  for (const threads of [1, 2]) {
    const line = ratioLine(rows, `native-epoch-${threads}t-mf-adam-${input}`, `native-epoch-${threads}t-mf-adam-every-row-${input}`);
    if (line) log(line);
  }
  return rows;
}

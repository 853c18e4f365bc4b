/**
 * The Hogwild MF epoch against its own update loop: a whole epoch (plan, negative draws,
 * lock-free updates) next to trainStep over the same number of pre-drawn triples (an epoch's,
 * from sampleUniform), which is the update loop alone. Both are timed by the kernel
 * (TrainStats.seconds), so the binding's checks of 3 x n triples do not count against the
 * loop. Epochs and loops alternate (runInterleaved) and the ratio is the median of the rounds'
 * paired ratios. The goal is an epoch at 80 % or more of its update loop's rate.
 */
import { native, type ModelState } from '../native.js';
import { initModel } from '../model/state.js';
import { adamDefaults } from '../defaults.js';
import { benchDataset } from './data.js';
import { runInterleaved, throughputRatio, type BenchRow } from './harness.js';

export async function benchHogwildLoop(log: (line: string) => void, quick: boolean): Promise<BenchRow[]> {
  const dataset = await benchDataset(quick);
  const train = dataset.train;
  const input = quick ? 'medium' : 'gowalla';
  const rows: BenchRow[] = [];
  for (const optimizer of ['sgd', 'lazy-adam'] as const) {
    for (const threads of [1, 2]) {
      const hyper = {
        model: 'mf', layers: 0, trainIndptr: train.indptr, trainIndices: train.indices, optimizer, lr: 1e-3,
        ...adamDefaults, l2: 1e-4, threads,
      } as const;
      const triples = await native.sampleUniform({ trainIndptr: train.indptr, trainIndices: train.indices, nItems: dataset.nItems, seed: 1, batch: 2048, threads });
      const n = triples.users.length;
      log(`train: Hogwild MF ${optimizer} on ${dataset.name}, ${threads} thread(s): epoch vs its update loop over ${n} pre-drawn triples, interleaved`);
      const fresh = (): ModelState => initModel(dataset.nUsers, dataset.nItems, 64, 0, 0.1);
      const epochState = fresh(), loopState = fresh();
      let seed = 0;
      const pair = await runInterleaved('train', [
        {
          name: `native-epoch-${threads}t-mf-${optimizer}-${input}`, unit: 'samples', unitsPerRun: n, kernelTimed: true,
          fn: async () => {
            const stats = await native.trainEpoch({ ...epochState, ...hyper, batch: 2048, seed: ++seed });
            epochState.step = stats.step;
            return stats.seconds;
          },
        },
        {
          name: `native-loop-${threads}t-mf-${optimizer}-${input}`, unit: 'samples', unitsPerRun: n, kernelTimed: true,
          fn: async () => {
            const stats = await native.trainStep({ ...loopState, ...hyper, users: triples.users, pos: triples.pos, neg: triples.neg });
            loopState.step = stats.step;
            return stats.seconds;
          },
        },
      ], quick ? 2 : 7, log);
      const { ratio, pairedRounds } = throughputRatio(pair[0], pair[1]);
      log(`  ${optimizer} ${threads}t: epoch rate / update-loop rate = ${(ratio * 100).toFixed(0)} % (median of ${pairedRounds} paired rounds; goal >= 80 %)`);
      rows.push(...pair);
    }
  }
  return rows;
}

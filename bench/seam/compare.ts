/**
 * Epochs per sampler side by side with another build of the addon (issue 13: the sampler seam must
 * cost nothing). Build the other commit in a worktree, then:
 *
 *   npm run build
 *   node dist/bench/seam/compare.js --old ../other/build/Release/dtlns_native.node
 *
 * Both addons are loaded into this process and get the same options object, so each pair of
 * epochs starts from the same tables, seed and draws; the script checks that their losses agree
 * and reports, per model and sampler, the median CPU seconds of each side and their ratio over
 * interleaved rounds (round 0 warms up and is not counted), with the machine and its load.
 */
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { native, type NativeBinding, type TrainEpochOptions } from '../../src/native.js';
import { optimizerNames, samplerDefaults, trainDefaults } from '../../src/defaults.js';
import { loadDataset } from '../../src/data/load.js';
import { initModel } from '../../src/model/state.js';
import { benchPathOptions } from '../dataset-paths.js';
import { median } from '../../src/benchmarks/harness.js';

const argv = yargs(hideBin(process.argv))
  .option('old', { type: 'string', demandOption: true, describe: 'the other build: a dtlns_native.node file' })
  .option('data', { type: 'string', default: 'synthetic:medium', describe: 'a dataset folder or synthetic:<size>' })
  .option('samplers', { type: 'string', array: true, default: ['rns', 'dns', 'mixgcf', 'dtlns'] })
  .option('models', { type: 'string', array: true, default: ['mf', 'lightgcn'] })
  .option('optimizer', { type: 'string', choices: optimizerNames, default: trainDefaults.optimizer })
  .option('rounds', { type: 'number', default: 5, describe: 'counted rounds, each one epoch per side' })
  .option('threads', { type: 'number', default: 1, describe: 'threads per epoch, both sides' })
  .strict()
  .parseSync();

const old = createRequire(import.meta.url)(resolve(argv.old)) as NativeBinding;
const dataset = await loadDataset(argv.data, { seed: 1 });
const train = dataset.train;
const paths = await benchPathOptions(argv.data, dataset, argv.samplers);

async function timed(run: () => Promise<unknown>): Promise<[{ cpu: number; wall: number }, unknown]> {
  const start = process.cpuUsage(), wallStart = performance.now();
  const result = await run();
  const used = process.cpuUsage(start);
  return [{ cpu: (used.user + used.system) / 1e6, wall: (performance.now() - wallStart) / 1000 }, result];
}

console.log(`seam comparison: ${dataset.name}, ${dataset.nUsers} users x ${dataset.nItems} items, ${train.indices.length} interactions; ` +
  `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} hardware threads, load ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
// The machine's speed drifts between rounds, so each round's two epochs form a pair and the
// ratio reported is the median of the pairs' ratios.
console.log(`${argv.threads} thread(s) per epoch`);
console.log('| model | sampler | new CPU s/epoch | old CPU s/epoch | new / old CPU | new / old wall | losses equal |');
console.log('|---|---|---:|---:|---:|---:|---|');
for (const model of argv.models) {
  const layers = model === 'lightgcn' ? 3 : 0;
  for (const sampler of argv.samplers) {
    const sides = { new: [] as { cpu: number; wall: number }[], old: [] as { cpu: number; wall: number }[] };
    let equal = true;
    for (let round = 0; round <= argv.rounds; round++) {
      const state = initModel(dataset.nUsers, dataset.nItems, 64, round + 1, 0.1);
      const options = {
        ...samplerDefaults, ...state, model, layers, trainIndptr: train.indptr, trainIndices: train.indices, optimizer: argv.optimizer,
        lr: 1e-3, l2: 1e-4, beta1: trainDefaults.beta1, beta2: trainDefaults.beta2, eps: trainDefaults.eps, batch: 2048, seed: round + 1, threads: argv.threads, sampler, negs: 10, ...paths,
      } as unknown as TrainEpochOptions;
      // Each side trains its own copy of the same tables; alternate which goes first.
      const copy = () => ({
        ...options, userEmb: state.userEmb.slice(), itemEmb: state.itemEmb.slice(),
        userM: state.userM.slice(), userV: state.userV.slice(), itemM: state.itemM.slice(), itemV: state.itemV.slice(),
      });
      const order = round % 2 ? (['old', 'new'] as const) : (['new', 'old'] as const);
      const losses: Record<string, number> = {};
      for (const side of order) {
        const binding = side === 'new' ? native : old;
        const [seconds, stats] = await timed(() => binding.trainEpoch(copy()));
        losses[side] = (stats as { bprLoss: number }).bprLoss;
        if (round > 0) sides[side].push(seconds);
      }
      if (losses.new !== losses.old) equal = false;
    }
    const ratio = (key: 'cpu' | 'wall') => median(sides.new.map((x, k) => x[key] / sides.old[k][key])).toFixed(2);
    const n = median(sides.new.map((x) => x.cpu)), o = median(sides.old.map((x) => x.cpu));
    console.log(`| ${model} | ${sampler} | ${n.toFixed(3)} | ${o.toFixed(3)} | ${ratio('cpu')} | ${ratio('wall')} | ${equal ? 'yes' : 'no'} |`);
  }
}

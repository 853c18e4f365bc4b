/**
 * What each sampler adds to an epoch (issue 15: mixgcf and dtlns at most 1.3x an rns epoch), on a
 * real dataset folder with its own path files or on a synthetic one:
 *
 *   npm run build
 *   node dist/bench/samplers/compare.js --data ../shared/datasets/dtlns-sports
 *
 * In interleaved rounds (round 0 warms up and is not counted; the order rotates each round) every
 * sampler trains one LightGCN-3 epoch (Adam, batch 2048, n_negs 10, one thread) from the same fresh
 * tables and seed. Reports the median CPU and wall seconds per epoch and each sampler's ratio to the
 * first (the median of the rounds' own ratios: the VM's speed drifts between rounds), with the
 * machine and its load at the start and the end.
 */
import { cpus, loadavg } from 'node:os';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { native, type SamplerName, type TrainEpochOptions } from '../../src/native.js';
import { adamDefaults } from '../../src/defaults.js';
import { loadDataset } from '../../src/data/load.js';
import { initModel } from '../../src/model/state.js';
import { benchPathOptions } from '../dataset-paths.js';
import { median } from '../../src/benchmarks/harness.js';
import { samplerNames } from '../../src/sampling/catalogue.js';

const argv = yargs(hideBin(process.argv))
  .option('data', { type: 'string', default: 'synthetic:medium', describe: 'a dataset folder (with paths-struct.txt and paths-semantic.txt for dtlns) or synthetic:<size>' })
  .option('samplers', { type: 'string', array: true, choices: samplerNames, default: ['rns', 'dns', 'mixgcf', 'dtlns'], describe: 'the first is the reference of the ratios' })
  .option('layers', { type: 'number', default: 3 })
  .option('rounds', { type: 'number', default: 5, describe: 'counted rounds, one epoch per sampler each' })
  .strict()
  .parseSync();

const dataset = await loadDataset(argv.data, { seed: 1 });
const train = dataset.train;
const samplers = argv.samplers as SamplerName[];
const paths = await benchPathOptions(argv.data, dataset, samplers);
const load = () => loadavg().map((x) => x.toFixed(1)).join(' ');
console.log(`sampler epochs: ${dataset.name}, ${dataset.nUsers} users x ${dataset.nItems} items, ${train.indices.length} interactions, ` +
  `LightGCN-${argv.layers}, 1 thread; ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} hardware threads, load ${load()}`);

const cpu = new Map(samplers.map((s) => [s, [] as number[]]));
const wall = new Map(samplers.map((s) => [s, [] as number[]]));
for (let round = 0; round <= argv.rounds; round++) {
  const state = initModel(dataset.nUsers, dataset.nItems, 64, round + 1, 0.1);
  for (let k = 0; k < samplers.length; k++) {
    const sampler = samplers[(k + round) % samplers.length]!;
    const options: TrainEpochOptions = {
      ...state, userEmb: state.userEmb.slice(), itemEmb: state.itemEmb.slice(), userM: state.userM.slice(), userV: state.userV.slice(),
      itemM: state.itemM.slice(), itemV: state.itemV.slice(), model: 'lightgcn', layers: argv.layers, trainIndptr: train.indptr,
      trainIndices: train.indices, optimizer: 'adam', lr: 1e-3, ...adamDefaults, l2: 1e-4, batch: 2048, seed: round + 1, threads: 1,
      sampler, negs: 10, ...paths,
    };
    const cpuStart = process.cpuUsage(), wallStart = performance.now();
    await native.trainEpoch(options);
    const used = process.cpuUsage(cpuStart);
    if (round > 0) {
      cpu.get(sampler)!.push((used.user + used.system) / 1e6);
      wall.get(sampler)!.push((performance.now() - wallStart) / 1000);
    }
  }
}
const reference = samplers[0]!;
console.log(`| sampler | CPU s/epoch | wall s/epoch | CPU vs ${reference} | wall vs ${reference} |`);
console.log('|---|---:|---:|---:|---:|');
const paired = (times: Map<SamplerName, number[]>, s: SamplerName) => median(times.get(s)!.map((t, k) => t / times.get(reference)![k]!));
for (const s of samplers) {
  const c = median(cpu.get(s)!), w = median(wall.get(s)!);
  console.log(`| ${s} | ${c.toFixed(2)} | ${w.toFixed(2)} | ${paired(cpu, s).toFixed(2)}x | ${paired(wall, s).toFixed(2)}x |`);
}
console.log(`medians of ${argv.rounds} interleaved rounds (ratios: of the rounds' own ratios); load at the end ${load()}`);

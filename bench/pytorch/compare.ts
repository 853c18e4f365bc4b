/**
 * LightGCN epochs side by side with LightGCN-PyTorch's training step (issue 15):
 *
 *   npm run build
 *   node dist/bench/pytorch/compare.js --data ../shared/datasets/dtlns-sports ../shared/datasets/gowalla-lightgcn
 *
 * Per dataset and thread count, rounds alternate one native epoch (`trainEpoch`: LightGCN-3, dense
 * Adam, rns, batch 2048, dim 64, as `train` runs it) with one run of `lightgcn_pytorch.py` (the
 * same step in PyTorch, `torch.set_num_threads(threads)`, its own timed batches scaled to an
 * epoch, sampling and warm-up excluded), so machine load hits both alike. Round 0 warms the native
 * side up and is not counted. Reports medians of wall seconds and of CPU seconds per epoch (CPU
 * time stays meaningful on a machine shared with other jobs; at 2 threads it adds both threads'
 * time) and, as the speed-up, the median of each round's ratio (the machine's speed drifts between
 * rounds), with the machine and its load average. `--layers 0` compares MF-BPR epochs the same way.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { native, type ModelState } from '../../src/native.js';
import { loadDataset } from '../../src/data/load.js';
import { initModel } from '../../src/model/state.js';
import { adamDefaults } from '../../src/defaults.js';
import { median } from '../../src/benchmarks/harness.js';

const argv = yargs(hideBin(process.argv))
  .option('data', { type: 'string', array: true, demandOption: true, describe: 'dataset folders (train.txt or train.txt.gz)' })
  .option('threads', { type: 'number', array: true, default: [1, 2], describe: 'thread counts, each side alike' })
  .option('rounds', { type: 'number', default: 3, describe: 'counted rounds per dataset and thread count' })
  .option('batches', { type: 'number', default: 20, describe: "PyTorch's timed batches per run (after its 3 warm-up batches)" })
  .option('layers', { type: 'number', default: 3 })
  .option('python', { type: 'string', default: '/usr/bin/python3', describe: 'a Python with torch (Debian: python3-torch)' })
  .option('out', { type: 'string', describe: 'also write the rows as JSON here' })
  .strict()
  .parseSync();

const script = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bench', 'pytorch', 'lightgcn_pytorch.py');

interface Row {
  dataset: string;
  threads: number;
  side: 'native' | 'pytorch';
  wall: number[];
  cpu: number[];
}

function pytorchEpoch(folder: string, threads: number): { wall: number; cpu: number; framework: string } {
  const args = [script, '--data', folder, '--model', 'lightgcn', '--layers', String(argv.layers), '--threads', String(threads),
    '--batches', String(argv.batches)];
  const run = spawnSync(argv.python, args, { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: String(threads) } });
  if (run.status !== 0) throw new Error(`${argv.python} ${args.join(' ')} failed (${run.status}): ${run.stderr}`);
  const line = JSON.parse(run.stdout.trim().split('\n').pop() as string);
  return { wall: line.secondsPerEpoch, cpu: line.cpuSecondsPerEpoch, framework: line.framework };
}

const rows: Row[] = [];
const load = [loadavg()[0]];
let framework = '';
for (const folder of argv.data) {
  const dataset = await loadDataset(folder);
  const train = dataset.train;
  const name = basename(folder);
  console.log(`${name}: ${dataset.nUsers} users x ${dataset.nItems} items, ${train.indptr[train.rows]} train interactions, LightGCN-${argv.layers}, dim 64, batch 2048`);
  for (const threads of argv.threads) {
    const state: ModelState = initModel(dataset.nUsers, dataset.nItems, 64, 3, 0.1);
    const ours: Row = { dataset: name, threads, side: 'native', wall: [], cpu: [] };
    const theirs: Row = { dataset: name, threads, side: 'pytorch', wall: [], cpu: [] };
    for (let round = 0; round <= argv.rounds; round++) {
      const cpu0 = process.cpuUsage();
      const start = performance.now();
      const stats = await native.trainEpoch({
        ...state, model: 'lightgcn', layers: argv.layers, trainIndptr: train.indptr, trainIndices: train.indices,
        optimizer: 'adam', lr: 1e-3, ...adamDefaults, l2: 1e-4, threads, batch: 2048, seed: round + 1,
      });
      const wall = (performance.now() - start) / 1000;
      const used = process.cpuUsage(cpu0);
      state.step = stats.step;
      if (round === 0) continue;
      ours.wall.push(wall);
      ours.cpu.push((used.user + used.system) / 1e6);
      const peer = pytorchEpoch(folder, threads);
      framework = peer.framework;
      theirs.wall.push(peer.wall);
      theirs.cpu.push(peer.cpu);
      load.push(loadavg()[0]);
      console.log(`  ${threads}t round ${round}: native ${wall.toFixed(2)} s wall ${ours.cpu.at(-1)!.toFixed(2)} s cpu; ` +
        `pytorch ${peer.wall.toFixed(1)} s wall ${peer.cpu.toFixed(1)} s cpu per epoch`);
    }
    rows.push(ours, theirs);
    // The machine's speed drifts between rounds: each round's two epochs form a pair, and the ratio is the median of the pairs'.
    const paired = (key: 'wall' | 'cpu') => median(theirs[key].map((x, k) => x / ours[key][k]));
    const w = paired('wall'), c = paired('cpu');
    console.log(`  ${name} ${threads}t: native ${median(ours.wall).toFixed(2)} s/epoch (cpu ${median(ours.cpu).toFixed(2)} s), ` +
      `${framework} ${median(theirs.wall).toFixed(1)} s/epoch (cpu ${median(theirs.cpu).toFixed(1)} s): ` +
      `native is ${w.toFixed(1)}x faster by wall time, ${c.toFixed(1)}x by CPU time (medians of ${ours.wall.length} rounds' ratios)`);
  }
  for (const side of ['native', 'pytorch'] as const) {
    const one = rows.find((r) => r.dataset === name && r.side === side && r.threads === 1);
    const two = rows.find((r) => r.dataset === name && r.side === side && r.threads === 2);
    if (one && two) console.log(`  ${name} ${side}: 2 threads ${(median(one.wall) / median(two.wall)).toFixed(2)}x one thread (wall)`);
  }
}
const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}, load average ${Math.min(...load).toFixed(1)}-${Math.max(...load).toFixed(1)}`;
console.log(`machine: ${machine}`);
if (argv.out) writeFileSync(argv.out, JSON.stringify({ machine, framework, rows }, null, 2) + '\n');

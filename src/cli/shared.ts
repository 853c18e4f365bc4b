/** Glue shared by the commands: arguments -> dataset, arguments -> training, results -> stdout. */
import { loadDataset, type LoadOptions } from '../data/load.js';
import type { SplitMode } from '../data/split.js';
import type { Dataset } from '../data/types.js';
import { train, summarize, type TrainResult } from '../train/train.js';
import { createProgress, formatNumber } from './progress.js';
import { parseList } from './options.js';
import { samplingFromArgs, type SamplingArgs } from './sampling.js';

export interface DataArgs {
  data: string;
  format: string;
  minRating?: number;
  split: string;
  splitRatio: string;
}

export interface TrainArgs extends DataArgs, SamplingArgs {
  model: string;
  layers: number;
  dim: number;
  lr: number;
  batch: number;
  l2: number;
  epochs: number;
  evalEvery: number;
  patience: number;
  optimizer: string;
  evalMask: string;
  seed: number;
  ks: string;
  threads: number;
  out?: string;
  json: boolean;
  quiet: boolean;
  fresh: boolean;
}

export async function loadDatasetFromArgs(args: DataArgs & { seed?: number; quiet?: boolean }): Promise<Dataset> {
  const ratios = parseList(args.splitRatio, 'split-ratio');
  const started = Date.now();
  if (ratios.length !== 3) throw new RangeError(`Expected three fractions train,valid,test for --split-ratio but received "${args.splitRatio}"`);
  const dataset = await loadDataset(args.data, {
    format: args.format as LoadOptions['format'],
    ...(args.minRating !== undefined ? { minRating: args.minRating } : {}),
    split: { mode: args.split as SplitMode, validRatio: ratios[1], testRatio: ratios[2] },
    ...(args.seed !== undefined ? { seed: args.seed } : {}),
  });
  if (!args.quiet) {
    const nnz = dataset.train.indices.length;
    process.stderr.write(
      `data ${dataset.name}: ${formatNumber(dataset.nUsers)} users, ${formatNumber(dataset.nItems)} items, ` +
        `${formatNumber(nnz)} train interactions (${((Date.now() - started) / 1000).toFixed(2)}s)\n`,
    );
  }
  return dataset;
}

export async function trainFromArgs(dataset: Dataset, args: TrainArgs, ks: number[]): Promise<TrainResult> {
  const sampling = await samplingFromArgs(dataset, args);
  const progress = createProgress('train', args.epochs, { quiet: args.quiet, unit: 'epochs' });
  try {
    return await train(dataset, {
      ...sampling,
      model: args.model as 'mf' | 'lightgcn',
      layers: args.layers,
      dim: args.dim,
      lr: args.lr,
      batch: args.batch,
      l2: args.l2,
      epochs: args.epochs,
      evalEvery: args.evalEvery,
      patience: args.patience,
      optimizer: args.optimizer as 'adam',
      evalMask: args.evalMask as 'original',
      seed: args.seed,
      threads: args.threads,
      ks,
      fresh: args.fresh,
      ...(args.out ? { out: args.out } : {}),
      onEpoch: (r) => {
        progress.update(r.epoch, { loss: r.loss, 'samples/s': Math.round(r.samplesPerSecond) });
        if (r.eval) {
          const m = r.eval.metrics;
          progress.log(
            `epoch ${r.epoch}: loss ${formatNumber(r.loss)}, ${r.eval.split} recall@20 ${m['recall@20'].toFixed(4)} ` +
              `ndcg@20 ${m['ndcg@20'].toFixed(4)}${r.eval.best ? ' (best)' : ''}, ${formatNumber(r.samplesPerSecond)} samples/s`,
          );
        }
      },
    });
  } finally {
    progress.stop();
  }
}

/** Human summary on stdout, or one JSON object as the last stdout line with --json. */
export function printResult(result: TrainResult, args: { json: boolean; out?: string }): void {
  const summary = summarize(result);
  if (args.json) {
    process.stdout.write(JSON.stringify(summary) + '\n');
    return;
  }
  const lines: string[] = [];
  lines.push(`epochs ${result.epochs} (best ${result.bestEpoch}${result.stoppedEarly ? ', stopped early' : ''}), ${result.secondsPerEpoch.toFixed(3)} s/epoch, eval mask: ${result.evalMask} training set`);
  lines.push(`sampler ${Object.entries(result.sampler).map(([key, value]) => (key === 'sampler' ? value : `${key} ${value}`)).join(', ')}`);
  for (const split of ['valid', 'test'] as const) {
    const m = result[split];
    if (!m) continue;
    lines.push(
      `${split.padEnd(5)}  ` +
        [5, 10, 20, 50].filter((k) => m[`recall@${k}`] !== undefined).map((k) => `R@${k} ${m[`recall@${k}`].toFixed(4)} N@${k} ${m[`ndcg@${k}`].toFixed(4)}`).join('  '),
    );
  }
  if (args.out) lines.push(`outputs in ${args.out} (metrics.json, user-embeddings.npy, item-embeddings.npy, best/, checkpoint/)`);
  process.stdout.write(lines.join('\n') + '\n');
}

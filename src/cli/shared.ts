/** Glue shared by the commands: arguments -> dataset, arguments -> training, results -> stdout. */
import { join } from 'node:path';
import type { Argv } from 'yargs';
import { readNpy } from '../model/npy.js';
import { loadDataset, type LoadOptions } from '../data/load.js';
import type { SplitMode } from '../data/split.js';
import type { Dataset } from '../data/types.js';
import { train, summarize, type TrainOptions, type TrainResult } from '../train/train.js';
import { createProgress, formatNumber } from './progress.js';
import { parseList, samplerOptionsFromArgs } from './options.js';
import { samplingFromArgs, type SamplingArgs } from './sampling.js';

export interface DataArgs {
  data: string;
  format: string;
  minRating?: number;
  split: string;
  splitRatio: string;
  dropColdUsers?: boolean;
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
  timeBudget?: number;
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
    ...(args.dropColdUsers !== undefined ? { dropColdUsers: args.dropColdUsers } : {}),
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

/**
 * The training options of parsed `train` arguments that `run` hands to its final training too
 * (its pre-training takes the model's); the sampler's fields come from the sampler catalogue.
 */
export function trainingOptionsFromArgs(args: TrainArgs) {
  return {
    ...samplerOptionsFromArgs(args),
    model: args.model as 'mf' | 'lightgcn',
    layers: args.layers,
    dim: args.dim,
    lr: args.lr,
    batch: args.batch,
    l2: args.l2,
    epochs: args.epochs,
    evalEvery: args.evalEvery,
    patience: args.patience,
    ...(args.timeBudget !== undefined ? { timeBudget: args.timeBudget } : {}),
    optimizer: args.optimizer as 'adam',
    evalMask: args.evalMask as 'original',
    seed: args.seed,
  } satisfies TrainOptions;
}

export async function trainFromArgs(dataset: Dataset, args: TrainArgs, ks: number[]): Promise<TrainResult> {
  const sampling = await samplingFromArgs(dataset, args);
  const progress = createProgress('train', args.epochs, { quiet: args.quiet, unit: 'epochs' });
  try {
    return await train(dataset, {
      ...sampling,
      ...trainingOptionsFromArgs(args),
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
  lines.push(`epochs ${result.epochs} (best ${result.bestEpoch}${result.stoppedBy === 'epochs' ? '' : result.stoppedBy === 'patience' ? ', stopped early' : ', time budget reached'}), ${result.secondsPerEpoch.toFixed(3)} s/epoch, eval mask: ${result.evalMask} training set`);
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

export interface EmbeddingArgs {
  run?: string;
  userEmb?: string;
  itemEmb?: string;
}

/** --run DIR or --user-emb/--item-emb: where a command reads trained embeddings from. */
export function embeddingOptions<T>(y: Argv<T>) {
  return y
    .option('run', { type: 'string', describe: 'A run folder written by train/run (reads user-embeddings.npy and item-embeddings.npy)' })
    .option('user-emb', { type: 'string', describe: 'User embeddings .npy (float32, users x dim)' })
    .option('item-emb', { type: 'string', describe: 'Item embeddings .npy (float32, items x dim)' })
    .check((a) => {
      if (!a.run && !(a.userEmb && a.itemEmb)) throw new Error('Give --run DIR, or both --user-emb and --item-emb');
      return true;
    });
}

/** The embeddings named by EmbeddingArgs, checked against the dataset's users and items. */
export function readEmbeddings(args: EmbeddingArgs, dataset: Dataset): { users: Float32Array; items: Float32Array; dim: number } {
  const users = readNpy(args.userEmb ?? join(args.run!, 'user-embeddings.npy'));
  const items = readNpy(args.itemEmb ?? join(args.run!, 'item-embeddings.npy'));
  const dim = users.shape[1];
  if (users.shape[0] !== dataset.nUsers || items.shape[0] !== dataset.nItems || items.shape[1] !== dim) {
    throw new RangeError(
      `Embeddings of shape ${users.shape.join('x')} (users) and ${items.shape.join('x')} (items) do not match the dataset's ` +
        `${dataset.nUsers} users and ${dataset.nItems} items`,
    );
  }
  return { users: users.data, items: items.data, dim };
}

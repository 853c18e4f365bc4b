/** `dtlns-native export`: a run folder's final embeddings -> an ONNX top-K graph (ORT, or any ONNX runtime, serves it). */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { exportRun } from '../export/export-run.js';
import { readRunMetrics } from '../train/train.js';
import { trainDefaults } from '../defaults.js';
import { dataOptions } from './options.js';
import { loadDatasetFromArgs, type DataArgs } from './shared.js';
import { formatNumber } from './progress.js';

interface ExportArgs extends DataArgs {
  run: string;
  onnx: string;
  k: number;
  maskTraining: boolean;
  seed?: number;
  json: boolean;
  quiet: boolean;
}

/** The split seed the run was trained with (its metrics.json), so a single-file dataset splits the same way. */
export function runSeed(run: string): number {
  const options = readRunMetrics(run)?.options as { seed?: unknown } | undefined;
  return typeof options?.seed === 'number' ? options.seed : trainDefaults.seed;
}

export const exportCommand: CommandModule<object, ExportArgs> = {
  command: 'export',
  describe: 'Export a run folder\'s final embeddings as an ONNX graph: user_ids in, top-K items and scores out',
  builder: (y: Argv) =>
    dataOptions(y)
      .option('run', { type: 'string', demandOption: true, describe: 'Run folder written by `train --out` (user-embeddings.npy, item-embeddings.npy)' })
      .option('onnx', { type: 'string', demandOption: true, describe: 'ONNX file to write' })
      .option('k', { type: 'number', default: 20, describe: 'Items returned per user' })
      .option('mask-training', {
        type: 'boolean', default: false,
        describe: 'Add an exclude_items input (int64 [N, M], padded with -1) whose items are never returned; recommend feeds it the training items',
      })
      .option('seed', { type: 'number', describe: 'Split seed of --data (default: the run\'s, from its metrics.json)' })
      .option('json', { type: 'boolean', default: false, describe: 'Print one JSON object as the last stdout line' })
      .option('quiet', { type: 'boolean', default: false, describe: 'No progress output' })
      .example('$0 export --run runs/lgn --data synthetic:tiny --onnx lgn.onnx --k 20 --mask-training', '') as unknown as Argv<ExportArgs>,
  handler: async (args: ArgumentsCamelCase<ExportArgs>) => {
    const dataset = await loadDatasetFromArgs({ ...args, seed: args.seed ?? runSeed(args.run) });
    const result = exportRun(args.run, dataset, { onnx: args.onnx, k: args.k, maskTraining: args.maskTraining });
    if (args.json) {
      process.stdout.write(JSON.stringify(result) + '\n');
      return;
    }
    process.stdout.write(
      `wrote ${result.onnx} (${formatNumber(result.bytes)} bytes): top-${result.k} over ${formatNumber(result.nItems)} items for ` +
        `${formatNumber(result.nUsers)} users, dim ${result.dim}${result.maskTraining ? ', exclude_items input' : ''} (${result.seconds.toFixed(2)}s)\n`,
    );
  },
};

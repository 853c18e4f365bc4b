/** `dtlns-native recommend`: top-K items for some users from an exported ONNX model, run by onnxruntime-node. */
import { readFileSync } from 'node:fs';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import type { Dataset } from '../data/types.js';
import { NO_ITEM, OnnxRecommender, scoreDefaults } from '../export/score.js';
import { defaultThreads, trainDefaults } from '../defaults.js';
import { dataOptions } from './options.js';
import { loadDatasetFromArgs, type DataArgs } from './shared.js';

interface RecommendArgs extends DataArgs {
  onnx: string;
  users?: string;
  usersFile?: string;
  k?: number;
  excludeTraining: boolean;
  seed: number;
  threads: number;
  batchUsers: number;
  json: boolean;
  quiet: boolean;
}

/** Original user ids (comma, space or newline separated) -> dataset indices; an unknown id is an error naming it. */
export function userIndices(text: string, dataset: Dataset, from: string): Uint32Array {
  const index = new Map(dataset.userIds.map((id, i) => [id, i]));
  const tokens = text.split(/[\s,]+/).filter((t) => t.length > 0);
  if (tokens.length === 0) throw new RangeError(`Expected at least one user id in ${from}`);
  return Uint32Array.from(tokens, (token) => {
    const i = index.get(Number(token));
    if (!/^-?\d+$/.test(token) || i === undefined) throw new RangeError(`Unknown user id ${token} in ${from}: not a user of ${dataset.name}`);
    return i;
  });
}

export const recommendCommand: CommandModule<object, RecommendArgs> = {
  command: 'recommend',
  describe: 'Top-K items for the given users from an ONNX model written by `export` (original user and item ids)',
  builder: (y: Argv) =>
    dataOptions(y)
      .option('onnx', { type: 'string', demandOption: true, describe: 'ONNX model written by `dtlns-native export`' })
      .option('users', { type: 'string', describe: 'Original user ids, comma-separated' })
      .option('users-file', { type: 'string', describe: 'File of original user ids (whitespace, comma or newline separated)' })
      .option('k', { type: 'number', describe: 'Items per user (default and maximum: the k the model was exported with)' })
      .option('exclude-training', { type: 'boolean', default: true, describe: 'Drop each user\'s training items (models exported with --mask-training)' })
      .option('seed', { type: 'number', default: trainDefaults.seed, describe: 'Split seed of --data (as given to train)' })
      .option('threads', { type: 'number', default: defaultThreads(), describe: 'onnxruntime intra-op threads' })
      .option('batch-users', { type: 'number', default: scoreDefaults.batchUsers, describe: 'Users per onnxruntime run' })
      .option('json', { type: 'boolean', default: false, describe: 'Print one JSON object as the last stdout line' })
      .option('quiet', { type: 'boolean', default: false, describe: 'No progress output' })
      .check((a) => {
        if (!a.users === !a.usersFile) throw new Error('Give exactly one of --users and --users-file');
        return true;
      })
      .example('$0 recommend --onnx lgn.onnx --data synthetic:tiny --users 0,5,7 --k 10', '') as unknown as Argv<RecommendArgs>,
  handler: async (args: ArgumentsCamelCase<RecommendArgs>) => {
    const recommender = await OnnxRecommender.open(args.onnx, { threads: args.threads });
    try {
      const { nUsers, nItems, k: modelK, masked } = recommender.info;
      const k = args.k ?? modelK;
      if (!Number.isInteger(k) || k < 1 || k > nItems) throw new RangeError(`Expected --k between 1 and ${nItems} (the item count) but received ${args.k}`);
      if (k > modelK) throw new RangeError(`Expected --k at most ${modelK}: ${args.onnx} was exported with --k ${modelK} (export again with a larger --k)`);
      const dataset = await loadDatasetFromArgs(args);
      if (dataset.nUsers !== nUsers || dataset.nItems !== nItems) {
        throw new RangeError(`${args.onnx} ranks ${nUsers} users x ${nItems} items but ${dataset.name} has ${dataset.nUsers} x ${dataset.nItems}: export it from a run on this dataset`);
      }
      const users = args.users !== undefined
        ? userIndices(args.users, dataset, '--users')
        : userIndices(readUsersFile(args.usersFile!), dataset, args.usersFile!);
      if (args.excludeTraining && !masked) {
        throw new RangeError(`${args.onnx} was exported without --mask-training, so it cannot leave out training items: export it again with --mask-training, or pass --no-exclude-training to rank every item`);
      }
      const exclude = args.excludeTraining ? dataset.train : undefined;
      const result = await recommender.recommend(users, { batchUsers: args.batchUsers, ...(exclude ? { exclude } : {}) });
      const rows = Array.from(users, (u, r) => {
        const items: number[] = [];
        const scores: number[] = [];
        for (let j = 0; j < k; j++) {
          const item = result.items[r * modelK + j];
          if (item === NO_ITEM) break;
          items.push(dataset.itemIds[item]);
          scores.push(result.scores[r * modelK + j]);
        }
        return { user: dataset.userIds[u], items, scores };
      });
      if (args.json) {
        process.stdout.write(JSON.stringify({ onnx: args.onnx, k, excludedTraining: exclude !== undefined, recommendations: rows }) + '\n');
        return;
      }
      for (const row of rows) {
        process.stdout.write(`user ${row.user}: ${row.items.map((item, j) => `${item} (${row.scores[j].toFixed(4)})`).join(', ')}\n`);
      }
    } finally {
      await recommender.release();
    }
  },
};

function readUsersFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`${path}: cannot read the users file: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

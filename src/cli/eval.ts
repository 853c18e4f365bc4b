/** `dtlns-native eval`: full-ranking metrics of saved embeddings (a run folder's, or given .npy files). */
import { join } from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { readNpy } from '../model/npy.js';
import { evaluateEmbeddings } from '../eval/evaluate.js';
import type { Metrics } from '../eval/metrics.js';
import { commonOptions, dataOptions, parseList } from './options.js';
import { loadDatasetFromArgs, type DataArgs } from './shared.js';
import { evalDefaults } from '../defaults.js';

interface EvalArgs extends DataArgs {
  run?: string;
  userEmb?: string;
  itemEmb?: string;
  split: string;
  ks: string;
  threads: number;
  json: boolean;
  quiet: boolean;
}

export const evalCommand: CommandModule<object, EvalArgs> = {
  command: 'eval',
  describe: 'Evaluate saved embeddings: Recall/NDCG/Precision/HitRate@K over all items, training items masked',
  builder: (y: Argv) =>
    commonOptions(dataOptions(y))
      .option('run', { type: 'string', describe: 'A run folder written by train/run (reads user-embeddings.npy and item-embeddings.npy)' })
      .option('user-emb', { type: 'string', describe: 'User embeddings .npy (float32, users x dim)' })
      .option('item-emb', { type: 'string', describe: 'Item embeddings .npy (float32, items x dim)' })
      .option('split', { type: 'string', choices: ['valid', 'test', 'both'], default: 'both', describe: 'Which split to score' })
      .option('ks', { type: 'string', default: evalDefaults.ks.join(','), describe: 'Metric cut-offs' })
      .check((a) => {
        if (!a.run && !(a.userEmb && a.itemEmb)) throw new Error('Give --run DIR, or both --user-emb and --item-emb');
        return true;
      }) as unknown as Argv<EvalArgs>,
  handler: async (args: ArgumentsCamelCase<EvalArgs>) => {
    const dataset = await loadDatasetFromArgs(args);
    const users = readNpy(args.userEmb ?? join(args.run!, 'user-embeddings.npy'));
    const items = readNpy(args.itemEmb ?? join(args.run!, 'item-embeddings.npy'));
    const dim = users.shape[1];
    if (users.shape[0] !== dataset.nUsers || items.shape[0] !== dataset.nItems || items.shape[1] !== dim) {
      throw new RangeError(
        `Embeddings of shape ${users.shape.join('x')} (users) and ${items.shape.join('x')} (items) do not match the dataset's ` +
          `${dataset.nUsers} users and ${dataset.nItems} items`,
      );
    }
    const ks = parseList(args.ks, 'ks');
    const out: Record<string, Metrics> = {};
    for (const split of ['valid', 'test'] as const) {
      if (args.split !== 'both' && args.split !== split) continue;
      const truth = dataset[split];
      if (!truth) continue;
      out[split] = await evaluateEmbeddings(users.data, items.data, dim, truth, { ks, threads: args.threads, mask: dataset.train });
    }
    if (args.json) {
      process.stdout.write(JSON.stringify({ ...out, evalMask: 'original' }) + '\n');
      return;
    }
    for (const [split, m] of Object.entries(out)) {
      process.stdout.write(`${split.padEnd(5)}  ${ks.map((k) => `R@${k} ${m[`recall@${k}`].toFixed(4)} N@${k} ${m[`ndcg@${k}`].toFixed(4)}`).join('  ')}  (${m.users} users)\n`);
    }
  },
};

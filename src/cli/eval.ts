/** `dtlns-native eval`: full-ranking metrics of saved embeddings (a run folder's, or given .npy files). */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { evaluateEmbeddings } from '../eval/evaluate.js';
import type { Metrics } from '../eval/metrics.js';
import { commonOptions, dataOptions, parseList } from './options.js';
import { embeddingOptions, loadDatasetFromArgs, readEmbeddings, type DataArgs, type EmbeddingArgs } from './shared.js';
import { evalDefaults } from '../defaults.js';

interface EvalArgs extends DataArgs, EmbeddingArgs {
  evalSplit: 'valid' | 'test' | 'both';
  ks: string;
  threads: number;
  json: boolean;
  quiet: boolean;
}

export const evalCommand: CommandModule<object, EvalArgs> = {
  command: 'eval',
  describe: 'Evaluate saved embeddings: Recall/NDCG/Precision/HitRate@K over all items, training items masked',
  builder: (y: Argv) =>
    embeddingOptions(commonOptions(dataOptions(y)))
      // Not --split: that is how --data splits a single file (dataOptions).
      .option('eval-split', { type: 'string', choices: ['valid', 'test', 'both'], default: 'both', describe: 'Which split to score' })
      .option('ks', { type: 'string', default: evalDefaults.ks.join(','), describe: 'Metric cut-offs' }) as unknown as Argv<EvalArgs>,
  handler: async (args: ArgumentsCamelCase<EvalArgs>) => {
    const dataset = await loadDatasetFromArgs(args);
    const { users, items, dim } = readEmbeddings(args, dataset);
    const ks = parseList(args.ks, 'ks');
    const out: Record<string, Metrics> = {};
    for (const split of ['valid', 'test'] as const) {
      if (args.evalSplit !== 'both' && args.evalSplit !== split) continue;
      const truth = dataset[split];
      if (!truth) continue;
      out[split] = await evaluateEmbeddings(users, items, dim, truth, { ks, threads: args.threads, mask: dataset.train });
    }
    if (Object.keys(out).length === 0) {
      throw new RangeError(`Expected --data with ${args.evalSplit === 'both' ? 'a valid or test split' : `a ${args.evalSplit} split`} to evaluate but ${dataset.name} has none (give train/valid/test files or a --split-ratio with valid/test fractions)`);
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

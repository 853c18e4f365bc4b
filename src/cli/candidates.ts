/** `dtlns-native candidates`: the top-N unobserved items per user of a trained model, as `user c1 ... cN` lines. */
import { join } from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { readNpy } from '../model/npy.js';
import { labelDefaults } from '../defaults.js';
import { generateCandidates, writeCandidates } from '../labels/candidates.js';
import { commonOptions, dataOptions } from './options.js';
import { loadDatasetFromArgs, type DataArgs } from './shared.js';

interface CandidatesArgs extends DataArgs {
  run?: string;
  userEmb?: string;
  itemEmb?: string;
  n: number;
  users: 'all' | 'test';
  out: string;
  threads: number;
  json: boolean;
  quiet: boolean;
}

export const candidatesCommand: CommandModule<object, CandidatesArgs> = {
  command: 'candidates',
  describe: "Write each user's top-N items of a trained model that are not among the user's training items",
  builder: (y: Argv) =>
    commonOptions(dataOptions(y))
      .option('run', { type: 'string', describe: 'A run folder written by train/run (reads user-embeddings.npy and item-embeddings.npy)' })
      .option('user-emb', { type: 'string', describe: 'User embeddings .npy (float32, users x dim)' })
      .option('item-emb', { type: 'string', describe: 'Item embeddings .npy (float32, items x dim)' })
      .option('n', { type: 'number', default: labelDefaults.candidates, describe: 'Candidates per user' })
      .option('users', { type: 'string', choices: ['all', 'test'], default: labelDefaults.candidateUsers, describe: 'All users, or only users with test items (as the DTL-NS release)' })
      .option('out', { type: 'string', demandOption: true, describe: 'Candidate file to write (user c1 ... cN lines, original ids)' })
      .check((a) => {
        if (!a.run && !(a.userEmb && a.itemEmb)) throw new Error('Give --run DIR, or both --user-emb and --item-emb');
        return true;
      })
      .example('$0 candidates --data ../shared/datasets/dtlns-sports --run runs/mf --out runs/mf/candidates.txt', 'Top-20 candidates of a trained model') as unknown as Argv<CandidatesArgs>,
  handler: async (args: ArgumentsCamelCase<CandidatesArgs>) => {
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
    const started = Date.now();
    const candidates = await generateCandidates(dataset, users.data, items.data, dim, { n: args.n, users: args.users, threads: args.threads });
    writeCandidates(args.out, candidates, dataset);
    const summary = { users: candidates.users.length, candidates: candidates.items.length, n: args.n, seconds: (Date.now() - started) / 1000, out: args.out };
    if (args.json) process.stdout.write(JSON.stringify(summary) + '\n');
    else process.stdout.write(`${summary.candidates} candidates for ${summary.users} users written to ${args.out} (${summary.seconds.toFixed(2)} s)\n`);
  },
};

/** `dtlns-native candidates`: the top-N unobserved items per user of a trained model, as `user c1 ... cN` lines. */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { labelDefaults } from '../defaults.js';
import { generateCandidates, writeCandidates } from '../labels/candidates.js';
import { commonOptions, dataOptions } from './options.js';
import { embeddingOptions, loadDatasetFromArgs, readEmbeddings, type DataArgs, type EmbeddingArgs } from './shared.js';

interface CandidatesArgs extends DataArgs, EmbeddingArgs {
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
    embeddingOptions(commonOptions(dataOptions(y)))
      .option('n', { type: 'number', default: labelDefaults.candidates, describe: 'Candidates per user' })
      .option('users', { type: 'string', choices: ['all', 'test'], default: labelDefaults.candidateUsers, describe: 'All users, or only users with test items (as the DTL-NS release)' })
      .option('out', { type: 'string', demandOption: true, describe: 'Candidate file to write (user c1 ... cN lines, original ids)' })
      .example('$0 candidates --data ../shared/datasets/dtlns-sports --run runs/mf --out runs/mf/candidates.txt', 'Top-20 candidates of a trained model') as unknown as Argv<CandidatesArgs>,
  handler: async (args: ArgumentsCamelCase<CandidatesArgs>) => {
    const dataset = await loadDatasetFromArgs(args);
    const { users, items, dim } = readEmbeddings(args, dataset);
    const started = Date.now();
    const candidates = await generateCandidates(dataset, users, items, dim, { n: args.n, users: args.users, threads: args.threads });
    writeCandidates(args.out, candidates, dataset);
    const summary = { users: candidates.users.length, candidates: candidates.items.length, n: args.n, seconds: (Date.now() - started) / 1000, out: args.out };
    if (args.json) process.stdout.write(JSON.stringify(summary) + '\n');
    else process.stdout.write(`${summary.candidates} candidates for ${summary.users} users written to ${args.out} (${summary.seconds.toFixed(2)} s)\n`);
  },
};

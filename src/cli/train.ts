/** `dtlns-native train`: train MF or LightGCN with BPR on a dataset and report valid/test metrics. */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { commonOptions, dataOptions, parseList, trainOptions } from './options.js';
import { loadDatasetFromArgs, printResult, trainFromArgs, type TrainArgs } from './shared.js';

export const trainCommand: CommandModule<object, TrainArgs> = {
  command: 'train',
  describe: 'Train a recommender (MF or LightGCN, BPR, uniform negatives) with early stopping on validation',
  builder: (y: Argv) =>
    commonOptions(trainOptions(dataOptions(y)))
      .option('fresh', { type: 'boolean', default: false, describe: 'Ignore a checkpoint in --out and start over' })
      .example('$0 train --data ../shared/datasets/dtlns-sports --model mf --out runs/mf', 'MF-BPR on the DTL-NS Sports split')
      .example('$0 train --data ratings.csv --min-rating 4 --split leave-last-out', 'Train on a CSV file') as unknown as Argv<TrainArgs>,
  handler: async (args: ArgumentsCamelCase<TrainArgs>) => {
    const dataset = await loadDatasetFromArgs(args);
    const result = await trainFromArgs(dataset, args, parseList(args.ks, 'ks'));
    printResult(result, args);
  },
};

/** `dtlns-native run`: the main job. With no arguments it trains on the built-in synthetic dataset and prints the metrics. */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { commonOptions, dataOptions, parseList, trainOptions } from './options.js';
import { loadDatasetFromArgs, printResult, trainFromArgs, type TrainArgs } from './shared.js';

export const runCommand: CommandModule<object, TrainArgs> = {
  command: 'run',
  describe: 'Run the pipeline on a dataset (default: the built-in synthetic dataset) and print the metrics',
  builder: (y: Argv) =>
    commonOptions(trainOptions(dataOptions(y)))
      .option('fresh', { type: 'boolean', default: false, describe: 'Ignore a checkpoint in --out and start over' })
      .example('$0 run', 'Train LightGCN on the built-in synthetic dataset')
      .example('$0 run --data ../shared/datasets/dtlns-sports --out runs/sports', 'The same on the DTL-NS Sports split') as unknown as Argv<TrainArgs>,
  handler: async (args: ArgumentsCamelCase<TrainArgs>) => {
    const dataset = await loadDatasetFromArgs(args);
    const result = await trainFromArgs(dataset, args, parseList(args.ks, 'ks'));
    printResult(result, args);
  },
};

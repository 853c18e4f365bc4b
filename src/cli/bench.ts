/** `dtlns-native bench`: benchmark.js suites, native next to plain TS, with ratios and the machine. */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { runBenchmarks, suites } from '../benchmarks/index.js';

interface BenchArgs {
  suite: string[];
  quick: boolean;
  json: boolean;
}

export const benchCommand: CommandModule<object, BenchArgs> = {
  command: 'bench',
  describe: 'Measure kernel throughput (training, evaluation, trees, mining) native vs plain TS, on a Gowalla-sized synthetic dataset',
  builder: (y: Argv) =>
    y
      .option('suite', { type: 'string', array: true, default: Object.keys(suites), choices: Object.keys(suites), describe: 'Suites to run' })
      .option('quick', { type: 'boolean', default: false, describe: 'Smaller inputs and fewer samples (a smoke run, not for reporting)' })
      .option('json', { type: 'boolean', default: false, describe: 'Print the rows and the machine as one JSON object on stdout' }) as unknown as Argv<BenchArgs>,
  handler: async (args: ArgumentsCamelCase<BenchArgs>) => {
    const log = (line: string) => (args.json ? process.stderr : process.stdout).write(line + '\n');
    const report = await runBenchmarks(args.suite, args.quick, log);
    if (args.json) process.stdout.write(JSON.stringify(report) + '\n');
  },
};

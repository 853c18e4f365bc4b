/** The dtlns-native command line: one yargs command per file. */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { benchCommand } from './bench.js';
import { datasetsCommand } from './datasets.js';
import { evalCommand } from './eval.js';
import { runCommand } from './run-command.js';
import { trainCommand } from './train.js';
import { candidatesCommand } from './candidates.js';
import { labelCommand } from './label.js';
import { treesCommand } from './trees.js';
import { exportCommand } from './export.js';
import { recommendCommand } from './recommend.js';
import { experimentCommand } from './experiment.js';

/** An option given twice would reach the command as an array ("3,5"): refuse it, naming the option. */
function refuseRepeatedOptions(argv: Record<string, unknown>, y: { getOptions(): { array: string[] } }): void {
  const arrays = new Set(y.getOptions().array);
  for (const [key, value] of Object.entries(argv)) {
    if (key === '_' || key === '$0' || !Array.isArray(value) || arrays.has(key) || /[A-Z]/.test(key)) continue;
    throw new RangeError(`--${key} was given ${value.length} times (${value.join(', ')}); give it once`);
  }
}

export async function main(argv: string[] = hideBin(process.argv)): Promise<void> {
  await yargs(argv)
    .scriptName('dtlns-native')
    .usage('$0 <command> [options]\n\nDTL-NS negative sampling and fast MF/LightGCN training with native kernels.')
    .command(runCommand)
    .command(trainCommand)
    .command(evalCommand)
    .command(datasetsCommand)
    .command(benchCommand)
    .command(candidatesCommand)
    .command(labelCommand)
    .command(treesCommand)
    .command(exportCommand)
    .command(recommendCommand)
    .command(experimentCommand)
    // yargs passes itself as the second argument; its types omit it.
    .middleware(refuseRepeatedOptions as never, true)
    .demandCommand(1, 'Name a command (run `dtlns-native --help` for the list).')
    .strict()
    .recommendCommands()
    .wrap(Math.min(110, process.stdout.columns || 110))
    .fail((message, error) => {
      if (error) throw error;
      process.stderr.write(`Error: ${message}\nRun with --help for usage.\n`);
      process.exit(2);
    })
    .parseAsync();
}

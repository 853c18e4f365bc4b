/**
 * `dtlns-native experiment --config grid.json`: datasets x models x methods x seeds, each cell
 * a run folder, resumable; a summary in Markdown, CSV and JSON, SVG plots, and with --report a
 * Markdown reproduction report. `--cell ID` (hidden) runs one cell: what --jobs children do.
 */
import { resolve } from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { readExperimentConfig, type ConfigOverrides } from '../experiment/grid.js';
import { runExperiment, runExperimentCell, type ExperimentOutcome } from '../experiment/run-grid.js';
import { writeReport } from '../experiment/report.js';
import { parseList } from './options.js';

interface ExperimentArgs {
  config: string;
  jobs: number;
  threads?: number;
  epochs?: number;
  timeBudget?: number;
  seeds?: string;
  out?: string;
  report?: string;
  summaryOnly: boolean;
  cell?: string;
  json: boolean;
  quiet: boolean;
}

export const experimentCommand: CommandModule<object, ExperimentArgs> = {
  command: 'experiment',
  describe: 'Run a grid of datasets x models x methods x seeds (resumable); summary tables, plots and an optional report',
  builder: (y: Argv) =>
    y
      .option('config', { type: 'string', demandOption: true, describe: 'The grid (JSON; see README "Experiments"); its relative paths are relative to its folder' })
      .option('jobs', { type: 'number', default: 1, describe: 'Cells run at once, each in its own process' })
      .option('threads', { type: 'number', describe: 'Native threads per cell (default: every core with one job, 1 with several)' })
      .option('epochs', { type: 'number', describe: 'Override the epoch cap of every training (quick runs)' })
      .option('time-budget', { type: 'number', describe: 'Override the seconds each training may take (quick runs)' })
      .option('seeds', { type: 'string', describe: 'Override the seeds, e.g. 1,2' })
      .option('out', { type: 'string', describe: "Override the config's output folder" })
      .option('report', { type: 'string', describe: 'Also write a Markdown report here, its plots copied into a folder of the same name beside it' })
      .option('summary-only', { type: 'boolean', default: false, describe: 'Run no cell: rebuild the summary, plots (and report) from the finished cells' })
      .option('cell', { type: 'string', hidden: true, describe: 'Run only this cell (used by --jobs)' })
      .option('json', { type: 'boolean', default: false, describe: 'Print the summary object as the last stdout line' })
      .option('quiet', { type: 'boolean', default: false, describe: 'No progress output' })
      .example('$0 experiment --config experiments/quick.json', 'A small grid on synthetic data')
      .example('$0 experiment --config experiments/reproduction.json --report docs/reproduction.md --jobs 8', "The paper's setting, 8 cells at once") as unknown as Argv<ExperimentArgs>,
  handler: async (args: ArgumentsCamelCase<ExperimentArgs>) => {
    const overrides: ConfigOverrides = {
      ...(args.epochs !== undefined ? { epochs: args.epochs } : {}),
      ...(args.timeBudget !== undefined ? { timeBudget: args.timeBudget } : {}),
      ...(args.seeds !== undefined ? { seeds: parseList(args.seeds, 'seeds') } : {}),
      ...(args.out !== undefined ? { out: args.out } : {}),
    };
    const config = readExperimentConfig(args.config, overrides);
    const log = (line: string) => (args.quiet ? undefined : process.stderr.write(line + '\n'));
    if (args.cell !== undefined) {
      const result = await runExperimentCell(config, args.cell, { ...(args.threads !== undefined ? { threads: args.threads } : {}), log });
      if (args.json) process.stdout.write(JSON.stringify(result) + '\n');
      return;
    }
    log(`experiment ${config.name}: ${config.datasets.length} datasets x ${config.models.length} models x ${config.methods.length} methods x ${config.seeds.length} seeds into ${config.out}`);
    const outcome = await runExperiment(config, {
      jobs: args.jobs, ...(args.threads !== undefined ? { threads: args.threads } : {}), summaryOnly: args.summaryOnly, log, epochLines: !args.quiet,
    });
    if (args.report) {
      const file = resolve(args.report);
      writeReport({
        config, summary: outcome.summary, results: outcome.results, plotsDir: outcome.files.plotsDir, plots: outcome.files.plots, file,
        command: `dtlns-native ${process.argv.slice(2).join(' ')}`,
      });
      log(`report: ${file}`);
    }
    print(outcome, args.json);
    if (outcome.cells.failed.length) {
      throw new Error(`${outcome.cells.failed.length} cells failed: ${outcome.cells.failed.map((f) => f.id).join(', ')} (see the lines above; a rerun retries them)`);
    }
  },
};

function print(outcome: ExperimentOutcome, json: boolean): void {
  if (json) {
    process.stdout.write(JSON.stringify(outcome.summary) + '\n');
    return;
  }
  const c = outcome.cells;
  process.stdout.write(
    `${outcome.results.length} of ${c.total} cells finished (${c.ran.length} now, ${c.skipped.length} earlier, ${c.failed.length} failed); ` +
      `summary in ${outcome.files.markdown}\n`,
  );
}

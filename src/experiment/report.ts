/**
 * The reproduction report: one Markdown file with where and how it was made (commit, date,
 * machine, config, budget actually used), the tables and the plots (copied into a folder
 * beside the report so that the report and its figures travel together).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { basename, dirname, extname, join } from 'node:path';
import { trainDefaults } from '../defaults.js';
import { writeFileAtomic } from '../util/atomic.js';
import type { CellResult } from './cells.js';
import { usesPrep, type ExperimentConfig } from './grid.js';
import { summaryLegend, summaryTables, type ExperimentSummary, type GroupPlots } from './summary.js';

export interface MachineInfo {
  cpu: string;
  threads: number;
  memoryGiB: number;
  node: string;
  platform: string;
}

export function machineInfo(): MachineInfo {
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown CPU', threads: availableParallelism(), memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version, platform: `${process.platform} ${process.arch}`,
  };
}

export interface GitState {
  /** HEAD's commit, when `dir` is inside a git checkout. */
  commit?: string;
  /** Whether tracked files differ from HEAD. */
  dirty?: boolean;
}

/** Reads the commit without touching the repository (no index refresh: GIT_OPTIONAL_LOCKS=0). */
export function gitState(dir: string): GitState {
  const git = (...args: string[]) =>
    execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, GIT_OPTIONAL_LOCKS: '0' } }).trim();
  try {
    const commit = git('rev-parse', 'HEAD');
    return { commit, dirty: git('status', '--porcelain', '--untracked-files=no').length > 0 };
  } catch {
    return {};
  }
}

export interface ReportInput {
  config: ExperimentConfig;
  summary: ExperimentSummary;
  results: CellResult[];
  /** The folder the plots were written to, and their file names. */
  plotsDir: string;
  plots: GroupPlots[];
  /** The Markdown file to write. */
  file: string;
  /** The command that made the report, quoted in it. */
  command: string;
  git?: GitState;
  machine?: MachineInfo;
  date?: Date;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** The budget paragraph: what the settings allowed and how the trainings actually ended. */
function budgetText(config: ExperimentConfig, results: CellResult[], summary: ExperimentSummary): string[] {
  const t = config.train;
  const epochs = t.epochs ?? trainDefaults.epochs, evalEvery = t.evalEvery ?? trainDefaults.evalEvery, patience = t.patience ?? trainDefaults.patience;
  const ended: Record<string, number> = { patience: 0, epochs: 0, time: 0 };
  for (const r of results) ended[r.stoppedBy] = (ended[r.stoppedBy] ?? 0) + 1;
  const hours = results.reduce((a, r) => a + r.seconds, 0) / 3600;
  const threads = [...new Set(results.map((r) => r.threads))];
  const overrides = Object.entries(config.overrides).filter(([key]) => key !== 'out');
  const lines = [
    `- Cells: ${summary.cells.finished} of ${summary.cells.expected} finished (${plural(config.datasets.length, 'dataset')} x ${plural(config.models.length, 'model')} x ` +
      `${plural(config.methods.length, 'method')} x ${plural(config.seeds.length, 'seed')}).` +
      (summary.cells.finished < summary.cells.expected ? ' **The tables cover the finished cells only.**' : ''),
    `- Training per cell: at most ${plural(epochs, 'epoch')}, validation every ${evalEvery}, early stop after ${patience} evaluations without a better ` +
      `validation Recall@20${t.timeBudget !== undefined ? `, and a time budget of ${t.timeBudget} s per training (past it the best model so far is kept)` : ''}.` +
      (overrides.length ? ` Command-line overrides in effect: ${overrides.map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join(', ')}.` : ''),
    `- How the trainings ended: ${ended.patience} by early stopping, ${ended.epochs} at the epoch cap, ${ended.time} on the time budget.` +
      (ended.time + ended.epochs > 0 ? ' Trainings cut by the epoch cap or the time budget may not have converged: their figures can understate the method.' : ''),
    config.methods.some(usesPrep)
      ? `- The pre-trained model (uniform negatives, seed ${config.pretrain.seed ?? trainDefaults.seed}), our trees and our candidates are computed once per ` +
        'dataset x model and shared by every seed: the seeds vary the final training only.'
      : '- Every method reads the dataset folder\'s own path files and candidates (the authors\'): nothing is pre-trained; the seeds vary the training only.',
    `- Compute: ${hours.toFixed(2)} h of cell time in the attempts that finished the cells (${threads.length ? `${threads.join(' or ')} native thread${threads.length === 1 && threads[0] === 1 ? '' : 's'}` : 'no'} per cell); the prep is not included.`,
    config.seeds.length < 2
      ? '- With one seed there is no standard deviation and no t-test: the differences may be noise.'
      : `- With ${plural(config.seeds.length, 'seed')} a paired t-test has ${plural(config.seeds.length - 1, 'degree')} of freedom: p-values are coarse, ` +
        'and they are not corrected for the number of comparisons.',
  ];
  return lines;
}

/** The report's Markdown (without writing anything). */
export function reportMarkdown(input: ReportInput, plotLinks: GroupPlots[]): string {
  const { config, summary } = input;
  const git = input.git ?? gitState(dirname(config.file));
  const m = input.machine ?? machineInfo();
  const date = (input.date ?? new Date()).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  const commit = git.commit
    ? `commit \`${git.commit}\`${git.dirty ? ' **with uncommitted changes to tracked files**' : ' (clean tracked files)'}`
    : 'a folder that is not a git checkout (no commit)';
  return [
    `# Reproduction report: ${config.name}`, '',
    `Made by \`${input.command}\` from ${commit} on ${date}.`, '',
    `Machine: ${m.cpu}, ${m.threads} hardware threads, ${m.memoryGiB} GiB memory, Node.js ${m.node}, ${m.platform}.`, '',
    '## Budget', '',
    ...budgetText(config, input.results, summary), '',
    '## Results', '',
    summaryLegend(summary), '',
    summaryTables(summary, plotLinks),
    '## Config', '',
    `\`${basename(config.file)}\`, as written (paths are relative to its folder):`, '',
    '```json', JSON.stringify(config.raw, null, 2), '```', '',
  ].join('\n');
}

/** Writes the report and copies the plots into `<report name>/` beside it; returns the plot copies. */
export function writeReport(input: ReportInput): string[] {
  const folderName = basename(input.file, extname(input.file));
  const folder = join(dirname(input.file), folderName);
  mkdirSync(folder, { recursive: true });
  const copies: string[] = [];
  for (const p of input.plots) {
    for (const name of [p.valid, p.test]) {
      copyFileSync(join(input.plotsDir, name), join(folder, name));
      copies.push(join(folder, name));
    }
  }
  const links = input.plots.map((p) => ({ ...p, valid: `${folderName}/${p.valid}`, test: `${folderName}/${p.test}` }));
  writeFileAtomic(input.file, reportMarkdown(input, links));
  return copies;
}

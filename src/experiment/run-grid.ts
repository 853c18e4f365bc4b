/**
 * Runs an experiment grid resumably: finished cells (result.json under the same settings)
 * are skipped, interrupted ones resume, the shared prep of each dataset x model is computed
 * once. Cells run one after another in this process, or `jobs` at a time in child processes
 * of the CLI (`experiment --cell ID`). At the end the summary (Markdown, CSV, JSON) and the
 * plots are written from every finished cell.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadDataset } from '../data/load.js';
import type { Dataset } from '../data/types.js';
import { expectInteger } from '../data/validate.js';
import { defaultThreads } from '../defaults.js';
import type { EpochReport } from '../train/train.js';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic.js';
import { expandCells, usesPrep, type Cell, type ExperimentConfig } from './grid.js';
import { ensurePrep, type PrepFiles } from './prep.js';
import { cellState, readCellResult, runCell, type CellResult, type CellState } from './cells.js';
import { summarizeResults, summaryCsv, summaryMarkdown, type ExperimentSummary, type GroupPlots } from './summary.js';
import { writePlots } from './plots.js';

export interface ExperimentRunOptions {
  /** Cells run at once, each in a child process (default 1: one after another in this process). */
  jobs?: number;
  /** Native threads per cell (default: every core with one job, 1 with several). */
  threads?: number;
  /** Run no cell: only rebuild the summary and the plots from the finished cells. */
  summaryOnly?: boolean;
  /** Receives the progress lines (the CLI writes them to stderr). */
  log?: (line: string) => void;
  /** Also log each evaluation of a training (one job only). */
  epochLines?: boolean;
  /** The CLI script that child processes run (default: this package's bin/dtlns-native.js). */
  cli?: string;
}

export interface ExperimentOutcome {
  summary: ExperimentSummary;
  results: CellResult[];
  /** Absolute paths of the summary files; plot files relative to `plotsDir`. */
  files: { markdown: string; csv: string; json: string; plotsDir: string; plots: GroupPlots[] };
  cells: { total: number; skipped: string[]; ran: string[]; failed: Array<{ id: string; error: string }> };
}

const defaultCli = fileURLToPath(new URL('../../../bin/dtlns-native.js', import.meta.url));

/** Loads each dataset once and computes each dataset x model's prep once, on first use. */
class SharedInputs {
  private datasets = new Map<string, Promise<Dataset>>();
  private preps = new Map<string, Promise<PrepFiles>>();

  constructor(private config: ExperimentConfig, private threads: number, private log: (line: string) => void, private epochLines: boolean) {}

  dataset(cell: Cell): Promise<Dataset> {
    let loading = this.datasets.get(cell.dataset.source);
    if (!loading) {
      loading = loadDataset(cell.dataset.source);
      this.datasets.set(cell.dataset.source, loading);
    }
    return loading;
  }

  /** The prep of the cell's dataset x model, when its method uses one. */
  async prep(cell: Cell): Promise<PrepFiles | undefined> {
    if (!usesPrep(cell.method)) return undefined;
    const key = `${cell.dataset.name}-${cell.model.name}`;
    let prep = this.preps.get(key);
    if (!prep) {
      prep = this.dataset(cell).then((data) =>
        ensurePrep(this.config, cell.dataset, cell.model, data, {
          threads: this.threads,
          onStep: (step, status, seconds) => this.log(`prep ${key}: ${step} ${status === 'skipped' ? 'up to date' : `done in ${seconds.toFixed(1)} s`}`),
          ...(this.epochLines ? { onEpoch: epochLogger(`prep ${key}: pretrain`, this.log) } : {}),
        }));
      this.preps.set(key, prep);
    }
    return prep;
  }
}

function epochLogger(prefix: string, log: (line: string) => void): (r: EpochReport) => void {
  return (r) => {
    if (r.eval) log(`${prefix} epoch ${r.epoch}: ${r.eval.split} recall@20 ${r.eval.metrics['recall@20'].toFixed(4)}${r.eval.best ? ' (best)' : ''}`);
  };
}

/** The command line that repeats this run's overrides for a child. */
function overrideArgs(config: ExperimentConfig): string[] {
  const o = config.overrides;
  return [
    ...(o.epochs !== undefined ? ['--epochs', String(o.epochs)] : []),
    ...(o.timeBudget !== undefined ? ['--time-budget', String(o.timeBudget)] : []),
    ...(o.seeds !== undefined ? ['--seeds', o.seeds.join(',')] : []),
    ...(o.out !== undefined ? ['--out', config.out] : []),
  ];
}

/** Runs one cell in a child process of the CLI; resolves with its result.json. */
function runChild(config: ExperimentConfig, cell: Cell, threads: number, cli: string): Promise<CellResult> {
  return new Promise((resolve, reject) => {
    const args = [cli, 'experiment', '--config', config.file, '--cell', cell.id, '--threads', String(threads), '--quiet', ...overrideArgs(config)];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const result = code === 0 ? readCellResult(config, cell) : undefined;
      if (result) resolve(result);
      else reject(new Error(`the cell's process ended with ${signal ?? `code ${code}`}${stderr.trim() ? `: ${stderr.trim()}` : ''}`));
    });
  });
}

/** Runs `work` on every item with at most `limit` at once. */
async function pool<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function describeResult(r: CellResult): string {
  const f = (m?: Record<string, number>) => (m ? m['recall@20'].toFixed(4) : '-');
  return `test R@20 ${f(r.test.original)}${r.test.augmented ? ` (aug. mask ${f(r.test.augmented)})` : ''}, ${r.epochs} epoch${r.epochs === 1 ? '' : 's'}, stopped by ${r.stoppedBy}`;
}

export async function runExperiment(config: ExperimentConfig, options: ExperimentRunOptions = {}): Promise<ExperimentOutcome> {
  const jobs = expectInteger(options.jobs ?? 1, 'jobs', 1, 1024);
  const threads = expectInteger(options.threads ?? (jobs === 1 ? defaultThreads() : 1), 'threads', 1, 1024);
  const log = options.log ?? (() => undefined);
  const cells = expandCells(config);
  const total = cells.length;
  const tag = (i: number) => `[${i + 1}/${total}] ${cells[i].id}`;
  const pending: Array<{ index: number; state: CellState }> = [];
  const skipped: string[] = [];
  cells.forEach((cell, index) => {
    const state = cellState(config, cell);
    if (state === 'finished') {
      skipped.push(cell.id);
      log(`${tag(index)}: finished earlier, skipped`);
    } else if (!options.summaryOnly) {
      pending.push({ index, state });
    }
  });
  // The prep runs in this process (with the threads of all jobs), before the cells that need it.
  const shared = new SharedInputs(config, jobs === 1 ? threads : Math.min(defaultThreads(), threads * jobs), log, options.epochLines ?? false);
  const ran: string[] = [];
  const failed: Array<{ id: string; error: string }> = [];
  await pool(pending, jobs, async ({ index, state }) => {
    const cell = cells[index];
    try {
      const prep = await shared.prep(cell);
      log(`${tag(index)}: ${state === 'partial' ? 'resuming' : 'running'}`);
      const result = jobs === 1
        ? await runCell(config, cell, await shared.dataset(cell), {
          threads, ...(prep ? { prep } : {}), ...(options.epochLines ? { onEpoch: epochLogger(`  ${cell.id}`, log) } : {}),
        })
        : await runChild(config, cell, threads, options.cli ?? defaultCli);
      ran.push(cell.id);
      log(`${tag(index)}: done in ${result.seconds.toFixed(1)} s: ${describeResult(result)}`);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      failed.push({ id: cell.id, error: message });
      log(`${tag(index)}: failed: ${message}`);
    }
  });

  const results = cells.flatMap((cell) => readCellResult(config, cell) ?? []);
  const summary = summarizeResults(results, { name: config.name, baselines: config.baselines, expectedCells: total });
  const plotsDir = join(config.out, 'plots');
  const plots = await writePlots(summary, plotsDir);
  const files = { markdown: join(config.out, 'summary.md'), csv: join(config.out, 'summary.csv'), json: join(config.out, 'summary.json'), plotsDir, plots };
  writeFileAtomic(files.markdown, summaryMarkdown(summary, plots.map((p) => ({ ...p, valid: `plots/${p.valid}`, test: `plots/${p.test}` }))));
  writeFileAtomic(files.csv, summaryCsv(summary));
  writeJsonAtomic(files.json, summary);
  log(`summary of ${results.length}/${total} cells: ${files.markdown}, summary.csv, summary.json, plots/`);
  return { summary, results, files, cells: { total, skipped, ran, failed } };
}

/** Runs the one cell `id` of the grid in this process (what `experiment --cell ID` does). */
export async function runExperimentCell(config: ExperimentConfig, id: string, options: { threads?: number; log?: (line: string) => void } = {}): Promise<CellResult> {
  const cell = expandCells(config).find((c) => c.id === id);
  if (!cell) throw new RangeError(`Expected the id of a cell of ${config.file} for cell but received ${JSON.stringify(id)}`);
  const threads = expectInteger(options.threads ?? defaultThreads(), 'threads', 1, 1024);
  const shared = new SharedInputs(config, threads, options.log ?? (() => undefined), false);
  const prep = await shared.prep(cell);
  return runCell(config, cell, await shared.dataset(cell), { threads, ...(prep ? { prep } : {}) });
}

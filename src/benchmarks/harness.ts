/**
 * A thin layer over benchmark.js: cases named `<impl>-<input>`, run side by side
 * in one process, reported with throughput in domain units (samples/s, users/s, ...)
 * and the machine they ran on.
 */
import Benchmark from 'benchmark';
import { cpus, loadavg, totalmem } from 'node:os';

export interface BenchCase {
  /** `<impl>-<input>`, e.g. `native-2t-mf-adam`. */
  name: string;
  /** One run of the measured operation. */
  fn: () => Promise<unknown> | unknown;
  /** Domain units processed by one run (e.g. samples in one step). */
  unitsPerRun: number;
  unit: string;
  /**
   * fn resolves to the seconds the kernel itself measured (TrainStats.seconds), which
   * runInterleaved counts instead of the call's wall time: the binding's argument checks and
   * copies then stay out of the comparison.
   */
  kernelTimed?: boolean;
}

export interface BenchRow {
  suite: string;
  name: string;
  unit: string;
  /** Domain units per second (mean over samples). */
  perSecond: number;
  secondsPerRun: number;
  /** Relative margin of error, percent. */
  rme: number;
  samples: number;
  /** Seconds of each counted round, for cases run by runInterleaved (pairs with the other cases' rounds). */
  rounds?: number[];
}

export interface BenchSettings {
  /** Minimum samples per case (benchmark.js minSamples). */
  minSamples: number;
  /** Seconds per case before benchmark.js stops sampling. */
  maxTime: number;
}

export const quickSettings: BenchSettings = { minSamples: 2, maxTime: 1 };
export const fullSettings: BenchSettings = { minSamples: 5, maxTime: 5 };

export function machine(): Record<string, string | number> {
  const list = cpus();
  return {
    cpu: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
}

export function machineLine(): string {
  const m = machine();
  return `machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, node ${m.node} (${m.platform})`;
}

export async function runCases(suite: string, cases: BenchCase[], settings: BenchSettings, log: (line: string) => void): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const c of cases) {
    // Warm-up run: first-call costs (allocation, page faults) stay out of the figures.
    await c.fn();
    const bench = new Benchmark(c.name, {
      defer: true,
      minSamples: settings.minSamples,
      maxTime: settings.maxTime,
      initCount: 1,
      fn: (deferred: { resolve(): void }) => {
        Promise.resolve(c.fn()).then(() => deferred.resolve(), (error) => {
          log(`${c.name} failed: ${(error as Error).message}`);
          deferred.resolve();
        });
      },
    });
    await new Promise<void>((resolve) => {
      bench.on('complete', () => resolve());
      bench.run({ async: true });
    });
    const mean = bench.stats.mean;
    const row: BenchRow = {
      suite, name: c.name, unit: c.unit, perSecond: c.unitsPerRun / mean, secondsPerRun: mean,
      rme: bench.stats.rme, samples: bench.stats.sample.length,
    };
    rows.push(row);
    log(`  ${row.name.padEnd(40)} ${formatRate(row.perSecond).padStart(12)} ${row.unit}/s  ${(mean * 1000).toFixed(2).padStart(10)} ms/run  ±${row.rme.toFixed(1)}% (${row.samples} runs)`);
  }
  return rows;
}

export function formatRate(v: number): string {
  if (v >= 1e6) return `${(v / 1e6).toFixed(2)}M`;
  if (v >= 1e3) return `${(v / 1e3).toFixed(1)}K`;
  return v.toFixed(2);
}

/**
 * How many times a's throughput is b's. For two cases of one runInterleaved call, the median of
 * the rounds' own ratios: a machine whose speed drifts between rounds (a cloud VM) moves both
 * runs of a round alike, but not the medians of the two cases, which may come from different rounds.
 */
export function throughputRatio(a: BenchRow, b: BenchRow): { ratio: number; pairedRounds: number } {
  if (a.rounds && b.rounds && a.rounds.length === b.rounds.length && a.rounds.length > 0) {
    const unitsA = a.perSecond * a.secondsPerRun, unitsB = b.perSecond * b.secondsPerRun;
    const ratios = a.rounds.map((seconds, k) => (unitsA / seconds) / (unitsB / b.rounds![k]));
    return { ratio: median(ratios), pairedRounds: ratios.length };
  }
  return { ratio: a.perSecond / b.perSecond, pairedRounds: 0 };
}

/** "a is N.NNx b" lines for the pairs that compare implementations on the same input. */
export function ratioLine(rows: BenchRow[], fast: string, slow: string): string | undefined {
  const a = rows.find((r) => r.name === fast), b = rows.find((r) => r.name === slow);
  if (!a || !b) return undefined;
  const { ratio, pairedRounds } = throughputRatio(a, b);
  return `  ${fast} / ${slow} = ${ratio.toFixed(2)}x${pairedRounds ? ` (median of ${pairedRounds} paired rounds)` : ''}`;
}

/** The middle value (the mean of the two middle ones for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Cases run in interleaved rounds (one run of each per round, after one warm-up round; the order
 * reverses every other round, so no case always runs first) and reported by their median run: on a
 * shared machine, load that comes and goes hits every case alike, so the ratios between them hold
 * better than with cases run one after the other, and throughputRatio() pairs the rounds. rme is
 * the half range of the runs relative to the median.
 */
export async function runInterleaved(suite: string, cases: BenchCase[], rounds: number, log: (line: string) => void): Promise<BenchRow[]> {
  const seconds: number[][] = cases.map(() => []);
  for (let round = 0; round <= rounds; round++) {
    for (let step = 0; step < cases.length; step++) {
      const c = round % 2 ? cases.length - 1 - step : step;
      const start = performance.now();
      const result = await cases[c].fn();
      const wall = (performance.now() - start) / 1000;
      if (cases[c].kernelTimed && !(typeof result === 'number' && result > 0 && Number.isFinite(result)))
        throw new TypeError(`Expected benchmark case ${cases[c].name} to resolve to its kernel's seconds, but it gave ${String(result)}`);
      if (round > 0) seconds[c].push(cases[c].kernelTimed ? (result as number) : wall);
    }
  }
  return cases.map((c, k) => {
    const s = median(seconds[k]);
    const rme = (Math.max(...seconds[k]) - Math.min(...seconds[k])) / 2 / s * 100;
    const row: BenchRow = {
      suite, name: c.name, unit: c.unit, perSecond: c.unitsPerRun / s, secondsPerRun: s, rme, samples: seconds[k].length, rounds: seconds[k],
    };
    log(`  ${row.name.padEnd(40)} ${formatRate(row.perSecond).padStart(12)} ${row.unit}/s  ${(s * 1000).toFixed(2).padStart(10)} ms/run${c.kernelTimed ? ' (kernel time)' : ''}  median of ${row.samples} interleaved, ±${rme.toFixed(1)}%`);
    return row;
  });
}

/** The 1-minute load average and the cores, for the log: what else was running. */
export function loadLine(): string {
  return `load: ${loadavg()[0].toFixed(2)} (1-min average) on ${cpus().length} cores`;
}

/** All benchmark suites, run by `dtlns-native bench` (and `npm run bench`). */
import { fullSettings, machine, machineLine, quickSettings, type BenchRow, type BenchSettings } from './harness.js';
import { benchEval } from './eval.js';
import { benchTrain } from './train.js';
import { benchExtraPositives } from './train-extra.js';
import { benchHogwildLoop } from './hogwild.js';
import { benchLabels } from './labels.js';
import { benchLabelers } from './labelers.js';
import { benchTrees } from './trees.js';
import { benchSampling } from './sampling.js';
import { benchExport } from './export.js';
import { MissingDependencyError } from '../util/optional.js';

export type Suite = (settings: BenchSettings, log: (line: string) => void, quick: boolean) => Promise<BenchRow[]>;

export const suites: Record<string, Suite> = {
  train: benchTrain,
  'train-extra': async (_settings, log, quick) => [...(await benchExtraPositives(log, quick)), ...(await benchHogwildLoop(log, quick))],
  eval: benchEval,
  labels: benchLabels,
  labelers: benchLabelers,
  trees: benchTrees,
  sampling: benchSampling,
  export: benchExport,
};

export interface BenchReport {
  machine: Record<string, string | number>;
  settings: BenchSettings;
  rows: BenchRow[];
}

export async function runBenchmarks(names: string[], quick: boolean, log: (line: string) => void): Promise<BenchReport> {
  const settings = quick ? quickSettings : fullSettings;
  log(machineLine());
  const rows: BenchRow[] = [];
  for (const name of names) {
    const suite = suites[name];
    if (!suite) throw new RangeError(`Unknown benchmark suite "${name}"; choose from ${Object.keys(suites).join(', ')}`);
    try {
      rows.push(...(await suite(settings, log, quick)));
    } catch (error) {
      // A suite whose optional runtime is not installed (onnxruntime-node, a llama.cpp binary) is skipped, saying why.
      if (!(error instanceof MissingDependencyError)) throw error;
      log(`${name}: skipped: ${error.message}`);
    }
  }
  return { machine: machine(), settings, rows };
}

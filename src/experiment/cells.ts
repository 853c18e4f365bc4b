/**
 * One cell of the grid (dataset x model x method x seed) in its run folder out/cells/<id>/.
 * A method with a labeler runs the DTL-NS pipeline (labels, then training; both masks
 * reported) on the shared prep; one without trains directly. Both resume an interrupted
 * training from its checkpoint. A finished cell writes result.json atomically; cell.json
 * records the settings a started cell belongs to, so changed settings start it over.
 */
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Dataset } from '../data/types.js';
import type { Metrics } from '../eval/metrics.js';
import { runPipeline, type PipelineOptions } from '../pipeline/pipeline.js';
import { train, type EpochReport, type TrainOptions, type TrainResult } from '../train/train.js';
import { readPaths } from '../trees/path-file.js';
import { structuralPathsFile, semanticPathsFile } from '../trees/build.js';
import type { LabelQuality } from '../labels/quality.js';
import type { HeldOutReport } from '../labels/heldout.js';
import { writeJsonAtomic } from '../util/atomic.js';
import { labelDefaults, labelUseDefaults } from '../defaults.js';
import { samplerFieldNames, type SamplerFieldName } from '../sampling/catalogue.js';
import { labelerCatalogue, labelerFieldSpecs, labelerFieldsOf, labelerMethodKey, type LabelerEntry } from '../labels/labeler-catalogue.js';
import { hasLabels, readsRuleOptions, usesPaths, usesPrep, type Cell, type ExperimentConfig, type SamplerSettings } from './grid.js';
import { modelOptions, prepFiles, type PrepFiles } from './prep.js';
import { fingerprint } from '../pipeline/stages.js';

/** One validation point of the training curve. */
export interface CurvePoint {
  epoch: number;
  split: 'valid' | 'test';
  'recall@20': number;
  'ndcg@20': number;
}

export interface CellResult {
  id: string;
  dataset: string;
  model: string;
  method: string;
  sampler: string;
  labeler: string;
  seed: number;
  fingerprint: string;
  /** Validation metrics of the chosen model, the original training items masked. */
  valid?: Metrics;
  /** Test metrics with the original training items masked, and with the augmented set masked when the cell adds positives. */
  test: { original?: Metrics; augmented?: Metrics };
  /** Validation Recall@20 / NDCG@20 at every evaluation epoch. */
  history: CurvePoint[];
  epochs: number;
  bestEpoch: number;
  /** Positives trained per epoch (the gradient steps of an epoch are this over the batch size). */
  samplesPerEpoch?: number;
  stoppedBy: TrainResult['stoppedBy'];
  /** Wall-clock seconds of the attempt that finished the cell. */
  seconds: number;
  /** Whether that attempt continued an interrupted one. */
  resumed: boolean;
  /** Native threads of that attempt. */
  threads: number;
  labels?: { counts: Record<string, number>; quality?: LabelQuality; heldOut?: HeldOutReport; labelUse?: string };
  finishedAt: string;
}

export type CellState = 'finished' | 'partial' | 'new';

/** Every sampler field, in the order a labelled cell's train-stage fingerprint has always listed them (new fields last). */
const samplerKeyOrder = [...new Set(['negs', 'k', 'dnsTopK', 'popAlpha', 'alphaCo', 'alphaSe', ...samplerFieldNames])] as SamplerFieldName[];

/** Everything that decides what a cell computes (threads are left out: they do not change what a cell means). */

export function cellFingerprint(config: ExperimentConfig, cell: Cell): string {
  const prep = usesPrep(cell.method) ? prepFiles(config, cell.dataset, cell.model).fingerprint : undefined;
  // The rule's defaults decide what a rule-labelled cell computes: a changed default starts it over.
  const rule = readsRuleOptions(cell.method) ? { rule: labelDefaults.rule } : {};
  return fingerprint({ data: cell.dataset.data, model: cell.model, method: cell.method, seed: cell.seed, train: config.train, prep, ...rule });
}

function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** The cell's result, when it finished under the current settings. */
export function readCellResult(config: ExperimentConfig, cell: Cell): CellResult | undefined {
  const result = readJson<CellResult>(join(cell.dir, 'result.json'));
  return result?.fingerprint === cellFingerprint(config, cell) ? result : undefined;
}

export function cellState(config: ExperimentConfig, cell: Cell): CellState {
  if (readCellResult(config, cell)) return 'finished';
  return readJson<{ fingerprint: string }>(join(cell.dir, 'cell.json'))?.fingerprint === cellFingerprint(config, cell) ? 'partial' : 'new';
}

export interface CellRunOptions {
  threads: number;
  /** The shared prep of the cell's dataset x model (needed by methods with labels or our paths). */
  prep?: PrepFiles;
  onEpoch?: (report: EpochReport) => void;
}

function curve(history: EpochReport[]): CurvePoint[] {
  return history.flatMap((r) =>
    r.eval ? [{ epoch: r.epoch, split: r.eval.split, 'recall@20': r.eval.metrics['recall@20'], 'ndcg@20': r.eval.metrics['ndcg@20'] }] : []);
}

function samplesOf(history: EpochReport[]): Pick<CellResult, 'samplesPerEpoch'> {
  return history.length ? { samplesPerEpoch: history[0].samples } : {};
}

/** The per-epoch reports kept in a training run's checkpoint (state.json, or the previous copy of an interrupted swap). */
function checkpointHistory(runDir: string): EpochReport[] {
  for (const dir of ['checkpoint', 'checkpoint.old']) {
    const meta = readJson<{ history?: EpochReport[] }>(join(runDir, dir, 'state.json'));
    if (meta) return meta.history ?? [];
  }
  return [];
}

/** The training options of a cell: shared settings, then the model's, then the method's sampler settings. */
function cellTrainOptions(config: ExperimentConfig, cell: Cell): Omit<TrainOptions, 'out' | 'threads'> {
  const pick = (s: SamplerSettings): SamplerSettings =>
    Object.fromEntries(samplerKeyOrder.flatMap((key) => (s[key] === undefined ? [] : [[key, s[key]]])));
  return { ...config.train, ...modelOptions(cell.model), ...pick(cell.method), sampler: cell.method.sampler, seed: cell.seed };
}

/** Where the cell's path files are: the dataset folder (the authors'), else the prep (ours). */
function pathFiles(cell: Cell, prep: PrepFiles | undefined): { struct: string; semantic: string } {
  if (cell.method.paths === 'authors') return { struct: join(cell.dataset.folder!, structuralPathsFile), semantic: join(cell.dataset.folder!, semanticPathsFile) };
  if (!prep) throw new Error(`Expected the prep of ${cell.dataset.name}-${cell.model.name} for cell ${cell.id} (it reads our paths)`);
  return { struct: prep.pathsStruct, semantic: prep.pathsSemantic };
}

/** The pipeline's labeler of a cell: its kind and settings, files resolved against the config's folder (exported for the fingerprint test). */
export function cellLabeler(config: ExperimentConfig, cell: Cell): NonNullable<PipelineOptions['labeler']> {
  const m = cell.method as unknown as Record<string, unknown>, dir = dirname(config.file), kind = cell.method.labeler;
  // The options the method sets, by option name, paths resolved against the config's folder.
  const given = Object.fromEntries(labelerFieldsOf(kind).flatMap((name) => {
    const key = labelerMethodKey(name);
    if (key === undefined || m[key] === undefined) return [];
    return [[name, labelerFieldSpecs[name].kind === 'path' ? resolve(dir, m[key] as string) : m[key]]];
  }));
  const at = (labelerCatalogue[kind] as LabelerEntry).optionsAt;
  if (at) return { kind, [at]: given };
  // The others (file excepted) have always been given the cell's seed and the rule's defaults: cells' fingerprints hold them.
  return kind === 'file' ? { kind, ...given } : { kind, seed: cell.seed, ...labelDefaults.rule, ...given };
}

/** Runs (or resumes) one cell and writes its result.json. */
export async function runCell(config: ExperimentConfig, cell: Cell, data: Dataset, options: CellRunOptions): Promise<CellResult> {
  const fingerprint = cellFingerprint(config, cell);
  const finished = readCellResult(config, cell);
  if (finished) return finished;
  const state = cellState(config, cell);
  if (state === 'new') rmSync(cell.dir, { recursive: true, force: true });
  writeJsonAtomic(join(cell.dir, 'cell.json'), { id: cell.id, fingerprint, startedAt: new Date().toISOString() });
  const started = performance.now();
  const method = cell.method;
  const trainOptions = cellTrainOptions(config, cell);
  const onEpoch = options.onEpoch ? { onEpoch: options.onEpoch } : {};
  let outcome: Pick<CellResult, 'valid' | 'test' | 'history' | 'epochs' | 'bestEpoch' | 'samplesPerEpoch' | 'stoppedBy' | 'labels'>;
  if (hasLabels(method)) {
    const prep = options.prep;
    // A labeler that reads no paths (topn, file) still gets path files: the pipeline's trees stage wants two.
    const paths = pathFiles(cell, prep);
    const candidates = method.candidates === 'authors' ? join(cell.dataset.folder!, 'candidates.txt') : prep!.candidates;
    const r = await runPipeline(data, {
      out: cell.dir, threads: options.threads, ...(prep ? { pretrained: prep.pretrainDir } : {}),
      trees: { pathsStruct: paths.struct, pathsSemantic: paths.semantic },
      candidates: { file: candidates },
      labeler: cellLabeler(config, cell),
      ...(method.heldOut ? { heldOut: { policy: method.heldOut, seed: cell.seed } } : {}),
      train: { ...trainOptions, ...(method.labelUse ? { labelUse: method.labelUse } : {}), ...(method.labelWeight !== undefined ? { labelWeight: method.labelWeight } : {}) },
      ...onEpoch,
    });
    const metrics = readJson<{ bestEpoch: number; stoppedBy: TrainResult['stoppedBy'] }>(join(cell.dir, 'train', 'metrics.json'));
    outcome = {
      ...(r.train.original.valid ? { valid: r.train.original.valid } : {}),
      test: { ...(r.train.original.test ? { original: r.train.original.test } : {}), ...(r.train.augmented.test ? { augmented: r.train.augmented.test } : {}) },
      history: curve(checkpointHistory(join(cell.dir, 'train'))),
      ...samplesOf(checkpointHistory(join(cell.dir, 'train'))),
      epochs: r.train.epochs, bestEpoch: metrics?.bestEpoch ?? r.train.epochs, stoppedBy: metrics?.stoppedBy ?? 'epochs',
      labels: { ...r.labels, labelUse: method.labelUse ?? labelUseDefaults.labelUse },
    };
  } else {
    const paths = usesPaths(method) ? pathFiles(cell, options.prep) : undefined;
    const r = await train(data, {
      ...trainOptions, threads: options.threads, out: join(cell.dir, 'train'), ...onEpoch,
      ...(paths ? { pathsCo: await readPaths(paths.struct, data), pathsSe: await readPaths(paths.semantic, data) } : {}),
    });
    outcome = {
      ...(r.valid ? { valid: r.valid } : {}), test: r.test ? { original: r.test } : {}, history: curve(r.history),
      epochs: r.epochs, bestEpoch: r.bestEpoch, stoppedBy: r.stoppedBy, ...samplesOf(r.history),
    };
  }
  const result: CellResult = {
    id: cell.id, dataset: cell.dataset.name, model: cell.model.name, method: method.name, sampler: method.sampler, labeler: method.labeler,
    seed: cell.seed, fingerprint, ...outcome, seconds: (performance.now() - started) / 1000, resumed: state === 'partial', threads: options.threads,
    finishedAt: new Date().toISOString(),
  };
  writeJsonAtomic(join(cell.dir, 'result.json'), result);
  return result;
}


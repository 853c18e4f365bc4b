/**
 * The training loop: one native call per epoch, evaluation every `evalEvery`
 * epochs, early stopping on validation Recall@20, the best model kept, and a
 * checkpoint after every evaluation so an interrupted run resumes where it was.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import type { Csr, Dataset } from '../data/types.js';
import { expectDataset, expectOneOf, expectOptions, show } from '../data/validate.js';
import { checkKs, evaluateEmbeddings } from '../eval/evaluate.js';
import { callNative, native } from '../native.js';
import { adamDefaults, defaultThreads, evalDefaults, optimizerNames, trainDefaults } from '../defaults.js';
import { initModel, loadState, saveState, type ModelState } from '../model/state.js';
import { writeNpy } from '../model/npy.js';
import type { Metrics } from '../eval/metrics.js';
import { writeJsonAtomic } from '../util/atomic.js';
import { ModelFitError } from './errors.js';
import { withFolderLock } from '../util/lock.js';
import { describeSampler, resolveSampler, samplerFields, type SamplerOptions } from '../sampling/options.js';
import { applyLabelUse, resolveLabelUse, type LabelledTraining, type LabelUse, type LabelUseOptions } from '../labels/use.js';

/** Training options; the negative sampler's (sampler, negs, k, ...) are documented in SamplerOptions. */
export interface TrainOptions extends SamplerOptions, LabelUseOptions {
  model?: 'mf' | 'lightgcn';
  layers?: number;
  dim?: number;
  lr?: number;
  batch?: number;
  l2?: number;
  epochs?: number;
  evalEvery?: number;
  patience?: number;
  /** Wall-clock seconds for the epochs (evaluations included): past it, training stops like an early stop and the best model is kept. */
  timeBudget?: number;
  optimizer?: 'adam' | 'lazy-adam' | 'sgd';
  initStd?: number;
  threads?: number;
  seed?: number;
  ks?: number[];
  /**
   * Labelled false negatives (e.g. an LLM's): never drawn as negatives; trained as positives,
   * excluded only, or weighted, as `labelUse` says (src/labels/use.ts).
   */
  extraPositives?: Csr;
  /** Each labelled pair's confidence in [0, 1], aligned with extraPositives.indices (labelWeight 'confidence'). */
  extraConfidence?: Float32Array;
  /** Which training set is removed from rankings: 'original' (default, honest) or 'augmented' (as the DTL-NS release). */
  evalMask?: 'original' | 'augmented';
  /** Run folder: checkpoints, best model, metrics.json. Without it nothing is written. */
  out?: string;
  /** Ignore an existing checkpoint in `out` and start over. */
  fresh?: boolean;
  /** Called after every epoch (and with metrics after every evaluation). */
  onEpoch?: (report: EpochReport) => void;
}

export interface EpochReport {
  epoch: number;
  epochs: number;
  loss: number;
  samples: number;
  skipped: number;
  seconds: number;
  samplesPerSecond: number;
  /** Set on evaluation epochs: validation metrics, or test metrics when there is no validation split. */
  eval?: { split: 'valid' | 'test'; metrics: Metrics; best: boolean };
}

export interface TrainResult {
  valid?: Metrics;
  test?: Metrics;
  epochs: number;
  bestEpoch: number;
  secondsPerEpoch: number;
  stoppedEarly: boolean;
  /** Why the epochs ended: the epoch budget, patience on valid, or the time budget. */
  stoppedBy: 'epochs' | 'patience' | 'time';
  evalMask: 'original' | 'augmented';
  /** The negative sampler and the settings that apply to it (path tables as digests). */
  sampler: Record<string, string | number>;
  /** With labels: how many labelled pairs, how many of them were not training positives already, and their use. */
  labels?: { pairs: number; added: number; labelUse: LabelUse; labelWeight?: number | 'confidence' };
  history: EpochReport[];
  /** Final (propagated) embeddings of the best model. */
  userEmb: Float32Array;
  itemEmb: Float32Array;
  dim: number;
}

type Resolved = Required<Omit<TrainOptions, 'extraPositives' | 'extraConfidence' | 'out' | 'onEpoch' | 'fresh' | 'timeBudget' | keyof SamplerOptions | keyof LabelUseOptions>>;

function resolveOptions(options: TrainOptions): Resolved {
  const o: Resolved = {
    model: options.model ?? trainDefaults.model,
    layers: options.layers ?? (options.model === 'mf' ? 0 : trainDefaults.layers),
    dim: options.dim ?? trainDefaults.dim,
    lr: options.lr ?? trainDefaults.lr,
    batch: options.batch ?? trainDefaults.batch,
    l2: options.l2 ?? trainDefaults.l2,
    epochs: options.epochs ?? trainDefaults.epochs,
    evalEvery: options.evalEvery ?? trainDefaults.evalEvery,
    patience: options.patience ?? trainDefaults.patience,
    optimizer: options.optimizer ?? trainDefaults.optimizer,
    initStd: options.initStd ?? trainDefaults.initStd,
    threads: options.threads ?? defaultThreads(),
    seed: options.seed ?? trainDefaults.seed,
    ks: options.ks ?? evalDefaults.ks,
    evalMask: options.evalMask ?? 'original',
  };
  if (o.model !== 'mf' && o.model !== 'lightgcn') throw new RangeError(`Expected 'mf' or 'lightgcn' for model but received ${String(o.model)}`);
  if (o.model === 'mf') o.layers = 0;
  const ints: Array<[string, number, number, number]> = [
    ['layers', o.layers, 0, 4], ['dim', o.dim, 1, 4096], ['batch', o.batch, 1, 1 << 24], ['epochs', o.epochs, 1, 1e7],
    ['evalEvery', o.evalEvery, 1, 1e7], ['patience', o.patience, 1, 1e7], ['threads', o.threads, 1, 1024], ['seed', o.seed, 0, 2 ** 32 - 1],
  ];
  for (const [name, v, lo, hi] of ints) {
    if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(`Expected an integer for ${name} but received ${show(v)}`);
    if (v < lo || v > hi) throw new RangeError(`Expected ${name} in [${lo}, ${hi}] but received ${v}`);
  }
  // lr and initStd of 0 would train nothing (and the kernels refuse them); only l2 may be 0.
  for (const [name, v, zero] of [['lr', o.lr, false], ['l2', o.l2, true], ['initStd', o.initStd, false]] as const) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (v === 0 && !zero)) {
      throw new RangeError(`Expected a finite ${zero ? 'non-negative' : 'positive'} number for ${name} but received ${String(v)}`);
    }
  }
  const budget = options.timeBudget;
  if (budget !== undefined && (typeof budget !== 'number' || !(budget > 0))) {
    throw new RangeError(`Expected a positive number of seconds for timeBudget but received ${String(budget)}`);
  }
  expectOneOf(o.optimizer, 'optimizer', optimizerNames);
  if (o.evalMask !== 'original' && o.evalMask !== 'augmented') throw new RangeError(`Expected 'original' or 'augmented' for evalMask but received ${String(o.evalMask)}`);
  checkKs(o.ks);
  // Checked before training, not after it: early stopping and the summary read this metric.
  const selectCut = Number(trainDefaults.selectMetric.split('@')[1]);
  if (!o.ks.includes(selectCut)) throw new RangeError(`Expected ks to include ${selectCut} (early stopping selects on ${trainDefaults.selectMetric}) but received ${o.ks.join(',')}`);
  return o;
}

/**
 * A fingerprint of everything that changes what the epochs compute. The epoch
 * budget, patience and threads are left out so that a run can be extended.
 */
function configHash(o: Resolved, dataset: Dataset, sampler: Record<string, string | number>, labels?: LabelledRun): string {
  const h = createHash('sha256');
  const { threads: _threads, epochs: _epochs, patience: _patience, ...rest } = o;
  h.update(JSON.stringify(rest));
  // The default (rns, one negative) adds nothing, so checkpoints from before samplers existed stay valid.
  if (sampler.sampler !== 'rns' || sampler.k !== 1 || sampler.positives !== undefined) h.update(JSON.stringify(sampler));
  h.update(`${dataset.name}:${dataset.nUsers}x${dataset.nItems}`);
  for (const csr of [dataset.train, dataset.valid, dataset.test, labels?.pairs]) {
    if (!csr) continue;
    h.update(new Uint8Array(csr.indptr.buffer, csr.indptr.byteOffset, csr.indptr.byteLength));
    h.update(new Uint8Array(csr.indices.buffer, csr.indices.byteOffset, csr.indices.byteLength));
  }
  // The paper's use ('positive') adds nothing, so checkpoints from before label uses stay valid.
  if (labels && labels.use.labelUse !== 'positive') h.update(JSON.stringify(labels.use));
  if (labels?.positiveWeights) h.update(new Uint8Array(labels.positiveWeights.buffer, labels.positiveWeights.byteOffset, labels.positiveWeights.byteLength));
  return h.digest('hex').slice(0, 16);
}

/** Mixes the run seed and the epoch into the epoch's sampling seed. */
function epochSeed(seed: number, epoch: number): number {
  return (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(epoch, 0xc2b2ae35)) >>> 0;
}

export async function propagateFinal(state: ModelState, o: { model: 'mf' | 'lightgcn'; layers: number; threads: number }, graph: Csr) {
  return callNative(() =>
    native.propagate({
      model: o.model, layers: o.layers, nUsers: state.nUsers, nItems: state.nItems, dim: state.dim,
      userEmb: state.userEmb, itemEmb: state.itemEmb, trainIndptr: graph.indptr, trainIndices: graph.indices, threads: o.threads,
    }),
  );
}

/** The labels of a run, their use and what it makes of the training inputs. */
interface LabelledRun extends LabelledTraining {
  pairs: Csr;
  use: Required<LabelUseOptions>;
}

function labelledRun(dataset: Dataset, options: TrainOptions): LabelledRun | undefined {
  const use = resolveLabelUse(options);
  const pairs = options.extraPositives;
  if (!pairs) {
    const given = options.labelUse !== undefined ? 'labelUse' : options.labelWeight !== undefined ? 'labelWeight' : undefined;
    if (given) throw new TypeError(`Expected labels (extraPositives) for ${given} to act on but received none`);
    return undefined;
  }
  if (pairs.rows !== dataset.nUsers || pairs.cols !== dataset.nItems) {
    throw new RangeError(`Expected extraPositives of shape ${dataset.nUsers} x ${dataset.nItems} but received ${pairs.rows} x ${pairs.cols}`);
  }
  const confidence = options.extraConfidence;
  if (confidence !== undefined && !(confidence instanceof Float32Array && confidence.length === pairs.indices.length)) {
    throw new TypeError(`Expected extraConfidence to be a Float32Array of ${pairs.indices.length} values (one per labelled pair) but received ${String(confidence)}`);
  }
  return { ...applyLabelUse(dataset.train, { pairs, ...(confidence ? { confidence } : {}) }, use), pairs, use };
}

function describeLabels(labels: LabelledRun, dataset: Dataset): NonNullable<TrainResult['labels']> {
  const { labelUse, labelWeight } = labels.use;
  return {
    pairs: labels.pairs.indices.length, added: labels.augmented.indices.length - dataset.train.indices.length,
    labelUse, ...(labelUse === 'weighted' ? { labelWeight } : {}),
  };
}

export async function train(dataset: Dataset, options: TrainOptions = {}): Promise<TrainResult> {
  expectDataset(dataset, 'dataset');
  const checked = expectOptions<TrainOptions>(options, 'options');
  if (checked.out === undefined) return trainRun(dataset, checked);
  resolveOptions(checked); // bad options fail before the run folder is made
  // One writer per run folder: a second train on it would corrupt the checkpoint.
  return withFolderLock(checked.out, 'out', () => trainRun(dataset, checked));
}

async function trainRun(dataset: Dataset, options: TrainOptions): Promise<TrainResult> {
  const o = resolveOptions(options);
  const labels = labelledRun(dataset, options);
  const positives = labels?.positives ?? dataset.train;
  const mask = o.evalMask === 'augmented' && labels ? labels.augmented : dataset.train;
  // The arrays of the label use that trainEpoch reads (src/native.ts LabelUseArrays).
  const labelArrays = {
    ...(labels?.nonNegatives ? { nonNegativesIndptr: labels.nonNegatives.indptr, nonNegativesIndices: labels.nonNegatives.indices } : {}),
    ...(labels?.positiveWeights ? { positiveWeights: labels.positiveWeights } : {}),
  };
  const selectSplit: 'valid' | 'test' | undefined = dataset.valid ? 'valid' : dataset.test ? 'test' : undefined;
  // Without a validation split there is nothing honest to stop on: test is only reported.
  const earlyStopping = selectSplit === 'valid';
  const sampler = resolveSampler(options, dataset.nItems);
  const samplerSummary = describeSampler(sampler);
  const hash = configHash(o, dataset, samplerSummary, labels);

  let state = initModel(dataset.nUsers, dataset.nItems, o.dim, o.seed, o.initStd);
  let startEpoch = 0, bestEpoch = 0, bestScore = -Infinity, badEvals = 0;
  let history: EpochReport[] = [];
  const checkpointDir = options.out ? join(options.out, 'checkpoint') : undefined;
  const bestDir = options.out ? join(options.out, 'best') : undefined;
  if (checkpointDir && !options.fresh) {
    const saved = loadState(checkpointDir);
    if (saved) {
      if (saved.meta.configHash !== hash) {
        throw new Error(
          `${checkpointDir} holds a checkpoint of a different configuration (data or options changed). ` +
            'Use --fresh to start over or another --out folder.',
        );
      }
      state = saved.state;
      startEpoch = Number(saved.meta.epoch);
      bestEpoch = Number(saved.meta.bestEpoch);
      bestScore = Number(saved.meta.bestScore ?? -Infinity);
      badEvals = Number(saved.meta.badEvals);
      history = (saved.meta.history as EpochReport[]) ?? [];
    }
  }
  let best: ModelState | undefined = bestDir && bestEpoch > 0 ? loadState(bestDir)?.state : undefined;
  const copyState = (s: ModelState): ModelState => ({
    ...s, userEmb: s.userEmb.slice(), itemEmb: s.itemEmb.slice(), userM: s.userM.slice(), userV: s.userV.slice(),
    itemM: s.itemM.slice(), itemV: s.itemV.slice(),
  });

  let epoch = startEpoch;
  const started = performance.now();
  const patienceOut = (): boolean => earlyStopping && badEvals >= o.patience;
  // Checked after each epoch, so every call trains at least one.
  const timeOut = (): boolean => options.timeBudget !== undefined && (performance.now() - started) / 1000 >= options.timeBudget;
  let stoppedBy: TrainResult['stoppedBy'] = 'epochs';
  while (epoch < o.epochs) {
    if (patienceOut()) { stoppedBy = 'patience'; break; }
    epoch++;
    let stats;
    try {
      stats = await callNative(() =>
        native.trainEpoch({
          ...state, model: o.model, layers: o.layers, trainIndptr: positives.indptr, trainIndices: positives.indices,
          optimizer: o.optimizer, lr: o.lr, ...adamDefaults,
          l2: o.l2, batch: o.batch, seed: epochSeed(o.seed, epoch), threads: o.threads, ...samplerFields(sampler), ...labelArrays,
        }),
      );
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ModelFitError') throw new ModelFitError(`epoch ${epoch}: ${(error as Error).message}`, epoch);
      throw error;
    }
    state.step = stats.step;
    const report: EpochReport = {
      epoch, epochs: o.epochs, loss: stats.loss, samples: stats.samples, skipped: stats.skipped, seconds: stats.seconds,
      samplesPerSecond: stats.samples / Math.max(stats.seconds, 1e-9),
    };
    if (selectSplit && (epoch % o.evalEvery === 0 || epoch === o.epochs)) {
      const final = await propagateFinal(state, o, positives);
      const metrics = await evaluateEmbeddings(final.users, final.items, o.dim, dataset[selectSplit]!, { ks: o.ks, threads: o.threads, mask });
      const score = metrics[trainDefaults.selectMetric];
      const improved = !earlyStopping || score > bestScore;
      if (improved) {
        bestScore = score;
        bestEpoch = epoch;
        badEvals = 0;
        best = copyState(state);
        if (bestDir) saveState(bestDir, best, { epoch, configHash: hash });
      } else {
        badEvals++;
      }
      report.eval = { split: selectSplit, metrics, best: improved };
    }
    history.push(report);
    options.onEpoch?.(report);
    const outOfTime = epoch < o.epochs && !patienceOut() && timeOut();
    if (checkpointDir && (report.eval || epoch === o.epochs || outOfTime)) {
      saveState(checkpointDir, state, { epoch, bestEpoch, bestScore, badEvals, configHash: hash, history, options: o });
    }
    if (outOfTime) { stoppedBy = 'time'; break; }
  }
  if (stoppedBy === 'epochs' && patienceOut()) stoppedBy = 'patience';

  const chosen = best ?? state;
  if (!best) bestEpoch = epoch;
  const final = await propagateFinal(chosen, o, positives);
  const evalOptions = { ks: o.ks, threads: o.threads, mask };
  const result: TrainResult = {
    epochs: epoch,
    bestEpoch,
    secondsPerEpoch: history.length ? history.reduce((a, r) => a + r.seconds, 0) / history.length : 0,
    stoppedEarly: stoppedBy !== 'epochs',
    stoppedBy,
    evalMask: o.evalMask,
    sampler: samplerSummary,
    ...(labels ? { labels: describeLabels(labels, dataset) } : {}),
    history,
    userEmb: final.users,
    itemEmb: final.items,
    dim: o.dim,
  };
  if (dataset.valid) result.valid = await evaluateEmbeddings(final.users, final.items, o.dim, dataset.valid, evalOptions);
  if (dataset.test) result.test = await evaluateEmbeddings(final.users, final.items, o.dim, dataset.test, evalOptions);
  if (options.out) {
    writeNpy(join(options.out, 'user-embeddings.npy'), final.users, [dataset.nUsers, o.dim]);
    writeNpy(join(options.out, 'item-embeddings.npy'), final.items, [dataset.nItems, o.dim]);
    writeJsonAtomic(join(options.out, 'metrics.json'), summarize(result, o));
  }
  return result;
}

/** The JSON summary written to metrics.json and printed by --json. */
export function summarize(result: TrainResult, options?: Partial<Resolved>): Record<string, unknown> {
  return {
    valid: result.valid, test: result.test, epochs: result.epochs, bestEpoch: result.bestEpoch,
    secondsPerEpoch: result.secondsPerEpoch, stoppedEarly: result.stoppedEarly, stoppedBy: result.stoppedBy, evalMask: result.evalMask, sampler: result.sampler,
    ...(result.labels ? { labels: result.labels } : {}),
    ...(options ? { options } : {}),
  };
}

/** Reads a run folder's metrics.json, if any. */
export function readRunMetrics(dir: string): Record<string, unknown> | undefined {
  const path = join(dir, 'metrics.json');
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>) : undefined;
}

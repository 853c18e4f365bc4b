/**
 * Every default of the library, in one place. The CLI, the API and the docs read
 * them from here. Values follow the LightGCN and DTL-NS reference codes.
 */
import { availableParallelism } from 'node:os';
import { samplerCatalogueDefaults } from './sampling/catalogue.js';
import { labelerCatalogueDefaults, type LabelerKind } from './labels/labeler-catalogue.js';

/** The optimizers of `train`, `--optimizer` and the grid's `optimizer`. */
export const optimizerNames = ['adam', 'lazy-adam', 'sgd'] as const;
export type OptimizerName = (typeof optimizerNames)[number];

export const trainDefaults = {
  /** 'mf' or 'lightgcn'. */
  model: 'lightgcn' as 'mf' | 'lightgcn',
  /** LightGCN propagation layers (0-4); 0 is MF. */
  layers: 3,
  /** Embedding size. */
  dim: 64,
  /** Adam learning rate. */
  lr: 1e-3,
  /** Training pairs per step. */
  batch: 2048,
  /** L2 weight on the batch's layer-0 rows (LightGCN-PyTorch `decay`). */
  l2: 1e-4,
  /** Upper bound on epochs; early stopping usually ends training sooner. */
  epochs: 1000,
  /** Evaluate on the validation split every N epochs. */
  evalEvery: 5,
  /** Stop after this many evaluations without a better validation Recall@20. */
  patience: 10,
  /** 'adam' (PyTorch's dense semantics), 'lazy-adam' (only touched rows) or 'sgd'. */
  optimizer: 'adam' as OptimizerName,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  /** Standard deviation of the normal initialisation (LightGCN-PyTorch uses 0.1). */
  initStd: 0.1,
  /** Seed of initialisation, sampling and splits. */
  seed: 2026,
  /** The metric that picks the best checkpoint. */
  selectMetric: 'recall@20',
} as const;

/** trainDefaults' Adam betas and eps, for the native calls (which require them). */
export const adamDefaults = { beta1: trainDefaults.beta1, beta2: trainDefaults.beta2, eps: trainDefaults.eps };

/** Negative sampling: each sampler's defaults are declared with its fields in src/sampling/catalogue.ts. */
export const samplerDefaults = samplerCatalogueDefaults;

/** What labelled false negatives do in training (src/labels/use.ts). */
export const labelUseDefaults = {
  /**
   * 'positive': trained as positives (the paper); 'exclude': never drawn as a negative or
   * hard-negative candidate, not trained on; 'weighted': trained as positives with labelWeight.
   */
  labelUse: 'positive' as 'positive' | 'exclude' | 'weighted',
  /** weighted: each labelled positive's loss weight in (0, 1], or 'confidence' (the labeler's own score per pair). */
  labelWeight: 0.5 as number | 'confidence',
};

export const evalDefaults = {
  /** Cut-offs reported; the headline is 20. */
  ks: [5, 10, 20, 50] as number[],
  /** Users scored per native call (bounds memory: users x k results). */
  chunkUsers: 8192,
};

/** False-negative identification: candidates and labelling (src/labels/); each labeler's options are declared with it in src/labels/labeler-catalogue.ts. */
export const labelDefaults = {
  /** Candidates per user: the top-N unobserved items of the pre-trained model. */
  candidates: 20,
  /** Users who get candidates: 'all', or 'test' (users with test items, as the DTL-NS release). */
  candidateUsers: 'all' as 'all' | 'test',
  labeler: 'rule' as LabelerKind,
  ...labelerCatalogueDefaults,
};

/** Worker threads for native kernels: the number of cores, overridable with DTLNS_THREADS or --threads. */
export function defaultThreads(): number {
  const env = Number(process.env.DTLNS_THREADS);
  if (Number.isInteger(env) && env > 0) return env;
  return Math.max(1, availableParallelism());
}

/**
 * Every default of the library, in one place. The CLI, the API and the docs read
 * them from here. Values follow the LightGCN and DTL-NS reference codes.
 */
import { availableParallelism } from 'node:os';
import { samplerCatalogueDefaults } from './sampling/catalogue.js';
import type { CodeControlInner, LabelerKind } from './labels/labeler-catalogue.js';

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
  optimizer: 'adam' as 'adam' | 'lazy-adam' | 'sgd',
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

/** False-negative identification: candidates and labelling (src/labels/). */
export const labelDefaults = {
  /** Candidates per user: the top-N unobserved items of the pre-trained model. */
  candidates: 20,
  /** Users who get candidates: 'all', or 'test' (users with test items, as the DTL-NS release). */
  candidateUsers: 'all' as 'all' | 'test',
  labeler: 'rule' as LabelerKind,
  /** The labeler that the code controls (random-codes, shuffled-codes) feed with meaningless paths. */
  codeControlInner: 'rule' as CodeControlInner,
  /** Seed of the code controls' random codes or permutation. */
  codeControlSeed: 2026,
  /**
   * Rule labeler (src/labels/rule.ts): a history item SUPPORTS a candidate in one tree when their
   * path similarity (LCP / min(len)) reaches `theta`; `views` counts the support ('sum': each
   * tree's supporting items added, 'both': items supporting in both trees, 'either': in one);
   * the candidate is positive with at least `minSupport`, keeping at most `cap` positives per
   * user (0: no cap), the best supported first. Chosen by measurement (docs/labelers.md,
   * `dtlns-native bench --suite labelers`): the best F1 against the held-out interactions on both
   * dtlns-sports and dtlns-toys with the authors' trees and candidates (8.9 % and 9.3 % of its
   * positives are held-out, 5.0x the base rate; the earlier rule: 3.2 % and 3.8 %; the same
   * number of positives given to the longest histories: 2.1-2.2x). views 'either', minSupport 1,
   * cap 0 is the earlier rule.
   */
  rule: { theta: 1, views: 'sum' as 'sum' | 'both' | 'either', minSupport: 4, cap: 0 },
  /** llama: 'score' (next-token probabilities, no generation) or 'generate' (grammar-constrained answer). */
  mode: 'score' as 'score' | 'generate',
  /** llama score mode: positive when P(yes) / (P(yes) + P(no)) reaches this. */
  threshold: 0.5,
  /** llama: the llama.cpp backend; 'auto' takes the best prebuilt or locally built one that works (CUDA, Vulkan, Metal, else CPU). */
  gpu: 'auto' as 'auto' | 'cuda' | 'vulkan' | 'metal' | 'cpu',
  /** llama: layers offloaded to the GPU; 'auto' what fits in its memory, 'max' all of them. */
  gpuLayers: 'auto' as 'auto' | 'max' | number,
  /** llama: tokens per context sequence (capped by the model's training context). */
  contextSize: 4096,
  /** llama: most tokens of the [system + history] prefix; longer histories keep their last items. */
  maxPrefixTokens: 3072,
  /**
   * llama: evaluate each user's [system + history] prefix once and only each candidate's tail after
   * it; false evaluates one full prompt per (user, candidate), as the DTL-NS release does.
   */
  prefixReuse: true,
  /** llama: context sequences = users labelled in parallel (no gain measured on 2 CPU cores). */
  sequences: 1,
  /** Most tokens a generated answer may take. */
  maxAnswerTokens: 4,
  /** openai: requests in flight. */
  concurrency: 8,
  /** openai: per-request timeout, ms. */
  timeoutMs: 60_000,
  /** openai: retries on 429 / 5xx / network errors, with exponential backoff from retryBaseMs. */
  retries: 5,
  retryBaseMs: 500,
  /** openai: longest wait between two tries, ms, whatever a Retry-After header asks. */
  maxRetryWaitMs: 60_000,
  /** openai: most time one request may spend waiting between tries, ms; then the job stops (resumable). */
  maxRetryTotalMs: 300_000,
  /** openai: largest response body read, bytes; a larger one stops the job (a chat completion is a few KB). */
  maxResponseBytes: 1 << 20,
  /** openai: history budget in estimated tokens (4 characters per token). */
  maxPromptTokens: 3072,
};

/** Worker threads for native kernels: the number of cores, overridable with DTLNS_THREADS or --threads. */
export function defaultThreads(): number {
  const env = Number(process.env.DTLNS_THREADS);
  if (Number.isInteger(env) && env > 0) return env;
  return Math.max(1, availableParallelism());
}

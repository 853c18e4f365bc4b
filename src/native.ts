/**
 * The only module that loads the C++ addon (dtlns_native.node) and the full
 * type of what it exports. Every other module imports `native` from here.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { samplerDefaults, type OptimizerName } from './defaults.js';
import type { SamplerFieldValues, SamplerName } from './sampling/catalogue.js';

/** Typed arrays that may be pinned and read by a kernel without a copy. */
export interface TopKResult {
  /** nQuery x k item indices, row-major; 0xFFFFFFFF pads rows with fewer than k unmasked items. */
  items: Uint32Array;
  /** nQuery x k scores, -Infinity on padding. */
  scores: Float32Array;
}

export interface MaskedTopKOptions {
  userEmb: Float32Array;
  itemEmb: Float32Array;
  dim: number;
  users: Uint32Array;
  k: number;
  threads: number;
  maskIndptr?: Uint32Array;
  maskIndices?: Uint32Array;
}

/** Index trees (native/binding/trees.cpp). */
export interface BuildBalancedTreeOptions {
  /** n x dim, row-major. */
  points: Float32Array;
  n: number;
  dim: number;
  branching: number;
  leafSize: number;
  maxIter: number;
  /** k-means++ runs per node, the lowest inertia kept (default 1). */
  nInit?: number;
  /** Lloyd stops when the squared centroid shift <= tolerance x mean variance (default 1e-4). */
  tolerance?: number;
  seed: number;
  threads: number;
}

export interface NativeTreeNodes {
  count: number;
  /** Per node in breadth-first order; node 0 is the root (parent -1, childIndex -1). */
  parent: Int32Array;
  depth: Int32Array;
  childIndex: Int32Array;
  /** First child id (children are consecutive), -1 for a leaf. */
  firstChild: Int32Array;
  childCount: Int32Array;
  size: Int32Array;
  /** Lloyd iterations (summed over the nInit runs) and rebalancing moves at each internal node. */
  iterations: Int32Array;
  moved: Int32Array;
  /** count x dim: the mean of each node's points. */
  centroids: Float32Array;
}

export interface NativeBalancedTree {
  maxDepth: number;
  /** n x maxDepth child indices, -1 padded. */
  paths: Int32Array;
  lengths: Int32Array;
  /** Leaf node of each item. */
  leaf: Int32Array;
  nodes: NativeTreeNodes;
}

export interface JaccardGraphOptions {
  /** A users x items CSR with strictly ascending columns per row. */
  indptr: Uint32Array;
  indices: Uint32Array;
  nItems: number;
  /** Keep each item's topK neighbours, symmetrised by union; 0 keeps all. */
  topK?: number;
  threads: number;
}

export interface SparseGraphArrays {
  indptr: Uint32Array;
  indices: Uint32Array;
  values: Float32Array;
}

export interface SpectralEmbeddingOptions extends SparseGraphArrays {
  dims: number;
  blockSize?: number;
  basisSize?: number;
  maxRestarts?: number;
  tolerance?: number;
  seed: number;
  threads: number;
}

export interface NativeSpectralResult {
  /** n x dims, row-major. */
  features: Float32Array;
  eigenvalues: Float64Array;
  residuals: Float64Array;
  restarts: number;
  products: number;
  converged: boolean;
  dense: boolean;
}

export interface PackedPathArrays {
  /** nItems x maxDepth, -1 padded. */
  paths: Int32Array;
  lengths: Int32Array;
  maxDepth: number;
}

export interface PrefixPairsOptions extends PackedPathArrays {
  a: Uint32Array;
  b: Uint32Array;
  threads: number;
  /** Where to write the similarities (a.length elements); a new array when absent. */
  out?: Float32Array;
}

export interface PrefixOneToManyOptions extends PackedPathArrays {
  item: number;
  others: Uint32Array;
  threads: number;
  out?: Float32Array;
}

/**
 * Training kernels (native/binding/train.cpp). The model arrays are owned by
 * the caller and updated in place: their new values are in place when the
 * promise settles (resolved, or rejected with ModelFitError: then they hold
 * the state at the failure). Do not read or write them while a call runs.
 * Semantics: native/kernels/train.hpp.
 */
export interface ModelState {
  nUsers: number;
  nItems: number;
  dim: number;
  /** Layer-0 parameters, nUsers x dim and nItems x dim, row-major. */
  userEmb: Float32Array;
  itemEmb: Float32Array;
  /** Adam moments, same shapes; not read (may be empty) with optimizer 'sgd'. */
  userM: Float32Array;
  userV: Float32Array;
  itemM: Float32Array;
  itemV: Float32Array;
  /** Adam steps taken so far (bias correction uses t = step + 1, ...). */
  step: number;
}

export type TrainModel = 'mf' | 'lightgcn';
/**
 * 'adam': torch.optim.Adam, dense (every row moves every step). 'lazy-adam'
 * (like SparseAdam) and 'sgd' update only rows with a nonzero gradient; with
 * MF (or 0 layers) they run the Hogwild path, one update per sample.
 */
export type TrainOptimizer = OptimizerName;

/** Negative sampler names and fields: declared in src/sampling/catalogue.ts. */
export type { SamplerName } from './sampling/catalogue.js';
export type PositiveOrder = NonNullable<SamplerFieldValues['positives']>;

/**
 * How negatives are drawn and chosen; every field optional, each documented with its default
 * and range in src/sampling/catalogue.ts (the binding reads them by name). Path codes are read
 * by the samplers whose readsPaths capability is set (dtlns).
 */
export interface SamplerFields extends SamplerFieldValues {
  sampler?: SamplerName;
  /** dtlns: nItems x depth path codes (-1 padded) and per-item lengths, per tree. */
  pathsCo?: Int32Array;
  pathsCoLengths?: Int32Array;
  pathsSe?: Int32Array;
  pathsSeLengths?: Int32Array;
}

/**
 * Explicit random draws of n positives: `neg` (n x k) for rns / pop; for dns, mixgcf
 * and dtlns `candidates` (n x k x negs, none equal to the sample's positive), `alphas`
 * (n x k x (layers + 1) mixing weights in [0, 1], mixgcf / dtlns) and `picks` (n x k
 * ranks below dnsTopK, dns with dnsTopK > 1).
 */
export interface NegativeDrawArrays {
  neg?: Uint32Array;
  candidates?: Uint32Array;
  alphas?: Float32Array;
  picks?: Uint32Array;
}

export interface TrainHyperparameters extends SamplerFields {
  model: TrainModel;
  /** 0..4; ignored for 'mf'; 'lightgcn' with 0 layers is MF. */
  layers: number;
  /** users x items CSR of positives, rows strictly ascending. */
  trainIndptr: Uint32Array;
  trainIndices: Uint32Array;
  optimizer: TrainOptimizer;
  lr: number;
  /** Required, as every hyperparameter: the defaults are trainDefaults' (0.9, 0.999, 1e-8, PyTorch's). */
  beta1: number;
  beta2: number;
  eps: number;
  /** L2 weight on the batch's layer-0 rows (LightGCN-PyTorch's weight_decay). */
  l2: number;
  threads: number;
  /**
   * 'adam' on MF (or 0 layers): true (default) updates only the rows with a
   * gradient each step and brings every other row up in closed form when it is
   * next read and before the call returns (same values to float rounding,
   * O(batch) per step); false moves every row at every step. Betas for which
   * the closed form would be slow (beta2 well below 0.999) always take the
   * every-row path.
   */
  deferAdam?: boolean;
}

/**
 * How labelled false negatives enter an epoch (src/labels/use.ts). `nonNegatives*`: a users x
 * items CSR holding every positive and the items never to draw as a negative or hard-negative
 * candidate (default: the positives). `positiveWeights`: each positive's weight in the loss,
 * aligned with trainIndices, finite and >= 0 (default: all 1).
 */
export interface LabelUseArrays {
  nonNegativesIndptr?: Uint32Array;
  nonNegativesIndices?: Uint32Array;
  positiveWeights?: Float32Array;
}

export interface TrainEpochOptions extends ModelState, TrainHyperparameters, LabelUseArrays {
  batch: number;
  /** Draws the permutation and the negatives: pass a different seed each epoch. */
  seed: number;
}

export interface TrainStepOptions extends ModelState, TrainHyperparameters, NegativeDrawArrays {
  /** One batch of explicit positives, equal lengths; their negatives or candidates never equal pos[k]. */
  users: Uint32Array;
  pos: Uint32Array;
  /** Each positive's loss weight, finite and >= 0 (default 1); a weighted step takes the mini-batch path. */
  weights?: Float32Array;
}

export interface MineNegativesOptions extends SamplerFields, NegativeDrawArrays, PropagateOptions {
  /** 'dns', 'mixgcf' or 'dtlns'. */
  sampler: SamplerName;
  users: Uint32Array;
  pos: Uint32Array;
  candidates: Uint32Array;
}

/** The negatives chosen for n positives, k each, L = effective layers. */
export interface MinedNegatives {
  /** n x k x (L+1): index of the chosen candidate within its group of negs (dns: the same per layer). */
  choice: Uint32Array;
  /** n x k x (L+1): the chosen item. */
  items: Uint32Array;
  /** n x k x dim: the negative's final embedding (mean over layers of its mixed rows). */
  negatives: Float32Array;
  /** n x k x (L+1) x dim: its per-layer rows (mixgcf / dtlns: alpha e_i + (1 - alpha) e_c). */
  layerRows: Float32Array;
}

/** neg holds k negatives per positive for 'rns' / 'pop', and the k x negs hard-negative candidates for the others. */
export interface SampleNegativesOptions
  extends SampleUniformOptions, SamplerFields, Pick<LabelUseArrays, 'nonNegativesIndptr' | 'nonNegativesIndices'> {
  sampler: SamplerName;
}

export interface TrainStats {
  /** bprLoss + regLoss: means over steps of each batch's mean. */
  loss: number;
  bprLoss: number;
  regLoss: number;
  samples: number;
  /** Positives whose user has every item as a positive (no negative exists). */
  skipped: number;
  /** Optimizer steps taken (non-empty batches). */
  steps: number;
  /** Adam step count after the call: store it back into ModelState.step. */
  step: number;
  seconds: number;
}

export interface PropagateOptions {
  model: TrainModel;
  layers: number;
  nUsers: number;
  nItems: number;
  dim: number;
  userEmb: Float32Array;
  itemEmb: Float32Array;
  trainIndptr: Uint32Array;
  trainIndices: Uint32Array;
  threads: number;
}

/** Final embeddings (mean over layers 0..L); fresh arrays. */
export interface FinalEmbeddings {
  users: Float32Array;
  items: Float32Array;
}

export interface SampleUniformOptions {
  trainIndptr: Uint32Array;
  trainIndices: Uint32Array;
  nItems: number;
  seed: number;
  batch: number;
  threads: number;
}

/** An epoch's triples in training order, skipped positives left out. */
export interface SampledTriples {
  users: Uint32Array;
  pos: Uint32Array;
  neg: Uint32Array;
  skipped: number;
}

/** What dtlns_native.node exports, typed by hand. */
export interface NativeBinding {
  abiVersion: number;
  maskedTopK(options: MaskedTopKOptions): Promise<TopKResult>;
  /** One epoch; on NaN/Inf rejects with an Error whose `code` is 'ModelFitError'. */
  trainEpoch(options: TrainEpochOptions): Promise<TrainStats>;
  /** One optimizer step on explicit triples (tests, bench). */
  trainStep(options: TrainStepOptions): Promise<TrainStats>;
  propagate(options: PropagateOptions): Promise<FinalEmbeddings>;
  /** The triples trainEpoch draws for this seed and batch (any thread count). */
  sampleUniform(options: SampleUniformOptions): Promise<SampledTriples>;
  /** The rns / pop samples trainEpoch draws (neg holds k per positive). */
  sampleNegatives(options: SampleNegativesOptions): Promise<SampledTriples>;
  /** The choice of dns / mixgcf / dtlns among explicit candidates (tests, bench). */
  mineNegatives(options: MineNegativesOptions): Promise<MinedNegatives>;
  buildBalancedTree(options: BuildBalancedTreeOptions): Promise<NativeBalancedTree>;
  jaccardGraph(options: JaccardGraphOptions): Promise<SparseGraphArrays>;
  spectralEmbedding(options: SpectralEmbeddingOptions): Promise<NativeSpectralResult>;
  prefixSimilarityPairs(options: PrefixPairsOptions): Promise<Float32Array>;
  prefixSimilarityOneToMany(options: PrefixOneToManyOptions): Promise<Float32Array>;
}

const here = dirname(fileURLToPath(import.meta.url));
/** The package root: this file is dist/src/native.js. */
export const packageRoot = resolve(here, '..', '..');

function candidatePaths(): string[] {
  const paths: string[] = [];
  if (process.env.DTLNS_NATIVE_ADDON) paths.push(resolve(process.env.DTLNS_NATIVE_ADDON));
  paths.push(join(packageRoot, 'build', 'Release', 'dtlns_native.node'));
  paths.push(join(packageRoot, 'build', 'Debug', 'dtlns_native.node'));
  return paths;
}

function loadAddon(): { binding: NativeBinding; path: string } {
  // OpenMP threads that spin while waiting steal the core from everything else on a
  // small machine (2-thread kernels ran 6x slower than 1 under load); libgomp reads this once, at load.
  process.env.OMP_WAIT_POLICY ??= 'passive';
  const require = createRequire(import.meta.url);
  const failures: string[] = [];
  for (const path of candidatePaths()) {
    if (!existsSync(path)) {
      failures.push(`  ${path}: not found`);
      continue;
    }
    try {
      return { binding: require(path) as NativeBinding, path };
    } catch (error) {
      failures.push(`  ${path}: ${(error as Error).message}`);
    }
  }
  throw new Error(
    'Could not load the dtlns-native addon. Build it with `npm run build:native` ' +
      '(cmake and a C++17 compiler are needed). Paths tried:\n' + failures.join('\n'),
  );
}

const loaded = loadAddon();
const addon = loaded.binding;
/** The file the addon was loaded from (DTLNS_NATIVE_ADDON, else build/Release or build/Debug). */
export const addonPath = loaded.path;

/**
 * The options with every absent sampler field taken from samplerDefaults: the binding
 * has no defaults of its own, so src/defaults.ts is their one declaration.
 */
function withSamplerDefaults<T extends object>(options: T): T {
  // Anything but an options object goes through as it came, for the binding to refuse by name.
  if (typeof options !== 'object' || options === null || Array.isArray(options)) return options;
  const filled = { ...options } as Record<string, unknown>;
  for (const [key, value] of Object.entries(samplerDefaults)) if (filled[key] === undefined) filled[key] = value;
  return filled as unknown as T;
}

export const native: NativeBinding = {
  ...addon,
  trainEpoch: (options) => addon.trainEpoch(withSamplerDefaults(options)),
  trainStep: (options) => addon.trainStep(withSamplerDefaults(options)),
  sampleNegatives: (options) => addon.sampleNegatives(withSamplerDefaults(options)),
  mineNegatives: (options) => addon.mineNegatives(withSamplerDefaults(options)),
};

/**
 * Awaits a native promise so that a rejection carries the caller's stack
 * (captured before the call) rather than an empty native one.
 */
export async function callNative<T>(call: () => Promise<T>): Promise<T> {
  const site = new Error();
  try {
    return await call();
  } catch (error) {
    if (error instanceof Error && site.stack) {
      error.stack = `${error.name}: ${error.message}\n${site.stack.split('\n').slice(1).join('\n')}`;
    }
    throw error;
  }
}

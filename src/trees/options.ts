/**
 * Defaults and option checks of the index trees. The values follow the DTL-NS release
 * (encoding.py): branching 4, leaves of at most 30 items, 32 spectral dimensions.
 */
import { defaultThreads } from '../defaults.js';
import { expectBoolean, expectInteger, expectNumber, expectOneOf, expectOptions } from '../data/validate.js';

export const treeDefaults = {
  /** Children per internal node. */
  branching: 4,
  /** A node with at most this many items is a leaf. */
  leafSize: 30,
  /** Lloyd iterations per node at most (scikit-learn's default). */
  maxIter: 300,
  /** k-means++ runs per node, the lowest inertia kept: 10, the scikit-learn default the authors' KMeans(n_clusters=4, random_state=42) ran with. */
  nInit: 10,
  /** Lloyd stops when the squared centroid shift <= tolerance x the mean per-dimension variance (scikit-learn's rule). */
  tolerance: 1e-4,
  /** Seed of k-means++ (node v draws from its own stream, so trees do not depend on the thread count). */
  seed: 2026,
} as const;

export const spectralDefaults = {
  /** Eigenvectors kept after the trivial one. */
  dims: 32,
  /** Keep each item's topK Jaccard neighbours (symmetrised by union); 0 keeps every co-occurring pair, as the authors do. */
  topK: 0,
  /** Krylov block size: eigenvalues repeated up to this many times are all found. */
  blockSize: 8,
  /** Basis vectors before a thick restart; 0 picks max(3 dims, dims + 5 blockSize). */
  basisSize: 0,
  maxRestarts: 300,
  /** Converged when every kept eigenpair has ||N v - lambda v|| <= tolerance. */
  tolerance: 1e-5,
  /**
   * 'none': unit eigenvectors as features, as the authors do. 'eigenvalue': each eigenvector
   * times its eigenvalue (a diffusion-map step), so weak directions weigh less in k-means.
   */
  scaling: 'none' as SpectralScaling,
  /**
   * Scale each item's feature row to unit length (Ng, Jordan & Weiss): k-means then splits by
   * direction, not by the few items that dominate localised eigenvectors. Off, as the authors.
   */
  rowNormalize: false,
};

export const spectralScalings = ['none', 'eigenvalue'] as const;
export type SpectralScaling = (typeof spectralScalings)[number];

/** The seed and thread options every tree kernel takes. */
export const maxSeed = Number.MAX_SAFE_INTEGER;
export const maxThreads = 1024;

export interface TreeOptions {
  branching?: number;
  leafSize?: number;
  maxIter?: number;
  nInit?: number;
  tolerance?: number;
  seed?: number;
  threads?: number;
}

export type ResolvedTreeOptions = Required<TreeOptions>;

export function resolveTreeOptions(options: unknown, name = 'options'): ResolvedTreeOptions {
  const o = expectOptions<TreeOptions>(options, name);
  return {
    branching: expectInteger(o.branching ?? treeDefaults.branching, `${name}.branching`, 2, 65536),
    leafSize: expectInteger(o.leafSize ?? treeDefaults.leafSize, `${name}.leafSize`, 1, 0x7fffffff),
    maxIter: expectInteger(o.maxIter ?? treeDefaults.maxIter, `${name}.maxIter`, 1, 1 << 20),
    nInit: expectInteger(o.nInit ?? treeDefaults.nInit, `${name}.nInit`, 1, 65536),
    tolerance: expectNumber(o.tolerance ?? treeDefaults.tolerance, `${name}.tolerance`, 0),
    seed: expectInteger(o.seed ?? treeDefaults.seed, `${name}.seed`, 0, maxSeed),
    threads: resolveThreads(o.threads, `${name}.threads`),
  };
}

export function resolveThreads(value: unknown, name: string): number {
  return expectInteger(value ?? defaultThreads(), name, 1, maxThreads);
}

export interface SpectralOptions {
  dims?: number;
  topK?: number;
  blockSize?: number;
  basisSize?: number;
  maxRestarts?: number;
  tolerance?: number;
  scaling?: SpectralScaling;
  rowNormalize?: boolean;
  seed?: number;
  threads?: number;
}

export type ResolvedSpectralOptions = Required<SpectralOptions>;

export function resolveSpectralOptions(options: unknown, name = 'options'): ResolvedSpectralOptions {
  const o = expectOptions<SpectralOptions>(options, name);
  return {
    dims: expectInteger(o.dims ?? spectralDefaults.dims, `${name}.dims`, 1, 4096),
    topK: expectInteger(o.topK ?? spectralDefaults.topK, `${name}.topK`, 0, 0x7fffffff),
    blockSize: expectInteger(o.blockSize ?? spectralDefaults.blockSize, `${name}.blockSize`, 1, 256),
    basisSize: expectInteger(o.basisSize ?? spectralDefaults.basisSize, `${name}.basisSize`, 0, 65536),
    maxRestarts: expectInteger(o.maxRestarts ?? spectralDefaults.maxRestarts, `${name}.maxRestarts`, 0, 1 << 20),
    tolerance: expectNumber(o.tolerance ?? spectralDefaults.tolerance, `${name}.tolerance`, Number.MIN_VALUE),
    scaling: expectOneOf(o.scaling ?? spectralDefaults.scaling, `${name}.scaling`, spectralScalings),
    rowNormalize: expectBoolean(o.rowNormalize ?? spectralDefaults.rowNormalize, `${name}.rowNormalize`),
    seed: expectInteger(o.seed ?? treeDefaults.seed, `${name}.seed`, 0, maxSeed),
    threads: resolveThreads(o.threads, `${name}.threads`),
  };
}

/**
 * Structural item features (the input of the DTL-NS structural tree): the item-item Jaccard
 * co-occurrence graph of the training interactions, normalised N = D^-1/2 J D^-1/2, and its
 * leading eigenvectors after the trivial one D^1/2 1 (the smallest non-trivial eigenvectors of
 * the normalised Laplacian I - N), each signed so that its largest-magnitude entry is positive.
 */
import { callNative, native } from '../native.js';
import type { Csr } from '../data/types.js';
import { expectInteger } from '../data/validate.js';
import { resolveSpectralOptions, resolveThreads, type SpectralOptions } from './options.js';

/** A sparse square matrix in CSR. */
export interface SparseGraph {
  n: number;
  indptr: Uint32Array;
  indices: Uint32Array;
  values: Float32Array;
}

export interface SpectralEmbedding {
  n: number;
  dims: number;
  /** n x dims, row-major: row i is item i's feature vector. */
  features: Float32Array;
  /** Eigenvalues of N, descending (the trivial 1 excluded). */
  eigenvalues: Float64Array;
  /** ||N v - lambda v|| of each returned eigenvector. */
  residuals: Float64Array;
  converged: boolean;
  /** Thick restarts and matrix-vector products the eigensolver used. */
  restarts: number;
  products: number;
  /** True when the graph was small enough to be solved densely. */
  dense: boolean;
}

export interface StructuralFeatures extends SpectralEmbedding {
  /** Stored entries of the Jaccard graph (both triangles, no diagonal). */
  graphNnz: number;
  seconds: { jaccard: number; spectral: number };
}

/** Checks a Csr's shape (the kernels check its contents). */
export function expectCsr(value: unknown, name: string): Csr {
  const c = value as Csr;
  if (c === null || typeof c !== 'object' || !(c.indptr instanceof Uint32Array) || !(c.indices instanceof Uint32Array)) {
    throw new TypeError(`Expected a Csr {rows, cols, indptr: Uint32Array, indices: Uint32Array} for ${name} but received ${String(value)}`);
  }
  expectInteger(c.rows, `${name}.rows`, 0, 0x7fffffff);
  expectInteger(c.cols, `${name}.cols`, 1, 0x7fffffff);
  if (c.indptr.length !== c.rows + 1) {
    throw new RangeError(`Expected ${name}.indptr of length rows + 1 = ${c.rows + 1} but received length ${c.indptr.length}`);
  }
  return c;
}

function expectGraph(value: unknown, name: string): SparseGraph {
  const g = value as SparseGraph;
  if (g === null || typeof g !== 'object' || !(g.indptr instanceof Uint32Array) || !(g.indices instanceof Uint32Array) || !(g.values instanceof Float32Array)) {
    throw new TypeError(`Expected a graph {n, indptr: Uint32Array, indices: Uint32Array, values: Float32Array} for ${name} but received ${String(value)}`);
  }
  expectInteger(g.n, `${name}.n`, 2, 0x7fffffff);
  if (g.indptr.length !== g.n + 1) {
    throw new RangeError(`Expected ${name}.indptr of length n + 1 = ${g.n + 1} but received length ${g.indptr.length}`);
  }
  return g;
}

/**
 * J(i,j) = |U_i ∩ U_j| / |U_i ∪ U_j| over the users of `train` (users x items), for every pair of
 * distinct items that share a user. With options.topK > 0 each item keeps its topK neighbours
 * (largest J, then lower index) and the graph is symmetrised by union: (i,j) stays when either
 * item keeps the other. That bounds memory and time on large catalogues; 0 (default) keeps all.
 */
export async function jaccardGraph(train: Csr, options?: { topK?: number; threads?: number }): Promise<SparseGraph> {
  const csr = expectCsr(train, 'train');
  const topK = expectInteger(options?.topK ?? 0, 'options.topK', 0, 0x7fffffff);
  const threads = resolveThreads(options?.threads, 'options.threads');
  const g = await callNative(() =>
    native.jaccardGraph({ indptr: csr.indptr, indices: csr.indices.subarray(0, csr.indptr[csr.rows]), nItems: csr.cols, topK, threads }),
  );
  return { n: csr.cols, ...g };
}

/** The leading options.dims eigenvectors of D^-1/2 A D^-1/2 after the trivial one, for a symmetric non-negative A. */
export async function spectralEmbedding(graph: SparseGraph, options?: SpectralOptions): Promise<SpectralEmbedding> {
  const g = expectGraph(graph, 'graph');
  const o = resolveSpectralOptions(options);
  if (o.dims >= g.n) throw new RangeError(`Expected options.dims below the number of nodes (${g.n}) but received ${o.dims}`);
  const r = await callNative(() =>
    native.spectralEmbedding({
      indptr: g.indptr, indices: g.indices, values: g.values, dims: o.dims, blockSize: o.blockSize, basisSize: o.basisSize,
      maxRestarts: o.maxRestarts, tolerance: o.tolerance, seed: o.seed, threads: o.threads,
    }),
  );
  return { n: g.n, dims: o.dims, ...r };
}

/** Jaccard graph of `train`, then its spectral embedding (scaled and row-normalised per the options): the structural tree's points. */
export async function structuralFeatures(train: Csr, options?: SpectralOptions): Promise<StructuralFeatures> {
  const o = resolveSpectralOptions(options);
  let started = performance.now();
  const graph = await jaccardGraph(train, { topK: o.topK, threads: o.threads });
  const jaccard = (performance.now() - started) / 1000;
  started = performance.now();
  const embedding = await spectralEmbedding(graph, o);
  const { features, eigenvalues, dims } = embedding;
  if (o.scaling === 'eigenvalue') for (let k = 0; k < features.length; k++) features[k] *= eigenvalues[k % dims];
  if (o.rowNormalize) {
    for (let start = 0; start < features.length; start += dims) {
      let norm = 0;
      for (let d = 0; d < dims; d++) norm += features[start + d] ** 2;
      if (norm > 0) for (let d = 0; d < dims; d++) features[start + d] /= Math.sqrt(norm);
    }
  }
  return { ...embedding, graphNnz: graph.indices.length, seconds: { jaccard, spectral: (performance.now() - started) / 1000 } };
}

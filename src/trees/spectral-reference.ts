/**
 * Plain TypeScript references for the structural features: the Jaccard graph by set
 * intersection, and a dense eigen-decomposition (cyclic Jacobi) of the deflated normalised
 * adjacency. O(n^3): for tests on small graphs.
 */
import type { Csr } from '../data/types.js';
import type { SparseGraph } from './spectral.js';

/** J(i,j) for distinct items sharing a user, rows ascending by column (as the kernel). */
export function jaccardGraphReference(train: Csr): SparseGraph {
  const users: number[][] = Array.from({ length: train.cols }, () => []);
  for (let u = 0; u < train.rows; u++) {
    for (let k = train.indptr[u]; k < train.indptr[u + 1]; k++) users[train.indices[k]].push(u);
  }
  const sets = users.map((list) => new Set(list));
  const indptr = new Uint32Array(train.cols + 1);
  const indices: number[] = [];
  const values: number[] = [];
  for (let i = 0; i < train.cols; i++) {
    const neighbours = new Set<number>();
    for (const u of users[i]) for (let k = train.indptr[u]; k < train.indptr[u + 1]; k++) neighbours.add(train.indices[k]);
    neighbours.delete(i);
    for (const j of [...neighbours].sort((a, b) => a - b)) {
      let shared = 0;
      for (const u of users[i]) if (sets[j].has(u)) shared++;
      indices.push(j);
      values.push(shared / (users[i].length + users[j].length - shared));
    }
    indptr[i + 1] = indices.length;
  }
  return { n: train.cols, indptr, indices: Uint32Array.from(indices), values: Float32Array.from(values) };
}

export interface SymmetricEigen {
  /** Descending. */
  values: Float64Array;
  /** n x n row-major; column j is the eigenvector of values[j]. */
  vectors: Float64Array;
}

/** All eigenpairs of a symmetric n x n row-major matrix by cyclic Jacobi rotations. */
export function symmetricEigen(matrix: Float64Array, n: number): SymmetricEigen {
  const a = Float64Array.from(matrix);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  let total = 0;
  for (const x of a) total += x * x;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q] ** 2;
    if (off <= 1e-30 * total || off === 0) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p], akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k], aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        a[p * n + q] = a[q * n + p] = 0;
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p], vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => a[y * n + y] - a[x * n + x] || x - y);
  const values = Float64Array.from(order, (j) => a[j * n + j]);
  const vectors = new Float64Array(n * n);
  for (let i = 0; i < n; i++) order.forEach((j, col) => (vectors[i * n + col] = v[i * n + j]));
  return { values, vectors };
}

/** N = D^-1/2 A D^-1/2 as a dense row-major matrix, and the trivial unit vector D^1/2 1 / ||.||. */
export function normalisedAdjacency(graph: SparseGraph): { matrix: Float64Array; trivial: Float64Array } {
  const n = graph.n;
  const degree = new Float64Array(n);
  for (let i = 0; i < n; i++) for (let k = graph.indptr[i]; k < graph.indptr[i + 1]; k++) degree[i] += graph.values[k];
  const inv = degree.map((d) => (d > 0 ? 1 / Math.sqrt(d) : 0));
  const matrix = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let k = graph.indptr[i]; k < graph.indptr[i + 1]; k++) {
      const j = graph.indices[k];
      matrix[i * n + j] += graph.values[k] * inv[i] * inv[j];
    }
  }
  const norm = Math.sqrt(degree.reduce((s, d) => s + d, 0));
  const trivial = degree.map((d) => (norm > 0 ? Math.sqrt(d) / norm : 0));
  return { matrix, trivial };
}

/** The leading `dims` eigenpairs of N restricted to the complement of the trivial vector, densely. */
export function spectralEmbeddingReference(graph: SparseGraph, dims: number): { eigenvalues: Float64Array; vectors: Float64Array } {
  const n = graph.n;
  const { matrix, trivial } = normalisedAdjacency(graph);
  // (I - t t^T) N (I - t t^T) - 3 t t^T: the trivial direction sinks below every other eigenvalue.
  const nt = new Float64Array(n);
  let q = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) nt[i] += matrix[i * n + j] * trivial[j];
    q += trivial[i] * nt[i];
  }
  const deflated = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      deflated[i * n + j] = matrix[i * n + j] - trivial[i] * nt[j] - nt[i] * trivial[j] + (q - 3) * trivial[i] * trivial[j];
    }
  }
  const { values, vectors } = symmetricEigen(deflated, n);
  const out = new Float64Array(n * dims);
  for (let i = 0; i < n; i++) for (let j = 0; j < dims; j++) out[i * dims + j] = vectors[i * n + j];
  return { eigenvalues: values.slice(0, dims), vectors: out };
}

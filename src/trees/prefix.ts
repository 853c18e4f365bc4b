/** Prefix similarity of path codes: sim(i,j) = LCP(path_i, path_j) / min(len_i, len_j); 0 when either path is empty. */
import { callNative, native } from '../native.js';
import { expectInteger, expectUint32Array } from '../data/validate.js';
import { expectPathCodes, type PathCodes } from './path-codes.js';
import { resolveThreads } from './options.js';

/** One pair, in plain TypeScript (the reference for the kernels). Float32, as the kernels return. */
export function prefixSimilarityReference(codes: PathCodes, i: number, j: number): number {
  const shorter = Math.min(codes.lengths[i], codes.lengths[j]);
  if (shorter <= 0) return 0;
  const a = i * codes.maxDepth, b = j * codes.maxDepth;
  let common = 0;
  while (common < shorter && codes.paths[a + common] === codes.paths[b + common]) common++;
  return Math.fround(common / shorter);
}

/** sim(a[t], b[t]) for every t, on `threads` threads. */
export async function prefixSimilarity(codes: PathCodes, a: Uint32Array, b: Uint32Array, options?: { threads?: number }): Promise<Float32Array> {
  const c = expectPathCodes(codes, 'codes');
  expectUint32Array(a, 'a');
  expectUint32Array(b, 'b', a.length);
  const threads = resolveThreads(options?.threads, 'options.threads');
  return callNative(() => native.prefixSimilarityPairs({ paths: c.paths, lengths: c.lengths, maxDepth: c.maxDepth, a, b, threads }));
}

/** sim(item, others[t]) for every t. */
export async function prefixSimilarityOneToMany(codes: PathCodes, item: number, others: Uint32Array, options?: { threads?: number }): Promise<Float32Array> {
  const c = expectPathCodes(codes, 'codes');
  expectInteger(item, 'item', 0, c.nItems - 1);
  expectUint32Array(others, 'others');
  const threads = resolveThreads(options?.threads, 'options.threads');
  return callNative(() => native.prefixSimilarityOneToMany({ paths: c.paths, lengths: c.lengths, maxDepth: c.maxDepth, item, others, threads }));
}

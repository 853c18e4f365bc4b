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

/** Options of the prefix-similarity calls. */
export interface PrefixSimilarityOptions {
  threads?: number;
  /**
   * Where to write the similarities, one per pair: a Float32Array of the pairs' length that
   * shares no memory with the inputs. A caller computing many batches reuses one and saves the
   * allocation (about an eighth of a call of 1M pairs). A new array when absent.
   */
  out?: Float32Array;
}

/** `options.out`, checked: the right length, and not one of the arrays the kernel reads. */
function expectOut(out: unknown, length: number, inputs: Record<string, ArrayBufferView>): Float32Array | undefined {
  if (out === undefined) return undefined;
  if (!(out instanceof Float32Array)) throw new TypeError(`Expected a Float32Array for options.out but received ${out === null ? 'null' : typeof out}`);
  if (out.length !== length) throw new RangeError(`Expected a Float32Array of length ${length} for options.out but received length ${out.length}`);
  for (const [name, input] of Object.entries(inputs)) {
    const overlaps = input.buffer === out.buffer &&
      input.byteOffset < out.byteOffset + out.byteLength && out.byteOffset < input.byteOffset + input.byteLength;
    if (overlaps) throw new RangeError(`Expected options.out to share no memory with ${name}, but they overlap`);
  }
  return out;
}

/** sim(a[t], b[t]) for every t, on `threads` threads; into `options.out` when given. */
export async function prefixSimilarity(codes: PathCodes, a: Uint32Array, b: Uint32Array, options?: PrefixSimilarityOptions): Promise<Float32Array> {
  const c = expectPathCodes(codes, 'codes');
  expectUint32Array(a, 'a');
  expectUint32Array(b, 'b', a.length);
  const threads = resolveThreads(options?.threads, 'options.threads');
  const out = expectOut(options?.out, a.length, { a, b, 'codes.paths': c.paths });
  return callNative(() => native.prefixSimilarityPairs({ paths: c.paths, lengths: c.lengths, maxDepth: c.maxDepth, a, b, threads, ...(out ? { out } : {}) }));
}

/** sim(item, others[t]) for every t; into `options.out` when given. */
export async function prefixSimilarityOneToMany(codes: PathCodes, item: number, others: Uint32Array, options?: PrefixSimilarityOptions): Promise<Float32Array> {
  const c = expectPathCodes(codes, 'codes');
  expectInteger(item, 'item', 0, c.nItems - 1);
  expectUint32Array(others, 'others');
  const threads = resolveThreads(options?.threads, 'options.threads');
  const out = expectOut(options?.out, others.length, { others, 'codes.paths': c.paths });
  return callNative(() => native.prefixSimilarityOneToMany({ paths: c.paths, lengths: c.lengths, maxDepth: c.maxDepth, item, others, threads, ...(out ? { out } : {}) }));
}

/** Masked top-K over all items, natively, in bounded chunks of users. */
import { callNative, native } from '../native.js';
import type { Csr } from '../data/types.js';
import { defaultThreads, evalDefaults } from '../defaults.js';

export interface TopKOptions {
  /** Items to exclude per user (usually the training interactions). */
  mask?: Csr;
  threads?: number;
  chunkUsers?: number;
}

function checkMatrix(name: string, value: unknown, dim: number): number {
  if (!(value instanceof Float32Array)) throw new TypeError(`Expected Float32Array for ${name} but received ${describe(value)}`);
  if (value.length % dim !== 0) throw new RangeError(`Expected ${name} length to be a multiple of dim ${dim} but received ${value.length}`);
  return value.length / dim;
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (ArrayBuffer.isView(value)) return value.constructor.name;
  if (Array.isArray(value)) return 'Array';
  return typeof value === 'number' ? `number ${value}` : typeof value;
}

/**
 * The k best unmasked items of each listed user by inner product, ranked by
 * score then by lower item index. Returns users.length x k items and scores.
 */
export async function maskedTopK(
  userEmb: Float32Array, itemEmb: Float32Array, dim: number, users: Uint32Array, k: number, options: TopKOptions = {},
): Promise<{ items: Uint32Array; scores: Float32Array }> {
  if (!Number.isInteger(dim) || dim < 1) throw new RangeError(`Expected a positive integer for dim but received ${dim}`);
  const nUsers = checkMatrix('userEmb', userEmb, dim);
  const nItems = checkMatrix('itemEmb', itemEmb, dim);
  if (!(users instanceof Uint32Array)) throw new TypeError(`Expected Uint32Array for users but received ${describe(users)}`);
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`Expected a positive integer for k but received ${k}`);
  const mask = options.mask;
  if (mask && (mask.rows !== nUsers || mask.cols !== nItems)) {
    throw new RangeError(`Expected mask of shape ${nUsers} x ${nItems} but received ${mask.rows} x ${mask.cols}`);
  }
  const threads = options.threads ?? defaultThreads();
  const chunk = options.chunkUsers ?? evalDefaults.chunkUsers;
  if (!Number.isInteger(chunk) || chunk < 1) throw new RangeError(`Expected a positive integer for chunkUsers but received ${chunk}`);
  const items = new Uint32Array(users.length * k);
  const scores = new Float32Array(users.length * k);
  for (let start = 0; start < users.length; start += chunk) {
    const part = users.subarray(start, Math.min(users.length, start + chunk));
    const result = await callNative(() =>
      native.maskedTopK({
        userEmb, itemEmb, dim, users: part, k, threads,
        ...(mask ? { maskIndptr: mask.indptr, maskIndices: mask.indices } : {}),
      }),
    );
    items.set(result.items, start * k);
    scores.set(result.scores, start * k);
  }
  return { items, scores };
}

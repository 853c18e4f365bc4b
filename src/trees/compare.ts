/**
 * How two trees over the same items agree as similarity functions (for example ours against
 * the DTL-NS authors' path files): Spearman correlation of the prefix similarity over random
 * item pairs and over pairs of items that one user trained on.
 */
import type { Csr } from '../data/types.js';
import { Xoshiro128ss } from '../data/rng.js';
import { expectInteger } from '../data/validate.js';
import { expectPathCodes, type PathCodes } from './path-codes.js';
import { prefixSimilarity } from './prefix.js';
import { expectCsr } from './spectral.js';

/** Ranks 1..n with ties at their average rank. */
function ranks(values: ArrayLike<number>): Float64Array {
  const order = Array.from({ length: values.length }, (_, i) => i).sort((x, y) => values[x] - values[y]);
  const out = new Float64Array(values.length);
  for (let start = 0; start < order.length; ) {
    let end = start + 1;
    while (end < order.length && values[order[end]] === values[order[start]]) end++;
    const rank = (start + end + 1) / 2;
    for (let k = start; k < end; k++) out[order[k]] = rank;
    start = end;
  }
  return out;
}

/** Spearman's rank correlation (Pearson on average ranks); NaN when either side is constant. */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`Expected b of the same length as a (${a.length}) but received length ${b.length}`);
  const ra = ranks(a), rb = ranks(b);
  const n = a.length;
  const mean = (n + 1) / 2;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) {
    const x = ra[i] - mean, y = rb[i] - mean;
    sab += x * y;
    saa += x * x;
    sbb += y * y;
  }
  return sab / Math.sqrt(saa * sbb);
}

export interface TreeAgreement {
  randomPairs: { pairs: number; spearman: number; meanSimA: number; meanSimB: number };
  userPairs?: { pairs: number; spearman: number; meanSimA: number; meanSimB: number };
}

export interface CompareOptions {
  /** Random item pairs (default 100,000). */
  pairs?: number;
  /** Users x items training data: adds pairs of items a user trained on. */
  train?: Csr;
  /** At most this many user pairs in all (default 2,000,000), users in order. */
  maxUserPairs?: number;
  seed?: number;
  threads?: number;
}

async function agreement(a: PathCodes, b: PathCodes, left: Uint32Array, right: Uint32Array, threads: number | undefined) {
  const options = threads === undefined ? {} : { threads };
  const [simA, simB] = [await prefixSimilarity(a, left, right, options), await prefixSimilarity(b, left, right, options)];
  const mean = (v: Float32Array) => v.reduce((s, x) => s + x, 0) / Math.max(1, v.length);
  return { pairs: left.length, spearman: spearman(simA, simB), meanSimA: mean(simA), meanSimB: mean(simB) };
}

export async function compareTrees(a: PathCodes, b: PathCodes, options: CompareOptions = {}): Promise<TreeAgreement> {
  expectPathCodes(a, 'a');
  expectPathCodes(b, 'b');
  if (a.nItems !== b.nItems) throw new RangeError(`Expected b over the same ${a.nItems} items as a but received ${b.nItems}`);
  if (a.nItems < 2) throw new RangeError(`Expected at least 2 items in a but received ${a.nItems}`);
  const pairs = expectInteger(options.pairs ?? 100_000, 'options.pairs', 1);
  const maxUserPairs = expectInteger(options.maxUserPairs ?? 2_000_000, 'options.maxUserPairs', 1);
  const rng = new Xoshiro128ss(expectInteger(options.seed ?? 2026, 'options.seed', 0, Number.MAX_SAFE_INTEGER));
  const left = new Uint32Array(pairs), right = new Uint32Array(pairs);
  for (let t = 0; t < pairs; t++) {
    left[t] = rng.below(a.nItems);
    do right[t] = rng.below(a.nItems);
    while (right[t] === left[t]);
  }
  const result: TreeAgreement = { randomPairs: await agreement(a, b, left, right, options.threads) };
  if (options.train !== undefined) {
    const train = expectCsr(options.train, 'options.train');
    if (train.cols !== a.nItems) throw new RangeError(`Expected options.train over ${a.nItems} items but received ${train.cols} columns`);
    const ul: number[] = [], ur: number[] = [];
    for (let u = 0; u < train.rows && ul.length < maxUserPairs; u++) {
      for (let p = train.indptr[u]; p < train.indptr[u + 1] && ul.length < maxUserPairs; p++) {
        for (let q = p + 1; q < train.indptr[u + 1] && ul.length < maxUserPairs; q++) {
          ul.push(train.indices[p]);
          ur.push(train.indices[q]);
        }
      }
    }
    result.userPairs = await agreement(a, b, Uint32Array.from(ul), Uint32Array.from(ur), options.threads);
  }
  return result;
}

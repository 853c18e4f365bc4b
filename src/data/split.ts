/**
 * Making a train/valid/test split from one interaction list (a folder's own split is kept as is
 * by load.ts). Every mode works per user on the user's DISTINCT items in chronological order:
 * by timestamp when there is one, then by position in the file; a repeated (user, item) pair
 * keeps its first occurrence and the later ones are dropped and counted. A user with fewer than
 * 3 distinct items puts them all in train.
 *
 * - `random`: per user, n_test = max(1, round_half_up(n * testRatio)) items and likewise n_valid
 *   (0 when the ratio is 0), at least one left for train, picked by a Fisher-Yates shuffle of the
 *   user's positions. Users are visited in ascending original id with ONE SplitMix64 stream
 *   seeded with `seed`, and bounded numbers are drawn by rejection: the protocol of
 *   ../shared/datasets/tools/split.py, so the default 0.1/0.1 split with seed 2026 reproduces
 *   its files exactly.
 * - `leave-last-out`: the last item goes to test and the one before to valid (none when
 *   validRatio is 0).
 * - `temporal`: one global cut by timestamp quantiles: timestamps below the (1 - valid - test)
 *   quantile go to train, below the (1 - test) quantile to valid, the rest to test (ties go to
 *   the later part). Needs timestamps.
 */
import { SplitMix64 } from './rng.js';
import { expectInteger, expectNumber, expectOneOf, expectOptions, expectUint32Array } from './validate.js';

export const splitModes = ['random', 'leave-last-out', 'temporal'] as const;
export type SplitMode = (typeof splitModes)[number];

export interface SplitOptions {
  /** Default 'random'. */
  mode?: SplitMode;
  /** Fraction of each user's items for valid (default 0.1). */
  validRatio?: number;
  /** Fraction of each user's items for test (default 0.1). */
  testRatio?: number;
  /** Seed of the random split (default 2026). */
  seed?: number;
}

export const splitDefaults = { mode: 'random' as SplitMode, validRatio: 0.1, testRatio: 0.1, seed: 2026 };

/** Where a record went. */
export const PART_TRAIN = 0;
export const PART_VALID = 1;
export const PART_TEST = 2;
export const PART_DUPLICATE = 3;

export interface SplitInput {
  nUsers: number;
  nItems: number;
  /** User and item index of each record (after id mapping). */
  users: Uint32Array;
  items: Uint32Array;
  timestamps?: Float64Array;
}

export interface SplitResult {
  /** PART_* of each record. */
  part: Uint8Array;
  /** Repeated (user, item) records, marked PART_DUPLICATE. */
  duplicates: number;
  train: number;
  valid: number;
  test: number;
}

/** (train, valid, test) counts for a user with n distinct items. */
export function splitCounts(n: number, validRatio: number, testRatio: number): [number, number, number] {
  if (n < 3) return [n, 0, 0];
  // The epsilon keeps n * ratio from rounding down just below x.5 in binary floating point.
  let nTest = testRatio > 0 ? Math.max(1, Math.floor(n * testRatio + 0.5 + 1e-9)) : 0;
  let nValid = validRatio > 0 ? Math.max(1, Math.floor(n * validRatio + 0.5 + 1e-9)) : 0;
  while (nTest + nValid > n - 1) {
    if (nValid >= nTest && nValid > 0) nValid--;
    else nTest--;
  }
  return [n - nValid - nTest, nValid, nTest];
}

export function resolveSplitOptions(options: unknown): Required<SplitOptions> {
  const opts = expectOptions<SplitOptions>(options, 'split');
  const mode = opts.mode === undefined ? splitDefaults.mode : expectOneOf(opts.mode, 'split.mode', splitModes);
  const validRatio = opts.validRatio === undefined ? splitDefaults.validRatio : expectNumber(opts.validRatio, 'split.validRatio', 0, 1);
  const testRatio = opts.testRatio === undefined ? splitDefaults.testRatio : expectNumber(opts.testRatio, 'split.testRatio', 0, 1);
  if (validRatio + testRatio >= 1) {
    throw new RangeError(`Expected split.validRatio + split.testRatio below 1 but received ${validRatio} + ${testRatio}`);
  }
  const seed = opts.seed === undefined ? splitDefaults.seed : expectInteger(opts.seed, 'split.seed', 0, Number.MAX_SAFE_INTEGER);
  return { mode, validRatio, testRatio, seed };
}

/** Assigns each record to train, valid or test (or marks it a duplicate). */
export function splitInteractions(input: SplitInput, options?: SplitOptions): SplitResult {
  const { mode, validRatio, testRatio, seed } = resolveSplitOptions(options);
  const nUsers = expectInteger(input.nUsers, 'input.nUsers');
  const nItems = expectInteger(input.nItems, 'input.nItems');
  const users = expectUint32Array(input.users, 'input.users');
  const items = expectUint32Array(input.items, 'input.items', users.length);
  const ts = input.timestamps;
  if (ts !== undefined && (!(ts instanceof Float64Array) || ts.length !== users.length)) {
    throw new TypeError(`Expected a Float64Array of length ${users.length} for input.timestamps`);
  }
  if (mode === 'temporal' && ts === undefined) throw new RangeError('Expected input.timestamps for the temporal split');
  const n = users.length;
  const start = new Uint32Array(nUsers + 1);
  for (let k = 0; k < n; k++) {
    if (users[k] >= nUsers) throw new RangeError(`Expected input.users values below nUsers = ${nUsers} but users[${k}] is ${users[k]}`);
    if (items[k] >= nItems) throw new RangeError(`Expected input.items values below nItems = ${nItems} but items[${k}] is ${items[k]}`);
    start[users[k] + 1]++;
  }
  for (let u = 0; u < nUsers; u++) start[u + 1] += start[u];
  // Records grouped by user, in file order (a stable counting sort)...
  const order = new Uint32Array(n);
  const next = start.slice(0, nUsers);
  for (let k = 0; k < n; k++) order[next[users[k]]++] = k;
  // ...then by time where timestamps exist.
  if (ts !== undefined) {
    for (let u = 0; u < nUsers; u++) {
      const seg = order.subarray(start[u], start[u + 1]);
      let sorted = true;
      for (let p = 1; p < seg.length && sorted; p++) sorted = ts[seg[p - 1]] <= ts[seg[p]];
      if (!sorted) seg.sort((a, b) => ts[a] - ts[b] || a - b);
    }
  }
  // Distinct items per user, first occurrence kept, compacted in place within each user's segment.
  const part = new Uint8Array(n);
  const distinctEnd = new Uint32Array(nUsers);
  const lastUser = new Int32Array(nItems).fill(-1);
  let duplicates = 0;
  for (let u = 0; u < nUsers; u++) {
    let w = start[u];
    for (let p = start[u], end = start[u + 1]; p < end; p++) {
      const r = order[p];
      if (lastUser[items[r]] === u) {
        part[r] = PART_DUPLICATE;
        duplicates++;
      } else {
        lastUser[items[r]] = u;
        order[w++] = r;
      }
    }
    distinctEnd[u] = w;
  }
  if (mode === 'random') splitRandom(order, start, distinctEnd, part, validRatio, testRatio, seed);
  else if (mode === 'leave-last-out') splitLeaveLastOut(order, start, distinctEnd, part, validRatio);
  else splitTemporal(order, start, distinctEnd, part, validRatio, testRatio, ts!);
  let valid = 0;
  let test = 0;
  for (let k = 0; k < n; k++) {
    if (part[k] === PART_VALID) valid++;
    else if (part[k] === PART_TEST) test++;
  }
  return { part, duplicates, train: n - duplicates - valid - test, valid, test };
}

function splitRandom(order: Uint32Array, start: Uint32Array, end: Uint32Array, part: Uint8Array, validRatio: number, testRatio: number, seed: number): void {
  const rng = new SplitMix64(seed);
  let perm = new Uint32Array(16);
  for (let u = 0; u < end.length; u++) {
    const s = start[u];
    const m = end[u] - s;
    const [, nValid, nTest] = splitCounts(m, validRatio, testRatio);
    if (nValid + nTest === 0) continue;
    if (perm.length < m) perm = new Uint32Array(Math.max(m, perm.length * 2));
    for (let i = 0; i < m; i++) perm[i] = i;
    for (let i = m - 1; i > 0; i--) {
      const j = rng.below(i + 1);
      const t = perm[i];
      perm[i] = perm[j];
      perm[j] = t;
    }
    for (let k = 0; k < nTest; k++) part[order[s + perm[k]]] = PART_TEST;
    for (let k = nTest; k < nTest + nValid; k++) part[order[s + perm[k]]] = PART_VALID;
  }
}

function splitLeaveLastOut(order: Uint32Array, start: Uint32Array, end: Uint32Array, part: Uint8Array, validRatio: number): void {
  for (let u = 0; u < end.length; u++) {
    if (end[u] - start[u] < 3) continue;
    part[order[end[u] - 1]] = PART_TEST;
    if (validRatio > 0) part[order[end[u] - 2]] = PART_VALID;
  }
}

function splitTemporal(order: Uint32Array, start: Uint32Array, end: Uint32Array, part: Uint8Array, validRatio: number, testRatio: number, ts: Float64Array): void {
  let count = 0;
  for (let u = 0; u < end.length; u++) count += end[u] - start[u];
  if (count === 0) return;
  const sorted = new Float64Array(count);
  let w = 0;
  for (let u = 0; u < end.length; u++) for (let p = start[u]; p < end[u]; p++) sorted[w++] = ts[order[p]];
  sorted.sort();
  const validCut = sorted[Math.min(count - 1, Math.floor(count * (1 - validRatio - testRatio)))];
  const testCut = sorted[Math.min(count - 1, Math.floor(count * (1 - testRatio)))];
  for (let u = 0; u < end.length; u++) {
    if (end[u] - start[u] < 3) continue;
    for (let p = start[u]; p < end[u]; p++) {
      const t = ts[order[p]];
      if (t >= testCut && testRatio > 0) part[order[p]] = PART_TEST;
      else if (t >= validCut && validRatio > 0) part[order[p]] = PART_VALID;
    }
  }
}

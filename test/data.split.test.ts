import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PART_DUPLICATE, PART_TEST, PART_TRAIN, PART_VALID, splitCounts, splitInteractions } from '../src/data/split.js';
import { SplitMix64, Xoshiro128ss } from '../src/data/rng.js';
import { buildIdIndex } from '../src/data/ids.js';

const MASK = (1n << 64n) - 1n;

/** SplitMix64 in BigInt, as ../shared/datasets/tools/split.py writes it. */
function referenceSplitMix(seed: bigint): () => bigint {
  let state = seed & MASK;
  return () => {
    state = (state + 0x9e3779b97f4a7c15n) & MASK;
    let z = state;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK;
    return z ^ (z >> 31n);
  };
}

test('SplitMix64 in 32-bit arithmetic matches the BigInt reference, bounded draws included', () => {
  for (const seed of [0, 1, 2026, 2 ** 53 - 1]) {
    const fast = new SplitMix64(seed);
    const ref = referenceSplitMix(BigInt(seed));
    for (let k = 0; k < 2000; k++) assert.equal(fast.nextBigInt(), ref());
  }
  const fast = new SplitMix64(7);
  const ref = referenceSplitMix(7n);
  for (const bound of [1, 2, 3, 10, 1000, 2 ** 21 - 1, 2 ** 21, 2 ** 31 + 11, 2 ** 32]) {
    const limit = (1n << 64n) - ((1n << 64n) % BigInt(bound));
    let r = ref();
    while (r >= limit) r = ref();
    assert.equal(fast.below(bound), Number(r % BigInt(bound)), `bound ${bound}`);
  }
  const x = new Xoshiro128ss(3);
  const y = new Xoshiro128ss(3);
  for (let k = 0; k < 100; k++) {
    const v = x.nextFloat();
    assert.equal(v, y.nextFloat());
    assert.ok(v >= 0 && v < 1);
  }
});

test('splitCounts follows round-half-up with at least one valid, one test and one train item', () => {
  assert.deepEqual(splitCounts(2, 0.1, 0.1), [2, 0, 0]);
  assert.deepEqual(splitCounts(3, 0.1, 0.1), [1, 1, 1]);
  assert.deepEqual(splitCounts(14, 0.1, 0.1), [12, 1, 1]);
  assert.deepEqual(splitCounts(15, 0.1, 0.1), [11, 2, 2]);
  assert.deepEqual(splitCounts(100, 0.1, 0.2), [70, 10, 20]);
  assert.deepEqual(splitCounts(10, 0, 0.2), [8, 0, 2]);
  assert.deepEqual(splitCounts(3, 0.45, 0.45), [1, 1, 1]);
  for (let n = 3; n < 200; n++) assert.equal(splitCounts(n, 0.1, 0.1)[1], Math.max(1, Math.floor((n + 5) / 10)));
});

/** u users with n_u items each (item ids 0..n_u-1), timestamps descending within a user. */
function events(counts: number[]): { nUsers: number; nItems: number; users: Uint32Array; items: Uint32Array; timestamps: Float64Array } {
  const users: number[] = [];
  const items: number[] = [];
  const ts: number[] = [];
  counts.forEach((n, u) => {
    for (let i = 0; i < n; i++) {
      users.push(u);
      items.push(i);
      ts.push(1000 * u + (n - i));
    }
  });
  return { nUsers: counts.length, nItems: Math.max(...counts), users: Uint32Array.from(users), items: Uint32Array.from(items), timestamps: Float64Array.from(ts) };
}

function partsOf(input: ReturnType<typeof events>, part: Uint8Array, u: number, which: number): number[] {
  const out: number[] = [];
  for (let k = 0; k < part.length; k++) if (input.users[k] === u && part[k] === which) out.push(input.items[k]);
  return out;
}

test('random split: per-user sizes, determinism per seed, a different seed differs, small users stay in train', () => {
  const input = events([2, 3, 10, 25, 40, 40, 40]);
  const a = splitInteractions(input, { mode: 'random', seed: 5 });
  const b = splitInteractions(input, { mode: 'random', seed: 5 });
  const c = splitInteractions(input, { mode: 'random', seed: 6 });
  assert.deepEqual(a.part, b.part);
  assert.notDeepEqual(a.part, c.part);
  assert.equal(a.duplicates, 0);
  [2, 3, 10, 25, 40, 40, 40].forEach((n, u) => {
    const [nTrain, nValid, nTest] = splitCounts(n, 0.1, 0.1);
    assert.equal(partsOf(input, a.part, u, PART_TRAIN).length, nTrain);
    assert.equal(partsOf(input, a.part, u, PART_VALID).length, nValid);
    assert.equal(partsOf(input, a.part, u, PART_TEST).length, nTest);
  });
  assert.equal(a.train + a.valid + a.test, input.users.length);
  const ratios = splitInteractions(input, { validRatio: 0, testRatio: 0.3, seed: 1 });
  assert.equal(ratios.valid, 0);
  assert.equal(partsOf(input, ratios.part, 4, PART_TEST).length, 12);
});

test('leave-last-out puts the latest item in test and the one before in valid', () => {
  const input = events([2, 3, 6]);
  // Timestamps run backwards within a user, so the latest is item 0 and the one before is item 1.
  const { part } = splitInteractions(input, { mode: 'leave-last-out' });
  assert.deepEqual(partsOf(input, part, 0, PART_TRAIN), [0, 1]);
  for (const u of [1, 2]) {
    assert.deepEqual(partsOf(input, part, u, PART_TEST), [0]);
    assert.deepEqual(partsOf(input, part, u, PART_VALID), [1]);
  }
  // Without timestamps the file order decides: the last line is the latest.
  const { timestamps: _, ...untimed } = input;
  const byOrder = splitInteractions(untimed, { mode: 'leave-last-out', validRatio: 0 });
  assert.deepEqual(partsOf(input, byOrder.part, 2, PART_TEST), [5]);
  assert.deepEqual(partsOf(input, byOrder.part, 2, PART_VALID), []);
});

test('temporal split cuts globally at timestamp quantiles', () => {
  const n = 100;
  const users = new Uint32Array(n);
  const items = Uint32Array.from({ length: n }, (_, k) => k);
  const timestamps = Float64Array.from({ length: n }, (_, k) => (k * 37) % n);
  for (let k = 0; k < n; k++) users[k] = k % 4;
  const { part, train, valid, test: nTest } = splitInteractions({ nUsers: 4, nItems: n, users, items, timestamps }, { mode: 'temporal', validRatio: 0.1, testRatio: 0.2 });
  assert.deepEqual([train, valid, nTest], [70, 10, 20]);
  for (let k = 0; k < n; k++) {
    const expected = timestamps[k] >= 80 ? PART_TEST : timestamps[k] >= 70 ? PART_VALID : PART_TRAIN;
    assert.equal(part[k], expected);
  }
  assert.throws(() => splitInteractions({ nUsers: 4, nItems: n, users, items }, { mode: 'temporal' }), (e: Error) => e instanceof RangeError && /timestamps/.test(e.message));
});

test('repeated pairs keep their first (earliest) occurrence and are counted', () => {
  const input = { nUsers: 1, nItems: 5, users: Uint32Array.from([0, 0, 0, 0, 0, 0]), items: Uint32Array.from([1, 2, 1, 3, 4, 1]), timestamps: Float64Array.from([5, 1, 2, 3, 4, 6]) };
  const { part, duplicates } = splitInteractions(input, { mode: 'leave-last-out' });
  assert.equal(duplicates, 2);
  // Chronological: 2@1, 1@2, 3@3, 4@4, (1@5 dup), (1@6 dup).
  assert.deepEqual(Array.from(part), [PART_DUPLICATE, PART_TRAIN, PART_TRAIN, PART_VALID, PART_TEST, PART_DUPLICATE]);
});

test('ids map to contiguous indices in ascending order of original id', () => {
  for (const big of [false, true]) {
    const offset = big ? 4_000_000_000 : 0;
    const a = Uint32Array.from([50, 7, 50, 1000].map((v) => v + offset));
    const b = Uint32Array.from([7, 3].map((v) => v + offset));
    const index = buildIdIndex([a, b]);
    assert.deepEqual(Array.from(index.ids), [3, 7, 50, 1000].map((v) => v + offset));
    assert.deepEqual(Array.from(index.map(a)), [2, 1, 2, 3]);
    assert.deepEqual(Array.from(index.map(b)), [1, 0]);
  }
});

test('BAD CALL - split options and inputs name the argument', () => {
  const input = events([3]);
  assert.throws(() => splitInteractions(input, { mode: 'shuffle' as 'random' }), (e: Error) => e instanceof RangeError && /split\.mode/.test(e.message));
  assert.throws(() => splitInteractions(input, { validRatio: 0.6, testRatio: 0.5 }), (e: Error) => e instanceof RangeError && /validRatio \+ split\.testRatio/.test(e.message));
  assert.throws(() => splitInteractions(input, { seed: -1 }), (e: Error) => e instanceof RangeError && /split\.seed/.test(e.message));
  assert.throws(() => splitInteractions({ ...input, nUsers: 0 }), (e: Error) => e instanceof RangeError && /input\.users/.test(e.message));
  assert.throws(() => splitInteractions({ ...input, items: new Uint32Array(1) }), (e: Error) => e instanceof RangeError && /input\.items/.test(e.message));
});

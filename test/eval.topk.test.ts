import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maskedTopK } from '../src/eval/topk.js';
import { referenceMaskedTopK } from '../src/eval/topk-reference.js';
import { rankingMetrics } from '../src/eval/metrics.js';
import { native } from '../src/native.js';
import type { Csr } from '../src/data/types.js';
import { mulberry32 } from '../src/util/random.js';


function randomCsr(rows: number, cols: number, perRow: number, rand: () => number): Csr {
  const indptr = new Uint32Array(rows + 1);
  const indices: number[] = [];
  for (let r = 0; r < rows; r++) {
    const set = new Set<number>();
    const n = Math.floor(rand() * perRow);
    while (set.size < n) set.add(Math.floor(rand() * cols));
    indices.push(...[...set].sort((a, b) => a - b));
    indptr[r + 1] = indices.length;
  }
  return { rows, cols, indptr, indices: Uint32Array.from(indices) };
}

test('native masked top-K equals the TS reference (with ties and masks)', async () => {
  const rand = mulberry32(7);
  const nUsers = 37, nItems = 211, dim = 13, k = 25;
  // Quantised values create exact score ties, which must break by lower item index.
  const userEmb = Float32Array.from({ length: nUsers * dim }, () => Math.round(rand() * 4 - 2) / 2);
  const itemEmb = Float32Array.from({ length: nItems * dim }, () => Math.round(rand() * 4 - 2) / 2);
  const mask = randomCsr(nUsers, nItems, 40, rand);
  const users = Uint32Array.from({ length: nUsers }, (_, u) => (u * 7) % nUsers);
  for (const threads of [1, 2]) {
    const got = await maskedTopK(userEmb, itemEmb, dim, users, k, { mask, threads, chunkUsers: 10 });
    const want = referenceMaskedTopK(userEmb, itemEmb, dim, users, k, mask);
    assert.deepEqual(got.items, want.items);
    assert.deepEqual(got.scores, want.scores);
  }
});

test('native masked top-K equals the TS reference over several item tiles and user groups', async () => {
  // dim 64 puts 1024 items in a tile (3 tiles here); k = nItems keeps so many entries
  // that the users are taken in two groups.
  const rand = mulberry32(17);
  const nUsers = 450, nItems = 2500, dim = 64;
  const userEmb = Float32Array.from({ length: nUsers * dim }, () => Math.round(rand() * 4 - 2) / 4);
  const itemEmb = Float32Array.from({ length: nItems * dim }, () => Math.round(rand() * 4 - 2) / 4);
  const mask = randomCsr(nUsers, nItems, 300, rand);
  const users = Uint32Array.from({ length: nUsers }, (_, u) => (u * 11) % nUsers);
  for (const k of [20, nItems]) {
    const got = await maskedTopK(userEmb, itemEmb, dim, users, k, { mask, threads: 2 });
    const want = referenceMaskedTopK(userEmb, itemEmb, dim, users, k, mask);
    assert.deepEqual(got.items, want.items, `k ${k}`);
    assert.deepEqual(got.scores, want.scores, `k ${k}`);
  }
});

test('masked top-K pads users with fewer unmasked items than k', async () => {
  const dim = 2;
  const itemEmb = Float32Array.from([1, 0, 0, 1, 1, 1]);
  const userEmb = Float32Array.from([1, 2]);
  const mask: Csr = { rows: 1, cols: 3, indptr: Uint32Array.from([0, 2]), indices: Uint32Array.from([0, 2]) };
  const got = await maskedTopK(userEmb, itemEmb, dim, Uint32Array.of(0), 3, { mask, threads: 1 });
  assert.deepEqual([...got.items], [1, 0xffffffff, 0xffffffff]);
  assert.deepEqual([...got.scores], [2, -Infinity, -Infinity]);
});

test('ranking metrics follow the LightGCN definitions on a known case', () => {
  // One user, truth {3, 9}; ranking [3, 5, 9, 1] -> hits at ranks 1 and 3.
  const truth: Csr = { rows: 1, cols: 10, indptr: Uint32Array.from([0, 2]), indices: Uint32Array.from([3, 9]) };
  const m = rankingMetrics(Uint32Array.from([3, 5, 9, 1]), 4, Uint32Array.of(0), truth, [1, 2, 4]);
  assert.equal(m['recall@1'], 0.5);
  assert.equal(m['recall@4'], 1);
  assert.equal(m['precision@2'], 0.5);
  assert.equal(m['hit@1'], 1);
  const idcg = 1 + 1 / Math.log2(3);
  assert.ok(Math.abs(m['ndcg@4'] - (1 + 1 / Math.log2(4)) / idcg) < 1e-12);
  assert.ok(Math.abs(m['ndcg@1'] - 1) < 1e-12);
  assert.equal(m.users, 1);
});

test('BAD CALL - maskedTopK rejects bad typed arrays naming the argument', async () => {
  const good = { userEmb: new Float32Array(4), itemEmb: new Float32Array(6), dim: 2, users: Uint32Array.of(0, 1), k: 2, threads: 1 };
  const cases: Array<[Record<string, unknown>, ErrorConstructor, RegExp]> = [
    [{ userEmb: new Float64Array(4) }, TypeError, /userEmb/],
    [{ itemEmb: [1, 2] }, TypeError, /itemEmb/],
    [{ itemEmb: new Float32Array(5) }, RangeError, /itemEmb/],
    [{ users: Int32Array.of(0) }, TypeError, /users/],
    [{ users: Uint32Array.of(0, 2) }, RangeError, /users/],
    [{ k: 0 }, RangeError, /\bk\b/],
    [{ k: 1.5 }, TypeError, /\bk\b/],
    [{ dim: 0 }, RangeError, /dim/],
    [{ threads: 'two' }, TypeError, /threads/],
    [{ maskIndptr: Uint32Array.of(0, 1, 2), maskIndices: Uint32Array.of(0, 7) }, RangeError, /maskIndices/],
    [{ maskIndptr: Uint32Array.of(1, 1, 2), maskIndices: Uint32Array.of(0, 1) }, RangeError, /maskIndptr/],
    [{ maskIndptr: Uint32Array.of(0, 1, 2) }, TypeError, /maskIndices/],
  ];
  for (const [override, cls, name] of cases) {
    await assert.rejects(
      async () => native.maskedTopK({ ...good, ...override } as never),
      (error: Error) => error instanceof cls && name.test(error.message),
      `${JSON.stringify(Object.keys(override))} should throw ${cls.name} naming the argument`,
    );
  }
  assert.throws(() => native.maskedTopK(undefined as never), TypeError);
});

test('BAD CALL - maskedTopK names the first row holding NaN or an infinity, in itemEmb or a queried user of userEmb', async () => {
  const dim = 3, userEmb = new Float32Array(4 * dim).fill(0.5), itemEmb = new Float32Array(40 * dim).fill(0.25);
  const users = Uint32Array.of(2, 1);
  const bad = async (table: Float32Array, at: number, value: number, message: string) => {
    const saved = table[at];
    table[at] = value;
    await assert.rejects(maskedTopK(userEmb, itemEmb, dim, users, 5, { threads: 1 }), { name: 'RangeError', message });
    table[at] = saved;
  };
  await bad(itemEmb, 37 * dim + 2, NaN, 'Expected finite values in itemEmb but row 37 holds NaN');
  await bad(itemEmb, 5 * dim, -Infinity, 'Expected finite values in itemEmb but row 5 holds -Infinity');
  await bad(userEmb, 1 * dim + 1, Infinity, 'Expected finite values in userEmb but row 1 holds Infinity');
  // Rows no query reads may hold anything.
  userEmb[3 * dim] = NaN;
  const got = await maskedTopK(userEmb, itemEmb, dim, users, 5, { threads: 1 });
  assert.deepEqual(got.items.slice(0, 5), Uint32Array.of(0, 1, 2, 3, 4));
});

test('masked top-K equals the TS reference at panel edges, in the item tail, for fully masked users and k > items', async () => {
  // 70 items: two full panels of 32 and a tail of 6. Scores rise (user 0-2) or fall (user 3-5) with
  // the item index, so the best items sit in the tail or in the first panel; masks hit lanes 31/32,
  // 63/64 and the last item; user 6 has every item masked.
  const nItems = 70, dim = 2;
  const itemEmb = Float32Array.from({ length: nItems * dim }, (_, x) => (x % 2 === 0 ? (x >> 1) / 8 : 1));
  const userEmb = Float32Array.from([1, 0, 1, -4, 0.5, 1, -1, 0, -1, 20, -0.5, -3, 1, 1]);
  const rows: number[][] = [[31, 32, 63, 64, 69], [], [0, 1, 68, 69], [0, 31, 32], [31], [63, 64, 65, 66, 67, 68, 69], Array.from({ length: nItems }, (_, j) => j)];
  const indptr = Uint32Array.from([0, ...rows.map((_, r) => rows.slice(0, r + 1).reduce((n, row) => n + row.length, 0))]);
  const mask: Csr = { rows: rows.length, cols: nItems, indptr, indices: Uint32Array.from(rows.flat()) };
  const users = Uint32Array.from({ length: rows.length }, (_, u) => u);
  for (const k of [1, 5, 33, nItems + 10]) {
    const got = await maskedTopK(userEmb, itemEmb, dim, users, k, { mask, threads: 1 });
    const want = referenceMaskedTopK(userEmb, itemEmb, dim, users, k, mask);
    assert.deepEqual(got.items, want.items, `k ${k}`);
    assert.deepEqual(got.scores, want.scores, `k ${k}`);
  }
});

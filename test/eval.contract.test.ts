/** The evaluation helpers' exact contracts: who is evaluated, padding and ties, cut-off order, argument errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Csr } from '../src/data/types.js';
import { usersWithItems } from '../src/eval/evaluate.js';
import { rankingMetrics } from '../src/eval/metrics.js';
import { referenceMaskedTopK } from '../src/eval/topk-reference.js';
import { maskedTopK } from '../src/eval/topk.js';

function csr(rows: number[][], cols: number): Csr {
  const indptr = new Uint32Array(rows.length + 1);
  rows.forEach((row, r) => (indptr[r + 1] = indptr[r] + row.length));
  return { rows: rows.length, cols, indptr, indices: Uint32Array.from(rows.flat()) };
}

test('usersWithItems lists exactly the users with at least one item, in order', () => {
  assert.deepEqual(usersWithItems(csr([[1], [], [0, 2], []], 3)), Uint32Array.of(0, 2));
  assert.deepEqual(usersWithItems(csr([[], []], 3)), new Uint32Array(0));
});

test('referenceMaskedTopK: ties go to the lower item, short rows are padded with 0xFFFFFFFF and -Infinity', () => {
  // dim 1, user [1]: items score [1, 3, 1, 1]; item 1 masked -> [0, 2, 3] all at 1.
  const got = referenceMaskedTopK(Float32Array.of(1), Float32Array.of(1, 3, 1, 1), 1, Uint32Array.of(0), 5, csr([[1]], 4));
  assert.deepEqual(got.items, Uint32Array.of(0, 2, 3, 0xffffffff, 0xffffffff));
  assert.deepEqual(got.scores, Float32Array.of(1, 1, 1, -Infinity, -Infinity));
  // Two users, k below the item count: each row holds its own best k.
  const two = referenceMaskedTopK(Float32Array.of(1, -1), Float32Array.of(1, 3, 2), 1, Uint32Array.of(1, 0), 2);
  assert.deepEqual(two.items, Uint32Array.of(0, 2, 1, 2));
  assert.deepEqual(two.scores, Float32Array.of(-1, -2, 3, 2));
});

test('rankingMetrics: cut-offs in any order and repeated give the same figures', () => {
  const truth = csr([[0, 2]], 4);
  const top = Uint32Array.of(2, 1, 0);
  const sorted = rankingMetrics(top, 3, Uint32Array.of(0), truth, [1, 3]);
  const shuffled = rankingMetrics(top, 3, Uint32Array.of(0), truth, [3, 1, 3]);
  assert.deepEqual(shuffled, sorted);
  // @1 hit at rank 1: recall 1/2; @3 hits at ranks 1 and 3: recall 1, ndcg (1 + 1/2) / (1 + 1/log2 3).
  assert.equal(sorted['recall@1'], 0.5);
  assert.equal(sorted['recall@3'], 1);
  assert.ok(Math.abs(sorted['ndcg@3'] - 1.5 / (1 + 1 / Math.log2(3))) < 1e-15);
  for (const bad of [0, 1.5, 4]) {
    assert.throws(() => rankingMetrics(top, 3, Uint32Array.of(0), truth, [bad]), {
      name: 'RangeError', message: `Expected every cut-off in ks within [1, 3] but received ${bad}`,
    });
  }
});

test('maskedTopK: the TypeScript checks name the argument and what was received', async () => {
  const userEmb = new Float32Array(4), itemEmb = new Float32Array(6), users = Uint32Array.of(0, 1);
  const cases: Array<[() => Promise<unknown>, string, string]> = [
    [() => maskedTopK(new Float64Array(4) as never, itemEmb, 2, users, 2), 'TypeError', 'Expected Float32Array for userEmb but received Float64Array'],
    [() => maskedTopK(userEmb, [1, 2] as never, 2, users, 2), 'TypeError', 'Expected Float32Array for itemEmb but received Array'],
    [() => maskedTopK(null as never, itemEmb, 2, users, 2), 'TypeError', 'Expected Float32Array for userEmb but received null'],
    [() => maskedTopK(5 as never, itemEmb, 2, users, 2), 'TypeError', 'Expected Float32Array for userEmb but received number 5'],
    [() => maskedTopK('x' as never, itemEmb, 2, users, 2), 'TypeError', 'Expected Float32Array for userEmb but received string'],
    [() => maskedTopK(userEmb, new Float32Array(5), 2, users, 2), 'RangeError', 'Expected itemEmb length to be a multiple of dim 2 but received 5'],
    [() => maskedTopK(userEmb, itemEmb, 2, [0, 1] as never, 2), 'TypeError', 'Expected Uint32Array for users but received Array'],
    [() => maskedTopK(userEmb, itemEmb, 0, users, 2), 'RangeError', 'Expected a positive integer for dim but received 0'],
    [() => maskedTopK(userEmb, itemEmb, 1.5, users, 2), 'RangeError', 'Expected a positive integer for dim but received 1.5'],
    [() => maskedTopK(userEmb, itemEmb, 2, users, 0), 'RangeError', 'Expected a positive integer for k but received 0'],
    [() => maskedTopK(userEmb, itemEmb, 2, users, 1.5), 'RangeError', 'Expected a positive integer for k but received 1.5'],
    [() => maskedTopK(userEmb, itemEmb, 2, users, 2, { mask: csr([[0]], 3) }), 'RangeError', 'Expected mask of shape 2 x 3 but received 1 x 3'],
    [() => maskedTopK(userEmb, itemEmb, 2, users, 2, { mask: csr([[0], [1]], 4) }), 'RangeError', 'Expected mask of shape 2 x 3 but received 2 x 4'],
  ];
  for (const [call, name, message] of cases) await assert.rejects(call, { name, message }, message);
  // k = 1 and dim = 1 are valid; without threads the default is used.
  const one = await maskedTopK(Float32Array.of(1, 2), Float32Array.of(3, 1, 2), 1, Uint32Array.of(1), 1);
  assert.deepEqual([one.items, one.scores], [Uint32Array.of(0), Float32Array.of(6)]);
});

test('maskedTopK in chunks of users equals one call, whatever the chunk size', async () => {
  const userEmb = Float32Array.from({ length: 7 }, (_, u) => u - 3);
  const itemEmb = Float32Array.of(1, -2, 3, 0.5);
  const users = Uint32Array.of(6, 0, 3, 5, 1, 2, 4);
  const want = referenceMaskedTopK(userEmb, itemEmb, 1, users, 2);
  for (const chunkUsers of [1, 3, 7, 100]) {
    const got = await maskedTopK(userEmb, itemEmb, 1, users, 2, { chunkUsers, threads: 1 });
    assert.deepEqual([got.items, got.scores], [want.items, want.scores], `chunkUsers ${chunkUsers}`);
  }
});

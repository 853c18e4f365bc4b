/**
 * The bindings keep their last checked private copy of a training CSR and reuse it while the caller
 * passes the same bytes (a training loop passes the same CSR every epoch). Changed bytes, even in
 * the same arrays and at the same length, must be copied and checked again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { native } from '../src/native.js';

// 3 users x 6 items; `shifted` moves every positive one item up (still ascending, still in range).
const indptr = Uint32Array.of(0, 2, 3, 5);
const original = Uint32Array.of(0, 1, 2, 3, 4);
const shifted = Uint32Array.of(1, 2, 3, 4, 5);
const pairs = (indices: Uint32Array) => new Set(Array.from({ length: 3 }, (_, u) => Array.from(indices.subarray(indptr[u], indptr[u + 1]), (i) => `${u}:${i}`)).flat());
const sample = (trainIndices: Uint32Array) =>
  native.sampleUniform({ trainIndptr: indptr, trainIndices, nItems: 6, seed: 1, batch: 4, threads: 1 });

test('a CSR rewritten in place between calls is seen by the next call, never the kept copy of the old bytes', async () => {
  const indices = original.slice();
  const first = await sample(indices);
  assert.deepEqual(new Set(Array.from(first.users, (u, k) => `${u}:${first.pos[k]}`)), pairs(original));
  indices.set(shifted);
  const second = await sample(indices);
  assert.deepEqual(new Set(Array.from(second.users, (u, k) => `${u}:${second.pos[k]}`)), pairs(shifted));
  for (let k = 0; k < second.neg.length; k++) assert.ok(!pairs(shifted).has(`${second.users[k]}:${second.neg[k]}`));
  // The same bytes in another array: the same epoch as the first call.
  const again = await sample(original.slice());
  assert.deepEqual([again.users, again.pos, again.neg], [first.users, first.pos, first.neg]);
});

test('a CSR rewritten in place into a bad one after a good call is rejected, naming the field', async () => {
  const indices = original.slice();
  await sample(indices);
  indices.set([1, 0], 0);
  await assert.rejects(async () => sample(indices), (e: Error) => e instanceof RangeError && /trainIndices strictly ascending within each row, but row 0 has 0 after 1/.test(e.message));
  indices.set([0, 9], 0);
  await assert.rejects(async () => sample(indices), (e: Error) => e instanceof RangeError && /trainIndices/.test(e.message));
});

test('a kept copy is per shape: the same bytes with another item count are checked against it', async () => {
  await sample(original.slice());
  await assert.rejects(
    async () => native.sampleUniform({ trainIndptr: indptr, trainIndices: original.slice(), nItems: 4, seed: 1, batch: 4, threads: 1 }),
    (e: Error) => e instanceof RangeError && /trainIndices/.test(e.message),
  );
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exportOnnx } from '../src/export/onnx.js';
import { readModelHeader, intField, IR_VERSION, OPSET_VERSION } from '../src/export/onnx-proto.js';
import { NO_ITEM, OnnxRecommender, readOnnxModel, recommendOnnx } from '../src/export/score.js';
import { maskedTopK } from '../src/eval/topk.js';
import type { Csr } from '../src/data/types.js';
import { seededRandom } from './support/training.js';

function randomCsr(rows: number, cols: number, maxPerRow: number, rand: () => number): Csr {
  const indptr = new Uint32Array(rows + 1);
  const indices: number[] = [];
  for (let r = 0; r < rows; r++) {
    const set = new Set<number>();
    const n = Math.floor(rand() * (maxPerRow + 1));
    while (set.size < n) set.add(Math.floor(rand() * cols));
    indices.push(...[...set].sort((a, b) => a - b));
    indptr[r + 1] = indices.length;
  }
  return { rows, cols, indptr, indices: Uint32Array.from(indices) };
}

const nUsers = 53, nItems = 97, dim = 8, k = 10;
const rand = seededRandom(21);
const userEmb = Float32Array.from({ length: nUsers * dim }, () => rand() * 2 - 1);
const itemEmb = Float32Array.from({ length: nItems * dim }, () => rand() * 2 - 1);
const mask = randomCsr(nUsers, nItems, 30, rand);
// Every user, in a shuffled order, split over several ORT batches.
const users = Uint32Array.from({ length: nUsers }, (_, i) => (i * 17) % nUsers);

function assertSameTopK(ort: { items: Uint32Array; scores: Float32Array }, native: { items: Uint32Array; scores: Float32Array }): void {
  assert.deepEqual(Array.from(ort.items), Array.from(native.items));
  for (let i = 0; i < ort.scores.length; i++) assert.ok(ort.scores[i] === native.scores[i] || Math.abs(ort.scores[i] - native.scores[i]) <= 1e-5, `score ${i}: ${ort.scores[i]} vs ${native.scores[i]}`);
}

test('protobuf varints: small, multi-byte and negative (ten bytes) int64 fields', () => {
  assert.deepEqual(Array.from(intField(1, 8)), [0x08, 0x08]);
  assert.deepEqual(Array.from(intField(2, 300)), [0x10, 0xac, 0x02]);
  assert.deepEqual(Array.from(intField(3, -1)), [0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
});

test('the exported model carries ir_version 8, opset 17 and its shapes as metadata', () => {
  const header = readModelHeader(exportOnnx(userEmb, itemEmb, dim, { k, maskTraining: true }));
  assert.equal(header.irVersion, IR_VERSION);
  assert.equal(header.opsetVersion, OPSET_VERSION);
  assert.equal(header.producerName, 'dtlns-native');
  assert.deepEqual(readOnnxModel(exportOnnx(userEmb, itemEmb, dim, { k, maskTraining: true })).info, { nUsers, nItems, dim, k, masked: true });
});

test('ORT top-K equals the native top-K without a mask', async () => {
  const model = exportOnnx(userEmb, itemEmb, dim, { k, maskTraining: false });
  const ort = await recommendOnnx(model, users, { threads: 1, batchUsers: 16 });
  assert.equal(ort.k, k);
  assertSameTopK(ort, await maskedTopK(userEmb, itemEmb, dim, users, k, { threads: 1 }));
});

test('ORT top-K equals the native top-K with the training items excluded', async () => {
  const model = exportOnnx(userEmb, itemEmb, dim, { k, maskTraining: true });
  const recommender = await OnnxRecommender.open(model, { threads: 2 });
  try {
    const masked = await recommender.recommend(users, { exclude: mask, batchUsers: 16 });
    assertSameTopK(masked, await maskedTopK(userEmb, itemEmb, dim, users, k, { mask, threads: 1 }));
    for (let i = 0; i < users.length; i++) {
      const u = users[i];
      const seen = new Set(mask.indices.subarray(mask.indptr[u], mask.indptr[u + 1]));
      for (const item of masked.items.subarray(i * k, (i + 1) * k)) assert.ok(!seen.has(item), `user ${u} got training item ${item}`);
    }
    // The masked model without an exclusion list ranks like the unmasked one.
    assertSameTopK(await recommender.recommend(users), await maskedTopK(userEmb, itemEmb, dim, users, k, { threads: 1 }));
  } finally {
    await recommender.release();
  }
});

test('a user with fewer than k unmasked items gets NO_ITEM and -Infinity in the tail, like the native top-K', async () => {
  const all: Csr = { rows: 2, cols: 4, indptr: Uint32Array.of(0, 3, 0 + 3), indices: Uint32Array.of(0, 1, 3) };
  const u2 = userEmb.subarray(0, 2 * dim), i4 = itemEmb.subarray(0, 4 * dim);
  const model = exportOnnx(u2, i4, dim, { k: 3, maskTraining: true });
  const ort = await recommendOnnx(model, Uint32Array.of(0, 1), { exclude: all, threads: 1 });
  const native = await maskedTopK(u2, i4, dim, Uint32Array.of(0, 1), 3, { mask: all, threads: 1 });
  assert.deepEqual(Array.from(ort.items.subarray(0, 3)), [2, NO_ITEM, NO_ITEM]);
  assertSameTopK(ort, native);
});

test('bad inputs name the argument', async () => {
  assert.throws(() => exportOnnx(userEmb, itemEmb, dim, { k: nItems + 1, maskTraining: false }), /options\.k/);
  assert.throws(() => exportOnnx(userEmb, itemEmb, 7, { k, maskTraining: false }), /userEmb/);
  assert.throws(() => exportOnnx([] as unknown as Float32Array, itemEmb, dim, { k, maskTraining: false }), TypeError);
  const plain = exportOnnx(userEmb, itemEmb, dim, { k, maskTraining: false });
  await assert.rejects(recommendOnnx(plain, Uint32Array.of(nUsers)), (e: Error) => e instanceof RangeError && /users/.test(e.message) && /53/.test(e.message));
  await assert.rejects(recommendOnnx(plain, Uint32Array.of(0), { exclude: mask }), /exclude_items/);
  await assert.rejects(recommendOnnx(Uint8Array.of(0x0a, 0xff, 0x01), Uint32Array.of(0)), /not a readable ONNX model/);
  await assert.rejects(recommendOnnx(plain.subarray(0, plain.length - 100), Uint32Array.of(0)), /not a readable ONNX model/);
});

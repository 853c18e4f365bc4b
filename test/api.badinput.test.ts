/**
 * BAD CALL cases of the public API found by the hardening probe (issue 12): each one either
 * hung, crashed with an internal TypeError, or returned a silently wrong result. Each now throws
 * a TypeError / RangeError naming the argument, before any work is done.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluate, generateCandidates, generateSynthetic, maskedTopK, packPaths, train, type Dataset } from '../src/index.js';

const named = (cls: typeof TypeError | typeof RangeError, ...parts: (string | RegExp)[]) => (e: Error) => {
  assert.ok(e instanceof cls, `${e.name}: ${e.message}`);
  for (const part of parts) assert.match(e.message, typeof part === 'string' ? new RegExp(part.replace(/[[\]().*+?]/g, '\\$&')) : part);
  return true;
};

const dim = 4;
const table = (rows: number, seed = 1) => Float32Array.from({ length: rows * dim }, (_, i) => Math.sin(i * 12.9898 + seed));
const dataset: Dataset = generateSynthetic({ preset: 'tiny' });
const users = table(dataset.nUsers), items = table(dataset.nItems, 2);

test('maskedTopK: chunkUsers 0 (it never settled) is a RangeError naming chunkUsers', async () => {
  await assert.rejects(maskedTopK(users, items, dim, Uint32Array.of(0), 2, { chunkUsers: 0 }), named(RangeError, 'chunkUsers'));
  await assert.rejects(maskedTopK(users, items, dim, Uint32Array.of(0), 2, { chunkUsers: 1.5 }), named(RangeError, 'chunkUsers'));
});

test('NaN embeddings are RangeErrors naming the table and row, in maskedTopK, evaluate and generateCandidates', async () => {
  const badUsers = users.slice();
  badUsers[3 * dim + 1] = NaN;
  const badItems = items.slice();
  badItems[5 * dim] = Infinity;
  await assert.rejects(maskedTopK(badUsers, items, dim, Uint32Array.of(0, 3), 2), named(RangeError, 'userEmb', 'row 3'));
  await assert.rejects(maskedTopK(users, badItems, dim, Uint32Array.of(0), 2), named(RangeError, 'itemEmb', 'row 5'));
  // Rows of users not asked for may hold anything.
  assert.equal((await maskedTopK(badUsers, items, dim, Uint32Array.of(0), 2)).items.length, 2);
  await assert.rejects(evaluate(users, badItems, dim, dataset.test!), named(RangeError, 'itemEmb'));
  await assert.rejects(generateCandidates(dataset, users, badItems, dim), named(RangeError, 'itemEmb'));
});

test('a mask with fewer row offsets than rows is a RangeError naming maskIndptr', async () => {
  // A well-formed CSR of fewer rows than it claims: the last users would silently go unmasked.
  const indptr = dataset.train.indptr.subarray(0, dataset.nUsers - 2);
  const short = { ...dataset.train, indptr, indices: dataset.train.indices.subarray(0, indptr[indptr.length - 1]) };
  const all = Uint32Array.from({ length: dataset.nUsers }, (_, u) => u);
  await assert.rejects(maskedTopK(users, items, dim, all, 2, { mask: short }), named(RangeError, 'maskIndptr'));
});

test('evaluate: a null truth, out-of-range truth ids and empty ks are named errors', async () => {
  await assert.rejects(evaluate(users, items, dim, null as never), named(TypeError, 'truth', 'null'));
  const truth = dataset.test!;
  const foreign = { ...truth, indices: truth.indices.map((i, p) => (p === 2 ? dataset.nItems + 7 : i)) };
  await assert.rejects(evaluate(users, items, dim, foreign), named(RangeError, 'truth.indices[2]', String(dataset.nItems + 7)));
  await assert.rejects(evaluate(users, items, dim, truth, { ks: [] }), named(RangeError, 'ks'));
  await assert.rejects(evaluate(users, items, dim, truth, { ks: [0] }), named(RangeError, 'ks'));
  await assert.rejects(evaluate(users, items, dim, truth, { ks: 20 as never }), named(TypeError, 'ks'));
});

test('train: null dataset, null options, layers "3", ks [] and ks without 20 are named errors before any epoch', async () => {
  await assert.rejects(train(null as never), named(TypeError, 'dataset', 'null'));
  await assert.rejects(train({ nUsers: 2, nItems: 2 } as never), named(TypeError, 'dataset.train'));
  await assert.rejects(train(dataset, null as never), named(TypeError, 'options', 'null'));
  await assert.rejects(train(dataset, { model: 'lightgcn', layers: '3' as never }), named(TypeError, 'layers', '"3"'));
  await assert.rejects(train(dataset, { ks: [] }), named(RangeError, 'ks'));
  let epochs = 0;
  await assert.rejects(train(dataset, { ks: [5, 10], epochs: 2, onEpoch: () => void epochs++ }), named(RangeError, 'ks', '20', '5,10'));
  assert.equal(epochs, 0, 'rejected before training');
});

test('packPaths: -1, NaN, 1.5 and non-arrays are named errors', () => {
  assert.throws(() => packPaths([[0, 1], [2, -1]]), named(RangeError, 'paths[1][1]', '-1'));
  assert.throws(() => packPaths([[NaN]]), named(RangeError, 'paths[0][0]', 'NaN'));
  assert.throws(() => packPaths([[0], [1, 1.5]]), named(RangeError, 'paths[1][1]', '1.5'));
  assert.throws(() => packPaths([[0], null as never]), named(TypeError, 'paths[1]'));
  assert.throws(() => packPaths(null as never), named(TypeError, 'paths'));
  assert.deepEqual([...packPaths([[0, 3], [2]]).lengths], [2, 1]);
});

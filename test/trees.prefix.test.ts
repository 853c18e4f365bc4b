import { test } from 'node:test';
import assert from 'node:assert/strict';
import { prefixSimilarity, prefixSimilarityOneToMany, prefixSimilarityReference } from '../src/trees/prefix.js';
import { packPaths, type PathCodes } from '../src/trees/path-codes.js';
import { native } from '../src/native.js';
import { mulberry32 } from '../src/util/random.js';


/** Random paths over a small alphabet, so long shared prefixes are common; some empty. */
function randomCodes(nItems: number, seed: number): PathCodes {
  const rand = mulberry32(seed);
  return packPaths(Array.from({ length: nItems }, () => Array.from({ length: Math.floor(rand() * 7) }, () => Math.floor(rand() * 2))));
}

test('prefix similarity: known values', async () => {
  const codes = packPaths([[0, 1, 3, 2], [0, 1, 2], [0, 1, 3, 2, 1], [1], [], [0, 1, 3, 2]]);
  const a = Uint32Array.from([0, 0, 0, 1, 4, 0]);
  const b = Uint32Array.from([1, 2, 3, 3, 0, 5]);
  const sim = await prefixSimilarity(codes, a, b, { threads: 1 });
  // LCP / min(len): 2/3, 4/4, 0/1, 0/1, empty path -> 0, identical -> 1.
  assert.deepEqual(Array.from(sim), [Math.fround(2 / 3), 1, 0, 0, 0, 1]);
});

test('prefix similarity: native pairs and one-to-many equal the TS reference on random paths', async () => {
  const codes = randomCodes(500, 3);
  const rand = mulberry32(4);
  const count = 20000;
  const a = Uint32Array.from({ length: count }, () => Math.floor(rand() * 500));
  const b = Uint32Array.from({ length: count }, () => Math.floor(rand() * 500));
  const sim = await prefixSimilarity(codes, a, b, { threads: 2 });
  for (let t = 0; t < count; t++) assert.equal(sim[t], prefixSimilarityReference(codes, a[t], b[t]));
  const others = Uint32Array.from({ length: 500 }, (_, j) => j);
  const row = await prefixSimilarityOneToMany(codes, 17, others, { threads: 2 });
  for (let j = 0; j < 500; j++) assert.equal(row[j], prefixSimilarityReference(codes, 17, j));
  assert.equal((await prefixSimilarity(codes, new Uint32Array(0), new Uint32Array(0))).length, 0);
});

test('BAD CALL - prefix similarity: wrong types, lengths and ids name the argument', async () => {
  const codes = randomCodes(10, 1);
  const ids = Uint32Array.from([0, 1, 2]);
  await assert.rejects(prefixSimilarity(codes, [0, 1] as unknown as Uint32Array, ids), { name: 'TypeError', message: /\ba\b/ });
  await assert.rejects(prefixSimilarity(codes, ids, ids.subarray(1)), { name: 'RangeError', message: /\bb\b/ });
  await assert.rejects(prefixSimilarity(codes, ids, Uint32Array.from([0, 1, 10])), { name: 'RangeError', message: /b\[2\] is 10/ });
  await assert.rejects(prefixSimilarity({ ...codes, maxDepth: codes.maxDepth + 1 }, ids, ids), { name: 'RangeError', message: /codes\.paths/ });
  await assert.rejects(prefixSimilarity({ ...codes, lengths: new Uint32Array(10) as unknown as Int32Array }, ids, ids), { name: 'TypeError', message: /codes/ });
  await assert.rejects(prefixSimilarityOneToMany(codes, 10, ids), { name: 'RangeError', message: /\bitem\b/ });
  await assert.rejects(prefixSimilarityOneToMany(codes, 0, Uint32Array.from([11])), { name: 'RangeError', message: /others\[0\] is 11/ });
  const tooLong = { ...codes, lengths: codes.lengths.slice() };
  tooLong.lengths[4] = codes.maxDepth + 1;
  assert.throws(
    () => native.prefixSimilarityPairs({ paths: tooLong.paths, lengths: tooLong.lengths, maxDepth: codes.maxDepth, a: ids, b: ids, threads: 1 }),
    { name: 'RangeError', message: /lengths\[4\]/ },
  );
});

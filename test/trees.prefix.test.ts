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

test('prefix similarity equals the TS reference on both kernel paths: packed keys at their width limits and direct rows', async () => {
  const rand = mulberry32(11);
  const check = async (codes: PathCodes, count: number, label: string) => {
    const a = Uint32Array.from({ length: count }, () => Math.floor(rand() * codes.nItems));
    const b = Uint32Array.from({ length: count }, () => Math.floor(rand() * codes.nItems));
    const sim = await prefixSimilarity(codes, a, b, { threads: 1 });
    for (let t = 0; t < count; t++) assert.equal(sim[t], prefixSimilarityReference(codes, a[t], b[t]), `${label}: pair ${a[t]}, ${b[t]}`);
    const others = Uint32Array.from({ length: count }, (_, t) => b[t]);
    const row = await prefixSimilarityOneToMany(codes, a[0], others, { threads: 2 });
    for (let t = 0; t < count; t++) assert.equal(row[t], prefixSimilarityReference(codes, a[0], others[t]), `${label}: one-to-many ${a[0]}, ${others[t]}`);
  };
  // Paths that share long prefixes and differ late: a common stem, then random tails.
  const deep = (depth: number, alphabet: number, n: number) => {
    const stem = Array.from({ length: depth }, () => Math.floor(rand() * alphabet));
    return packPaths(Array.from({ length: n }, () => {
      const len = depth - Math.floor(rand() * 3);
      const cut = len - 1 - Math.floor(rand() * 4);
      return Array.from({ length: len }, (_, l) => (l < cut ? stem[l] : Math.floor(rand() * alphabet)));
    }));
  };
  await check(deep(58, 2, 300), 3000, 'depth 58, 1-bit codes (keys fill 64 bits)');
  await check(deep(60, 2, 300), 3000, 'depth 60, 1-bit codes (too long for keys)');
  await check(deep(7, 5, 300), 3000, 'depth 7, 3-bit codes (32-bit keys)');
  await check(deep(14, 4, 300), 3000, 'depth 14, 2-bit codes (32-bit keys fill 32 bits)');
  await check(deep(15, 4, 300), 3000, 'depth 15, 2-bit codes (too long for 32-bit keys: 64-bit ones)');
  // One code too wide for 32-bit keys in the second block of rows the keys are built in (4096):
  // the narrow pass stops there and the 64-bit keys take over.
  const secondBlock = deep(9, 4, 5000);
  secondBlock.paths[4500 * secondBlock.maxDepth] += 8;
  await check(secondBlock, 6000, 'depth 9, one 4-bit code in row 4500');
  await check(deep(16, 8, 300), 3000, 'depth 16, 3-bit codes (keys built a row a load, at the widest)');
  await check(deep(17, 4, 300), 3000, 'depth 17, 2-bit codes (64-bit keys: two loads a row with AVX-512)');
  await check(deep(20, 8, 296), 3000, 'depth 20, 3-bit codes (too wide for 2-bit levels)');
  // One code too wide for the levels, in the last row only (read by masked loads): its low
  // bits equal every other path's first code, the reference's first code differs.
  const lastWide = deep(20, 4, 301);
  lastWide.paths[300 * lastWide.maxDepth] = lastWide.paths[0] + 4;
  await check(lastWide, 3000, 'depth 20, one 3-bit code in the last row');
  // One code too wide for 5-bit levels, at level 10 only (a row's second load on AVX2): its
  // low bits equal every other path's code there, the reference's code differs.
  const lateWide = packPaths(Array.from({ length: 300 }, () => Array.from({ length: 12 }, (_, l) => l % 4)));
  lateWide.paths[150 * 12 + 10] += 32;
  await check(lateWide, 3000, 'depth 12, one 6-bit code at level 10');
  await check(deep(2, 2 ** 31 - 1, 300), 3000, 'depth 2, 31-bit codes (keys fill 64 bits)');
  await check(deep(3, 2 ** 31 - 1, 300), 3000, 'depth 3, 31-bit codes (too wide for keys)');
  await check(packPaths(Array.from({ length: 400 }, () => Array.from({ length: 1 + Math.floor(rand() * 6) }, () => Math.floor(rand() * 3)))),
    4000, 'random paths, none empty (keyed)');
  await check(randomCodes(5000, 8), 1000, 'fewer pairs than items (direct rows)');
  // Negative codes are not keys: the direct rows compare them as the reference does.
  const negative = randomCodes(200, 9);
  for (let x = 0; x < negative.paths.length; x += 3) if (negative.paths[x] >= 0) negative.paths[x] = -5;
  await check(negative, 2000, 'negative codes');
  const single = packPaths(Array.from({ length: 50 }, (_, i) => (i % 7 === 0 ? [] : [i % 3])));
  for (let i = 0; i < 50; i += 4) if (single.lengths[i]) single.paths[i] = -5;
  await check(single, 500, 'depth 1 with negative codes');
});

test('prefix similarity ignores what a path holds past its length (keys built from whole-row loads, masked after)', async () => {
  const rand = mulberry32(12);
  for (const [depth, alphabet] of [[7, 4], [12, 4], [15, 4], [16, 8], [17, 4], [40, 2]]) {
    // Short paths padded with codes the keys could hold (not -1): a key built from a row's
    // whole load must drop them, in the rows read whole and in the last rows (masked loads).
    const codes = packPaths(Array.from({ length: 300 }, () => Array.from({ length: 1 + Math.floor(rand() * depth) }, () => Math.floor(rand() * alphabet))));
    for (let i = 0; i < codes.nItems; i++)
      for (let l = codes.lengths[i]; l < codes.maxDepth; l++) codes.paths[i * codes.maxDepth + l] = Math.floor(rand() * alphabet);
    const a = Uint32Array.from({ length: 3000 }, () => Math.floor(rand() * codes.nItems));
    const b = Uint32Array.from({ length: 3000 }, (_, t) => (t % 2 ? codes.nItems - 1 - (t % 7) : Math.floor(rand() * codes.nItems)));
    const sim = await prefixSimilarity(codes, a, b, { threads: 1 });
    for (let t = 0; t < a.length; t++) assert.equal(sim[t], prefixSimilarityReference(codes, a[t], b[t]), `depth ${depth}: pair ${a[t]}, ${b[t]}`);
  }
});

test('prefix similarity: many concurrent calls of 1 to 3 threads, some failing, all settle with their own results', { timeout: 60_000 }, async () => {
  const codes = randomCodes(3000, 13);
  const rand = mulberry32(14);
  const calls = Array.from({ length: 24 }, (_, k) => {
    const a = Uint32Array.from({ length: 5000 + k }, () => Math.floor(rand() * codes.nItems));
    const b = Uint32Array.from(a, () => Math.floor(rand() * codes.nItems));
    if (k % 6 === 5) b[k] = codes.nItems;  // rejects, naming b[k]
    return { a, b, k, threads: 1 + (k % 3) };
  });
  const settled = await Promise.allSettled(calls.map(({ a, b, threads }) => prefixSimilarity(codes, a, b, { threads })));
  for (const [n, { a, b, k }] of calls.entries()) {
    const result = settled[n];
    if (k % 6 === 5) {
      assert.equal(result.status, 'rejected', `call ${k}`);
      if (result.status === 'rejected') assert.match(String(result.reason), new RegExp(`RangeError: .*b\\[${k}\\] is ${codes.nItems}`));
      continue;
    }
    assert.equal(result.status, 'fulfilled', `call ${k}`);
    if (result.status !== 'fulfilled') continue;
    for (let t = 0; t < a.length; t++) assert.equal(result.value[t], prefixSimilarityReference(codes, a[t], b[t]), `call ${k}, pair ${t}`);
  }
});

test('BAD CALL - prefix similarity: an id out of range among many pairs (checked as the keyed kernel reads it) is named by its position', async () => {
  const codes = randomCodes(100, 5);
  const ids = (bad?: number) => Uint32Array.from({ length: 1000 }, (_, t) => (t === bad ? 100 : t % 100));
  // In the eight-pair part and the scalar tail (2 threads: 500 pairs each, 4 left after the eights).
  for (const bad of [3, 517, 999]) {
    await assert.rejects(prefixSimilarity(codes, ids(bad), ids(), { threads: 2 }), { name: 'RangeError', message: new RegExp(`a\\[${bad}\\] is 100`) });
    await assert.rejects(prefixSimilarity(codes, ids(), ids(bad), { threads: 1 }), { name: 'RangeError', message: new RegExp(`b\\[${bad}\\] is 100`) });
    await assert.rejects(prefixSimilarityOneToMany(codes, 1, ids(bad), { threads: 2 }), { name: 'RangeError', message: new RegExp(`others\\[${bad}\\] is 100`) });
  }
  await assert.rejects(prefixSimilarity(codes, ids(), Uint32Array.from(ids(), () => 0xffffffff)), { name: 'RangeError', message: /b\[0\] is 4294967295/ });
});

test('prefix similarity into options.out: the array given is filled and returned; a wrong one is named', async () => {
  const codes = randomCodes(300, 6);
  const rand = mulberry32(7);
  const a = Uint32Array.from({ length: 2000 }, () => Math.floor(rand() * 300));
  const b = Uint32Array.from({ length: 2000 }, () => Math.floor(rand() * 300));
  const out = new Float32Array(2000).fill(-1);
  assert.equal(await prefixSimilarity(codes, a, b, { out }), out);
  for (let t = 0; t < a.length; t++) assert.equal(out[t], prefixSimilarityReference(codes, a[t], b[t]));
  out.fill(-1);
  assert.equal(await prefixSimilarityOneToMany(codes, 9, b, { out, threads: 2 }), out);
  for (let t = 0; t < b.length; t++) assert.equal(out[t], prefixSimilarityReference(codes, 9, b[t]));
  await assert.rejects(prefixSimilarity(codes, a, b, { out: new Float64Array(2000) as unknown as Float32Array }), { name: 'TypeError', message: /options\.out/ });
  await assert.rejects(prefixSimilarity(codes, a, b, { out: new Float32Array(1999) }), { name: 'RangeError', message: /2000 for options\.out/ });
  await assert.rejects(prefixSimilarity(codes, a, b, { out: new Float32Array(a.buffer) }), { name: 'RangeError', message: /options\.out.*\ba\b/ });
  const shared = new ArrayBuffer(4 * 4000);
  const b2 = new Uint32Array(shared, 0, 2000);
  b2.set(b);
  await assert.rejects(prefixSimilarityOneToMany(codes, 0, b2, { out: new Float32Array(shared, 4 * 1999, 2000) }), { name: 'RangeError', message: /options\.out.*\bothers\b/ });
  assert.equal((await prefixSimilarityOneToMany(codes, 0, b2, { out: new Float32Array(shared, 4 * 2000, 2000) })).length, 2000, 'adjacent, not overlapping');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateCandidates, readCandidates, writeCandidates, candidateUsers, checkCandidates, candidatesFromCsr } from '../src/labels/candidates.js';
import { generateSynthetic } from '../src/data/synthetic.js';
import { loadDataset } from '../src/data/load.js';
import type { Dataset } from '../src/data/types.js';
import type { Candidates } from '../src/labels/types.js';

const dir = mkdtempSync(join(tmpdir(), 'dtlns-cand-'));
/** dist/test/ -> the repository root -> ../shared/datasets. */
const sharedDatasets = resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/datasets');

function embeddings(rows: number, dim: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: rows * dim }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648 - 0.5;
  });
}

/** Plain TS: per user, unmasked items by score (desc), then lower index. */
function referenceCandidates(d: Dataset, u: Float32Array, v: Float32Array, dim: number, users: Uint32Array, n: number): number[][] {
  return Array.from(users, (user) => {
    const train = new Set(d.train.indices.subarray(d.train.indptr[user], d.train.indptr[user + 1]));
    const scored: [number, number][] = [];
    for (let i = 0; i < d.nItems; i++) {
      if (train.has(i)) continue;
      let s = 0;
      for (let k = 0; k < dim; k++) s += u[user * dim + k] * v[i * dim + k];
      scored.push([Math.fround(s), i]);
    }
    scored.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    return scored.slice(0, n).map(([, i]) => i);
  });
}

function rows(c: Candidates): number[][] {
  return Array.from(c.users, (_, r) => Array.from(c.items.subarray(c.indptr[r], c.indptr[r + 1])));
}

test('candidates are the top-N unobserved items of the model, as a plain TS reference ranks them', async () => {
  const d = generateSynthetic({ preset: 'tiny' });
  const dim = 8;
  // Multiples of 1/8: every dot product is exact in float32 whatever the order of summation,
  // so the ranking (ties to the lower index) is exact too and compared in order.
  const eighths = (x: number) => Math.round(x * 8) / 8;
  const u = embeddings(d.nUsers, dim, 1).map(eighths);
  const v = embeddings(d.nItems, dim, 2).map(eighths);
  for (const which of ['all', 'test'] as const) {
    const c = await generateCandidates(d, u, v, dim, { n: 7, users: which, threads: 2 });
    assert.deepEqual(c.users, candidateUsers(d, which));
    // The order is the contract (best candidate first): compared as lists.
    assert.deepEqual(rows(c), referenceCandidates(d, u, v, dim, c.users, 7));
  }
  const noTest: Dataset = { ...d, test: { ...d.test!, indptr: Uint32Array.from(d.test!.indptr, (p, u) => (u <= 10 ? 0 : p - d.test!.indptr[10])), indices: d.test!.indices.subarray(d.test!.indptr[10]) } };
  assert.deepEqual(Array.from(candidateUsers(noTest, 'test')), Array.from(candidateUsers(d, 'all')).filter((u) => u >= 10));
  // Fewer unobserved items than n: the row is shorter, never padded.
  const all = await generateCandidates(d, u, v, dim, { n: d.nItems });
  rows(all).forEach((row, r) => {
    const user = all.users[r];
    assert.equal(row.length, d.nItems - (d.train.indptr[user + 1] - d.train.indptr[user]));
  });
});

test('candidate files use original ids and round-trip', async () => {
  const base = generateSynthetic({ preset: 'tiny' });
  const d: Dataset = { ...base, userIds: base.userIds.map((x) => x * 10 + 3), itemIds: base.itemIds.map((x) => 1000 + x) };
  const c: Candidates = { users: Uint32Array.of(4, 0), indptr: Uint32Array.of(0, 3, 4), items: Uint32Array.of(9, 2, 50, 7) };
  const file = join(dir, 'cand.txt');
  writeCandidates(file, c, d);
  assert.equal(readFileSync(file, 'utf8'), '43 1009 1002 1050\n3 1007\n');
  assert.deepEqual(await readCandidates(file, d), c);
});

test("the authors' dtlns-sports candidates.txt loads", async (t) => {
  const folder = join(sharedDatasets, 'dtlns-sports');
  if (!existsSync(join(folder, 'candidates.txt'))) {
    t.skip(`../shared/datasets/dtlns-sports/candidates.txt is absent (${folder})`);
    return;
  }
  const d = await loadDataset(folder);
  const c = await readCandidates(join(folder, 'candidates.txt'), d);
  assert.equal(c.users.length, 10507);
  assert.equal(c.items.length, 10507 * 20);
});

test('BAD INPUT - candidate files naming unknown users or items, repeats, bad tokens, a missing file', async () => {
  const d = generateSynthetic({ preset: 'tiny' });
  const cases: [string, RegExp][] = [
    ['0 1 2\n999 3\n', /, line 2: unknown user 999 \(not in dataset synthetic:tiny\)/],
    ['0 1 2\n1 3 100\n', /, line 2: unknown item 100/],
    ['0 1 2\n\n0 3\n', /, line 3: user 0 has a second candidate line/],
    ['0 1 1\n', /, line 1: item 1 is listed twice/],
    ['0 1 x\n', /, line 1: expected integer ids but found "x"/],
    ['0 -1\n', /, line 1: expected integer ids but found "-1"/],
    ['0 1e1\n', /, line 1: expected integer ids but found "1e1"/],
    ['x 1\n', /, line 1: expected integer ids but found "x"/],
  ];
  for (const [text, message] of cases) {
    const file = join(dir, 'bad.txt');
    writeFileSync(file, text);
    await assert.rejects(readCandidates(file, d), { name: 'DataFileError', message: new RegExp(`bad\\.txt${message.source}`) });
  }
  await assert.rejects(readCandidates(join(dir, 'none.txt'), d), { name: 'DataFileError', message: /none\.txt: candidate file not found/ });
});

test('BAD CALL - generateCandidates arguments', async () => {
  const d = generateSynthetic({ preset: 'tiny' });
  const u = embeddings(d.nUsers, 4, 1), v = embeddings(d.nItems, 4, 2);
  await assert.rejects(generateCandidates(d, u, v, 4, { n: 0 }), { name: 'RangeError', message: /for n/ });
  await assert.rejects(generateCandidates(d, [] as never, v, 4), { name: 'TypeError', message: /userEmb/ });
  await assert.rejects(generateCandidates(d, u, v.subarray(4), 4), { name: 'RangeError', message: /itemEmb/ });
  await assert.rejects(generateCandidates(d, u, v, 4, { users: 'some' as never }), { name: 'RangeError', message: /users/ });
  await assert.rejects(generateCandidates({ ...d, test: undefined }, u, v, 4, { users: 'test' }), { name: 'RangeError', message: /test split/ });
  assert.throws(() => writeCandidates(join(dir, 'x.txt'), { users: Uint32Array.of(0), indptr: Uint32Array.of(0, 1), items: Uint32Array.of(500) }, d), { name: 'RangeError', message: /candidates\.items/ });
});

test('candidate checks, conversions and file details, exactly', async () => {
  const d = generateSynthetic({ preset: 'tiny' });
  const message = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return `${(e as Error).constructor.name}: ${(e as Error).message}`;
    }
    return 'no error';
  };
  const ok: Candidates = { users: Uint32Array.of(199, 0), indptr: Uint32Array.of(0, 1, 3), items: Uint32Array.of(99, 0, 5) };
  assert.equal(checkCandidates(ok, d), ok);
  assert.equal(message(() => checkCandidates(null as never, d)), 'TypeError: Expected {users, indptr, items} Uint32Arrays for candidates but received null');
  assert.equal(message(() => checkCandidates({ ...ok, items: [1] } as never, d, 'pool')), 'TypeError: Expected {users, indptr, items} Uint32Arrays for pool but received [object Object]');
  assert.equal(message(() => checkCandidates({ ...ok, users: [1] } as never, d)), 'TypeError: Expected {users, indptr, items} Uint32Arrays for candidates but received [object Object]');
  assert.equal(message(() => checkCandidates({ ...ok, indptr: [0, 1, 3] } as never, d)), 'TypeError: Expected {users, indptr, items} Uint32Arrays for candidates but received [object Object]');
  assert.equal(message(() => checkCandidates({ ...ok, indptr: Uint32Array.of(0, 3) }, d)), 'RangeError: Expected candidates.indptr of length users + 1 ending at items.length but received length 2');
  assert.equal(message(() => checkCandidates({ ...ok, indptr: Uint32Array.of(0, 1, 2) }, d, 'pool')), 'RangeError: Expected pool.indptr of length users + 1 ending at items.length but received length 3');
  assert.equal(message(() => checkCandidates({ ...ok, indptr: Uint32Array.of(0, 1, 3, 3) }, d)), 'RangeError: Expected candidates.indptr of length users + 1 ending at items.length but received length 4');
  assert.equal(message(() => checkCandidates({ ...ok, users: Uint32Array.of(200, 0) }, d)), 'RangeError: Expected candidates.users below 200 but received 200');
  assert.equal(message(() => checkCandidates({ ...ok, items: Uint32Array.of(99, 100, 5) }, d)), 'RangeError: Expected candidates.items below 100 but received 100');
  assert.equal(message(() => candidateUsers(d, 'some' as never)), "RangeError: Expected 'all' or 'test' for users but received some");
  assert.equal(message(() => candidateUsers({ ...d, test: undefined }, 'test')), "RangeError: Expected a dataset with a test split for users 'test' but synthetic:tiny has none");
  // Users: every one with a training item; 'test' also needs a test item.
  const small: Dataset = {
    ...d, nUsers: 4, userIds: [0, 1, 2, 3],
    train: { rows: 4, cols: d.nItems, indptr: Uint32Array.of(0, 1, 1, 2, 3), indices: Uint32Array.of(0, 1, 2) },
    test: { rows: 4, cols: d.nItems, indptr: Uint32Array.of(0, 0, 1, 2, 2), indices: Uint32Array.of(3, 4) },
  };
  assert.deepEqual(Array.from(candidateUsers(small, 'all')), [0, 2, 3]);
  assert.deepEqual(Array.from(candidateUsers(small, 'test')), [2]);
  assert.deepEqual(Array.from(candidateUsers({ ...small, test: undefined }, 'all')), [0, 2, 3]);
  // candidatesFromCsr: each user's row, empty rows left out.
  assert.deepEqual(candidatesFromCsr({ rows: 3, cols: 6, indptr: Uint32Array.of(0, 2, 2, 3), indices: Uint32Array.of(2, 0, 5) }), {
    users: Uint32Array.of(0, 2), indptr: Uint32Array.of(0, 2, 3), items: Uint32Array.of(2, 0, 5),
  });
  // No users: an empty file. A line with a user and no items, blank lines, tabs and CRLF read back.
  const file = join(dir, 'empty.txt');
  writeCandidates(file, { users: new Uint32Array(0), indptr: Uint32Array.of(0), items: new Uint32Array(0) }, d);
  assert.equal(readFileSync(file, 'utf8'), '');
  writeFileSync(file, '\r\n  7\t3 4 \r\n\n9\r\n');
  assert.deepEqual(await readCandidates(file, d), { users: Uint32Array.of(7, 9), indptr: Uint32Array.of(0, 2, 2), items: Uint32Array.of(3, 4) });
  await assert.rejects(readCandidates(dir, d), (e: Error) => e.name === 'DataFileError' && /: cannot read the candidate file \(EISDIR\)/.test(e.message));
  const u = embeddings(d.nUsers, 4, 1), v = embeddings(d.nItems, 4, 2);
  await assert.rejects(generateCandidates(d, u, v, 4, { n: 1.5 }), { name: 'RangeError', message: 'Expected a positive integer for n but received 1.5' });
  await assert.rejects(generateCandidates(d, u.subarray(4), v, 4), { name: 'RangeError', message: `Expected userEmb of 200 x 4 values but received ${u.length - 4}` });
  await assert.rejects(generateCandidates(d, u, v.subarray(4), 4), { name: 'RangeError', message: `Expected itemEmb of 100 x 4 values but received ${v.length - 4}` });
  await assert.rejects(generateCandidates(d, u, [] as never, 4), { name: 'TypeError', message: /^Expected Float32Array for itemEmb but received / });
  // n = 1 is allowed; with n = nItems every row is short of n unmasked items, and the padding is dropped.
  const one = await generateCandidates(d, u, v, 4, { n: 1, threads: 1 });
  assert.deepEqual(rows(one), referenceCandidates(d, u, v, 4, one.users, 1));
  const all = await generateCandidates(d, u, v, 4, { n: d.nItems, threads: 1 });
  assert.equal(all.items.length, all.indptr[all.users.length]);
  assert.deepEqual(rows(all), referenceCandidates(d, u, v, 4, all.users, d.nItems));
  assert.deepEqual(Array.from(all.users, (user, r) => all.indptr[r + 1] - all.indptr[r]), Array.from(all.users, (user) => d.nItems - (d.train.indptr[user + 1] - d.train.indptr[user])));
  // Defaults: 20 candidates per user, every user with a training item.
  const byDefault = await generateCandidates(d, u, v, 4, { threads: 1 });
  assert.deepEqual(byDefault.users, candidateUsers(d, 'all'));
  assert.deepEqual(rows(byDefault), referenceCandidates(d, u, v, 4, byDefault.users, 20));
});

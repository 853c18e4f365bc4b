import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { loadDataset } from '../src/data/load.js';
import { datasetStats } from '../src/data/stats.js';
import { csrRow } from '../src/data/csr.js';
import { DataFileError } from '../src/data/errors.js';
import type { Csr, Dataset } from '../src/data/types.js';

const dir = mkdtempSync(join(tmpdir(), 'dtlns-load-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
/** dist/test/ -> the repository root -> ../shared/datasets. */
const sharedDatasets = resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/datasets');

function folder(name: string, files: Record<string, string | Buffer>): string {
  const path = join(dir, name);
  mkdirSync(path, { recursive: true });
  for (const [file, text] of Object.entries(files)) writeFileSync(join(path, file), text);
  return path;
}

function rowsByOriginalId(ds: Dataset, csr: Csr): Record<number, number[]> {
  const out: Record<number, number[]> = {};
  for (let u = 0; u < csr.rows; u++) {
    const row = csrRow(csr, u);
    if (row.length > 0) out[ds.userIds[u]] = Array.from(row, (i) => ds.itemIds[i]);
  }
  return out;
}

async function rejectsAt(promise: Promise<unknown>, file: string, line: number | undefined, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (e: Error) => {
    assert.ok(e instanceof DataFileError, `expected a DataFileError, got ${e}`);
    assert.ok(e.message.includes(file), `message should name ${file}: ${e.message}`);
    if (line !== undefined) assert.ok(e.message.includes(`line ${line}:`), `message should name line ${line}: ${e.message}`);
    assert.match(e.message, pattern);
    return true;
  });
}

test('a folder keeps its split; ids are mapped ascending and the originals kept', async () => {
  const path = folder('given', { 'train.txt': '30 100 300\n10 200\n', 'valid.txt': '30 200\n', 'test.txt.gz': gzipSync('10 300 500\n') });
  const ds = await loadDataset(path);
  assert.equal(ds.name, 'given');
  assert.deepEqual(ds.userIds, [10, 30]);
  assert.deepEqual(ds.itemIds, [100, 200, 300, 500]);
  assert.deepEqual(rowsByOriginalId(ds, ds.train), { 10: [200], 30: [100, 300] });
  assert.deepEqual(rowsByOriginalId(ds, ds.valid!), { 30: [200] });
  assert.deepEqual(rowsByOriginalId(ds, ds.test!), { 10: [300, 500] });
  assert.deepEqual(ds.reports.map((r) => [r.lines, r.interactions, r.duplicatesDropped]), [[2, 3, 0], [1, 1, 0], [1, 2, 0]]);
  const stats = datasetStats(ds);
  assert.equal(stats.itemsOnlyInValidOrTest, 1);
  assert.equal(stats.nInteractions, 6);
  assert.equal(stats.density, 6 / 8);
  assert.equal(stats.trainItemsPerUser.median, 1.5);
});

test('stats.json n_users/n_items set the counts (items that occur in no file get an index)', async () => {
  const path = folder('withstats', { 'train.txt': '0 1 2\n1 2\n', 'test.txt': '1 3\n', 'stats.json': JSON.stringify({ n_users: 3, n_items: 6 }) });
  const ds = await loadDataset(path);
  assert.equal(ds.nUsers, 3);
  assert.equal(ds.nItems, 6);
  assert.deepEqual(ds.itemIds, [0, 1, 2, 3, 4, 5]);
  assert.equal(ds.valid, undefined);
  const stats = datasetStats(ds);
  assert.equal(stats.itemsWithoutInteractions, 3);
  assert.equal(stats.itemsOnlyInValidOrTest, 1);
  const bad = folder('badstats', { 'train.txt': '0 1 7\n', 'test.txt': '0 2\n', 'stats.json': '{"n_users": 1, "n_items": 5}' });
  await rejectsAt(loadDataset(bad), join(bad, 'train.txt'), 1, /item id 7 is not below n_items = 5/);
  const broken = folder('brokenstats', { 'train.txt': '0 1\n', 'test.txt': '0 2\n', 'stats.json': '{"n_users": ' });
  await rejectsAt(loadDataset(broken), join(broken, 'stats.json'), undefined, /not valid JSON/);
});

test('duplicate pairs are dropped and counted, within a file and across splits', async () => {
  const path = folder('dups', { 'train.txt': '0 1 1 2\n0 3\n', 'valid.txt': '0 4 2\n', 'test.txt': '0 4 5 5\n' });
  const ds = await loadDataset(path);
  assert.deepEqual(rowsByOriginalId(ds, ds.train), { 0: [1, 2, 3] });
  assert.deepEqual(rowsByOriginalId(ds, ds.valid!), { 0: [4] });
  assert.deepEqual(rowsByOriginalId(ds, ds.test!), { 0: [5] });
  assert.deepEqual(ds.reports.map((r) => r.duplicatesDropped), [1, 1, 2]);
});

test('a valid/test user without training items is an error naming the file and line, or dropped and counted', async () => {
  const path = folder('cold', { 'train.txt': '0 1\n', 'valid.txt': '0 2\n', 'test.txt': '0 3\n9 1 2\n' });
  await rejectsAt(loadDataset(path), join(path, 'test.txt'), 2, /user 9 has no training interaction/);
  const ds = await loadDataset(path, { dropColdUsers: true });
  const testReport = ds.reports[2];
  assert.equal(testReport.coldUsersDropped, 1);
  assert.equal(testReport.coldInteractionsDropped, 2);
  assert.equal(testReport.interactions, 1);
  assert.deepEqual(rowsByOriginalId(ds, ds.test!), { 0: [3] });
});

test('folder errors: missing folder, missing train or test, malformed lines', async () => {
  const missing = join(dir, 'absent');
  await rejectsAt(loadDataset(missing), missing, undefined, /no such file or folder \(ENOENT\)/);
  const noTest = folder('notest', { 'train.txt': '0 1\n' });
  await rejectsAt(loadDataset(noTest), noTest, undefined, /test is missing/);
  const bad = folder('bad', { 'train.txt': '0 1\n1 x\n', 'test.txt': '0 2\n' });
  await rejectsAt(loadDataset(bad), join(bad, 'train.txt'), 2, /item id but found "x"/);
  const empty = folder('empty', { 'train.txt': '0 1\n', 'test.txt': '' });
  await rejectsAt(loadDataset(empty), join(empty, 'test.txt'), 1, /empty/);
});

test('a single file is split (default per-user random 0.8/0.1/0.1, seed 2026), deterministically', async () => {
  const lines: string[] = [];
  for (let u = 0; u < 40; u++) lines.push(`${100 + u} ${Array.from({ length: 5 + (u % 11) }, (_, k) => 1000 + ((u * 7 + k * 13) % 97)).join(' ')}`);
  const path = join(dir, 'sequences.txt');
  writeFileSync(path, lines.join('\n') + '\n');
  const a = await loadDataset(path);
  const b = await loadDataset(path, { split: { mode: 'random', seed: 2026 } });
  const c = await loadDataset(path, { seed: 7 });
  assert.deepEqual(a.test, b.test);
  assert.notDeepEqual(a.test, c.test);
  assert.equal(a.userIds[0], 100);
  const total = (ds: Dataset): number => ds.train.indices.length + ds.valid!.indices.length + ds.test!.indices.length;
  assert.equal(total(a), a.reports[0].interactions);
  for (let u = 0; u < a.nUsers; u++) {
    const n = csrRow(a.train, u).length + csrRow(a.valid!, u).length + csrRow(a.test!, u).length;
    assert.equal(csrRow(a.test!, u).length, Math.max(1, Math.floor((n + 5) / 10)));
  }
});

test('a rated file: minRating, leave-last-out and temporal splits', async () => {
  const rows = ['user,item,rating,timestamp'];
  for (let u = 1; u <= 6; u++) for (let k = 0; k < 6; k++) rows.push(`${u},${10 + k},${k === 0 ? 1 : 4},${u * 100 + (k === 3 ? 99 : k)}`);
  const path = join(dir, 'ratings.csv');
  writeFileSync(path, rows.join('\n') + '\n');
  const llo = await loadDataset(path, { split: 'leave-last-out', minRating: 3 });
  assert.equal(llo.reports[0].belowMinRating, 6);
  for (let u = 0; u < 6; u++) {
    assert.deepEqual(Array.from(csrRow(llo.test!, u), (i) => llo.itemIds[i]), [13]);
    assert.deepEqual(Array.from(csrRow(llo.valid!, u), (i) => llo.itemIds[i]), [15]);
  }
  const temporal = await loadDataset(path, { split: { mode: 'temporal', validRatio: 0.2, testRatio: 0.2 } });
  assert.ok((temporal.reports[0].coldUsersDropped ?? 0) > 0, 'users first seen after the cut are dropped');
  await rejectsAt(loadDataset(path, { split: 'temporal', dropColdUsers: false }), path, undefined, /has no training interaction/);
  const noTime = join(dir, 'pairs.txt');
  writeFileSync(noTime, '1 2\n1 3\n');
  await rejectsAt(loadDataset(noTime, { split: 'temporal' }), noTime, undefined, /needs a timestamp column/);
});

test('synthetic sources and bad options', async () => {
  const ds = await loadDataset('synthetic:tiny', { seed: 3 });
  assert.equal(ds.name, 'synthetic:tiny');
  assert.ok(ds.hidden && ds.taxonomy);
  assert.deepEqual((await loadDataset('synthetic:tiny', { seed: 3 })).train, ds.train);
  await assert.rejects(loadDataset('synthetic:huge'), (e: Error) => e instanceof RangeError && /synthetic:<preset>/.test(e.message));
  await assert.rejects(loadDataset(''), (e: Error) => e instanceof TypeError && /source/.test(e.message));
  await assert.rejects(loadDataset('synthetic', { seed: 1.5 }), (e: Error) => e instanceof TypeError && /options\.seed/.test(e.message));
  await assert.rejects(loadDataset('synthetic', { split: 'fold' as 'random' }), (e: Error) => e instanceof RangeError && /options\.split/.test(e.message));
  await assert.rejects(loadDataset('synthetic', { dropColdUsers: 1 as unknown as boolean }), (e: Error) => e instanceof TypeError && /options\.dropColdUsers/.test(e.message));
});

test('shared datasets: dtlns-sports loads with the counts of its stats.json', async (t) => {
  const path = join(sharedDatasets, 'dtlns-sports');
  if (!existsSync(path)) {
    t.skip(`../shared/datasets/dtlns-sports is absent (${path})`);
    return;
  }
  const stats = JSON.parse(readFileSync(join(path, 'stats.json'), 'utf8')) as Record<string, number>;
  const ds = await loadDataset(path);
  const s = datasetStats(ds);
  assert.equal(s.nUsers, 15138);
  assert.equal(s.nItems, 8439);
  assert.equal(s.nTrain, 171621);
  assert.deepEqual([s.nUsers, s.nItems, s.nTrain, s.nValid, s.nTest], [stats.n_users, stats.n_items, stats.n_train, stats.n_valid, stats.n_test]);
  assert.equal(s.itemsOnlyInValidOrTest, stats.items_only_in_valid_or_test);
  assert.equal(s.usersWithTest, stats.users_with_test);
  assert.deepEqual(ds.reports.map((r) => r.duplicatesDropped), [0, 0, 0]);
});

test('shared datasets: a random split of raw/iclrec/Beauty.txt (seed 2026) reproduces beauty/ exactly', async (t) => {
  const raw = join(sharedDatasets, 'raw', 'iclrec', 'Beauty.txt');
  const folderPath = join(sharedDatasets, 'beauty');
  if (!existsSync(raw) || !existsSync(folderPath)) {
    t.skip(`../shared/datasets/raw/iclrec/Beauty.txt or beauty/ is absent (${sharedDatasets})`);
    return;
  }
  const ours = await loadDataset(raw, { split: { mode: 'random', seed: 2026 } });
  const theirs = await loadDataset(folderPath);
  assert.equal(ours.nUsers, theirs.nUsers);
  assert.equal(ours.nItems, theirs.nItems);
  for (const key of ['train', 'valid', 'test'] as const) {
    assert.deepEqual(ours[key]!.indptr, theirs[key]!.indptr, key);
    assert.deepEqual(ours[key]!.indices, theirs[key]!.indices, key);
  }
});

test('shared datasets: gowalla-lightgcn (gzipped train) loads fast with its stats.json counts', async (t) => {
  const path = join(sharedDatasets, 'gowalla-lightgcn');
  if (!existsSync(path)) {
    t.skip(`../shared/datasets/gowalla-lightgcn is absent (${path})`);
    return;
  }
  const start = performance.now();
  const ds = await loadDataset(path);
  const ms = performance.now() - start;
  t.diagnostic(`gowalla-lightgcn loaded in ${ms.toFixed(0)} ms`);
  const s = datasetStats(ds);
  assert.deepEqual([s.nUsers, s.nItems, s.nTrain, s.nTest], [29858, 40981, 810128, 217242]);
  assert.equal(ds.valid, undefined);
  assert.ok(ms < 5000, `loading took ${ms.toFixed(0)} ms`);
});

/** Per user: each split's items as original ids, and the user's line order. */
function checkLeaveLastOut(ds: Dataset, lines: Map<number, number[]>): void {
  const rows = [ds.train, ds.valid!, ds.test!].map((m) => rowsByOriginalId(ds, m));
  for (const [user, seq] of lines) {
    const [train, valid, test] = rows.map((r) => r[user] ?? []);
    const all = [...train, ...valid, ...test];
    assert.equal(new Set(all).size, all.length, `user ${user}: train, valid and test are disjoint`);
    assert.deepEqual([...all].sort((a, b) => a - b), [...new Set(seq)].sort((a, b) => a - b), `user ${user}: every item in exactly one split`);
    if (seq.length < 3) {
      assert.deepEqual([valid, test], [[], []], `user ${user}: fewer than 3 items stay in train`);
      continue;
    }
    assert.deepEqual(test, [seq[seq.length - 1]], `user ${user}: the last item is test`);
    assert.deepEqual(valid, [seq[seq.length - 2]], `user ${user}: the one before is valid`);
    // Chronological: every training item comes before the valid item in the user's sequence.
    assert.ok(train.every((i) => seq.indexOf(i) < seq.length - 2), `user ${user}: train precedes valid and test`);
  }
}

test('a .dataset.json manifest splits its file per user leave-last-out in time order', async () => {
  const lines = new Map<number, number[]>([[1, [5, 3, 9, 4]], [2, [7, 1]], [3, [2, 8, 6, 5, 3, 10]], [4, [9, 3, 1]]]);
  const d = folder('manifest', { 'seq.txt': [...lines].map(([u, s]) => `${u} ${s.join(' ')}\n`).join('') });
  writeFileSync(join(d, 'seq-llo.dataset.json'), JSON.stringify({ file: 'seq.txt', format: 'lines', split: 'leave-last-out' }));
  // The manifest's split wins over the caller's (the CLI always passes --split).
  const ds = await loadDataset(join(d, 'seq-llo.dataset.json'), { split: 'random' });
  assert.equal(ds.name, 'seq-llo');
  checkLeaveLastOut(ds, lines);
  const named = await loadDataset(join(folder('manifest2', { 'a.dataset.json': JSON.stringify({ name: 'given', file: '../manifest/seq.txt', split: 'leave-last-out' }) }), 'a.dataset.json'));
  assert.equal(named.name, 'given');
  assert.deepEqual(rowsByOriginalId(named, named.test!), rowsByOriginalId(ds, ds.test!));
});

test('BAD CALL - a manifest names itself and the key', async () => {
  const d = folder('bad-manifests', { 'seq.txt': '1 2 3 4\n' });
  const bad = async (name: string, body: string, pattern: RegExp) => {
    writeFileSync(join(d, name), body);
    await rejectsAt(loadDataset(join(d, name)), name, undefined, pattern);
  };
  await bad('json.dataset.json', '{"file": ', /not valid JSON/);
  await bad('key.dataset.json', '{"file": "seq.txt", "splt": "random"}', /"splt" is not a manifest key/);
  await bad('nofile.dataset.json', '{"split": "random"}', /"file" must be/);
  await bad('mode.dataset.json', '{"file": "seq.txt", "split": "last"}', /"split" must be one of/);
  await bad('opt.dataset.json', '{"file": "seq.txt", "split": {"ratio": 1}}', /"split.ratio" is not a split option/);
  await bad('missing.dataset.json', '{"file": "absent.txt"}', /absent\.txt, which cannot be read/);
});

test('the Amazon Sports sequences of ../shared, leave-last-out (experiments/datasets/amazon-sports-llo.dataset.json)', async (t) => {
  const raw = join(sharedDatasets, 'raw', 'iclrec', 'Sports_and_Outdoors.txt');
  if (!existsSync(raw)) {
    t.skip(`${raw} is absent`);
    return;
  }
  const manifest = resolve(dirname(fileURLToPath(import.meta.url)), '../../experiments/datasets/amazon-sports-llo.dataset.json');
  const ds = await loadDataset(manifest);
  const lines = new Map<number, number[]>();
  for (const line of readFileSync(raw, 'utf8').split('\n')) {
    const ids = line.split(' ').filter(Boolean).map(Number);
    if (ids.length > 0) lines.set(ids[0], ids.slice(1));
  }
  assert.equal(ds.nUsers, lines.size);
  checkLeaveLastOut(ds, lines);
});

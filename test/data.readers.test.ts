import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { detectFormat, parseInteractions, readInteractions } from '../src/data/readers.js';
import { DataFileError } from '../src/data/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'dtlns-readers-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** Asserts a DataFileError whose message names the file and the line. */
async function rejectsAt(promise: Promise<unknown>, file: string, line: number | undefined, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (e: Error) => {
    assert.ok(e instanceof DataFileError, `expected a DataFileError, got ${e}`);
    assert.ok(e.message.includes(file), `message should name ${file}: ${e.message}`);
    if (line !== undefined) assert.ok(e.message.includes(`line ${line}:`), `message should name line ${line}: ${e.message}`);
    assert.equal(e.line, line);
    assert.match(e.message, pattern);
    return true;
  });
}

test('lines format: user item item ..., original ids and line numbers kept', async () => {
  const path = write('train.txt', '10 5 7 9\n\n3 7\n42\n 11 1  2 \r\n');
  const r = await readInteractions(path);
  assert.equal(r.format, 'lines');
  assert.deepEqual(Array.from(r.users), [10, 10, 10, 3, 11, 11]);
  assert.deepEqual(Array.from(r.items), [5, 7, 9, 7, 1, 2]);
  assert.deepEqual(Array.from(r.lines), [1, 1, 1, 3, 5, 5]);
  assert.equal(r.lineCount, 4);
  assert.equal(r.ratings, undefined);
});

test('gzipped files are read by content, whatever the name', async () => {
  const text = '0 1 2\n1 2 3 4\n';
  const gz = await readInteractions(write('train.txt.gz', gzipSync(text)));
  const plain = await readInteractions(write('valid.txt', text));
  assert.deepEqual(Array.from(gz.items), Array.from(plain.items));
  assert.equal(gz.format, 'lines');
  await rejectsAt(readInteractions(write('broken.txt.gz', Buffer.from([0x1f, 0x8b, 1, 2, 3]))), 'broken.txt.gz', undefined, /gzip/);
});

test('pairs format with rating and timestamp columns, and minRating', async () => {
  const path = write('ratings.txt', '1 10 4.5 100\n1 11 2 101\n2 10 3.0 99\n');
  const r = await readInteractions(path);
  assert.equal(r.format, 'pairs');
  assert.deepEqual(Array.from(r.ratings!), [4.5, 2, 3]);
  assert.deepEqual(Array.from(r.timestamps!), [100, 101, 99]);
  const kept = await readInteractions(path, { minRating: 3 });
  assert.deepEqual(Array.from(kept.items), [10, 10]);
  assert.equal(kept.belowMinRating, 1);
  const pairs = await readInteractions(write('pairs.txt', '5 6\n7 8\n'));
  assert.equal(pairs.format, 'pairs');
  assert.deepEqual(Array.from(pairs.users), [5, 7]);
  await rejectsAt(readInteractions(write('norating.txt', '5 6\n7 8\n'), { minRating: 1 }), 'norating.txt', undefined, /minRating needs a rating column/);
});

test('CSV and TSV with headers: names matched case-insensitively, delimiter from the header, quotes', async () => {
  const csv = await readInteractions(write('ratings.csv', 'userId,movieId,rating,timestamp\n1,31,2.5,1260759144\n1,"1029",3.0,1260759179\n'));
  assert.equal(csv.format, 'csv');
  assert.deepEqual(Array.from(csv.users), [1, 1]);
  assert.deepEqual(Array.from(csv.items), [31, 1029]);
  assert.deepEqual(Array.from(csv.ratings!), [2.5, 3]);
  assert.deepEqual(Array.from(csv.lines), [2, 3]);
  const tsv = await readInteractions(write('data.tsv', 'ITEM_ID\tname\tUser_Id\n7\tsome, name\t3\n8\t\t4\n'));
  assert.deepEqual(Array.from(tsv.users), [3, 4]);
  assert.deepEqual(Array.from(tsv.items), [7, 8]);
  assert.equal(tsv.ratings, undefined);
  const semi = await readInteractions(write('x.dat', 'user;item;score\n1;2;5\n'));
  assert.equal(semi.format, 'csv');
  assert.deepEqual(Array.from(semi.ratings!), [5]);
  const spaced = await readInteractions(write('y.txt', 'user_id item_id\n4 5\n'));
  assert.deepEqual([spaced.users[0], spaced.items[0]], [4, 5]);
  const filtered = await readInteractions(write('r.csv', 'user,item,rating\n1,2,5\n1,3,1\n'), { minRating: 4 });
  assert.deepEqual(Array.from(filtered.items), [2]);
  assert.equal(filtered.belowMinRating, 1);
});

test('MovieLens u.data: tab separated user item rating timestamp', async () => {
  const r = await readInteractions(write('u.data', '196\t242\t3\t881250949\n186\t302\t3\t891717742\n'));
  assert.equal(r.format, 'udata');
  assert.deepEqual(Array.from(r.users), [196, 186]);
  assert.deepEqual(Array.from(r.timestamps!), [881250949, 891717742]);
  await rejectsAt(readInteractions(write('u.data', '196\t242\t3\n')), 'u.data', 1, /expected 4 columns/);
});

test('format detection by name and content, and the explicit override', () => {
  const bytes = (s: string): Buffer => Buffer.from(s);
  assert.equal(detectFormat('a/test.txt.gz', bytes('1 2 3\n4 5 6\n')), 'lines');
  assert.equal(detectFormat('x.csv', bytes('1,2\n')), 'csv');
  assert.equal(detectFormat('seq.txt', bytes('1 2 3\n4 5\n')), 'lines');
  assert.equal(detectFormat('pairs.txt', bytes('1 2 1\n4 5 1\n')), 'pairs');
  assert.equal(detectFormat('h.txt', bytes('user item\n1 2\n')), 'csv');
  const asLines = parseInteractions(bytes('1 2 1\n4 5 1\n'), 'pairs.txt', { format: 'lines' });
  assert.deepEqual(Array.from(asLines.items), [2, 1, 5, 1]);
  assert.throws(() => parseInteractions(bytes('1 2'), 'x', { format: 'json' as 'lines' }), (e: Error) => e instanceof RangeError && /options\.format/.test(e.message));
  assert.throws(() => parseInteractions('1 2' as unknown as Uint8Array, 'x'), (e: Error) => e instanceof TypeError && /bytes/.test(e.message));
});

test('malformed: a non-integer id names the file and the line', async () => {
  await rejectsAt(readInteractions(write('train.txt', '0 1 2\n1 foo 3\n')), 'train.txt', 2, /non-negative integer item id but found "foo"/);
  await rejectsAt(readInteractions(write('train.txt', '0 1 2\n1 2\n2 1.5\n')), 'train.txt', 3, /item id but found "1\.5"/);
  await rejectsAt(readInteractions(write('train.txt', '-1 2\n')), 'train.txt', 1, /user id but found "-1"/);
  await rejectsAt(readInteractions(write('train.txt', '1 99999999999\n')), 'train.txt', 1, /above 4294967295/);
  await rejectsAt(readInteractions(write('p.txt', '1 2 3.5\n1 x 4\n')), 'p.txt', 2, /item id but found "x"/);
  await rejectsAt(readInteractions(write('c.csv', 'user,item\n1,2\n3,-4\n')), 'c.csv', 3, /item id but found "-4"/);
  await rejectsAt(readInteractions(write('c.csv', 'user,item,rating\n1,2,good\n')), 'c.csv', 2, /numeric rating but found "good"/);
  await rejectsAt(readInteractions(write('c.csv', 'user,item,timestamp\n1,2,yesterday\n')), 'c.csv', 2, /numeric timestamp/);
});

test('malformed: wrong column count names the file and the line', async () => {
  await rejectsAt(readInteractions(write('p.txt', '1 2 5\n3 4 5\n6 7\n'), { format: 'pairs' }), 'p.txt', 3, /expected 3 columns but found 2/);
  await rejectsAt(readInteractions(write('c.csv', 'user,item,rating\n1,2,3\n4,5\n')), 'c.csv', 3, /expected 3 columns but found 2/);
  await rejectsAt(readInteractions(write('p.txt', '1 2 3 4 5\n'), { format: 'pairs' }), 'p.txt', 1, /expected 2 to 4 columns/);
});

test('malformed: empty file, header-only CSV, CSV without user or item column', async () => {
  await rejectsAt(readInteractions(write('empty.txt', '')), 'empty.txt', 1, /empty/);
  await rejectsAt(readInteractions(write('blank.txt', '\n  \n')), 'blank.txt', 1, /empty/);
  await rejectsAt(readInteractions(write('h.csv', 'user,item\n')), 'h.csv', 2, /header but no data rows/);
  await rejectsAt(readInteractions(write('nouser.csv', 'customer,item\n1,2\n')), 'nouser.csv', 1, /no user column/);
  await rejectsAt(readInteractions(write('noitem.csv', 'user,thing\n1,2\n')), 'noitem.csv', 1, /no item column/);
});

test('malformed: a missing file gives a clear message naming the path', async () => {
  const missing = join(dir, 'nope', 'train.txt');
  await rejectsAt(readInteractions(missing), missing, undefined, /no such file \(ENOENT\)/);
  await rejectsAt(readInteractions(dir), dir, undefined, /is a folder/);
});

test('reading a million-interaction file is fast', async () => {
  const lines: string[] = [];
  for (let u = 0; u < 20000; u++) {
    const items: number[] = [];
    for (let k = 0; k < 50; k++) items.push((u * 31 + k * 977) % 40000);
    lines.push(`${u} ${items.join(' ')}`);
  }
  const path = write('big.txt', lines.join('\n') + '\n');
  const start = performance.now();
  const r = await readInteractions(path);
  const ms = performance.now() - start;
  assert.equal(r.count, 1_000_000);
  assert.ok(ms < 2000, `1M interactions took ${ms.toFixed(0)} ms`);
});

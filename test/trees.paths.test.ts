import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPaths, writePaths, formatPaths } from '../src/trees/path-file.js';
import { packPaths } from '../src/trees/path-codes.js';
import { treeStats } from '../src/trees/stats.js';
import { DataFileError } from '../src/data/errors.js';
import { packageRoot } from '../src/native.js';

const sharedDatasets = join(packageRoot, '..', 'shared', 'datasets');

function withFolder(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'dtlns-paths-'));
  return run(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

/** Items with original ids 100, 205, 7, 42 at indices 0..3. */
const dataset = { nItems: 4, itemIds: [100, 205, 7, 42] };

test('path files: write then read round-trips, with original ids and atomically', () =>
  withFolder(async (dir) => {
    const codes = packPaths([[0, 1, 3, 2], [2], [0, 1], []]);
    const file = join(dir, 'paths-struct.txt');
    await writePaths(file, codes, dataset);
    assert.equal(readFileSync(file, 'utf8'), '100 0-1-3-2\n205 2\n7 0-1\n42\n');
    assert.deepEqual(readdirSync(dir), ['paths-struct.txt'], 'no temporary file is left');
    assert.deepEqual(await readPaths(file, dataset), codes);
  }));

test('path files: the authors\' "item: path" variant, any line order and blank lines read', () =>
  withFolder(async (dir) => {
    const file = join(dir, 'authors.txt');
    writeFileSync(file, '42: 3-1\r\n\n7: 0-0-1\n100: 2\n205: 2-0\n');
    const codes = await readPaths(file, dataset);
    assert.deepEqual(codes, packPaths([[2], [2, 0], [0, 0, 1], [3, 1]]));
  }));

test('path files: malformed lines, unknown, duplicate and missing items fail naming the file and line', () =>
  withFolder(async (dir) => {
    const cases: [string, RegExp][] = [
      ['100 0-1\n205 0-x\n', /bad\.txt, line 2: expected "item 0-1-3-2".*"205 0-x"/],
      ['100 0-1\n205 0--1\n', /line 2: expected/],
      ['100 0-1 7\n', /line 1: expected/],
      ['100 0-1\n999 1\n', /line 2: item 999 is not an item of the dataset/],
      ['100 0-1\n205 1\n100 2\n', /line 3: item 100 appears again \(first on line 1\)/],
      ['100 0-1\n205 1\n', /bad\.txt: 2 of 4 items have no path \(first: 7, 42\)/],
    ];
    const file = join(dir, 'bad.txt');
    for (const [text, message] of cases) {
      writeFileSync(file, text);
      await assert.rejects(readPaths(file, dataset), (error: unknown) => {
        assert.ok(error instanceof DataFileError);
        assert.match(error.message, message);
        assert.equal(error.file, file);
        return true;
      });
    }
    await assert.rejects(readPaths(join(dir, 'absent.txt'), dataset), { name: 'DataFileError', message: /absent\.txt: cannot be read/ });
  }));

test('BAD CALL - path files: wrong arguments name the argument', async () => {
  const codes = packPaths([[0], [1], [2], [3]]);
  await assert.rejects(readPaths('', dataset), { name: 'TypeError', message: /\bfile\b/ });
  await assert.rejects(readPaths('x.txt', { nItems: 2, itemIds: [1] }), { name: 'TypeError', message: /dataset/ });
  await assert.rejects(writePaths(join(tmpdir(), 'never.txt'), packPaths([[0]]), dataset), { name: 'RangeError', message: /codes/ });
  assert.throws(() => formatPaths({ ...codes, paths: new Int32Array(1) }, dataset), { name: 'RangeError', message: /codes\.paths/ });
});

for (const name of ['dtlns-sports', 'dtlns-toys']) {
  const folder = join(sharedDatasets, name);
  const present = existsSync(join(folder, 'paths-struct.txt'));
  test(`shared datasets: the DTL-NS authors' ${name} path files load`, { skip: present ? false : `${folder} is absent` }, async () => {
    const stats = JSON.parse(readFileSync(join(folder, 'stats.json'), 'utf8')) as { n_items: number };
    const items = { nItems: stats.n_items, itemIds: Array.from({ length: stats.n_items }, (_, i) => i) };
    for (const file of ['paths-struct.txt', 'paths-semantic.txt']) {
      const codes = await readPaths(join(folder, file), items);
      assert.equal(codes.nItems, stats.n_items);
      const shape = treeStats(codes);
      assert.ok(shape.maxDepth >= 4 && shape.leaves > stats.n_items / 100, `${file}: ${JSON.stringify({ ...shape, leafSizes: undefined })}`);
      // Re-written with our writer, the file reads back to the same codes.
      await withFolder(async (dir) => {
        await writePaths(join(dir, file), codes, items);
        assert.deepEqual(await readPaths(join(dir, file), items), codes);
      });
    }
  });
}

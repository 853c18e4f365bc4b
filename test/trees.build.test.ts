import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildTrees } from '../src/trees/build.js';
import { readPaths } from '../src/trees/path-file.js';
import { generateSynthetic } from '../src/data/synthetic.js';
import { writeNpy } from '../src/model/npy.js';
import { packageRoot } from '../src/native.js';

const run = promisify(execFile);
const dataset = generateSynthetic({ preset: 'tiny' });

function randomEmbeddings(rows: number, dim: number): Float32Array {
  let s = 7;
  return Float32Array.from({ length: rows * dim }, () => ((s = (s * 48271) % 2147483647) / 2147483647) - 0.5);
}

function withFolder(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'dtlns-trees-'));
  return body(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

test('buildTrees: both trees, their stats and timings, written as path files that read back', () =>
  withFolder(async (dir) => {
    const embeddings = { data: randomEmbeddings(dataset.nItems, 8), shape: [dataset.nItems, 8] };
    const stages: string[] = [];
    const result = await buildTrees({ dataset, embeddings, leafSize: 10, threads: 2, out: dir, spectral: { dims: 8 }, onStage: (s) => stages.push(s) });
    assert.deepEqual(stages, ['jaccard', 'spectral', 'structuralTree', 'semanticTree', 'write']);
    for (const built of [result.structural!, result.semantic!]) {
      assert.equal(built.stats.items, dataset.nItems);
      assert.ok(built.stats.leafSizes.max <= 10);
      assert.equal(built.stats.depthHistogram.reduce((a, b) => a + b, 0), dataset.nItems);
      assert.deepEqual(await readPaths(built.file!, dataset), {
        nItems: built.tree.nItems, maxDepth: built.tree.maxDepth, paths: built.tree.paths, lengths: built.tree.lengths,
      });
    }
    assert.equal(result.structural!.spectral.eigenvalues.length, 8);
    assert.ok(result.seconds.total >= result.seconds.structuralTree!);
  }));

test('BAD CALL - buildTrees: embeddings of the wrong shape, with NaN, or nothing to build name the argument', async () => {
  const good = randomEmbeddings(dataset.nItems, 4);
  await assert.rejects(buildTrees({ dataset, embeddings: { data: good.subarray(4), shape: [dataset.nItems - 1, 4] }, structural: false }), {
    name: 'RangeError', message: new RegExp(`one row per item \\(${dataset.nItems}\\) but received ${dataset.nItems - 1} rows`),
  });
  await assert.rejects(buildTrees({ dataset, embeddings: { data: good, shape: [dataset.nItems * 4] }, structural: false }), { name: 'RangeError', message: /embeddings of shape/ });
  const withNaN = good.slice();
  withNaN[9] = NaN;
  await assert.rejects(buildTrees({ dataset, embeddings: { data: withNaN, shape: [dataset.nItems, 4] }, structural: false }), {
    name: 'RangeError', message: /embeddings but row 2, column 1 is NaN/,
  });
  await assert.rejects(buildTrees({ dataset, structural: false }), { name: 'RangeError', message: /options\.embeddings/ });
  await assert.rejects(buildTrees({ dataset, branching: 1 }), { name: 'RangeError', message: /options\.branching/ });
  await assert.rejects(buildTrees({ dataset, leafSize: 0 }), { name: 'RangeError', message: /options\.leafSize/ });
  await assert.rejects(buildTrees({ dataset, spectral: { scaling: 'cube' as never } }), { name: 'RangeError', message: /options\.spectral\.scaling/ });
  await assert.rejects(buildTrees({ dataset: { nItems: 3 } as never }), { name: 'TypeError', message: /options\.dataset/ });
  await assert.rejects(buildTrees({ dataset, spectral: { dims: dataset.nItems } }), { name: 'RangeError', message: /options\.spectral\.dims/ });
});

test('CLI trees: writes both path files and prints one JSON object; embeddings alone name items by row', () =>
  withFolder(async (dir) => {
    const cli = join(packageRoot, 'bin', 'dtlns-native.js');
    const npy = join(dir, 'items.npy');
    writeNpy(npy, randomEmbeddings(dataset.nItems, 8), [dataset.nItems, 8]);
    const both = await run(process.execPath, [cli, 'trees', '--data', 'synthetic:tiny', '--embeddings', npy, '--out', dir, '--json', '--quiet', '--threads', '2', '--leaf-size', '12', '--spectral-dims', '8']);
    const summary = JSON.parse(both.stdout.trim().split('\n').at(-1)!);
    assert.equal(summary.items, dataset.nItems);
    assert.ok(summary.structural.leafSizes.max <= 12 && summary.semantic.leafSizes.max <= 12);
    assert.equal(readFileSync(join(dir, 'paths-struct.txt'), 'utf8').trim().split('\n').length, dataset.nItems);
    assert.equal(readFileSync(join(dir, 'paths-semantic.txt'), 'utf8').trim().split('\n').length, dataset.nItems);

    const alone = await run(process.execPath, [cli, 'trees', '--embeddings', npy, '--no-structural', '--json', '--quiet', '--threads', '1']);
    assert.equal(JSON.parse(alone.stdout.trim()).semantic.nodes > 1, true);
    await assert.rejects(run(process.execPath, [cli, 'trees', '--embeddings', npy, '--quiet']), (error: { stderr: string }) => {
      assert.match(error.stderr, /structural tree needs interactions/);
      return true;
    });
  }));

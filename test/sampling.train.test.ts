/** The samplers through the training API and the CLI: path files, augmented positives, outputs. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSynthetic } from '../src/data/synthetic.js';
import type { Csr, Dataset } from '../src/data/types.js';
import { train } from '../src/train/train.js';
import { usersWithItems } from '../src/eval/evaluate.js';
import { rankingMetrics } from '../src/eval/metrics.js';
import { referenceMaskedTopK } from '../src/eval/topk-reference.js';
import { importLabels } from '../src/labels/import.js';
import { DataFileError } from '../src/data/errors.js';
import { writePaths } from '../src/trees/path-file.js';
import type { PathCodes } from '../src/trees/path-codes.js';
import { bin } from './support/cli.js';

const dataset = generateSynthetic({ preset: 'tiny' });

/** The planted taxonomy as path codes (a stand-in for a built tree). */
function taxonomyPaths(d: Dataset): PathCodes {
  const t = d.taxonomy!;
  return { nItems: d.nItems, maxDepth: t.depth, paths: t.paths, lengths: new Int32Array(d.nItems).fill(t.depth) };
}

function rowsOf(csr: Csr, u: number): Uint32Array {
  return csr.indices.subarray(csr.indptr[u], csr.indptr[u + 1]);
}

test('train with dtlns reads both path tables, states the sampler and learns', async () => {
  const codes = taxonomyPaths(dataset);
  const result = await train(dataset, { sampler: 'dtlns', pathsCo: codes, pathsSe: codes, model: 'lightgcn', layers: 2, epochs: 4, evalEvery: 2, threads: 1 });
  assert.equal(result.sampler.sampler, 'dtlns');
  assert.equal(result.sampler.negs, 10);
  assert.equal(result.sampler.alphaCo, 0.1);
  assert.match(String(result.sampler.pathsCo), /^[0-9a-f]{16}$/);
  assert.ok(result.history[0].loss > result.history[3].loss, 'the loss went down');
  // The test figures are those of the returned embeddings, ranked in plain TS with the training items masked.
  const users = usersWithItems(dataset.test!);
  const ranked = referenceMaskedTopK(result.userEmb, result.itemEmb, result.dim, users, 50, dataset.train);
  assert.deepEqual(result.test, rankingMetrics(ranked.items, 50, users, dataset.test!, [5, 10, 20, 50]));
});

test('importLabels reads a label store and a user-item file with original ids', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dtlns-extra-'));
  try {
    // Two items that user 3 has not trained on (training pairs are dropped on import).
    const own = new Set(rowsOf(dataset.train, 3));
    const [a, b] = Array.from({ length: dataset.nItems }, (_, x) => x).filter((x) => !own.has(x));
    const u = dataset.userIds[3], i = dataset.itemIds[a], j = dataset.itemIds[b];
    const labels = join(dir, 'labels.jsonl');
    writeFileSync(labels, [
      JSON.stringify({ user: u, item: i, label: 'positive', labeler: 'rule', model: 'theta=1' }),
      JSON.stringify({ user: u, item: j, label: 'negative', labeler: 'rule', model: 'theta=1' }),
    ].join('\n') + '\n');
    const fromLabels = await importLabels(labels, dataset);
    assert.equal(fromLabels.format, 'labels');
    assert.deepEqual(Array.from(rowsOf(fromLabels.positives, 3)), [a]);
    const pairs = join(dir, 'extra.txt');
    writeFileSync(pairs, `${u} ${j}\n${u} ${i}\n`);
    const fromPairs = await importLabels(pairs, dataset);
    assert.equal(fromPairs.format, 'pairs');
    assert.deepEqual(Array.from(rowsOf(fromPairs.positives, 3)), [a, b]);
    writeFileSync(pairs, `${u} ${i}\n${u} 99999\n`);
    await assert.rejects(importLabels(pairs, dataset), (e: Error) => e instanceof DataFileError && e.line === 2 && /item 99999/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function writeLines(file: string, csr: Csr): void {
  const lines: string[] = [];
  for (let u = 0; u < csr.rows; u++) {
    const items = rowsOf(csr, u);
    if (items.length) lines.push([dataset.userIds[u], ...Array.from(items, (i) => dataset.itemIds[i])].join(' '));
  }
  writeFileSync(file, lines.join('\n') + '\n');
}

test('cli: train --sampler dtlns finds the path files in the --data folder, takes --extra-positives, prints the sampler', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dtlns-sampling-cli-'));
  try {
    writeLines(join(dir, 'train.txt'), dataset.train);
    writeLines(join(dir, 'valid.txt'), dataset.valid!);
    writeLines(join(dir, 'test.txt'), dataset.test!);
    const extra = join(dir, 'extra.txt');
    writeFileSync(extra, `${dataset.userIds[0]} ${dataset.itemIds[rowsOf(dataset.hidden!, 0)[0] ?? 0]}\n`);
    const common = ['train', '--data', dir, '--sampler', 'dtlns', '--epochs', '2', '--threads', '1', '--quiet', '--json'];
    const missing = spawnSync(process.execPath, [bin, ...common], { encoding: 'utf8' });
    assert.notEqual(missing.status, 0);
    assert.match(missing.stderr, /paths-struct.*dtlns-native trees/s);
    const codes = taxonomyPaths(dataset);
    await writePaths(join(dir, 'paths-struct.txt'), codes, dataset);
    await writePaths(join(dir, 'paths-semantic.txt'), codes, dataset);
    const r = spawnSync(process.execPath, [bin, ...common, '--extra-positives', extra, '--alpha-se', '0.5', '--negs', '4'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout.trim().split('\n').pop()!);
    assert.equal(j.sampler.sampler, 'dtlns');
    assert.equal(j.sampler.alphaSe, 0.5);
    assert.equal(j.sampler.negs, 4);
    assert.equal(j.evalMask, 'original');
    assert.ok(j.test['recall@20'] >= 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('train with ahns on MF and LightGCN states its target settings and learns', async () => {
  for (const [model, layers] of [['mf', 0], ['lightgcn', 2]] as const) {
    const result = await train(dataset, { sampler: 'ahns', ahnsBeta: 0.2, model, layers, epochs: 4, evalEvery: 2, threads: 1 });
    assert.deepEqual(result.sampler, { sampler: 'ahns', k: 1, negs: 10, ahnsAlpha: 1, ahnsBeta: 0.2, ahnsP: -2 }, model);
    assert.ok(result.history[0].loss > result.history[3].loss, `${model}: the loss went down`);
  }
});

test('cli: train --sampler ahns takes --ahns-* and refuses a bad one by name', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dtlns-ahns-cli-'));
  try {
    writeLines(join(dir, 'train.txt'), dataset.train);
    writeLines(join(dir, 'valid.txt'), dataset.valid!);
    writeLines(join(dir, 'test.txt'), dataset.test!);
    const common = ['train', '--data', dir, '--sampler', 'ahns', '--model', 'mf', '--epochs', '2', '--threads', '1', '--quiet', '--json'];
    const r = spawnSync(process.execPath, [bin, ...common, '--ahns-alpha', '0.5', '--ahns-p', '-3', '--negs', '6'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout.trim().split('\n').pop()!);
    assert.deepEqual([j.sampler.sampler, j.sampler.ahnsAlpha, j.sampler.ahnsBeta, j.sampler.ahnsP, j.sampler.negs], ['ahns', 0.5, 0.1, -3, 6]);
    const bad = spawnSync(process.execPath, [bin, ...common, '--ahns-beta', '-1'], { encoding: 'utf8' });
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /ahnsBeta/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

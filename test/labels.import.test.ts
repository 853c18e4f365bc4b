/** Labels as data: importing label files, the file labeler, the held-out policies, and the pipeline's independence of the test split. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFileLabeler, importLabels } from '../src/labels/import.js';
import { applyHeldOutPolicy } from '../src/labels/heldout.js';
import { generateSynthetic } from '../src/data/synthetic.js';
import { runPipeline } from '../src/pipeline/pipeline.js';
import type { Csr, Dataset } from '../src/data/types.js';
import { DataFileError } from '../src/data/errors.js';

const csr = (rows: number[][], cols: number): Csr => {
  const indptr = new Uint32Array(rows.length + 1);
  rows.forEach((r, u) => (indptr[u + 1] = indptr[u] + r.length));
  return { rows: rows.length, cols, indptr, indices: Uint32Array.from(rows.flat()) };
};
const rowOf = (m: Csr, u: number) => Array.from(m.indices.subarray(m.indptr[u], m.indptr[u + 1]));

// 3 users, 6 items, original ids 10.. and 100..
const dataset: Dataset = {
  name: 'mini', nUsers: 3, nItems: 6, userIds: [10, 11, 12], itemIds: [100, 101, 102, 103, 104, 105],
  train: csr([[0, 1], [2], [3]], 6), valid: csr([[2], [3], []], 6), test: csr([[5], [], [4]], 6), reports: [],
};

test('importLabels: an augmented training file, pairs and a scored store give the same pairs, training pairs dropped', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dtlns-import-'));
  try {
    // The release's augmented file: each user's training items plus its labels.
    writeFileSync(join(dir, 'augmented.txt'), '10 100 101 104\n11 102 100\n');
    const augmented = await importLabels(join(dir, 'augmented.txt'), dataset);
    assert.equal(augmented.format, 'lines');
    assert.deepEqual([rowOf(augmented.positives, 0), rowOf(augmented.positives, 1), rowOf(augmented.positives, 2)], [[4], [0], []]);
    writeFileSync(join(dir, 'pairs.txt'), '10 104\n11 100\n10 100\n');
    const pairs = await importLabels(join(dir, 'pairs.txt'), dataset);
    assert.deepEqual(Array.from(pairs.positives.indices), Array.from(augmented.positives.indices));
    assert.equal(pairs.pairs, 3);
    assert.match(pairs.provenance.sha256, /^[0-9a-f]{64}$/);
    const store = [
      { user: 10, item: 104, label: 'positive', labeler: 'llama', model: 'm', score: 0.9 },
      { user: 11, item: 100, label: 'positive', labeler: 'llama', model: 'm', score: 0.6 },
      { user: 11, item: 105, label: 'negative', labeler: 'llama', model: 'm', score: 0.1 },
    ];
    writeFileSync(join(dir, 'labels.jsonl'), store.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const scored = await importLabels(join(dir, 'labels.jsonl'), dataset);
    assert.equal(scored.format, 'labels');
    assert.deepEqual(Array.from(scored.positives.indices), [4, 0]);
    assert.deepEqual(Array.from(scored.confidence!), [Math.fround(0.9), Math.fround(0.6)]);
    writeFileSync(join(dir, 'bad.txt'), '10 104\n13 100\n');
    await assert.rejects(importLabels(join(dir, 'bad.txt'), dataset), (e: Error) => e instanceof DataFileError && e.line === 2 && /user 13/.test(e.message));
    // The file labeler answers each candidate from the file, with its score.
    const labeler = createFileLabeler(scored);
    assert.match(labeler.model, /^labels\.jsonl@[0-9a-f]{16}$/);
    assert.deepEqual(await labeler.labelUser(0, new Uint32Array(0), Uint32Array.of(5, 4, 2)), [
      { item: 5, label: 'negative' }, { item: 4, label: 'positive', score: Math.fround(0.9) }, { item: 2, label: 'negative' },
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('importLabels: only positive records count, a store may start with blank lines, and each bad input says which', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dtlns-import-'));
  try {
    const store = [
      { user: 10, item: 104, label: 'positive', labeler: 'rule', model: 'm' },
      { user: 11, item: 105, label: 'negative', labeler: 'rule', model: 'm' },
      { user: 11, item: 100, label: 'negative', labeler: 'rule', model: 'm' },
    ];
    writeFileSync(join(dir, 'labels.jsonl'), '\n  \n' + store.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const imported = await importLabels(join(dir, 'labels.jsonl'), dataset);
    assert.equal(imported.format, 'labels');
    assert.equal(imported.pairs, 1);
    assert.deepEqual([rowOf(imported.positives, 0), rowOf(imported.positives, 1), rowOf(imported.positives, 2)], [[4], [], []]);
    assert.equal(imported.confidence, undefined);
    assert.equal(createFileLabeler(imported).name, 'file');
    for (const file of ['', 3]) {
      await assert.rejects(importLabels(file as never, dataset), { name: 'TypeError', message: `Expected a file path for file but received ${file}` });
    }
    await assert.rejects(importLabels(join(dir, 'none.txt'), dataset), (e: Error) => e instanceof DataFileError && /none\.txt: cannot be read: ENOENT/.test(e.message));
    writeFileSync(join(dir, 'bad-item.txt'), '10 104\n11 100\n11 999\n');
    await assert.rejects(importLabels(join(dir, 'bad-item.txt'), dataset), (e: Error) => e instanceof DataFileError && e.line === 3 && /item 999 is not an item of dataset mini/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('applyHeldOutPolicy: keep, drop and impute on a hand-made candidate set', () => {
  // Candidates: user 0 {2 (valid), 3, 4, 5 (test)}, user 1 {0, 3 (valid), 4}, user 2 {0, 1}.
  const candidates = { users: Uint32Array.of(0, 1, 2), indptr: Uint32Array.of(0, 4, 7, 9), items: Uint32Array.of(2, 3, 4, 5, 0, 3, 4, 0, 1) };
  // Labels filtered with the ground truth: every non-held-out candidate but 2 of 5 accepted, no held-out one.
  const labels = csr([[3, 4], [0], []], 6);
  const keep = applyHeldOutPolicy(labels, candidates, dataset, 'keep', 1);
  assert.deepEqual(keep.report, { policy: 'keep', candidates: 3, acceptance: 3 / 6, positivesInValid: 0, positivesInTest: 0, positives: 3 });
  assert.equal(keep.positives, labels);
  const drop = applyHeldOutPolicy(csr([[2, 3], [0, 3], []], 6), candidates, dataset, 'drop', 1);
  assert.deepEqual([rowOf(drop.positives, 0), rowOf(drop.positives, 1)], [[3], [0]]);
  assert.equal(drop.report.positivesInValid, 0);
  // impute: each held-out candidate at the acceptance rate (1/2 here), seeded; over many seeds about half.
  let imputed = 0;
  for (let seed = 1; seed <= 400; seed++) {
    const r = applyHeldOutPolicy(labels, candidates, dataset, 'impute', seed);
    assert.deepEqual(r.positives.indices.length - 3, r.report.positivesInValid + r.report.positivesInTest);
    imputed += r.report.positivesInValid + r.report.positivesInTest;
  }
  assert.ok(Math.abs(imputed / (400 * 3) - 0.5) < 0.05, `imputed share ${imputed / 1200}`);
  assert.deepEqual(applyHeldOutPolicy(labels, candidates, dataset, 'impute', 7), applyHeldOutPolicy(labels, candidates, dataset, 'impute', 7));
  assert.throws(() => applyHeldOutPolicy(labels, candidates, dataset, 'hide' as never, 1), (e: Error) => e instanceof RangeError && /heldOut/.test(e.message));
});

test('the pipeline chooses candidates and labels without the test split: another test split gives the same files', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dtlns-heldout-'));
  try {
    const data = generateSynthetic({ preset: 'tiny' });
    // The test interactions moved to other items: what the pipeline writes before training must not change.
    const shifted: Dataset = { ...data, test: { ...data.test!, indices: data.test!.indices.map((i) => (i + 1) % data.nItems) } };
    const files = async (d: Dataset, out: string) => {
      await runPipeline(d, { out, threads: 1, pretrain: { epochs: 10, evalEvery: 5 }, train: { epochs: 1 }, labeler: { kind: 'rule' } });
      return ['candidates.txt', 'labels.jsonl', 'paths-struct.txt', 'paths-semantic.txt'].map((f) => readFileSync(join(out, f), 'utf8'));
    };
    const [a, b] = [await files(data, join(dir, 'a')), await files(shifted, join(dir, 'b'))];
    assert.ok(a[1].length > 0);
    assert.deepEqual(b, a);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDataset } from '../src/data/load.js';
import { runPipeline, type PipelineOptions, type StageName } from '../src/pipeline/pipeline.js';

const quick = { epochs: 4, evalEvery: 2, threads: 1 } as const;

function options(out: string, theta: number, seen: Array<[StageName, string]>): PipelineOptions {
  return {
    out, threads: 1,
    pretrain: { model: 'mf', ...quick },
    candidates: { n: 10 },
    labeler: { kind: 'rule', theta },
    train: { model: 'mf', ...quick },
    onStage: (stage, status) => {
      if (status !== 'running') seen.push([stage, status]);
    },
  };
}

test('pipeline: every stage writes its artifact, a rerun skips them all, a changed labeler redoes only labels and train', async () => {
  const out = mkdtempSync(join(tmpdir(), 'dtlns-pipeline-'));
  try {
    const dataset = await loadDataset('synthetic:tiny');
    const first: Array<[StageName, string]> = [];
    const a = await runPipeline(dataset, options(out, 1, first));
    assert.deepEqual(first.map(([, s]) => s), ['done', 'done', 'done', 'done', 'done']);
    for (const file of ['paths-struct.txt', 'paths-semantic.txt', 'candidates.txt', 'labels.jsonl', 'stages.json', 'metrics.json', 'pretrain/item-embeddings.npy', 'train/user-embeddings.npy']) {
      assert.ok(existsSync(join(out, file)), file);
    }
    assert.equal(a.train.sampler.sampler, 'dtlns');
    assert.ok(a.labels.quality, 'synthetic data reports label quality against the hidden positives');
    assert.ok(a.train.original.test!['recall@20'] > 0 && a.train.augmented.test!['recall@20'] >= 0);
    const labelled = readFileSync(join(out, 'labels.jsonl'), 'utf8').trim().split('\n').filter((line) => !line.startsWith('{"fingerprint"')).length;
    assert.equal(labelled, a.labels.counts.positive + a.labels.counts.negative + a.labels.counts.unparsed);

    const second: Array<[StageName, string]> = [];
    const b = await runPipeline(dataset, options(out, 1, second));
    assert.deepEqual(second.map(([, s]) => s), ['skipped', 'skipped', 'skipped', 'skipped', 'skipped']);
    assert.deepEqual(b.train.original, a.train.original);

    const third: Array<[StageName, string]> = [];
    const c = await runPipeline(dataset, options(out, 0.25, third));
    assert.deepEqual(third, [['pretrain', 'skipped'], ['trees', 'skipped'], ['candidates', 'skipped'], ['labels', 'done'], ['train', 'done']]);
    assert.ok(c.labels.counts.positive >= a.labels.counts.positive, 'a lower threshold labels at least as many positives');

    // Back to the first setting: the same results as the first run (everything is seeded).
    const d = await runPipeline(dataset, options(out, 1, []));
    assert.deepEqual(d.train.original, a.train.original);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

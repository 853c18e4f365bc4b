/** Labels in the experiment grid: labeler objects (file, llama, openai), label uses and held-out policies. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExperimentConfigError, parseExperimentConfig, readExperimentConfig } from '../src/experiment/grid.js';
import { runExperiment } from '../src/experiment/run-grid.js';
import { generateSynthetic } from '../src/data/synthetic.js';

const base = { datasets: ['synthetic:tiny'], models: [{ model: 'mf' }], seeds: [1] };

function expectFieldError(methods: unknown[], field: string, message: RegExp, file = '/configs/grid.json'): void {
  assert.throws(() => parseExperimentConfig({ ...base, methods }, file), (e: Error) => {
    assert.ok(e instanceof ExperimentConfigError, String(e));
    assert.equal((e as ExperimentConfigError).field, field);
    assert.match(e.message, message);
    return true;
  });
}

test('experiment grid: labeler objects flatten into the method; label uses and held-out policies are checked by field', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dtlns-grid-labels-'));
  try {
    writeFileSync(join(dir, 'labels.txt'), '0 1\n');
    writeFileSync(join(dir, 'model.gguf'), 'GGUF');
    const file = join(dir, 'grid.json');
    const config = parseExperimentConfig({
      ...base,
      methods: [
        { name: 'llm-exclude', sampler: 'dns', labeler: { file: 'labels.txt', heldOut: 'impute' }, labelUse: 'exclude' },
        { name: 'llm-weighted', sampler: 'dtlns', labeler: { file: 'labels.txt' }, labelUse: 'weighted', labelWeight: 0.3 },
        { name: 'llama', sampler: 'dtlns', labeler: { kind: 'llama', llmModel: 'model.gguf', mode: 'score' } },
        { name: 'openai', sampler: 'dtlns', labeler: { kind: 'openai', llmUrl: 'http://127.0.0.1:9/v1', llmModel: 'qwen' } },
        { name: 'topn-dropped', sampler: 'dtlns', labeler: { kind: 'topn', heldOut: 'drop' } },
      ],
    }, file);
    const [exclude, weighted, llama, openai, topn] = config.methods;
    assert.deepEqual([exclude.labeler, exclude.labelFile, exclude.heldOut, exclude.labelUse], ['file', 'labels.txt', 'impute', 'exclude']);
    assert.deepEqual([weighted.labelUse, weighted.labelWeight], ['weighted', 0.3]);
    assert.deepEqual([llama.labeler, llama.llmModel, llama.llmMode], ['llama', 'model.gguf', 'score']);
    assert.deepEqual([openai.labeler, openai.llmUrl, openai.llmModel], ['openai', 'http://127.0.0.1:9/v1', 'qwen']);
    assert.deepEqual([topn.labeler, topn.heldOut], ['topn', 'drop']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  expectFieldError([{ name: 'a', sampler: 'rns', labelUse: 'exclude' }], 'methods[0].labelUse', /no(ne)?/);
  expectFieldError([{ name: 'a', sampler: 'rns', labeler: 'rule', labelUse: 'drop' }], 'methods[0].labelUse', /one of positive, exclude, weighted/);
  expectFieldError([{ name: 'a', sampler: 'rns', labeler: 'rule', labelWeight: 0.5 }], 'methods[0].labelWeight', /weighted/);
  expectFieldError([{ name: 'a', sampler: 'rns', labeler: 'rule', labelUse: 'weighted', labelWeight: 1.5 }], 'methods[0].labelWeight', /above 0|\[0, 1\]/);
  expectFieldError([{ name: 'a', sampler: 'rns', labeler: 'file' }], 'methods[0].labeler', /"file": PATH/);
  expectFieldError([{ name: 'a', sampler: 'rns', labeler: { file: 'missing.txt' } }], 'methods[0].labeler.file', /does not exist/);
  expectFieldError([{ name: 'a', sampler: 'rns', labeler: { kind: 'openai', llmUrl: 'http://x' } }], 'methods[0].labeler.llmModel', /required/);
  expectFieldError([{ name: 'a', sampler: 'rns', labeler: { kind: 'rule', llmUrl: 'http://x' } }], 'methods[0].labeler.llmUrl', /does not apply/);
  expectFieldError([{ name: 'a', sampler: 'rns', labeler: { kind: 'rule', heldOut: 'hide' } }], 'methods[0].labeler.heldOut', /keep, impute, drop/);
});

test('experiment grid: a cell with imported labels, held-out candidates imputed, used to exclude: result.json says so', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dtlns-grid-labels-'));
  try {
    // Labels: every hidden positive of the synthetic data, as original-id pairs.
    const data = generateSynthetic({ preset: 'tiny' });
    const lines: string[] = [];
    for (let u = 0; u < data.nUsers; u++) {
      for (let p = data.hidden!.indptr[u]; p < data.hidden!.indptr[u + 1]; p++) lines.push(`${data.userIds[u]} ${data.itemIds[data.hidden!.indices[p]]}`);
    }
    writeFileSync(join(dir, 'labels.txt'), lines.join('\n') + '\n');
    const file = join(dir, 'grid.json');
    writeFileSync(file, JSON.stringify({
      ...base, out: 'out', paths: 'ours', candidates: 'ours',
      methods: [{ name: 'exclude', sampler: 'dns', labeler: { file: 'labels.txt', heldOut: 'impute' }, labelUse: 'exclude' }],
      train: { epochs: 5, evalEvery: 5 }, pretrain: { epochs: 5 },
    }));
    await runExperiment(readExperimentConfig(file), { threads: 1 });
    const result = JSON.parse(readFileSync(join(dir, 'out', 'cells', 'synthetic-tiny-mf-exclude-s1', 'result.json'), 'utf8'));
    assert.equal(result.labeler, 'file');
    assert.equal(result.labels.labelUse, 'exclude');
    assert.equal(result.labels.heldOut.policy, 'impute');
    assert.ok(result.labels.heldOut.candidates > 0, 'some candidates are held-out interactions');
    const metrics = JSON.parse(readFileSync(join(dir, 'out', 'cells', 'synthetic-tiny-mf-exclude-s1', 'train', 'metrics.json'), 'utf8'));
    assert.equal(metrics.labels.labelUse, 'exclude');
    assert.equal(metrics.labels.pairs, result.labels.heldOut.positives);
    // The summary row says how the labels were used and how many of them are held-out interactions.
    const summary = JSON.parse(readFileSync(join(dir, 'out', 'summary.json'), 'utf8'));
    const row = summary.groups[0].rows[0];
    assert.deepEqual(row.labels, {
      use: 'exclude', heldOut: 'impute', positives: result.labels.heldOut.positives,
      heldOutPositives: result.labels.heldOut.positivesInValid + result.labels.heldOut.positivesInTest,
    });
    assert.match(readFileSync(join(dir, 'out', 'summary.md'), 'utf8'), /\| exclude \| dns \| file: exclude, held-out impute; \d+ pairs, \d+ held-out \| 1 \|/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('summary: the equal-compute view holds every method to the samples the best baseline trained up to its best epoch', async () => {
  const { summarizeResults, summaryMarkdown } = await import('../src/experiment/summary.js');
  const metrics = (r: number) => ({ 'recall@20': r, 'ndcg@20': r / 2 }) as never;
  const cell = (method: string, seed: number, samplesPerEpoch: number, bestEpoch: number, curve: Array<[number, number]>, labeler = 'none') => ({
    dataset: 'd', model: 'mf', method, sampler: 'dns', labeler, seed, test: { original: metrics(0.1) }, epochs: 40, stoppedBy: 'patience' as const, seconds: 1,
    bestEpoch, samplesPerEpoch, history: curve.map(([epoch, r]) => ({ epoch, split: 'valid' as const, 'recall@20': r, 'ndcg@20': 0 })),
  });
  // dns: 100 samples an epoch, best at epochs 10 and 20: the budget is mean(1000, 2000) = 1500 samples.
  const dnsCurve: Array<[number, number]> = [[5, 0.1], [10, 0.2], [15, 0.25], [20, 0.3]];
  // lab: 200 samples an epoch, so only its epoch-5 point (1000 samples) fits; epoch 10 is 2000.
  const labCurve = (s: number): Array<[number, number]> => [[5, 0.15 + s / 100], [10, 0.5]];
  const summary = summarizeResults([
    cell('dns', 1, 100, 10, dnsCurve), cell('dns', 2, 100, 20, dnsCurve),
    cell('lab', 1, 200, 10, labCurve(1), 'file'), cell('lab', 2, 200, 10, labCurve(2), 'file'),
  ], { name: 'x', baselines: ['dns'] });
  const g = summary.groups[0];
  assert.equal(g.equalComputeSamples, 1500);
  assert.equal(g.rows[0].equalCompute!.mean, 0.25); // dns: its best point up to epoch 15
  assert.ok(Math.abs(g.rows[1].equalCompute!.mean - 0.165) < 1e-12); // lab: (0.16 + 0.17) / 2
  assert.match(summaryMarkdown(summary), /within 1,500 training samples/);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { summarizeResults, summaryCsv, summaryMarkdown, type SummaryInput } from '../src/experiment/summary.js';
import { testBarSvg, validationCurveSvg, writePlots } from '../src/experiment/plots.js';
import { reportMarkdown, writeReport } from '../src/experiment/report.js';
import { parseExperimentConfig } from '../src/experiment/grid.js';
import type { CellResult } from '../src/experiment/cells.js';

/** A hand-made cell result: test Recall@20 `r` (NDCG half of it), `aug` under the augmented mask. */
function cell(dataset: string, method: string, labeler: string, seed: number, r: number, aug?: number): SummaryInput {
  return {
    dataset, model: 'mf', method, sampler: method.split('-')[0], labeler, seed,
    test: { original: { 'recall@20': r, 'ndcg@20': r / 2 }, ...(aug !== undefined ? { augmented: { 'recall@20': aug, 'ndcg@20': aug / 2 } } : {}) },
    history: [5, 10].map((epoch) => ({ epoch, split: 'valid' as const, 'recall@20': (r * epoch) / 10 + seed / 1000, 'ndcg@20': 0 })),
    epochs: 10 + seed, stoppedBy: seed === 3 ? 'time' : 'patience', seconds: 2 * seed,
  };
}

const rns = [0.100, 0.104, 0.102], dns = [0.110, 0.111, 0.113], ours = [0.120, 0.118, 0.125], oursAug = [0.130, 0.133, 0.131];
const results: SummaryInput[] = [1, 2, 3].flatMap((s, i) => [
  cell('toy', 'rns', 'none', s, rns[i]), cell('toy', 'dns', 'none', s, dns[i]), cell('toy', 'dtlns-rule', 'rule', s, ours[i], oursAug[i]),
]);
// A second dataset where only two seeds of one baseline finished.
results.push(cell('other', 'rns', 'none', 1, 0.2), cell('other', 'rns', 'none', 2, 0.22));

/**
 * Two-sided paired-t p-values of these seeds against dns, from scipy 1.17 stats.ttest_rel;
 * with 2 degrees of freedom Student's t has the closed form p = 1 - |t| / sqrt(t^2 + 2),
 * which gives the same digits.
 *   ours - dns = [0.010, 0.007, 0.012]: t = 6.653056282246283, p = 0.0218542768354171
 *   oursAug - dns = [0.020, 0.022, 0.018]: t = 17.32050807568876, p = 0.0033167587223568657
 *   rns - dns = [-0.010, -0.007, -0.011]: t = -7.765802747153212, p = 0.016180283503170856
 */
const published = { ours: 0.0218542768354171, oursAug: 0.0033167587223568657, rns: 0.016180283503170856 };
const closeP = (actual: number, expected: number, what: string) => assert.ok(Math.abs(actual - expected) <= 1e-12, `${what}: p ${actual} vs ${expected}`);

const summary = summarizeResults(results, { name: 'hand', baselines: ['rns', 'dns'], expectedCells: 12 });
const meanOf = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

test('summary: mean ± std per method, the best baseline, relative change and paired p-values', () => {
  assert.deepEqual(summary.cells, { expected: 12, finished: 11 });
  assert.deepEqual(summary.groups.map((g) => [g.dataset, g.model, g.bestBaseline]), [['toy', 'mf', 'dns'], ['other', 'mf', 'rns']]);
  const [r, d, o] = summary.groups[0].rows;
  assert.deepEqual([r.method, d.method, o.method], ['rns', 'dns', 'dtlns-rule']);
  assert.ok(Math.abs(o.original.recall.mean - meanOf(ours)) < 1e-15);
  assert.ok(Math.abs(o.original.recall.std - Math.sqrt(((0.120 - 0.121) ** 2 + (0.118 - 0.121) ** 2 + (0.125 - 0.121) ** 2) / 2)) < 1e-12);
  assert.ok(Math.abs(o.original.ndcg.mean - meanOf(ours) / 2) < 1e-15);
  assert.equal(d.bestBaseline, true);
  assert.equal(d.vsBaseline, undefined, 'the best baseline is not compared with itself');
  assert.equal(r.augmented, undefined, 'no augmented mask without labels');
  assert.ok(Math.abs(o.vsBaseline!.original.changePct - (100 * (meanOf(ours) - meanOf(dns))) / meanOf(dns)) < 1e-9);
  closeP(o.vsBaseline!.original.p, published.ours, 'ours vs dns');
  assert.equal(o.vsBaseline!.original.pairs, 3);
  assert.ok(Math.abs(o.augmented!.recall.mean - meanOf(oursAug)) < 1e-15);
  closeP(o.vsBaseline!.augmented!.p, published.oursAug, 'the augmented mask against the baseline\'s own ranking');
  closeP(r.vsBaseline!.original.p, published.rns, 'rns vs dns');
  assert.deepEqual(o.stoppedBy, { patience: 2, time: 1 });
  assert.equal(o.epochs.mean, 12);
  const curve = summary.groups[0].curves.filter((c) => c.method === 'dns');
  assert.deepEqual(curve.map((c) => [c.epoch, c.seeds]), [[5, 3], [10, 3]]);
  assert.ok(Math.abs(curve[1].recall - (meanOf(dns) + 0.002)) < 1e-12, 'mean over seeds at each epoch');
  const other = summary.groups[1].rows[0];
  assert.equal(other.seeds.length, 2);
  assert.ok(Math.abs(other.original.recall.std - Math.sqrt(0.0002)) < 1e-12);
});

test('summary: Markdown and CSV tables', () => {
  const md = summaryMarkdown(summary, [{ dataset: 'toy', model: 'mf', valid: 'plots/v.svg', test: 'plots/t.svg' }]);
  assert.match(md, /^# Experiment hand\n\n11 of 12 cells finished\./);
  assert.match(md, /\| \*\*dns\*\* \(best baseline\) \| dns \| none \| 1,2,3 \| 0\.1113 ± 0\.0015 \| 0\.0557 ± 0\.0008 \| – \| – \| – \| – \| – \| – \| 12 \| patience 2, time 1 \|/);
  const change = ((meanOf(ours) - meanOf(dns)) / meanOf(dns)) * 100;
  const p = published.ours.toFixed(3);
  assert.ok(md.includes(`| dtlns-rule | dtlns | rule | 1,2,3 | 0.1210 ± 0.0036 | 0.0605 ± 0.0018 | +${change.toFixed(1)}% | ${p} | 0.1313 ± 0.0015 |`), md);
  assert.ok(md.includes('![validation Recall@20 per epoch, toy mf](plots/v.svg)'));
  assert.match(md, /\| \*\*rns\*\* \(best baseline\) \| rns \| none \| 1,2 \| 0\.2100 ± 0\.0141 \|/);

  const lines = summaryCsv(summary).trim().split('\n');
  assert.equal(lines.length, 1 + 4);
  const header = lines[0].split(',');
  const row = Object.fromEntries(lines[3].split(',').map((v, i) => [header[i], v]));
  assert.equal(row.method, 'dtlns-rule');
  assert.equal(Number(row.recall20_mean), meanOf(ours));
  closeP(Number(row.p_value), published.ours, 'CSV p_value');
  assert.equal(Number(row.recall20_aug_mean), meanOf(oursAug));
  const baseline = Object.fromEntries(lines[2].split(',').map((v, i) => [header[i], v]));
  assert.equal(baseline.best_baseline, '1');
  assert.equal(baseline.change_pct, '', 'no change against itself');
  assert.equal(baseline.recall20_aug_mean, '');
});

test('plots: SVG from Vega-Lite with every method named, written per dataset x model', async () => {
  const group = summary.groups[0];
  const curves = await validationCurveSvg(group);
  const bars = await testBarSvg(group);
  for (const svg of [curves, bars]) {
    assert.match(svg, /^<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    for (const method of ['rns', 'dns', 'dtlns-rule']) assert.ok(svg.includes(`>${method}</text>`), `${method} in the SVG`);
  }
  assert.ok(curves.includes('validation Recall@20') && bars.includes('augmented mask') && bars.includes('original mask'));
  const dir = mkdtempSync(join(tmpdir(), 'dtlns-plots-'));
  try {
    const written = await writePlots(summary, dir);
    assert.deepEqual(written.map((w) => [w.valid, w.test]), [
      ['toy-mf-valid-recall.svg', 'toy-mf-test-recall.svg'], ['other-mf-valid-recall.svg', 'other-mf-test-recall.svg'],
    ]);
    assert.equal(readFileSync(join(dir, 'toy-mf-test-recall.svg'), 'utf8'), bars);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('report: commit, machine, budget actually used, tables, linked plot copies and the config', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dtlns-report-'));
  try {
    const raw = { datasets: ['synthetic:tiny'], models: [{ model: 'mf' }], methods: [{ name: 'rns', sampler: 'rns' }], seeds: [1, 2, 3], train: { epochs: 40, timeBudget: 60 } };
    const config = parseExperimentConfig(raw, join(dir, 'grid.json'));
    const full = results.map((r) => ({ ...r, threads: 2 }) as unknown as CellResult);
    const plotsDir = join(dir, 'plots');
    const plots = await writePlots(summary, plotsDir);
    const fixed = { git: { commit: 'abc123', dirty: true }, machine: { cpu: 'Test CPU', threads: 8, memoryGiB: 16, node: 'v20', platform: 'linux x64' }, date: new Date('2026-01-02T03:04:05Z') };
    const md = reportMarkdown({ config, summary, results: full, plotsDir, plots, file: join(dir, 'r.md'), command: 'dtlns-native experiment --config grid.json', ...fixed }, plots);
    assert.match(md, /Made by `dtlns-native experiment --config grid\.json` from commit `abc123` \*\*with uncommitted changes to tracked files\*\* on 2026-01-02 03:04:05 UTC\./);
    assert.match(md, /Machine: Test CPU, 8 hardware threads, 16 GiB memory/);
    assert.match(md, /11 of 12 finished .*\*\*The tables cover the finished cells only\.\*\*/);
    assert.match(md, /at most 40 epochs, .*a time budget of 60 s per training/);
    assert.match(md, /How the trainings ended: 8 by early stopping, 0 at the epoch cap, 3 on the time budget/);
    assert.match(md, /2 native threads per cell/);
    assert.ok(md.includes('"timeBudget": 60'), 'the config as written');
    assert.ok(md.includes('| **dns** (best baseline) |'));

    const file = join(dir, 'docs', 'reproduction.md');
    const copies = writeReport({ config, summary, results: full, plotsDir, plots, file, command: 'x', ...fixed });
    assert.equal(copies.length, 4);
    const written = readFileSync(file, 'utf8');
    assert.ok(written.includes('](reproduction/toy-mf-valid-recall.svg)'));
    assert.ok(existsSync(join(dir, 'docs', 'reproduction', 'toy-mf-test-recall.svg')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * The labelers' quality, the measurement behind labelDefaults.rule (docs/labelers.md):
 *
 * 1. dtlns-sports and dtlns-toys (../shared/datasets, skipped visibly when absent) with the authors' trees and
 *    candidates: each variant's acceptance, the share of its positives that are the users'
 *    held-out (valid/test) interactions against the base rate of all candidates (precision
 *    proxy), and the share of held-out candidates it accepts (recall proxy). The labelers see the
 *    training history only; the measurement reads valid/test.
 * 2. synthetic:small (and :medium unless --quick) through the real pipeline (MF-BPR, both trees on
 *    its embeddings, top-20 candidates of every user): precision and recall against the planted
 *    hidden positives.
 *
 * Output: markdown tables, as pasted into docs/labelers.md. No timing rows.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadDataset } from '../data/load.js';
import { generateSynthetic } from '../data/synthetic.js';
import type { Dataset } from '../data/types.js';
import { labelDefaults } from '../defaults.js';
import { generateCandidates, readCandidates } from '../labels/candidates.js';
import { createLabeler, type LabelerSpec } from '../labels/labelers.js';
import type { PromptItems } from '../labels/prompt.js';
import { labelHeldOut, labelQuality } from '../labels/quality.js';
import type { RuleOptions } from '../labels/rule.js';
import type { Candidates, LabelRecord } from '../labels/types.js';
import { train } from '../train/train.js';
import { buildTrees } from '../trees/build.js';
import { readPaths } from '../trees/path-file.js';
import type { BenchRow, BenchSettings } from './harness.js';

const sharedDatasets = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../shared/datasets');

/** The variants measured: the earlier rule, stricter counts and caps, and the controls. */
export const labelerVariants: { name: string; spec: Omit<LabelerSpec, 'items'> }[] = [
  ...([
    ['either', 1, 1, 0], ['either', 1, 3, 0], ['both', 0.75, 1, 0], ['both', 0.75, 2, 0], ['both', 1, 1, 0], ['both', 1, 2, 0],
    ['sum', 0.8, 6, 0], ['sum', 1, 3, 0], ['sum', 1, 4, 0], ['sum', 1, 5, 0], ['sum', 1, 4, 1], ['sum', 1, 4, 3],
  ] as const).map(([views, theta, minSupport, cap]) => ({
    name: `rule ${views} θ=${theta} support≥${minSupport}${cap ? ` cap ${cap}` : ''}`,
    spec: { kind: 'rule' as const, views, theta, minSupport, cap },
  })),
  { name: 'topn', spec: { kind: 'topn' } },
  { name: 'random-codes(rule, default)', spec: { kind: 'random-codes' } },
  { name: 'shuffled-codes(rule, default)', spec: { kind: 'shuffled-codes' } },
  { name: 'random-codes(rule either θ=1)', spec: { kind: 'random-codes', views: 'either', theta: 1, minSupport: 1, cap: 0 } },
  { name: 'shuffled-codes(rule either θ=1)', spec: { kind: 'shuffled-codes', views: 'either', theta: 1, minSupport: 1, cap: 0 } },
];

function isDefault(spec: Omit<LabelerSpec, 'items'>): boolean {
  return spec.kind === 'rule' && (Object.keys(labelDefaults.rule) as (keyof RuleOptions)[]).every((k) => spec[k] === labelDefaults.rule[k]);
}

/** Labels every candidate of every user in memory (a labeler sees the user's TRAINING history only). */
async function labelAll(dataset: Dataset, candidates: Candidates, items: PromptItems, spec: Omit<LabelerSpec, 'items'>): Promise<LabelRecord[]> {
  const labeler = await createLabeler({ ...spec, items });
  const out: LabelRecord[] = [];
  const { train: t } = dataset;
  for (let r = 0; r < candidates.users.length; r++) {
    const user = candidates.users[r];
    const history = t.indices.subarray(t.indptr[user], t.indptr[user + 1]);
    const row = candidates.items.subarray(candidates.indptr[r], candidates.indptr[r + 1]);
    for (const res of await labeler.labelUser(user, history, row)) {
      out.push({ user: dataset.userIds[user], item: dataset.itemIds[res.item], label: res.label, labeler: labeler.name, model: labeler.model });
    }
  }
  return out;
}

/**
 * The history-length confound: positives given to the candidates of the users with the longest
 * training histories (ties: lower user index, earlier candidate), as many as `positives`. A count
 * over the history favours long histories, which also hold more held-out / hidden items.
 */
function longestHistories(dataset: Dataset, candidates: Candidates, positives: number): LabelRecord[] {
  const { train: t } = dataset;
  const length = (r: number) => t.indptr[candidates.users[r] + 1] - t.indptr[candidates.users[r]];
  const rows = Array.from(candidates.users, (_, r) => r).sort((a, b) => length(b) - length(a) || candidates.users[a] - candidates.users[b]);
  const out: LabelRecord[] = [];
  let left = positives;
  for (const r of rows) {
    for (let k = candidates.indptr[r]; k < candidates.indptr[r + 1]; k++) {
      out.push({ user: dataset.userIds[candidates.users[r]], item: dataset.itemIds[candidates.items[k]], label: left-- > 0 ? 'positive' : 'negative', labeler: 'longest-histories', model: 'none' });
    }
  }
  return out;
}

const pct = (x: number) => `${(100 * x).toFixed(2)} %`;

async function heldOutTable(log: (line: string) => void, name: string): Promise<void> {
  const folder = join(sharedDatasets, name);
  if (!existsSync(join(folder, 'candidates.txt'))) {
    log(`labelers: SKIPPED ${name} (${folder} is absent)`);
    return;
  }
  const dataset = await loadDataset(folder);
  const candidates = await readCandidates(join(folder, 'candidates.txt'), dataset);
  const items: PromptItems = {
    itemIds: dataset.itemIds, structural: await readPaths(join(folder, 'paths-struct.txt'), dataset), semantic: await readPaths(join(folder, 'paths-semantic.txt'), dataset),
  };
  log(`labelers: ${name}, the authors' trees and ${candidates.items.length} candidates of ${candidates.users.length} users; held-out = the user's valid or test items`);
  log('| labeler | acceptance | held-out share of positives | x base rate | held-out candidates accepted | F1 (held-out) |');
  log('|---|---:|---:|---:|---:|---:|');
  const row = (name: string, h: ReturnType<typeof labelHeldOut>) => {
    const f1 = h.precisionProxy + h.recallProxy > 0 ? (2 * h.precisionProxy * h.recallProxy) / (h.precisionProxy + h.recallProxy) : 0;
    log(`| ${name} | ${pct(h.acceptance)} | ${pct(h.precisionProxy)} | ${(h.precisionProxy / h.baseRate).toFixed(2)} | ${pct(h.recallProxy)} | ${f1.toFixed(3)} |`);
  };
  for (const { name, spec } of labelerVariants) {
    const h = labelHeldOut(await labelAll(dataset, candidates, items, spec), dataset);
    row(isDefault(spec) ? `**${name}** (default)` : name, h);
    if (isDefault(spec)) row('longest histories only, as many positives as the default', labelHeldOut(longestHistories(dataset, candidates, h.positives), dataset));
    if (spec.kind === 'topn') log(`| (base rate: ${h.heldOutAmongPairs} of ${h.pairs} candidates are held-out) | | ${pct(h.baseRate)} | 1.00 | | |`);
  }
}

async function plantedTable(log: (line: string) => void, preset: 'small' | 'medium', epochs: number): Promise<void> {
  const dataset = generateSynthetic({ preset });
  const trained = await train(dataset, { model: 'mf', epochs, evalEvery: 10, lr: 5e-3, threads: 1 });
  const trees = await buildTrees({ dataset, embeddings: { data: trained.itemEmb, shape: [dataset.nItems, trained.dim] }, threads: 1 });
  const items: PromptItems = { itemIds: dataset.itemIds, structural: trees.structural!.tree, semantic: trees.semantic!.tree };
  const candidates = await generateCandidates(dataset, trained.userEmb, trained.itemEmb, trained.dim, { n: 20, users: 'all', threads: 1 });
  log(`labelers: synthetic:${preset}, MF ${epochs} epochs (test recall@20 ${trained.test?.['recall@20'].toFixed(3)}), both trees on its data and embeddings, top-20 candidates of ${candidates.users.length} users; truth = planted hidden positives`);
  log('| labeler | acceptance | precision | x base rate | recall | F1 |');
  log('|---|---:|---:|---:|---:|---:|');
  const row = (name: string, q: ReturnType<typeof labelQuality>) =>
    log(`| ${name} | ${pct(q.positives / q.pairs)} | ${pct(q.precision)} | ${(q.precision / q.baseRate).toFixed(2)} | ${pct(q.recall)} | ${q.f1.toFixed(3)} |`);
  for (const { name, spec } of labelerVariants) {
    const q = labelQuality(await labelAll(dataset, candidates, items, spec), dataset);
    row(isDefault(spec) ? `**${name}** (default)` : name, q);
    if (isDefault(spec)) row('longest histories only, as many positives as the default', labelQuality(longestHistories(dataset, candidates, q.positives), dataset));
    if (spec.kind === 'topn') log(`| (base rate: ${q.hiddenAmongPairs} of ${q.pairs} candidates are hidden positives; the candidates hold ${pct(q.candidateCoverage)} of them) | | ${pct(q.baseRate)} | 1.00 | | |`);
  }
}

export async function benchLabelers(_settings: BenchSettings, log: (line: string) => void, quick: boolean): Promise<BenchRow[]> {
  for (const name of ['dtlns-sports', 'dtlns-toys']) await heldOutTable(log, name);
  await plantedTable(log, 'small', quick ? 10 : 40);
  if (!quick) await plantedTable(log, 'medium', 30);
  return [];
}

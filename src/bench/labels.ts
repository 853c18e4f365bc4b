/**
 * Labelling: the llama labeler on a generated tiny GGUF model (CPU), and the labelers' quality.
 *
 * 1. Efficiency at equal labels: prompt tokens evaluated per labelled candidate with prefix reuse
 *    (system + history once per user, then one tail per candidate) versus one full prompt per
 *    (user, candidate) as the DTL-NS release does; the two paths' labels and scores are compared.
 * 2. users/s of `llama` in score and generate modes, with prefix reuse, at 1 and 2 threads, and of
 *    full prompts at 1 thread; and score mode with two sequences (two users at a time) at 1 thread.
 *    20 candidates per user. Fair settings: same model, same users, same candidates, flash
 *    attention off.
 * 3. Quality against planted hidden positives on synthetic:small through the real pipeline
 *    (MF-BPR, both trees, top-20 candidates): precision/recall of rule (a theta sweep), topn,
 *    random-codes(rule); the measurement behind labelDefaults.theta.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLlamaLabeler, type LlamaLabeler, type LlamaMode } from '../labels/llama.js';
import { systemPrompt } from '../labels/prompt.js';
import { generateCandidates } from '../labels/candidates.js';
import { labelQuality } from '../labels/quality.js';
import { createRandomCodesLabeler, createRuleLabeler, createTopNLabeler } from '../labels/rule.js';
import type { Candidates, LabelRecord, Labeler } from '../labels/types.js';
import type { Dataset } from '../data/types.js';
import { generateSynthetic } from '../data/synthetic.js';
import { train } from '../train/train.js';
import { buildTrees } from '../trees/build.js';
import { labelDefaults } from '../defaults.js';
import { MissingDependencyError } from '../util/optional.js';
import { writeTinyGguf } from '../labels/gguf-writer.js';
import { labelFixture, promptWords } from '../labels/labelFixtures.js';
import { ratioLine, runCases, type BenchRow, type BenchSettings } from './harness.js';

interface UserBatch {
  user: number;
  history: Uint32Array;
  items: Uint32Array;
}

function batches(dataset: Dataset, candidates: Candidates): UserBatch[] {
  return Array.from(candidates.users, (user, r) => ({
    user,
    history: dataset.train.indices.subarray(dataset.train.indptr[user], dataset.train.indptr[user + 1]),
    items: candidates.items.subarray(candidates.indptr[r], candidates.indptr[r + 1]),
  }));
}

async function labelAll(labeler: Labeler, users: UserBatch[]) {
  const out = [];
  for (const b of users) out.push(...(await labeler.labelUser(b.user, b.history, b.items)));
  return out;
}

/** Two users at a time, for a labeler with two sequences. */
async function labelInPairs(labeler: Labeler, users: UserBatch[]) {
  for (let k = 0; k < users.length; k += 2) {
    await Promise.all(users.slice(k, k + 2).map((b) => labeler.labelUser(b.user, b.history, b.items)));
  }
}

async function efficiency(log: (line: string) => void, quick: boolean, modelPath: string): Promise<BenchRow[]> {
  const fixture = labelFixture({ users: quick ? 4 : 8, perUser: 20 });
  const users = batches(fixture.dataset, fixture.candidates);
  const open: LlamaLabeler[] = [];
  const make = async (mode: LlamaMode, threads: number, prefixReuse: boolean, sequences = 1): Promise<LlamaLabeler> => {
    const l = await createLlamaLabeler({ modelPath, items: fixture.items, mode, threads, prefixReuse, sequences });
    open.push(l);
    return l;
  };
  try {
    const reuse = await make('score', 1, true);
    const full = await make('score', 1, false);
    const a = await labelAll(reuse, users);
    const b = await labelAll(full, users);
    const sameLabels = a.every((x, k) => x.label === b[k].label);
    const maxDiff = Math.max(...a.map((x, k) => Math.abs(x.score! - b[k].score!)));
    const s = reuse.stats(), f = full.stats();
    const pairs = a.length;
    const avgHistory = users.reduce((sum, u) => sum + u.history.length, 0) / users.length;
    log(`labels: prompt tokens per labelled candidate, ${users.length} users x 20 candidates, mean history ${avgHistory.toFixed(1)} items (tiny model, ${reuse.chatWrapper} template)`);
    log(`  prefix reuse ${(s.promptTokens / pairs).toFixed(1)} tokens/candidate, full prompts ${(f.promptTokens / pairs).toFixed(1)}: ${(f.promptTokens / s.promptTokens).toFixed(1)}x fewer`);
    log(`  same labels: ${sameLabels}, largest score difference ${maxDiff.toExponential(2)}`);

    const cases = [];
    for (const mode of ['score', 'generate'] as const) {
      for (const threads of [1, 2]) {
        const l = await make(mode, threads, true);
        cases.push({ name: `llama-${mode}-reuse-${threads}t-${users.length}u20c`, fn: () => labelAll(l, users), unitsPerRun: users.length, unit: 'users' });
      }
      const l = await make(mode, 1, false);
      cases.push({ name: `llama-${mode}-full-1t-${users.length}u20c`, fn: () => labelAll(l, users), unitsPerRun: users.length, unit: 'users' });
    }
    const pairs2 = await make('score', 1, true, 2);
    cases.push({ name: `llama-score-reuse-1t-2seq-${users.length}u20c`, fn: () => labelInPairs(pairs2, users), unitsPerRun: users.length, unit: 'users' });
    const rows = await runCases('labels', cases, { minSamples: 2, maxTime: quick ? 1 : 3 }, log);
    const lines = [
      ...['score', 'generate'].map((mode) => ratioLine(rows, `llama-${mode}-reuse-1t-${users.length}u20c`, `llama-${mode}-full-1t-${users.length}u20c`)),
      ratioLine(rows, `llama-score-reuse-2t-${users.length}u20c`, `llama-score-reuse-1t-${users.length}u20c`),
      ratioLine(rows, `llama-score-reuse-1t-2seq-${users.length}u20c`, `llama-score-reuse-1t-${users.length}u20c`),
    ];
    for (const line of lines) if (line) log(line);
    return rows;
  } finally {
    for (const l of open) await l.close();
  }
}

async function quality(log: (line: string) => void, quick: boolean): Promise<void> {
  const dataset = generateSynthetic({ preset: 'small' });
  const trained = await train(dataset, { model: 'mf', epochs: quick ? 10 : 40, evalEvery: 10, lr: 5e-3, threads: 1 });
  const trees = await buildTrees({ dataset, embeddings: { data: trained.itemEmb, shape: [dataset.nItems, trained.dim] }, threads: 1 });
  const structural = trees.structural!.tree;
  const semantic = trees.semantic!.tree;
  const candidates = await generateCandidates(dataset, trained.userEmb, trained.itemEmb, trained.dim, { n: 20, users: 'all', threads: 1 });
  const users = batches(dataset, candidates);
  const records = async (labeler: Labeler): Promise<LabelRecord[]> => {
    const out: LabelRecord[] = [];
    for (const b of users) {
      for (const r of await labeler.labelUser(b.user, b.history, b.items)) {
        out.push({ user: dataset.userIds[b.user], item: dataset.itemIds[r.item], label: r.label, labeler: labeler.name, model: labeler.model });
      }
    }
    return out;
  };
  log(`labels: quality vs planted hidden positives, synthetic:small, MF ${quick ? 10 : 40} epochs (test recall@20 ${trained.test?.['recall@20'].toFixed(3)}), trees on its embeddings, top-20 candidates of ${users.length} users`);
  const items = { itemIds: dataset.itemIds, structural, semantic };
  const rows: [string, Labeler][] = [];
  for (const theta of [0.5, 0.75, 1]) rows.push([`rule theta=${theta}`, createRuleLabeler(structural, semantic, theta)]);
  rows.push(['topn', createTopNLabeler()]);
  for (const theta of [0.75, 1]) rows.push([`random-codes(rule ${theta})`, await createRandomCodesLabeler(items, (s) => createRuleLabeler(s.structural, s.semantic, theta))]);
  log(`  ${'labeler'.padEnd(26)} ${'positive'.padStart(9)} ${'precision'.padStart(10)} ${'recall'.padStart(7)} ${'F1'.padStart(6)}`);
  for (const [name, labeler] of rows) {
    const q = labelQuality(await records(labeler), dataset);
    log(`  ${name.padEnd(26)} ${(q.positives / q.pairs).toFixed(3).padStart(9)} ${q.precision.toFixed(3).padStart(10)} ${q.recall.toFixed(3).padStart(7)} ${q.f1.toFixed(3).padStart(6)}`);
    if (name === 'topn') log(`  (hidden positives among candidates: ${q.hiddenAmongPairs} of ${q.pairs} = base rate ${q.baseRate.toFixed(3)}; candidates hold ${(q.candidateCoverage * 100).toFixed(1)}% of the users' hidden positives)`);
  }
  log(`  default theta: ${labelDefaults.theta}`);
}

export async function benchLabels(_settings: BenchSettings, log: (line: string) => void, quick: boolean): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'dtlns-bench-labels-'));
  try {
    const modelPath = writeTinyGguf(join(dir, 'tiny.gguf'), { words: [...promptWords(systemPrompt), 'item_id', 'co_path', 'emb_path', 'Candidate', 'history', 'items'] });
    let rows: BenchRow[] = [];
    try {
      rows = await efficiency(log, quick, modelPath);
    } catch (error) {
      // No llama.cpp binary installed: the quality part needs none.
      if (!(error instanceof MissingDependencyError)) throw error;
      log(`labels: llama cases skipped: ${error.message}`);
    }
    await quality(log, quick);
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

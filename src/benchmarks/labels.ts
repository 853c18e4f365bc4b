/**
 * Labelling: the llama labeler on a generated tiny GGUF model (CPU).
 *
 * 1. Efficiency at equal labels: prompt tokens evaluated per labelled candidate with prefix reuse
 *    (system + history once per user, then one tail per candidate) versus one full prompt per
 *    (user, candidate) as the DTL-NS release does; the two paths' labels and scores are compared.
 * 2. users/s of `llama` in score and generate modes, with prefix reuse, at 1 and 2 threads, and of
 *    full prompts at 1 thread; and score mode with two sequences (two users at a time) at 1 thread.
 *    20 candidates per user. Fair settings: same model, same users, same candidates, flash
 *    attention off.
 * The labelers' quality (rule variants and controls) is the `labelers` suite (src/benchmarks/labelers.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLlamaLabeler, type LlamaLabeler, type LlamaMode } from '../labels/llama.js';
import { systemPrompt } from '../labels/prompt.js';
import type { Candidates, Labeler } from '../labels/types.js';
import type { Dataset } from '../data/types.js';
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

export async function benchLabels(_settings: BenchSettings, log: (line: string) => void, quick: boolean): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'dtlns-bench-labels-'));
  try {
    const modelPath = writeTinyGguf(join(dir, 'tiny.gguf'), { words: [...promptWords(systemPrompt), 'item_id', 'co_path', 'emb_path', 'Candidate', 'history', 'items'] });
    let rows: BenchRow[] = [];
    try {
      rows = await efficiency(log, quick, modelPath);
    } catch (error) {
      // No llama.cpp binary installed: skip the llama cases.
      if (!(error instanceof MissingDependencyError)) throw error;
      log(`labels: llama cases skipped: ${error.message}`);
    }
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

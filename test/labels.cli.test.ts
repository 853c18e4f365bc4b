/** `dtlns-native candidates` and `dtlns-native label` end to end, as child processes on synthetic:tiny. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { generateSynthetic } from '../src/data/synthetic.js';
import { writeNpy } from '../src/model/npy.js';
import { writePaths } from '../src/trees/path-file.js';
import { readLabelStore } from '../src/labels/store.js';
import { systemPrompt } from '../src/labels/prompt.js';
import { taxonomyPaths, promptWords } from '../src/labels/labelFixtures.js';
import { writeTinyGguf } from '../src/labels/gguf-writer.js';

const run = promisify(execFile);
const cli = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'dtlns-native.js');
const dir = mkdtempSync(join(tmpdir(), 'dtlns-label-cli-'));
const dataset = generateSynthetic({ preset: 'tiny' });
const structural = join(dir, 'paths-struct.txt');
const semantic = join(dir, 'paths-semantic.txt');
const candidates = join(dir, 'candidates.txt');
const common = ['--data', 'synthetic:tiny', '--paths-struct', structural, '--paths-semantic', semantic, '--quiet', '--json'];

async function dtlns(args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await run(process.execPath, [cli, ...args], { env: { ...process.env, DTLNS_THREADS: '1' } });
  return JSON.parse(stdout.trim().split('\n').pop()!);
}

async function fails(args: string[], message: RegExp): Promise<void> {
  await assert.rejects(run(process.execPath, [cli, ...args]), (error: { stderr: string; code: number }) => {
    assert.notEqual(error.code, 0);
    assert.match(error.stderr, message);
    return true;
  });
}

test('candidates then label: files with original ids, a JSON summary with counts, tokens, time and quality', async () => {
  await writePaths(structural, taxonomyPaths(dataset, 0, 1), dataset);
  await writePaths(semantic, taxonomyPaths(dataset, 0.3, 2), dataset);
  const dim = 8;
  let s = 1;
  const random = (n: number) => Float32Array.from({ length: n }, () => ((s = (s * 16807) % 2147483647) / 2147483647) - 0.5);
  writeNpy(join(dir, 'u.npy'), random(dataset.nUsers * dim), [dataset.nUsers, dim]);
  writeNpy(join(dir, 'i.npy'), random(dataset.nItems * dim), [dataset.nItems, dim]);
  const made = await dtlns(['candidates', '--data', 'synthetic:tiny', '--user-emb', join(dir, 'u.npy'), '--item-emb', join(dir, 'i.npy'), '--n', '6', '--users', 'test', '--out', candidates, '--quiet', '--json']);
  assert.equal(made.candidates, (made.users as number) * 6);
  const lines = readFileSync(candidates, 'utf8').trim().split('\n');
  assert.equal(lines.length, made.users);
  assert.ok(lines.every((l) => l.split(' ').length === 7));

  const out = join(dir, 'rule.jsonl');
  const summary = await dtlns(['label', ...common, '--candidates', candidates, '--labeler', 'rule', '--theta', '0.5', '--views', 'either', '--min-support', '2', '--cap', '3', '--out', out]);
  const counts = summary.counts as Record<string, number>;
  assert.equal(counts.positive + counts.negative, made.candidates);
  assert.equal(summary.model, 'theta=0.5 views=either minSupport=2 cap=3');
  assert.equal(typeof summary.seconds, 'number');
  assert.ok((summary.quality as { recall: number }).recall >= 0);
  assert.equal((await readLabelStore(out)).length, made.candidates);
  const positivesPerUser = new Map<number, number>();
  for (const r of await readLabelStore(out)) if (r.label === 'positive') positivesPerUser.set(r.user, (positivesPerUser.get(r.user) ?? 0) + 1);
  assert.ok(Math.max(0, ...positivesPerUser.values()) <= 3, 'the cap holds per user');

  const shuffled = await dtlns(['label', ...common, '--candidates', candidates, '--labeler', 'shuffled-codes', '--seed', '3', '--out', join(dir, 'shuffled.jsonl')]);
  assert.equal(shuffled.labeler, 'shuffled-codes(rule)');
  assert.match(shuffled.model as string, /views=sum minSupport=4 cap=0 seed=3$/);
});

test('label: llama in generate mode with a GGUF file', async () => {
  const model = writeTinyGguf(join(dir, 'tiny.gguf'), { words: promptWords(systemPrompt) });
  const few = join(dir, 'few-candidates.txt');
  writeFileSync(few, readFileSync(candidates, 'utf8').split('\n').slice(0, 4).join('\n') + '\n');
  const out = join(dir, 'llama.jsonl');
  const summary = await dtlns(['label', ...common, '--candidates', few, '--labeler', 'llama', '--llm-model', model, '--mode', 'generate', '--threads', '1', '--out', out]);
  assert.equal(summary.labeler, 'llama-generate');
  assert.equal(summary.model, 'tiny.gguf');
  assert.ok((summary.promptTokens as number) > 0 && (summary.fullPromptTokens as number) > (summary.promptTokens as number));
  assert.ok((summary.generatedTokens as number) > 0);
  assert.equal((await readLabelStore(out)).length, 4 * 6);
  // --no-prefix-reuse: one full prompt per candidate, the DTL-NS release's scheme.
  const fullOut = join(dir, 'llama-full.jsonl');
  const full = await dtlns(['label', ...common, '--candidates', few, '--labeler', 'llama', '--llm-model', model, '--mode', 'score', '--no-prefix-reuse', '--threads', '1', '--out', fullOut]);
  assert.equal(full.labeler, 'llama-score');
  assert.equal(full.promptTokens, full.fullPromptTokens, 'every prompt evaluated whole');
  assert.equal(full.fullPromptTokens, summary.fullPromptTokens, 'the same prompts');
});

test('label: shards, then --merge', async () => {
  const shards = [];
  for (const shard of ['0/2', '1/2']) {
    const out = join(dir, `topn-${shard[0]}.jsonl`);
    const summary = await dtlns(['label', ...common, '--candidates', candidates, '--labeler', 'topn', '--shard', shard, '--out', out]);
    assert.ok((await readLabelStore(out)).every((r) => r.user % 2 === Number(shard[0])));
    assert.ok((summary.users as number) > 0);
    shards.push(out);
  }
  const merged = await dtlns(['label', '--merge', ...shards, '--out', join(dir, 'topn.jsonl'), '--json']);
  assert.equal(merged.records, readFileSync(candidates, 'utf8').trim().split('\n').length * 6);
});

test('BAD INPUT - the CLI names the problem: unknown ids, items without paths, missing options', async () => {
  writeFileSync(join(dir, 'unknown.txt'), '0 1 2\n5000 1\n');
  await fails(['label', ...common, '--candidates', join(dir, 'unknown.txt'), '--out', join(dir, 'x.jsonl')], /unknown\.txt, line 2: unknown user 5000/);
  const short = join(dir, 'short-paths.txt');
  writeFileSync(short, readFileSync(structural, 'utf8').split('\n').slice(0, 50).join('\n') + '\n');
  await fails(['label', '--data', 'synthetic:tiny', '--paths-struct', short, '--paths-semantic', semantic, '--candidates', candidates, '--out', join(dir, 'y.jsonl')], /short-paths\.txt: 50 of 100 items have no path/);
  await fails(['label', ...common, '--candidates', candidates, '--labeler', 'openai', '--out', join(dir, 'z.jsonl')], /--labeler openai needs --llm-url and --llm-model-name/);
  await fails(['label', '--data', 'synthetic:tiny', '--candidates', candidates, '--out', join(dir, 'z.jsonl')], /Give --paths-struct/);
});

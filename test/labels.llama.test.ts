/**
 * The llama labeler end to end on a tiny generated GGUF model (CPU, one thread, one Llama for the
 * whole file): both modes, records and token counts, prefix reuse against one full prompt per
 * (user, candidate), the threshold, history cutting and parallel sequences.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLlamaLabeler, getSharedLlama, type LlamaLabelerOptions } from '../src/labels/llama.js';
import type { Token } from 'node-llama-cpp';
import { PromptRenderer } from '../src/labels/llamaPrompt.js';
import { labelCandidates } from '../src/labels/label.js';
import { readLabelStore } from '../src/labels/store.js';
import { candidateText, historyText, systemPrompt } from '../src/labels/prompt.js';
import type { Labeler } from '../src/labels/types.js';
import { chatMlTemplate, writeTinyGguf } from '../src/labels/gguf-writer.js';
import { labelFixture, promptWords } from '../src/labels/labelFixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'dtlns-llama-'));
const modelPath = writeTinyGguf(join(dir, 'tiny.gguf'), { words: [...promptWords(systemPrompt), 'item_id', 'co_path', 'emb_path', 'Candidate', 'history', 'items'] });
const fixture = labelFixture({ users: 4, perUser: 20 });
const open: Labeler[] = [];
after(async () => {
  for (const l of open) await l.close?.();
});

// Each labeler resolves the chat template (about 0.7 s), so the tests share them.
const created = new Map<string, ReturnType<typeof createLlamaLabeler>>();
async function labeler(options: Partial<LlamaLabelerOptions> = {}) {
  const key = JSON.stringify(options);
  if (!created.has(key)) created.set(key, createLlamaLabeler({ modelPath, items: fixture.items, threads: 1, ...options }));
  const l = await created.get(key)!;
  if (!open.includes(l)) open.push(l);
  return l;
}

function history(user: number): Uint32Array {
  const { train } = fixture.dataset;
  return train.indices.subarray(train.indptr[user], train.indptr[user + 1]);
}

function row(r: number): { user: number; items: Uint32Array } {
  const c = fixture.candidates;
  return { user: c.users[r], items: c.items.subarray(c.indptr[r], c.indptr[r + 1]) };
}

test('score mode: every candidate labelled with P(yes) / (P(yes) + P(no)), prefix reuse >= 10x fewer prompt tokens', async () => {
  const l = await labeler({ mode: 'score' });
  assert.equal(l.name, 'llama-score');
  assert.equal(l.model, 'tiny.gguf');
  assert.equal(l.chatWrapper, 'ChatML');
  const out = join(dir, 'score.jsonl');
  const summary = await labelCandidates(fixture.dataset, fixture.candidates, { labeler: l, out });
  const records = await readLabelStore(out);
  assert.equal(records.length, fixture.candidates.items.length);
  for (const r of records) {
    assert.equal(r.labeler, 'llama-score');
    assert.ok(r.score! > 0 && r.score! < 1, `score ${r.score}`);
    assert.equal(r.label, r.score! >= 0.5 ? 'positive' : 'negative');
  }
  assert.equal(summary.counts.unparsed, 0);
  assert.ok(summary.promptTokens > 0);
  const saving = summary.fullPromptTokens / summary.promptTokens;
  assert.ok(saving >= 10, `prefix reuse evaluated ${summary.promptTokens} tokens vs ${summary.fullPromptTokens} for full prompts (${saving.toFixed(1)}x)`);
});

test('score mode: prefix reuse gives the same scores as one full prompt per (user, candidate)', async () => {
  const reuse = await labeler({ mode: 'score' });
  const full = await labeler({ mode: 'score', prefixReuse: false });
  const [reuse0, full0] = [reuse.stats!(), full.stats!()];
  for (const r of [0, 1]) {
    const { user, items } = row(r);
    const few = items.subarray(0, 4);
    const a = await reuse.labelUser(user, history(user), few);
    const b = await full.labelUser(user, history(user), few);
    assert.deepEqual(a.map((x) => x.label), b.map((x) => x.label));
    a.forEach((x, k) => assert.ok(Math.abs(x.score! - b[k].score!) < 1e-4, `${x.score} vs ${b[k].score}`));
  }
  const [reuse1, full1] = [reuse.stats!(), full.stats!()];
  const s = { promptTokens: reuse1.promptTokens - reuse0.promptTokens, fullPromptTokens: reuse1.fullPromptTokens - reuse0.fullPromptTokens };
  const f = { promptTokens: full1.promptTokens - full0.promptTokens, fullPromptTokens: full1.fullPromptTokens - full0.fullPromptTokens };
  assert.equal(s.fullPromptTokens, f.fullPromptTokens, 'same prompts');
  assert.equal(f.promptTokens, f.fullPromptTokens, 'the full-prompt path evaluates every prompt whole');
  assert.ok(s.promptTokens < f.promptTokens / 2);
});

test('score mode: reading the answer tokens only gives the full distribution\'s P(yes) / (P(yes) + P(no))', async () => {
  const l = await labeler({ mode: 'score' });
  const lib = await import('node-llama-cpp');
  const model = await (await getSharedLlama(1)).loadModel({ modelPath });
  const context = await model.createContext({ contextSize: 4096, flashAttention: false, threads: 1 });
  try {
    const renderer = new PromptRenderer(lib, model, lib.resolveChatWrapper(model), fixture.items, 4096 - 256);
    const answers = renderer.answerTokens();
    // The tiny vocabulary: 'Yes' in place after the cue, 'Yes' alone; 'No' in place, 'No', 'no' ('yes' is two tokens).
    assert.deepEqual(answers, { positive: [451, 453], negative: [454, 455, 546] });
    assert.deepEqual([...answers.positive, ...answers.negative].map((t) => model.detokenize([t]).trim()), ['Yes', 'Yes', 'No', 'No', 'no']);
    // Prefix ++ tail is the whole ChatML prompt: system, the history, the candidate, the assistant cue.
    const shown = renderer.forUser(history(0));
    // (The tiny tokenizer writes a space after each special token.)
    const text = (tokens: Token[]) => model.detokenize(tokens, true).replace(/(<\|im_(start|end)\|>) /g, '$1');
    assert.equal(text([...shown.prefix, ...shown.tail(5)]),
      `<s><|im_start|>system\n${systemPrompt}<|im_end|>\n<|im_start|>user\n${historyText(fixture.items, history(0))}${candidateText(fixture.items, 5)}<|im_end|>\n<|im_start|>assistant\n`);
    assert.equal(text(shown.tail(5)), `${candidateText(fixture.items, 5)}<|im_end|>\n<|im_start|>assistant\n`);
    const sequence = context.getSequence();
    const { user, items } = row(3);
    const few = items.subarray(0, 4);
    const results = await l.labelUser(user, history(user), few);
    const prompt = renderer.forUser(history(user));
    for (const [k, item] of few.entries()) {
      const tokens = [...prompt.prefix, ...prompt.tail(item)];
      await sequence.clearHistory();
      const output = await sequence.controlledEvaluate([...tokens.slice(0, -1), [tokens[tokens.length - 1], { generateNext: { probabilities: true } }]]);
      const p = output[tokens.length - 1]!.next!.probabilities!;
      assert.ok(p.size > 300, 'the reference reads the whole vocabulary');
      const mass = (ts: number[]): number => ts.reduce((sum, t) => sum + (p.get(t as never) ?? 0), 0);
      const expected = mass(answers.positive) / (mass(answers.positive) + mass(answers.negative));
      assert.ok(Math.abs(results[k].score! - expected) < 1e-5, `candidate ${k}: ${results[k].score} vs the full distribution's ${expected}`);
    }
  } finally {
    await context.dispose();
    await model.dispose();
  }
});

test('score mode: the threshold decides the label', async () => {
  const { user, items } = row(2);
  const base = await (await labeler({ mode: 'score' })).labelUser(user, history(user), items);
  const sorted = base.map((x) => x.score!).sort((a, b) => a - b);
  const threshold = sorted[10];
  const split = await (await labeler({ mode: 'score', threshold })).labelUser(user, history(user), items);
  split.forEach((x, k) => {
    assert.equal(x.score, base[k].score);
    assert.equal(x.label, x.score! >= threshold ? 'positive' : 'negative');
  });
  assert.ok(split.some((x) => x.label === 'positive') && split.some((x) => x.label === 'negative'));
});

test('generate mode: grammar-constrained Yes/No answers, same labels as full prompts', async () => {
  const l = await labeler({ mode: 'generate' });
  const out = join(dir, 'generate.jsonl');
  const sub = { users: fixture.candidates.users.subarray(0, 2), indptr: fixture.candidates.indptr.subarray(0, 3), items: fixture.candidates.items.subarray(0, fixture.candidates.indptr[2]) };
  const summary = await labelCandidates(fixture.dataset, sub, { labeler: l, out });
  const records = await readLabelStore(out);
  assert.equal(records.length, sub.items.length);
  assert.ok(records.every((r) => r.label === 'positive' || r.label === 'negative'));
  assert.equal(summary.counts.unparsed, 0);
  assert.ok(summary.generatedTokens >= sub.items.length);
  assert.ok(summary.fullPromptTokens / summary.promptTokens >= 5);
  const full = await labeler({ mode: 'generate', prefixReuse: false });
  const { user, items } = row(0);
  const a = await full.labelUser(user, history(user), items.subarray(0, 4));
  assert.deepEqual(a.map((x) => x.label), records.slice(0, 4).map((r) => r.label));
});

test('histories over the token budget keep their last items', async () => {
  const l = await labeler({ mode: 'score', maxPrefixTokens: 420 });
  const { user, items } = row(0);
  const h = history(user);
  const before = l.stats!();
  const results = await l.labelUser(user, h, items.subarray(0, 1));
  const after = l.stats!();
  assert.equal(results.length, 1);
  assert.equal(after.historiesCut - before.historiesCut, 1);
  // Prefix (<= 420 tokens) + one tail, evaluated once.
  assert.ok(after.promptTokens - before.promptTokens <= 420 + 60, `${after.promptTokens - before.promptTokens} tokens`);
});

test('two sequences label two users in parallel with the same scores', async () => {
  const one = await labeler({ mode: 'score' });
  const two = await labeler({ mode: 'score', sequences: 2 });
  assert.equal(two.parallelUsers, 2);
  const [a, b] = [row(0), row(1)];
  const parallel = await Promise.all([two.labelUser(a.user, history(a.user), a.items.subarray(0, 5)), two.labelUser(b.user, history(b.user), b.items.subarray(0, 5))]);
  const serial = [await one.labelUser(a.user, history(a.user), a.items.subarray(0, 5)), await one.labelUser(b.user, history(b.user), b.items.subarray(0, 5))];
  parallel.flat().forEach((x, k) => assert.ok(Math.abs(x.score! - serial.flat()[k].score!) < 1e-4));
});

test('BAD CALL - llama labeler options', async () => {
  await assert.rejects(createLlamaLabeler({ modelPath, items: fixture.items, mode: 'chat' as never }), { name: 'RangeError', message: /mode/ });
  await assert.rejects(createLlamaLabeler({ modelPath, items: fixture.items, threshold: 2 }), { name: 'RangeError', message: /threshold/ });
  await assert.rejects(createLlamaLabeler({ modelPath, items: fixture.items, sequences: 0 }), { name: 'RangeError', message: /sequences/ });
  await assert.rejects(createLlamaLabeler({ modelPath, items: fixture.items, gpuLayers: -1 }), { name: 'RangeError', message: /gpuLayers/ });
});

/** A template that writes only the user turn, between [user] and [/user]; `alter` drops its NUL characters. */
const userOnlyWrapper = (lib: typeof import('node-llama-cpp'), alter = false) => ({
  wrapperName: 'Fake',
  generateContextState: ({ chatHistory }: { chatHistory: { type: string; text?: string }[] }) => ({
    contextText: lib.LlamaText(['[user]', alter ? chatHistory[1].text!.replace(/\u0000/g, '') : chatHistory[1].text!, '[/user]']),
  }),
}) as never;

test('PromptRenderer refuses a template that alters the user message, and answers it cannot tell apart', async () => {
  const lib = await import('node-llama-cpp');
  // A character-level tokenizer; the template puts the turn between [user] and [/user].
  const chars = (text: string) => Array.from(text, (c) => c.charCodeAt(0)) as Token[];
  const tokenizer = Object.assign((text: string) => chars(text), {}) as never;
  const model = (filename?: string, word = (t: string) => chars(t)) => ({
    filename, tokenizer, tokenize: (text: string) => word(text), detokenize: (tokens: Token[]) => String.fromCharCode(...(tokens as number[])),
  }) as never;
  assert.throws(() => new PromptRenderer(lib, model('m.gguf'), userOnlyWrapper(lib, true), fixture.items, 100).forUser(Uint32Array.of(1)),
    { name: 'Error', message: 'The chat template of m.gguf (Fake) altered the user message; cannot split the prompt' });
  assert.throws(() => new PromptRenderer(lib, model(), userOnlyWrapper(lib, true), fixture.items, 100).answerTokens(),
    { message: 'The chat template of the model (Fake) altered the user message; cannot split the prompt' });
  // Per character, each answer starts with its first letter: 'Y' (and 'y' alone is not the word).
  assert.deepEqual(new PromptRenderer(lib, model(), userOnlyWrapper(lib), fixture.items, 100).answerTokens(), { positive: [89], negative: [78] });
  // A vocabulary where 'Yes' and 'No' after the cue are the same token: refused.
  const last7 = (text: string) => {
    const m = /(yes|no)$/i.exec(text);
    return m ? [...chars(text.slice(0, m.index)), 7 as Token] : chars(text);
  };
  // ('Yes' alone is token 8, so only one of its tokens is shared.)
  const same = {
    ...(model('m.gguf', (t) => (/^ ?yes$/i.test(t) ? [8 as Token] : chars(t))) as object), tokenizer: last7,
    detokenize: (tokens: Token[]) => (tokens[0] === 8 ? 'Yes' : String.fromCharCode(...(tokens as number[]))),
  } as never;
  assert.throws(() => new PromptRenderer(lib, same, userOnlyWrapper(lib), fixture.items, 100).answerTokens(),
    { name: 'Error', message: 'Cannot tell the answers "Yes" and "No" apart by their first token with the vocabulary of m.gguf' });
});

/**
 * A fake model over a vocabulary of whole strings (greedy longest match); any other character is
 * its char code, or dropped (a vocabulary that cannot write some text at all).
 */
function vocabularyModel(vocabulary: Record<string, number>, other: 'chars' | 'drop', filename?: string) {
  const byId = new Map(Object.entries(vocabulary).map(([text, id]) => [id, text]));
  const longestFirst = Object.keys(vocabulary).sort((a, b) => b.length - a.length);
  const tokenize = (text: string): Token[] => {
    const out: number[] = [];
    for (let i = 0; i < text.length;) {
      const hit = longestFirst.find((s) => text.startsWith(s, i));
      if (hit !== undefined) out.push(vocabulary[hit]);
      else if (other === 'chars') out.push(text.charCodeAt(i));
      i += hit?.length ?? 1;
    }
    return out as Token[];
  };
  return {
    filename, tokenizer: Object.assign((text: string) => tokenize(text), {}), tokenize: (text: string) => tokenize(text),
    detokenize: (tokens: Token[]) => tokens.map((t) => byId.get(t) ?? String.fromCharCode(t)).join(''),
  } as never;
}


test('PromptRenderer.answerTokens: the token in place after the cue and each whole-word token, any case, with or without a space', async () => {
  const lib = await import('node-llama-cpp');
  // The cue '[/user]' merges with the answer in place (']Yes'), as BPE merges do; each spelling of a word is one token.
  const model = vocabularyModel({
    ']Yes': 1009, Yes: 1001, yes: 1002, ' Yes': 1003, ' yes': 1004, ']No': 1010, No: 1005, no: 1006, ' No': 1007, ' no': 1008,
  }, 'chars');
  assert.deepEqual(new PromptRenderer(lib, model, userOnlyWrapper(lib), fixture.items, 100).answerTokens(),
    { positive: [1009, 1001, 1002, 1003, 1004], negative: [1010, 1005, 1006, 1007, 1008] });
});

test('PromptRenderer.answerTokens refuses a vocabulary that cannot write an answer', async () => {
  const lib = await import('node-llama-cpp');
  for (const [vocabulary, filename] of [[{ No: 5 }, undefined], [{ Yes: 4 }, 'm.gguf']] as const) {
    const model = vocabularyModel(vocabulary, 'drop', filename);
    assert.throws(() => new PromptRenderer(lib, model, userOnlyWrapper(lib), fixture.items, 100).answerTokens(),
      { name: 'Error', message: `Cannot tell the answers "Yes" and "No" apart by their first token with the vocabulary of ${filename ?? 'the model'}` });
  }
});

test('PromptRenderer with a Jinja template: the model turn after the user turn gives the assistant cue', async () => {
  const lib = await import('node-llama-cpp');
  // The tiny model's ChatML template run as Jinja (as for a GGUF's tokenizer.chat_template that node-llama-cpp does not recognise).
  const model = vocabularyModel({}, 'chars');
  const renderer = new PromptRenderer(lib, model, new lib.JinjaTemplateChatWrapper({ template: chatMlTemplate }), fixture.items, 10_000);
  const shown = renderer.forUser(Uint32Array.of(1, 2));
  const text = (tokens: Token[]) => String.fromCharCode(...(tokens as number[]));
  assert.equal(text(shown.prefix), `<|im_start|>system\n${systemPrompt}<|im_end|>\n<|im_start|>user\n${historyText(fixture.items, Uint32Array.of(1, 2))}`);
  assert.equal(text(shown.tail(5)), `${candidateText(fixture.items, 5)}<|im_end|>\n<|im_start|>assistant\n`);
});

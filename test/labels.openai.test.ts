/**
 * The openai labeler against OpenAI-compatible servers started on 127.0.0.1: one backed by the
 * tiny generated GGUF model (grammar-constrained answers), and deterministic responders for
 * retries (500, 429), garbage, refusals, timeouts; plus an unreachable endpoint.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Token } from 'node-llama-cpp';
import { createOpenAiLabeler, EndpointError } from '../src/labels/openai.js';
import { getSharedLlama } from '../src/labels/llama.js';
import { labelCandidates } from '../src/labels/label.js';
import { readLabelStore } from '../src/labels/store.js';
import { keepLastFitting, parseAnswer, systemPrompt, userMessage } from '../src/labels/prompt.js';
import { packPaths } from '../src/trees/path-codes.js';
import { writeTinyGguf } from '../src/labels/gguf-writer.js';
import { labelFixture, promptWords } from '../src/labels/labelFixtures.js';
import { closeServers, serve, type TestServer } from './support/http.js';

const dir = mkdtempSync(join(tmpdir(), 'dtlns-openai-'));
const fixture = labelFixture({ users: 3, perUser: 6 });
after(closeServers);

type Handler = (body: { model: string; messages: { role: string; content: string }[]; max_tokens: number; temperature: number }, res: ServerResponse) => void | Promise<void>;

/** A chat-completions endpoint (support/http.ts's recording server) answering through handler. */
function serveChat(handler: Handler): Promise<TestServer> {
  return serve(async (res, _call, seen) => {
    assert.equal(seen.url, '/v1/chat/completions');
    await handler(JSON.parse(seen.body), res);
  });
}

function reply(res: ServerResponse, content: string, status = 200, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify({ choices: [{ index: 0, message: { role: 'assistant', content } }], usage: { prompt_tokens: 100, completion_tokens: 1 } }));
}

function options(url: string, extra: Partial<Parameters<typeof createOpenAiLabeler>[0]> = {}) {
  return { url, modelName: 'tiny', items: fixture.items, retryBaseMs: 1, timeoutMs: 5000, ...extra };
}

test('openai labeler against a server backed by the tiny GGUF model', async () => {
  const lib = await import('node-llama-cpp');
  const llama = await getSharedLlama(1);
  const model = await llama.loadModel({ modelPath: writeTinyGguf(join(dir, 'tiny.gguf'), { words: promptWords(systemPrompt) }) });
  const context = await model.createContext({ contextSize: 4096, flashAttention: false, threads: 1 });
  const sequence = context.getSequence();
  const chatWrapper = lib.resolveChatWrapper(model);
  const grammar = await llama.createGrammar({ grammar: 'root ::= " "? ("Yes" | "No")' });
  let queue = Promise.resolve();
  const server = await serveChat((body, res) => {
    // One sequence: requests take turns.
    queue = queue.then(async () => {
      const system = body.messages.find((m) => m.role === 'system')!.content;
      const user = body.messages.find((m) => m.role === 'user')!.content;
      const { contextText } = chatWrapper.generateContextState({ chatHistory: [{ type: 'system', text: system }, { type: 'user', text: user }, { type: 'model', response: [] }] });
      const tokens = contextText.tokenize(model.tokenizer);
      await sequence.clearHistory();
      const out: Token[] = [];
      const grammarEvaluationState = new lib.LlamaGrammarEvaluationState({ model, grammar });
      for await (const t of sequence.evaluate(tokens, { grammarEvaluationState, temperature: 0 })) {
        out.push(t);
        if (out.length >= body.max_tokens) break;
      }
      reply(res, model.detokenize(out));
    });
    return queue;
  });
  try {
    const labeler = createOpenAiLabeler(options(server.url, { concurrency: 3 }));
    const out = join(dir, 'model.jsonl');
    const summary = await labelCandidates(fixture.dataset, fixture.candidates, { labeler, out });
    const records = await readLabelStore(out);
    assert.equal(records.length, fixture.candidates.items.length);
    assert.ok(records.every((r) => r.labeler === 'openai' && r.model === 'tiny' && r.label !== 'unparsed'));
    assert.equal(server.seen.length, records.length);
    assert.ok(server.maxInFlight <= 3);
    assert.equal(summary.promptTokens, 100 * records.length);
  } finally {
    await context.dispose();
    await model.dispose();
  }
});

test('429 and 500 answers are retried with backoff, then the answer is used', async () => {
  let calls = 0;
  const server = await serveChat((_body, res) => {
    calls++;
    if (calls === 1) return reply(res, 'overloaded', 500);
    if (calls === 2) return reply(res, 'slow down', 429, { 'retry-after': '0' });
    if (calls === 3) return reply(res, 'bad gateway', 503);
    reply(res, 'Yes.');
  });
  const labeler = createOpenAiLabeler(options(server.url, { concurrency: 1 }));
  const results = await labeler.labelUser(0, Uint32Array.of(1, 2), Uint32Array.of(5));
  assert.deepEqual(results, [{ item: 5, label: 'positive' }]);
  assert.equal(server.seen.length, 4);
});

test('garbage output is retried once, then recorded as unparsed and counted', async () => {
  const answers = ['Perhaps', 'Maybe', 'no', 'not json at all'];
  let calls = 0;
  const server = await serveChat((_body, res) => {
    const answer = answers[calls++ % answers.length];
    if (answer.startsWith('not json')) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(answer);
    } else reply(res, answer);
  });
  const labeler = createOpenAiLabeler(options(server.url, { concurrency: 1 }));
  const first = await labeler.labelUser(0, Uint32Array.of(1), Uint32Array.of(7));
  assert.deepEqual(first, [{ item: 7, label: 'unparsed' }], 'Perhaps, then Maybe');
  const second = await labeler.labelUser(0, Uint32Array.of(1), Uint32Array.of(8));
  assert.deepEqual(second, [{ item: 8, label: 'negative' }], 'no');
  const third = await labeler.labelUser(0, Uint32Array.of(1), Uint32Array.of(9));
  assert.deepEqual(third, [{ item: 9, label: 'unparsed' }], 'not JSON, then Perhaps');
  assert.equal(labeler.stats!().retries, 2);
  const out = join(dir, 'garbage.jsonl');
  const summary = await labelCandidates(fixture.dataset, fixture.candidates, { labeler: createOpenAiLabeler(options(server.url)), out });
  assert.equal(summary.counts.unparsed + summary.counts.negative, fixture.candidates.items.length);
  assert.ok(summary.counts.unparsed > 0);
  assert.equal((await readLabelStore(out)).filter((r) => r.label === 'unparsed').length, summary.counts.unparsed);
});

test('BAD INPUT - unreachable endpoint, persistent 500s, refusals and timeouts are clear errors', async () => {
  const closed = await serveChat(() => undefined);
  await closed.stop();
  await new Promise((resolve) => setTimeout(resolve, 20));
  const unreachable = createOpenAiLabeler(options(closed.url, { retries: 2 }));
  await assert.rejects(unreachable.labelUser(0, Uint32Array.of(1), Uint32Array.of(2)), (error: Error) => {
    assert.ok(error instanceof EndpointError);
    assert.match(error.message, new RegExp(`Could not get an answer from ${closed.url}/chat/completions after 3 attempts: ECONNREFUSED`));
    return true;
  });
  const failing = await serveChat((_b, res) => reply(res, 'down', 500));
  await assert.rejects(createOpenAiLabeler(options(failing.url, { retries: 1 })).labelUser(0, Uint32Array.of(1), Uint32Array.of(2)), { name: 'EndpointError', message: /after 2 attempts: HTTP 500/ });
  assert.equal(failing.seen.length, 2);
  const refusing = await serveChat((_b, res) => reply(res, 'bad key', 401));
  await assert.rejects(createOpenAiLabeler(options(refusing.url)).labelUser(0, Uint32Array.of(1), Uint32Array.of(2)), { name: 'EndpointError', message: /refused the request: HTTP 401/ });
  assert.equal(refusing.seen.length, 1, 'not retried');
  const silent = await serveChat(() => new Promise(() => undefined));
  await assert.rejects(createOpenAiLabeler(options(silent.url, { timeoutMs: 50, retries: 1 })).labelUser(0, Uint32Array.of(1), Uint32Array.of(2)), { name: 'EndpointError', message: /after 2 attempts: timed out/ });
  // The job stops with the endpoint's error; what was labelled stays in the store.
  await assert.rejects(labelCandidates(fixture.dataset, fixture.candidates, { labeler: unreachable, out: join(dir, 'unreachable.jsonl') }), { name: 'EndpointError' });
});

test('BAD CALL - openai labeler options', () => {
  assert.throws(() => createOpenAiLabeler(options('ftp://x')), { name: 'RangeError', message: /url/ });
  assert.throws(() => createOpenAiLabeler(options('http://127.0.0.1:1/v1', { modelName: '' })), { name: 'TypeError', message: /modelName/ });
  assert.throws(() => createOpenAiLabeler(options('http://127.0.0.1:1/v1', { concurrency: 0 })), { name: 'RangeError', message: /concurrency/ });
  assert.throws(() => createOpenAiLabeler(options('http://127.0.0.1:1/v1', { retries: -1 })), { name: 'RangeError', message: /retries/ });
});

test('prompt: the user message lists the history as records, then the candidate', () => {
  const items = { itemIds: [10, 11, 12], structural: packPaths([[0, 1], [0, 2], []]), semantic: packPaths([[1], [1, 0], [2]]) };
  assert.equal(userMessage(items, Uint32Array.of(0, 2), 1), [
    "The user's history (2 items):",
    '{"item_id": 10, "co_path": "0-1", "emb_path": "1"}',
    '{"item_id": 12, "co_path": "", "emb_path": "2"}',
    'Would the user like the candidate below? Answer Yes or No.',
    'Candidate: {"item_id": 11, "co_path": "0-2", "emb_path": "1-0"}',
  ].join('\n'));
});

test('prompt: parseAnswer reads the first word, any case, past leading punctuation', () => {
  const cases: [string, 'positive' | 'negative' | undefined][] = [
    ['Yes', 'positive'], [' yes.', 'positive'], ['**YES**', 'positive'], ['1. Yes', 'positive'], ['No', 'negative'], ['no, yes', 'negative'],
    ['"No"', 'negative'], ['Yesterday', undefined], ['Nope', undefined], ['Maybe yes', undefined], ['', undefined], ['...', undefined],
  ];
  for (const [text, label] of cases) assert.equal(parseAnswer(text), label, JSON.stringify(text));
});

test('prompt: keepLastFitting keeps the longest suffix within the budget', () => {
  const history = Uint32Array.of(5, 1, 2, 1);
  const sum = (kept: Uint32Array): number => kept.reduce((s, x) => s + x, 0);
  assert.equal(keepLastFitting(history, 9, sum), history, 'the whole history when it fits exactly');
  for (const [budget, kept] of [[8, [1, 2, 1]], [4, [1, 2, 1]], [3, [2, 1]], [2, [1]], [1, [1]], [0, []]] as const) {
    assert.deepEqual(Array.from(keepLastFitting(history, budget, sum)), kept, `budget ${budget}`);
  }
  assert.deepEqual(Array.from(keepLastFitting(Uint32Array.of(7), 6, sum)), []);
});

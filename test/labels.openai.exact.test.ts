/**
 * The openai client's exact behaviour against recording servers on 127.0.0.1: the request it
 * sends (path, headers, body), the token counts it reads back, the history cut, the backoff
 * schedule (with Math.random fixed at 0.5, so each wait is exactly retryBaseMs * 2^attempt),
 * Retry-After, the response-size bound at its edge, and each error's whole message. No model is
 * loaded: every test here runs in well under a second.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { createOpenAiLabeler, EndpointError, type OpenAiLabelerOptions } from '../src/labels/openai.js';
import { historyText, systemPrompt, userMessage } from '../src/labels/prompt.js';
import { labelFixture } from '../src/labels/labelFixtures.js';
import { closeServers, serve } from './support/http.js';

const fixture = labelFixture({ users: 2, perUser: 4 });
after(closeServers);

const completion = (content: unknown, usage?: object) => JSON.stringify({ choices: [{ index: 0, message: { role: 'assistant', content } }], ...(usage ? { usage } : {}) });
const ok = (res: ServerResponse, body: string) => res.writeHead(200, { 'content-type': 'application/json' }).end(body);

function labeler(url: string, extra: Partial<OpenAiLabelerOptions> = {}) {
  return createOpenAiLabeler({ url, modelName: 'm', items: fixture.items, retryBaseMs: 1, timeoutMs: 5000, concurrency: 1, ...extra });
}

/** Runs `body` with Math.random() fixed at `value`: at 0.5 the backoff's jitter factor 0.75 + 0.5 * value is exactly 1. */
async function withoutJitter<T>(body: () => Promise<T>, value = 0.5): Promise<T> {
  const random = Math.random;
  Math.random = () => value;
  try {
    return await body();
  } finally {
    Math.random = random;
  }
}

test('the request: endpoint path from each URL form, JSON body, content type and bearer token', async () => {
  const server = await serve((res) => ok(res, completion('Yes')));
  const history = Uint32Array.of(1, 3);
  const forms: [string, string][] = [
    ['/v1', '/v1/chat/completions'],
    ['/v1///', '/v1/chat/completions'],
    ['', '/chat/completions'],
    ['/v1/chat/completions', '/v1/chat/completions'],
    ['/v1/chat/completions/', '/v1/chat/completions/'],
    ['/chat/completions/v1', '/chat/completions/v1/chat/completions'],
  ];
  for (const [path, expected] of forms) {
    const before = server.seen.length;
    assert.deepEqual(await labeler(server.base + path, { apiKey: 'k1' }).labelUser(0, history, Uint32Array.of(2)), [{ item: 2, label: 'positive' }]);
    assert.deepEqual(server.seen.slice(before).map((s) => s.url), [expected], path);
  }
  const last = server.seen.at(-1)!;
  assert.equal(last.body, JSON.stringify({
    model: 'm',
    messages: [{ role: 'system', content: systemPrompt }, { role: 'user', content: userMessage(fixture.items, history, 2) }],
    max_tokens: 4,
    temperature: 0,
  }));
  assert.equal(last.headers['content-type'], 'application/json');
  assert.equal(last.headers.authorization, 'Bearer k1');
  await labeler(`${server.base}/v1`, { maxAnswerTokens: 7, modelName: 'other' }).labelUser(0, history, Uint32Array.of(0));
  const body = JSON.parse(server.seen.at(-1)!.body) as { model: string; max_tokens: number };
  assert.deepEqual([body.model, body.max_tokens], ['other', 7]);

  // The token: the option, else OPENAI_API_KEY, else none (an empty one sends none either).
  const saved = process.env.OPENAI_API_KEY;
  try {
    delete process.env.OPENAI_API_KEY;
    await labeler(`${server.base}/v1`).labelUser(0, history, Uint32Array.of(0));
    assert.equal(server.seen.at(-1)!.headers.authorization, undefined);
    process.env.OPENAI_API_KEY = 'from-env';
    await labeler(`${server.base}/v1`).labelUser(0, history, Uint32Array.of(0));
    assert.equal(server.seen.at(-1)!.headers.authorization, 'Bearer from-env');
    await labeler(`${server.base}/v1`, { apiKey: 'k2' }).labelUser(0, history, Uint32Array.of(0));
    assert.equal(server.seen.at(-1)!.headers.authorization, 'Bearer k2');
    await labeler(`${server.base}/v1`, { apiKey: '' }).labelUser(0, history, Uint32Array.of(0));
    assert.equal(server.seen.at(-1)!.headers.authorization, undefined);
  } finally {
    if (saved === undefined) delete process.env.OPENAI_API_KEY;
    else process.env.OPENAI_API_KEY = saved;
  }
});

test('name, model, parallel users and the token counts read from each reply', async () => {
  const usages = [{ prompt_tokens: 120, completion_tokens: 2 }, undefined, { prompt_tokens: 'many', completion_tokens: null }, { prompt_tokens: 30, completion_tokens: 1 }];
  const server = await serve((res, call) => ok(res, completion('No', usages[(call - 1) % usages.length])));
  const l = labeler(`${server.base}/v1`, { modelName: 'served-model' });
  assert.deepEqual([l.name, l.model, l.parallelUsers], ['openai', 'served-model', 2]);
  assert.deepEqual(l.stats!(), { promptTokens: 0, fullPromptTokens: 0, generatedTokens: 0, retries: 0, historiesCut: 0 });
  assert.deepEqual(await l.labelUser(0, Uint32Array.of(1), Uint32Array.of(2, 3, 4, 5)), [2, 3, 4, 5].map((item) => ({ item, label: 'negative' })));
  // A missing or non-numeric usage adds nothing (null reads as 0 completion tokens).
  const stats = l.stats!();
  assert.deepEqual(stats, { promptTokens: 150, fullPromptTokens: 150, generatedTokens: 3, retries: 0, historiesCut: 0 });
  stats.promptTokens = 0;
  assert.equal(l.stats!().promptTokens, 150, 'stats() is a copy');
});

test('replies that are not a readable answer: retried once, then unparsed, each retry counted', async () => {
  const bodies = ['null', JSON.stringify({ choices: [] }), completion(42), JSON.stringify({ choices: [{}] }), '[]', completion('Yes')];
  // The fourth item's replies are 204s: no body at all.
  const server = await serve((res, call) => (call === 7 || call === 8 ? res.writeHead(204).end() : ok(res, bodies[call - 1] ?? completion('No'))));
  const l = labeler(`${server.base}/v1`);
  const out = [];
  for (const item of [1, 2, 3, 4]) out.push(...(await l.labelUser(0, Uint32Array.of(0), Uint32Array.of(item))));
  assert.deepEqual(out, [{ item: 1, label: 'unparsed' }, { item: 2, label: 'unparsed' }, { item: 3, label: 'positive' }, { item: 4, label: 'unparsed' }]);
  assert.equal(server.seen.length, 8);
  assert.equal(l.stats!().retries, 4);
});

test('a history over maxPromptTokens keeps the longest suffix whose estimate fits, counted once per user', async () => {
  const server = await serve((res) => ok(res, completion('Yes')));
  const history = Uint32Array.of(0, 1, 2, 3, 4, 5);
  // The estimate: (system prompt + history text) / 4 characters, rounded up.
  const estimate = (h: Uint32Array) => Math.ceil((systemPrompt.length + historyText(fixture.items, h).length) / 4);
  const budget = estimate(history.subarray(3));
  assert.ok(estimate(history.subarray(2)) > budget);
  const l = labeler(`${server.base}/v1`, { maxPromptTokens: budget, concurrency: 2 });
  await l.labelUser(0, history, Uint32Array.of(7, 8));
  const sent = server.seen.map((s) => (JSON.parse(s.body) as { messages: { content: string }[] }).messages[1].content).sort();
  assert.deepEqual(sent, [7, 8].map((item) => userMessage(fixture.items, history.subarray(3), item)));
  assert.equal(l.stats!().historiesCut, 1);
  // Exactly at the budget: nothing cut.
  const whole = labeler(`${server.base}/v1`, { maxPromptTokens: estimate(history) });
  await whole.labelUser(0, history, Uint32Array.of(7));
  assert.equal((JSON.parse(server.seen.at(-1)!.body) as { messages: { content: string }[] }).messages[1].content, userMessage(fixture.items, history, 7));
  assert.equal(whole.stats!().historiesCut, 0);
});

test('concurrency: exactly that many requests in flight, shared by the users', async () => {
  let inFlight = 0;
  let most = 0;
  const server = await serve((res) => {
    most = Math.max(most, ++inFlight);
    setTimeout(() => {
      inFlight--;
      ok(res, completion('Yes'));
    }, 20);
  });
  const l = labeler(`${server.base}/v1`, { concurrency: 2 });
  const results = await Promise.all([l.labelUser(0, Uint32Array.of(1), Uint32Array.of(2, 3, 4)), l.labelUser(1, Uint32Array.of(1), Uint32Array.of(5, 6, 7))]);
  assert.deepEqual(results.flat().map((r) => r.item), [2, 3, 4, 5, 6, 7]);
  assert.equal(server.seen.length, 6);
  assert.equal(most, 2);
});

test('backoff: retryBaseMs * 2^attempt, capped by maxRetryWaitMs, stopped by maxRetryTotalMs', async () => {
  const server = await serve((res) => res.writeHead(503).end('busy'));
  const endpoint = `${server.base}/v1/chat/completions`;
  const attempts = async (extra: Partial<OpenAiLabelerOptions>, random = 0.5) => {
    const before = server.seen.length;
    const error = await withoutJitter(() => labeler(`${server.base}/v1`, { retries: 50, ...extra }).labelUser(0, Uint32Array.of(1), Uint32Array.of(2)), random)
      .then(() => assert.fail('expected an EndpointError'), (e: Error) => e);
    assert.ok(error instanceof EndpointError);
    assert.equal(server.seen.length - before, Number(/\((\d+) attempts\)/.exec(error.message)?.[1]));
    return error.message;
  };
  const stopped = (total: number, n: number) => `Could not get an answer from ${endpoint} within maxRetryTotalMs = ${total} ms of retries (${n} attempts): HTTP 503 busy`;
  // Waits 10, 20, 40, 80: their running sums 10, 30, 70, 150.
  assert.equal(await attempts({ retryBaseMs: 10, maxRetryTotalMs: 69 }), stopped(69, 3));
  assert.equal(await attempts({ retryBaseMs: 10, maxRetryTotalMs: 70 }), stopped(70, 4), 'a total of exactly maxRetryTotalMs is allowed');
  // Capped at 15: 10, 15, 15, 15: sums 10, 25, 40, 55.
  assert.equal(await attempts({ retryBaseMs: 10, maxRetryWaitMs: 15, maxRetryTotalMs: 50 }), stopped(50, 4));
  // Jitter 0.75 (Math.random() = 0): 7.5, 15, 30: sums 7.5, 22.5, 52.5.
  assert.equal(await attempts({ retryBaseMs: 10, maxRetryTotalMs: 30 }, 0), stopped(30, 3));
  // The waits are slept: 50 + 100 ms before the third attempt.
  const started = performance.now();
  await assert.rejects(withoutJitter(() => labeler(`${server.base}/v1`, { retries: 2, retryBaseMs: 50 }).labelUser(0, Uint32Array.of(1), Uint32Array.of(2))), { name: 'EndpointError' });
  assert.ok(performance.now() - started >= 145, `${performance.now() - started} ms`);
  // No total budget left: the first retry is refused at once.
  assert.equal(await attempts({ retryBaseMs: 10, maxRetryTotalMs: 0 }), stopped(0, 1));
  // retries bounds the attempts first.
  await assert.rejects(withoutJitter(() => labeler(`${server.base}/v1`, { retries: 2, retryBaseMs: 0 }).labelUser(0, Uint32Array.of(1), Uint32Array.of(2))),
    { name: 'EndpointError', message: `Could not get an answer from ${endpoint} after 3 attempts: HTTP 503 busy` });
});

test('Retry-After: seconds raise the wait (a 1 s ask outruns a 500 ms budget); 0, Infinity and junk are ignored', async () => {
  const endpoint = (base: string) => `${base}/v1/chat/completions`;
  for (const [after, message] of [['1', true], ['0', false], ['Infinity', false], ['soon', false], ['-3', false]] as const) {
    let calls = 0;
    const server = await serve((res) => (++calls === 1 ? res.writeHead(429, { 'retry-after': after }).end('later') : ok(res, completion('Yes'))));
    const run = withoutJitter(() => labeler(`${server.base}/v1`, { retryBaseMs: 5, maxRetryWaitMs: 1000, maxRetryTotalMs: 500 }).labelUser(0, Uint32Array.of(1), Uint32Array.of(2)));
    if (message) {
      await assert.rejects(run, { name: 'EndpointError', message: `Could not get an answer from ${endpoint(server.base)} within maxRetryTotalMs = 500 ms of retries (1 attempts): HTTP 429 later` });
    } else {
      assert.deepEqual(await run, [{ item: 2, label: 'positive' }], `retry-after: ${after}`);
      assert.equal(calls, 2);
    }
  }
});

test('errors name the endpoint, the status and the first 200 characters of the body', async () => {
  const long = 'e'.repeat(250);
  const server = await serve((res, call) => (call === 1 ? res.writeHead(404).end(`${long}  `) : res.writeHead(403).end()));
  const endpoint = `${server.base}/v1/chat/completions`;
  await assert.rejects(labeler(`${server.base}/v1`).labelUser(0, Uint32Array.of(1), Uint32Array.of(2)),
    { name: 'EndpointError', message: `${endpoint} refused the request: HTTP 404 ${'e'.repeat(200)}` });
  await assert.rejects(labeler(`${server.base}/v1`).labelUser(0, Uint32Array.of(1), Uint32Array.of(2)),
    { name: 'EndpointError', message: `${endpoint} refused the request: HTTP 403` });
  assert.equal(server.seen.length, 2, 'neither retried');
  // A 599 is a server error: retried.
  const flaky = await serve((res, call) => (call === 1 ? res.writeHead(599).end('odd') : ok(res, completion('no'))));
  assert.deepEqual(await labeler(`${flaky.base}/v1`).labelUser(0, Uint32Array.of(1), Uint32Array.of(2)), [{ item: 2, label: 'negative' }]);
  // The connection refused: the error code and the socket's message.
  const gone = await serve(() => undefined);
  const port = new URL(gone.base).port;
  await gone.stop();
  // A redirect loop: fetch fails with a cause that has no error code.
  const looping = await serve((res) => res.writeHead(302, { location: '/v1/chat/completions' }).end());
  await assert.rejects(labeler(`${looping.base}/v1`, { retries: 0 }).labelUser(0, Uint32Array.of(1), Uint32Array.of(2)),
    { name: 'EndpointError', message: `Could not get an answer from ${looping.base}/v1/chat/completions after 1 attempts: fetch failed` });
  await assert.rejects(labeler(`${gone.base}/v1`, { retries: 0 }).labelUser(0, Uint32Array.of(1), Uint32Array.of(2)),
    { name: 'EndpointError', message: `Could not get an answer from ${gone.base}/v1/chat/completions after 1 attempts: ECONNREFUSED (connect ECONNREFUSED 127.0.0.1:${port})` });
});

test('maxResponseBytes: a body of exactly that size is read, one byte more is refused, declared or streamed', async () => {
  const body = completion('Yes');
  const size = Buffer.byteLength(body);
  const declared = await serve((res) => res.writeHead(200, { 'content-length': String(size) }).end(body));
  const endpoint = (base: string) => `${base}/v1/chat/completions`;
  assert.deepEqual(await labeler(`${declared.base}/v1`, { maxResponseBytes: size }).labelUser(0, Uint32Array.of(1), Uint32Array.of(2)), [{ item: 2, label: 'positive' }]);
  await assert.rejects(labeler(`${declared.base}/v1`, { maxResponseBytes: size - 1 }).labelUser(0, Uint32Array.of(1), Uint32Array.of(2)),
    { name: 'EndpointError', message: `${endpoint(declared.base)} sent a response of ${size} bytes, more than maxResponseBytes = ${size - 1}` });
  // Chunked, no Content-Length: counted as it arrives.
  const streamed = await serve((res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write(body.slice(0, 10));
    setTimeout(() => res.end(body.slice(10)), 10);
  });
  assert.deepEqual(await labeler(`${streamed.base}/v1`, { maxResponseBytes: size }).labelUser(0, Uint32Array.of(1), Uint32Array.of(2)), [{ item: 2, label: 'positive' }]);
  await assert.rejects(labeler(`${streamed.base}/v1`, { maxResponseBytes: size - 1 }).labelUser(0, Uint32Array.of(1), Uint32Array.of(2)),
    { name: 'EndpointError', message: `${endpoint(streamed.base)} sent a response of over ${size} bytes, more than maxResponseBytes = ${size - 1}` });
});

test('BAD CALL - each option refused with its whole message; the minimum of each is accepted', () => {
  const items = fixture.items;
  const base = { url: 'http://127.0.0.1:1/v1', modelName: 'm', items };
  assert.throws(() => createOpenAiLabeler({ ...base, url: 'ftp://x' }), { name: 'RangeError', message: 'Expected an http(s) URL for url but received ftp://x' });
  assert.throws(() => createOpenAiLabeler({ ...base, url: 'see http://x' }), { name: 'RangeError', message: 'Expected an http(s) URL for url but received see http://x' });
  assert.throws(() => createOpenAiLabeler({ ...base, url: 'http:/x' }), { name: 'RangeError', message: 'Expected an http(s) URL for url but received http:/x' });
  assert.throws(() => createOpenAiLabeler({ ...base, url: 7 as never }), { name: 'RangeError', message: 'Expected an http(s) URL for url but received 7' });
  // A URL object is not a string, even though its text would pass.
  assert.throws(() => createOpenAiLabeler({ ...base, url: new URL('http://127.0.0.1:1/v1') as never }), { name: 'RangeError', message: 'Expected an http(s) URL for url but received http://127.0.0.1:1/v1' });
  assert.throws(() => createOpenAiLabeler({ ...base, modelName: '' }), { name: 'TypeError', message: 'Expected a model name for modelName but received ' });
  assert.throws(() => createOpenAiLabeler({ ...base, modelName: 3 as never }), { name: 'TypeError', message: 'Expected a model name for modelName but received 3' });
  assert.equal(createOpenAiLabeler({ ...base, url: 'https://example.invalid' }).name, 'openai');
  const mins = { concurrency: 1, timeoutMs: 1, retries: 0, retryBaseMs: 0, maxRetryWaitMs: 0, maxRetryTotalMs: 0, maxResponseBytes: 1, maxPromptTokens: 1, maxAnswerTokens: 1 };
  assert.equal(createOpenAiLabeler({ ...base, ...mins }).name, 'openai');
  for (const [name, min] of Object.entries(mins)) {
    assert.throws(() => createOpenAiLabeler({ ...base, [name]: min - 1 }), { name: 'RangeError', message: `Expected an integer >= ${min} for ${name} but received ${min - 1}` });
    assert.throws(() => createOpenAiLabeler({ ...base, [name]: min + 0.5 }), { name: 'RangeError', message: `Expected an integer >= ${min} for ${name} but received ${min + 0.5}` });
    assert.throws(() => createOpenAiLabeler({ ...base, [name]: String(min + 1) }), { name: 'RangeError', message: `Expected an integer >= ${min} for ${name} but received ${min + 1}` });
  }
});

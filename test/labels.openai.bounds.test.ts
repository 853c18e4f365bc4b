/**
 * The openai client's bounds against misbehaving servers on 127.0.0.1: a Retry-After of an hour
 * is capped (maxRetryWaitMs), endless 503s stop after maxRetryTotalMs of waiting, and a huge
 * body stops the job after maxResponseBytes, with or without a Content-Length.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createOpenAiLabeler, EndpointError } from '../src/labels/openai.js';
import { labelFixture } from '../src/labels/labelFixtures.js';
import { closeServers, serve } from './support/http.js';

const fixture = labelFixture({ users: 2, perUser: 4 });
after(closeServers);

const answer = JSON.stringify({ choices: [{ message: { role: 'assistant', content: 'Yes' } }] });
const label = (url: string, extra: object) =>
  createOpenAiLabeler({ url, modelName: 'm', items: fixture.items, retryBaseMs: 1, timeoutMs: 5000, concurrency: 1, ...extra })
    .labelUser(0, Uint32Array.of(1), Uint32Array.of(2));

test('Retry-After: 3600 waits at most maxRetryWaitMs', async () => {
  const server = await serve((res, call) => {
    if (call === 1) res.writeHead(429, { 'retry-after': '3600' }).end('later');
    else res.writeHead(200, { 'content-type': 'application/json' }).end(answer);
  });
  const start = Date.now();
  assert.deepEqual(await label(server.url, { maxRetryWaitMs: 100 }), [{ item: 2, label: 'positive' }]);
  assert.ok(Date.now() - start < 3000, `waited ${Date.now() - start} ms`);
  assert.equal(server.seen.length, 2);
});

test('BAD SERVER - endless 503s stop after maxRetryTotalMs of waiting with an EndpointError', async () => {
  const server = await serve((res) => res.writeHead(503, { 'retry-after': '1' }).end('busy'));
  const start = Date.now();
  await assert.rejects(label(server.url, { retries: 1000, maxRetryWaitMs: 50, maxRetryTotalMs: 300 }), (e: Error) =>
    e instanceof EndpointError && /maxRetryTotalMs = 300/.test(e.message) && /HTTP 503/.test(e.message));
  assert.ok(Date.now() - start < 3000, `took ${Date.now() - start} ms`);
  assert.ok(server.seen.length >= 2 && server.seen.length < 50, `${server.seen.length} calls`);
});

test('BAD SERVER - a body past maxResponseBytes stops the job, declared or streamed', async () => {
  const declared = await serve((res) => res.writeHead(200, { 'content-length': String(64 << 20) }).write('x'.repeat(1000)));
  await assert.rejects(label(declared.url, { maxResponseBytes: 4096 }), (e: Error) =>
    e instanceof EndpointError && /67108864 bytes, more than maxResponseBytes = 4096/.test(e.message));
  const streamed = await serve((res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    const chunk = 'x'.repeat(64 << 10);
    let sent = 0;
    const push = () => {
      while (sent < 4096 && res.write(chunk)) sent++;
      if (sent < 4096) res.once('drain', push);
      else res.end();
    };
    push();
  });
  const before = process.memoryUsage().rss;
  await assert.rejects(label(streamed.url, { maxResponseBytes: 1 << 20 }), (e: Error) =>
    e instanceof EndpointError && /more than maxResponseBytes = 1048576/.test(e.message));
  assert.ok(process.memoryUsage().rss - before < 128 << 20, 'the 256 MiB body was not read whole');
});

test('BAD CALL - the bounds are integers in range', () => {
  for (const name of ['maxRetryWaitMs', 'maxRetryTotalMs', 'maxResponseBytes']) {
    assert.throws(() => createOpenAiLabeler({ url: 'http://127.0.0.1:1/v1', modelName: 'm', items: fixture.items, [name]: -1 }),
      (e: Error) => e instanceof RangeError && e.message.includes(name));
  }
});

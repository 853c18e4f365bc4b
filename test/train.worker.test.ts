/** The addon loads inside a worker_threads Worker and trains there. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';

const nativeUrl = new URL('../src/native.js', import.meta.url).href;
const supportUrl = new URL('./support/training.js', import.meta.url).href;

// CommonJS eval code: dynamic import() loads the ESM modules.
const workerCode = `
const { parentPort } = require('node:worker_threads');
(async () => {
  const { native } = await import(${JSON.stringify(nativeUrl)});
  const { randomGraph, randomState, randomTriples } = await import(${JSON.stringify(supportUrl)});
  // Large enough that the step starts OpenMP threads, whose runtime must outlive the Worker.
  const graph = randomGraph(3000, 2000, 20, 1);
  const state = randomState(graph, 64, 2);
  const before = state.userEmb.slice();
  const stats = await native.trainStep({
    ...state, ...randomTriples(graph, 6000, 3), model: 'lightgcn', layers: 2, optimizer: 'adam',
    trainIndptr: graph.trainIndptr, trainIndices: graph.trainIndices, lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, l2: 1e-4, threads: 2,
  });
  parentPort.postMessage({ stats, changed: state.userEmb.some((v, k) => v !== before[k]) });
})().catch((error) => parentPort.postMessage({ error: String(error && error.stack || error) }));
`;

test('the addon loads in a Worker and runs trainStep there', async () => {
  const worker = new Worker(workerCode, { eval: true });
  const message = await new Promise<{ stats?: { steps: number; samples: number; loss: number }; changed?: boolean; error?: string }>(
    (resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    },
  );
  await worker.terminate();
  assert.equal(message.error, undefined);
  assert.equal(message.stats?.steps, 1);
  assert.equal(message.stats?.samples, 6000);
  assert.ok(Number.isFinite(message.stats?.loss));
  assert.equal(message.changed, true);
});

/**
 * The llama labeler's options, backend choice and bookkeeping, exactly: each refused option with
 * its whole message (before anything loads), the process's one Llama (a backend without a build,
 * a second backend, the thread cap), and on the tiny generated model the device, the context and
 * prefix caps, the prompt-token counts of prefix reuse recomputed from the rendered prompts, the
 * sequence pool and close().
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Token } from 'node-llama-cpp';
import { createLlamaLabeler, getSharedLlama, missingBuildError, type LlamaLabeler, type LlamaLabelerOptions } from '../src/labels/llama.js';
import { PromptRenderer } from '../src/labels/llamaPrompt.js';
import { systemPrompt } from '../src/labels/prompt.js';
import { writeTinyGguf } from '../src/labels/gguf-writer.js';
import { labelFixture, promptWords } from '../src/labels/labelFixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'dtlns-llama-exact-'));
const modelPath = writeTinyGguf(join(dir, 'tiny.gguf'), { words: [...promptWords(systemPrompt), 'item_id', 'co_path', 'emb_path', 'Candidate', 'history', 'items'] });
const fixture = labelFixture({ users: 3, perUser: 6 });
const open: LlamaLabeler[] = [];
/** The backend the process's Llama was loaded with (cpu unless a Vulkan build runs here). */
let backend: 'vulkan' | 'cpu' = 'cpu';
after(async () => {
  for (const l of open) await l.close();
});

function history(user: number): Uint32Array {
  const { train } = fixture.dataset;
  return train.indices.subarray(train.indptr[user], train.indptr[user + 1]);
}

async function labeler(options: Partial<LlamaLabelerOptions> = {}): Promise<LlamaLabeler> {
  const l = await createLlamaLabeler({ modelPath, items: fixture.items, threads: 1, gpu: backend, ...options });
  open.push(l);
  return l;
}

test('BAD CALL - each option refused with its whole message before the model file is read; the edges are accepted', async () => {
  const base = { modelPath: join(dir, 'absent.gguf'), items: fixture.items };
  const refused = (options: Partial<LlamaLabelerOptions>, name: string, message: string) =>
    assert.rejects(createLlamaLabeler({ ...base, ...options }), { name, message }, JSON.stringify(options));
  await refused({ mode: 'chat' as never }, 'RangeError', "Expected 'score' or 'generate' for mode but received chat");
  for (const threshold of [-0.5, 1.5, NaN, '0.5' as never]) {
    await refused({ threshold }, 'RangeError', `Expected a number in [0, 1] for threshold but received ${threshold}`);
  }
  for (const [name, min] of [['sequences', 1], ['contextSize', 256], ['maxPrefixTokens', 1], ['maxAnswerTokens', 1], ['threads', 1]] as const) {
    for (const value of [min - 1, min + 0.5, String(min) as never]) {
      await refused({ [name]: value }, 'RangeError', `Expected an integer >= ${min} for ${name} but received ${value}`);
    }
  }
  await refused({ gpu: 'tpu' as never }, 'RangeError', 'Expected one of auto, cuda, vulkan, metal, cpu for gpu but received tpu');
  for (const gpuLayers of [-1, 1.5, 'all' as never]) await refused({ gpuLayers }, 'RangeError', `Expected an integer >= 0 for gpuLayers but received ${gpuLayers}`);
  for (const gpuLayers of [3, 'max'] as const) {
    await refused({ gpu: 'cpu', gpuLayers }, 'RangeError', `Expected 0 or 'auto' for gpuLayers with gpu 'cpu' but received ${gpuLayers}`);
  }
  await refused({ prefixReuse: 'yes' as never }, 'TypeError', 'Expected a boolean for prefixReuse but received yes');
  // Accepted: the options pass, and the missing model file is the next refusal.
  const notFound = `${base.modelPath}: model file not found`;
  for (const options of [
    { threshold: 0 }, { threshold: 1 }, { mode: 'generate' as const }, { sequences: 1, contextSize: 256, maxPrefixTokens: 1, maxAnswerTokens: 1, threads: 1 },
    { gpu: 'cpu' as const, gpuLayers: 0 }, { gpu: 'cpu' as const, gpuLayers: 'auto' as const }, { gpu: 'cuda' as const, gpuLayers: 'max' as const }, { gpuLayers: 5 }, { prefixReuse: false },
  ]) {
    await assert.rejects(createLlamaLabeler({ ...base, ...options }), { name: 'DataFileError', message: notFound }, JSON.stringify(options));
  }
});

test('a backend without a build: what to install on each platform, or how to build it offline', () => {
  const message = (backend: string, gpu: string, pkg: string, build: string) =>
    `node-llama-cpp has no ${backend} build of llama.cpp that runs on this machine (--gpu ${gpu}). Install the prebuilt one, \`npm install @node-llama-cpp/${pkg}\` ` +
    `at node-llama-cpp's version, or build it offline from the llama.cpp source node-llama-cpp ships: \`npx --no node-llama-cpp source download --gpu ${build}\` ` +
    '(see the README, "Install as a dependency")';
  const cases: [Parameters<typeof missingBuildError>, string][] = [
    [['cuda', 'linux', 'x64'], message('CUDA', 'cuda', 'linux-x64-cuda', 'cuda')],
    [['vulkan', 'win32', 'x64'], message('VULKAN', 'vulkan', 'win-x64-vulkan', 'vulkan')],
    [['auto', 'darwin', 'arm64'], message('usable', 'auto', 'mac-arm64-metal', 'false')],
    [['metal', 'darwin', 'arm64'], message('METAL', 'metal', 'mac-arm64-metal', 'metal')],
    [['cpu', 'darwin', 'x64'], message('CPU', 'cpu', 'mac-x64', 'false')],
    [['cpu', 'linux', 'arm64'], message('CPU', 'cpu', 'linux-arm64', 'false')],
    [['auto', 'win32', 'arm64'], message('usable', 'auto', 'win-arm64', 'false')],
  ];
  for (const [args, expected] of cases) {
    const error = missingBuildError(...args);
    assert.deepEqual([error.name, error.dependency, error.message], ['MissingDependencyError', 'node-llama-cpp', expected], args.join(' '));
  }
  assert.equal(missingBuildError('cuda').message, missingBuildError('cuda', process.platform, process.arch).message);
});

test('the one Llama per process: a backend without a build is not cached, a second backend is refused, the thread cap only grows', async () => {
  await assert.rejects(getSharedLlama(1, 'tpu' as never), { name: 'RangeError', message: 'Expected one of auto, cuda, vulkan, metal, cpu for gpu but received tpu' });
  let loaded: 'vulkan' | 'cpu' = 'cpu';
  try {
    await getSharedLlama(1, 'vulkan');
    loaded = backend = 'vulkan';
  } catch (error) {
    // No Vulkan build runs here: the message says how to install or build one.
    assert.equal((error as Error).name, 'MissingDependencyError');
    assert.equal((error as Error).message, 'node-llama-cpp has no VULKAN build of llama.cpp that runs on this machine (--gpu vulkan). Install the prebuilt one, ' +
      `\`npm install @node-llama-cpp/${process.platform === 'darwin' ? 'mac' : process.platform === 'win32' ? 'win' : process.platform}-${process.arch}-vulkan\` at node-llama-cpp's version, ` +
      'or build it offline from the llama.cpp source node-llama-cpp ships: `npx --no node-llama-cpp source download --gpu vulkan` (see the README, "Install as a dependency")');
  }
  const llama = await getSharedLlama(1, loaded);
  assert.equal(llama.gpu === false ? 'cpu' : llama.gpu, loaded);
  const other = loaded === 'cpu' ? 'auto' : 'cpu';
  await assert.rejects(getSharedLlama(1, other), {
    name: 'RangeError', message: `Expected gpu '${loaded}' for gpu (llama.cpp is already loaded in this process with that backend) but received '${other}'`,
  });
  const threads = llama.maxThreads;
  assert.equal(await getSharedLlama(threads + 2, loaded), llama);
  assert.equal(llama.maxThreads, threads + 2);
  await getSharedLlama(1, loaded);
  assert.equal(llama.maxThreads, threads + 2, 'never lowered');
});

test('on the tiny model: name, model, wrapper, threads, device, and the context capped by the model', async () => {
  const l = await labeler({ mode: 'generate', contextSize: 8192, sequences: 2, threads: 1 });
  assert.deepEqual([l.name, l.model, l.chatWrapper, l.threads, l.parallelUsers, l.contextSize], ['llama-generate', 'tiny.gguf', 'ChatML', 1, 2, 4096]);
  if (backend === 'cpu') assert.deepEqual(l.device, { backend: 'cpu', gpuLayers: 0, layers: 2 });
  else assert.deepEqual(l.device, { backend, gpuLayers: 2, layers: 2 });
  const small = await labeler({ contextSize: 512 });
  assert.deepEqual([small.name, small.contextSize], ['llama-score', 512]);
  // The prefix budget is capped at the context less 256: a 10-item history (about 300 tokens) is cut.
  const before = small.stats();
  const [result] = await small.labelUser(0, history(0), Uint32Array.of(3));
  assert.equal(result.item, 3);
  assert.equal(small.stats().historiesCut - before.historiesCut, 1);
  await small.close();
  // node-llama-cpp's DisposedError: the context is gone.
  await assert.rejects(small.labelUser(0, history(0), Uint32Array.of(3)), { message: 'Object is disposed' });
  open.splice(open.indexOf(small), 1);
});

test('prefix reuse: the prompt tokens evaluated are the new part of each prefix plus every tail', async () => {
  const l = await labeler();
  const lib = await import('node-llama-cpp');
  const model = await (await getSharedLlama(1, backend)).loadModel({ modelPath });
  try {
    const renderer = new PromptRenderer(lib, model, lib.resolveChatWrapper(model), fixture.items, 3072);
    const shared = (a: Token[], b: Token[]) => { let k = 0; while (k < a.length && k < b.length && a[k] === b[k]) k++; return k; };
    let held: Token[] = [];
    const expected = { promptTokens: 0, fullPromptTokens: 0 };
    for (const [user, items] of [[0, [1, 2]], [1, [4]], [1, [5, 6, 7]], [0, [3]]] as const) {
      const prompt = renderer.forUser(history(user));
      expected.promptTokens += prompt.prefix.length - shared(held, prompt.prefix);
      for (const item of items) {
        expected.promptTokens += prompt.tail(item).length;
        expected.fullPromptTokens += prompt.prefix.length + prompt.tail(item).length;
      }
      held = prompt.prefix;
      const results = await l.labelUser(user, history(user), Uint32Array.from(items));
      assert.deepEqual(results.map((r) => r.item), items);
      const stats = l.stats();
      assert.deepEqual([stats.promptTokens, stats.fullPromptTokens, stats.generatedTokens, stats.retries, stats.historiesCut], [expected.promptTokens, expected.fullPromptTokens, 0, 0, 0], `user ${user}`);
    }
    // The loop's third step (user 1 again) evaluated only tails; users 0 and 1 share the system
    // prompt, so each switch between them evaluated only part of the new prefix.
    assert.ok(shared(renderer.forUser(history(0)).prefix, renderer.forUser(history(1)).prefix) > 0, 'the users share the system prompt');
  } finally {
    await model.dispose();
  }
});

test('one sequence, two users at once: the second waits for the first, same scores; threshold 0 and 1', async () => {
  const one = await labeler();
  const [a, b] = await Promise.all([one.labelUser(0, history(0), Uint32Array.of(1, 2)), one.labelUser(1, history(1), Uint32Array.of(3))]);
  const serialA = await one.labelUser(0, history(0), Uint32Array.of(1, 2));
  const serialB = await one.labelUser(1, history(1), Uint32Array.of(3));
  [...a, ...b].forEach((x, k) => assert.ok(Math.abs(x.score! - [...serialA, ...serialB][k].score!) < 1e-4));
  const all = await labeler({ threshold: 0 });
  assert.ok((await all.labelUser(0, history(0), Uint32Array.of(1, 2, 3))).every((r) => r.label === 'positive'));
  const none = await labeler({ threshold: 1 });
  assert.ok((await none.labelUser(0, history(0), Uint32Array.of(1, 2, 3))).every((r) => r.label === 'negative' && r.score! < 1));
});

test('generate mode: at most maxAnswerTokens tokens per answer; an unreadable answer is retried once, then unparsed', async () => {
  // The tiny model answers " Yes": two tokens. One token (the space) cannot be read.
  const cut = await labeler({ mode: 'generate', maxAnswerTokens: 1 });
  assert.deepEqual(await cut.labelUser(0, history(0), Uint32Array.of(1, 2, 3)), [1, 2, 3].map((item) => ({ item, label: 'unparsed' })));
  const whole = await labeler({ mode: 'generate', maxAnswerTokens: 2 });
  const results = await whole.labelUser(0, history(0), Uint32Array.of(1, 2, 3));
  assert.ok(results.every((r) => (r.label === 'positive' || r.label === 'negative') && !('score' in r)));
  const [u, p] = [cut.stats(), whole.stats()];
  assert.deepEqual([u.generatedTokens, u.retries, p.generatedTokens, p.retries], [6, 3, 6, 0]);
  // fullPromptTokens = 3 prefix + the tails, promptTokens = prefix + the tails; each retry evaluates its tail again.
  const tails = p.promptTokens - (p.fullPromptTokens - p.promptTokens) / 2;
  assert.equal(u.fullPromptTokens, p.fullPromptTokens);
  assert.equal(u.promptTokens, p.promptTokens + tails);
});

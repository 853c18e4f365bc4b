/**
 * `label --labeler llama --gpu ... --gpu-layers ...`: the backend and the layers offloaded are
 * reported on stderr, in the JSON summary and in the store's metadata file; bad values and a
 * backend without a build are clear errors. The CLI runs as a child process on a generated tiny
 * GGUF (CPU), as in labels.cli.test.ts.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { writePaths } from '../src/trees/path-file.js';
import { writeCandidates } from '../src/labels/candidates.js';
import { labelMetaFile } from '../src/labels/label.js';
import { systemPrompt } from '../src/labels/prompt.js';
import { labelFixture, promptWords } from '../src/labels/labelFixtures.js';
import { writeTinyGguf } from '../src/labels/gguf-writer.js';
import { bin } from './support/cli.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'dtlns-label-device-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const fixture = labelFixture({ preset: 'tiny', users: 2, perUser: 3 });
const structural = join(dir, 'paths-struct.txt');
const semantic = join(dir, 'paths-semantic.txt');
const candidates = join(dir, 'candidates.txt');
const model = join(dir, 'tiny.gguf');
const layers = 2;

async function setup(): Promise<void> {
  await writePaths(structural, fixture.items.structural, fixture.dataset);
  await writePaths(semantic, fixture.items.semantic, fixture.dataset);
  writeCandidates(candidates, fixture.candidates, fixture.dataset);
  writeTinyGguf(model, { words: promptWords(systemPrompt), layers });
}
const ready = setup();

const label = (out: string, extra: string[]) => [
  bin, 'label', '--data', 'synthetic:tiny', '--paths-struct', structural, '--paths-semantic', semantic, '--candidates', candidates,
  '--labeler', 'llama', '--llm-model', model, '--threads', '1', '--quiet', '--json', '--out', join(dir, out), ...extra,
];

/** Exit status 1 for a bad value, 2 for a usage error (yargs). */
async function fails(args: string[], message: RegExp, status = 1): Promise<void> {
  await assert.rejects(run(process.execPath, args), (error: { stderr: string; code: number }) => {
    assert.equal(error.code, status);
    assert.match(error.stderr, message);
    return true;
  });
}

test('--gpu cpu: backend cpu and 0 layers offloaded, on stderr, in the summary and in the store metadata', async () => {
  await ready;
  const { stdout, stderr } = await run(process.execPath, label('cpu.jsonl', ['--gpu', 'cpu', '--gpu-layers', '0']));
  const device = { backend: 'cpu', gpuLayers: 0, layers: layers + 1 };
  assert.match(stderr, new RegExp(`llama-score \\(tiny\\.gguf\\): backend cpu, 0 of ${layers + 1} layers on the GPU`));
  const summary = JSON.parse(stdout.trim().split('\n').pop()!);
  assert.deepEqual(summary.device, device);
  const meta = JSON.parse(readFileSync(labelMetaFile(join(dir, 'cpu.jsonl')), 'utf8'));
  assert.deepEqual(meta.device, device);
  assert.equal(meta.counts.positive + meta.counts.negative + meta.counts.unparsed, 2 * 3);
});

test('--gpu auto reports the backend it found (cpu on a machine without a usable GPU build)', async () => {
  await ready;
  const { stdout, stderr } = await run(process.execPath, label('auto.jsonl', []));
  const summary = JSON.parse(stdout.trim().split('\n').pop()!);
  assert.ok(['cpu', 'cuda', 'vulkan', 'metal'].includes(summary.device.backend), summary.device.backend);
  assert.equal(summary.device.layers, layers + 1);
  if (summary.device.backend === 'cpu') assert.equal(summary.device.gpuLayers, 0);
  assert.match(stderr, new RegExp(`backend ${summary.device.backend}, ${summary.device.gpuLayers} of ${layers + 1} layers on the GPU`));
});

test('--gpu cuda: runs on CUDA where a CUDA build works, else says how to install or build one', async () => {
  await ready;
  try {
    const { stdout } = await run(process.execPath, label('cuda.jsonl', ['--gpu', 'cuda', '--gpu-layers', 'max']));
    const summary = JSON.parse(stdout.trim().split('\n').pop()!);
    assert.deepEqual(summary.device, { backend: 'cuda', gpuLayers: layers + 1, layers: layers + 1 });
  } catch (error) {
    const e = error as { stderr?: string; code?: number };
    assert.equal(e.code, 1, String(error));
    assert.match(e.stderr!, /MissingDependencyError: node-llama-cpp has no CUDA build of llama\.cpp that runs on this machine/);
    assert.match(e.stderr!, /npm install @node-llama-cpp\/\S+-cuda/);
    assert.match(e.stderr!, /npx --no node-llama-cpp source download --gpu cuda/);
  }
});

test('BAD INPUT - --gpu and --gpu-layers name the problem', async () => {
  await ready;
  await fails(label('bad1.jsonl', ['--gpu-layers', 'lots']), /--gpu-layers.*"lots"/);
  await fails(label('bad2.jsonl', ['--gpu-layers', '-1']), /--gpu-layers.*"-1"/);
  await fails(label('bad3.jsonl', ['--gpu', 'cpu', '--gpu-layers', '3']), /RangeError: .*gpuLayers with gpu 'cpu' but received 3/);
  await fails(label('bad4.jsonl', ['--gpu', 'tpu']), /Argument: gpu, Given: "tpu", Choices: "auto", "cuda", "vulkan", "metal", "cpu"/, 2);
});

test('BAD CALL - createLlamaLabeler names gpu and gpuLayers before loading anything', async () => {
  const { createLlamaLabeler } = await import('../src/labels/llama.js');
  const base = { modelPath: join(dir, 'absent.gguf'), items: fixture.items };
  await assert.rejects(createLlamaLabeler({ ...base, gpu: 'tpu' as 'cpu' }), { name: 'RangeError', message: /one of auto, cuda, vulkan, metal, cpu for gpu but received tpu/ });
  await assert.rejects(createLlamaLabeler({ ...base, gpuLayers: 1.5 }), { name: 'RangeError', message: /gpuLayers/ });
  await assert.rejects(createLlamaLabeler({ ...base, gpu: 'cpu', gpuLayers: 'max' }), { name: 'RangeError', message: /gpuLayers with gpu 'cpu' but received max/ });
});

/**
 * The GGUF writer's big-model features: Q8_0 tensors, grouped-query attention, a padded vocabulary
 * and streaming writes. The file is read back by an independent parser and dequantiser here, and
 * the expected values are re-derived from the documented random stream; the benchmark's tiny shape
 * loads and runs in node-llama-cpp (in a child process: hand-made files can abort llama.cpp).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTinyGguf, float16Bits, writeGguf, type TinyGgufOptions } from '../src/labels/gguf-writer.js';
import { shapeOptions } from '../bench/gpu-labelling/shapes.js';
import { expectedStream, parseGguf } from './support/gguf-read.js';

const dir = mkdtempSync(join(tmpdir(), 'dtlns-gguf-writer-'));

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >>> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** ggml's dequantize_row_q8_0: each 34-byte block is an f16 scale d and 32 int8 q; x = d * q. */
function dequantizeQ8_0(data: Uint8Array): { values: Float64Array; scales: number[] } {
  const blocks = data.length / 34;
  const values = new Float64Array(blocks * 32);
  const scales: number[] = [];
  for (let b = 0; b < blocks; b++) {
    const d = halfToFloat(data[34 * b] | (data[34 * b + 1] << 8));
    scales.push(d);
    for (let k = 0; k < 32; k++) values[32 * b + k] = d * ((data[34 * b + 2 + k] << 24) >> 24);
  }
  return { values, scales };
}

const q8Options: TinyGgufOptions = { embedding: 64, layers: 2, heads: 4, headsKv: 1, feedForward: 96, vocabSize: 2000, weightType: 'q8_0', outputMatrix: false, seed: 7 };

test('Q8_0 tensors decode to the written values; GQA shapes, the padded vocabulary and the metadata are right', () => {
  const written = writeGguf(join(dir, 'q8.gguf'), q8Options);
  const bytes = readFileSync(written.path);
  assert.equal(written.bytes, bytes.length);
  const { kv, tensors } = parseGguf(bytes);
  assert.equal(kv.get('llama.attention.head_count'), 4);
  assert.equal(kv.get('llama.attention.head_count_kv'), 1);
  assert.equal(kv.get('general.file_type'), 7);
  assert.equal((kv.get('tokenizer.ggml.tokens') as string[]).length, 2000);
  assert.equal(kv.get('llama.vocab_size'), 2000);
  assert.equal((kv.get('tokenizer.ggml.token_type') as number[])[1999], 5, 'padding tokens are unused');
  assert.deepEqual(tensors.get('blk.1.attn_k.weight')!.shape, [64, 16], 'K projects to head_dim * head_count_kv');
  assert.deepEqual(tensors.get('blk.1.attn_q.weight')!.shape, [64, 64]);
  assert.deepEqual(tensors.get('token_embd.weight')!.shape, [64, 2000]);
  assert.equal(tensors.has('output.weight'), false, 'tied output');
  assert.equal(tensors.get('output_norm.weight')!.type, 0);
  assert.equal(written.parameters, [...tensors.values()].reduce((sum, t) => sum + t.shape.reduce((a, b) => a * b, 1), 0));

  for (const [name, nIn] of [['blk.1.attn_k.weight', 64], ['blk.0.ffn_down.weight', 96], ['token_embd.weight', 64]] as const) {
    const t = tensors.get(name)!;
    assert.equal(t.type, 8, `${name} is Q8_0`);
    const { values, scales } = dequantizeQ8_0(t.data);
    const scale = name === 'token_embd.weight' ? 1 / Math.sqrt(64) : 1 / Math.sqrt(nIn);
    const d = halfToFloat(float16Bits(scale / 127));
    assert.ok(Math.abs(d - scale / 127) <= (scale / 127) * 2 ** -10, `${name}: the f16 scale is scale / 127`);
    assert.ok(scales.every((s) => s === d), `${name}: every block carries the scale`);
    const stream = expectedStream(7, name, t.data.length);
    for (let k = 0; k < values.length; k++) {
      const q = (stream[34 * Math.floor(k / 32) + 2 + (k % 32)] << 24) >> 24;
      if (values[k] !== d * q) assert.fail(`${name}[${k}]: decoded ${values[k]}, written ${d * q}`);
    }
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    assert.ok(Math.abs(mean) < scale * 0.05, `${name}: centred (mean ${mean})`);
    assert.ok(values.every((v) => Math.abs(v) <= scale * 128 / 127), `${name}: within [-scale, scale]`);
  }
  const norm = new Float32Array(new Uint8Array(tensors.get('output_norm.weight')!.data).buffer);
  assert.ok(norm.every((v) => v === 1));
  assert.deepEqual(new Uint8Array(bytes), buildTinyGguf(q8Options), 'streamed and in-memory files agree');
});

test('float16Bits rounds to the nearest half, keeps subnormals and overflows to infinity', () => {
  const cases: [number, number][] = [[1, 0x3c00], [-2, 0xc000], [0.5, 0x3800], [65504, 0x7bff], [1e6, 0x7c00], [2 ** -24, 0x0001], [3 * 2 ** -25, 0x0002], [0, 0], [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02]];
  for (const [x, bits] of cases) assert.equal(float16Bits(x), bits, `f16(${x})`);
  for (const x of [1 / 127, 1 / (127 * 64), 1 / (127 * Math.sqrt(14336))]) {
    assert.ok(Math.abs(halfToFloat(float16Bits(x)) - x) <= x * 2 ** -11, `${x} round-trips within half an ulp`);
  }
});

test('BAD INPUT - shapes the writer cannot express are RangeErrors naming the option', () => {
  assert.throws(() => buildTinyGguf({ heads: 4, headsKv: 3 }), { name: 'RangeError', message: /headsKv/ });
  assert.throws(() => buildTinyGguf({ embedding: 48, heads: 4, weightType: 'q8_0' }), { name: 'RangeError', message: /embedding with weightType q8_0/ });
  assert.throws(() => buildTinyGguf({ embedding: 64, feedForward: 80, weightType: 'q8_0' }), { name: 'RangeError', message: /feedForward with weightType q8_0/ });
  assert.throws(() => buildTinyGguf({ vocabSize: 10 }), { name: 'RangeError', message: /vocabSize >= \d+/ });
  assert.throws(() => buildTinyGguf({ layers: 0 }), { name: 'RangeError', message: /layers/ });
  assert.throws(() => buildTinyGguf({ weightType: 'q4_0' as never }), { name: 'RangeError', message: /weightType/ });
});

test('the benchmark\'s tiny shape (Q8_0, GQA, Llama 3 vocabulary size) loads and runs in node-llama-cpp', () => {
  const path = writeGguf(join(dir, 'tiny-shape.gguf'), shapeOptions('tiny', 1)).path;
  const script = `
    import { getLlama, LlamaLogLevel } from ${JSON.stringify(import.meta.resolve('node-llama-cpp'))};
    const llama = await getLlama({ gpu: false, build: 'never', maxThreads: 1, logLevel: LlamaLogLevel.error });
    const model = await llama.loadModel({ modelPath: process.argv[2] });
    const context = await model.createContext({ contextSize: 256, flashAttention: false, threads: 1 });
    const tokens = model.tokenize('The user\\'s history: {"item_id": 123, "co_path": "1-0-3"} Yes');
    const out = await context.getSequence().controlledEvaluate([...tokens.slice(0, -1), [tokens.at(-1), { generateNext: { probabilities: true } }]]);
    const p = out.at(-1).next.probabilities;
    let sum = 0; for (const v of p.values()) sum += v;
    console.log(JSON.stringify({ vocab: p.size, sum, tokens: tokens.length, chars: 'The user\\'s history: {"item_id": 123, "co_path": "1-0-3"} Yes'.length, kv: model.fileInfo.metadata.llama.attention.head_count_kv }));
  `;
  // A file, not -e: node-llama-cpp tests its binary in a child process that inherits execArgv.
  const scriptFile = join(dir, 'load.mjs');
  writeFileSync(scriptFile, script);
  const out = execFileSync(process.execPath, [scriptFile, path], { encoding: 'utf8' });
  const result = JSON.parse(out.trim().split('\n').at(-1)!) as { vocab: number; sum: number; tokens: number; chars: number; kv: number };
  assert.equal(result.vocab, 128_256);
  assert.equal(result.kv, 2);
  assert.ok(Math.abs(result.sum - 1) < 1e-3, `probabilities sum to ${result.sum}`);
  assert.ok(result.tokens < result.chars / 2, `prompt words are whole tokens (${result.tokens} tokens for ${result.chars} characters)`);
});

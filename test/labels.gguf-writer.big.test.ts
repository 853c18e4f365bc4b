/**
 * The GGUF writer on bigger outputs (apart from labels.gguf-writer.exact, whose tests are faster):
 * a tensor past one generation chunk continues the random stream, the streamed file is the
 * in-memory one, and a metadata value larger than the writer's first buffer is written whole.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTinyGguf, writeGguf, writeTinyGguf } from '../src/labels/gguf-writer.js';
import { expectedStream, parseGguf } from './support/gguf-read.js';

const dir = mkdtempSync(join(tmpdir(), 'dtlns-gguf-writer-big-'));

test('a template larger than the writer\'s first buffer is written in one piece', () => {
  const big = 'x'.repeat(300_000);
  assert.equal(parseGguf(buildTinyGguf({ chatTemplate: big })).kv.get('tokenizer.chat_template'), big);
});

test('a tensor larger than one generation chunk continues the stream; the streamed file is the same bytes', () => {
  // token_embd.weight: 64 x 20,000 F32 = 5.1 MB, past the 4 MiB chunk of F32 data.
  const options = { embedding: 64, vocabSize: 20_000, outputMatrix: false, seed: 9 };
  const path = join(dir, 'chunked.gguf');
  const written = writeGguf(path, options);
  const bytes = readFileSync(path);
  assert.equal(written.path, path);
  assert.equal(written.bytes, bytes.length);
  assert.ok(written.seconds >= 0 && written.seconds < 60);
  const t = parseGguf(bytes).tensors.get('token_embd.weight')!;
  // A copy: the file's Buffer may sit in a larger pool.
  const got = new Float32Array(new Uint8Array(t.data).buffer);
  assert.equal(got.length, 64 * 20_000);
  const words = new Uint32Array(expectedStream(9, 'token_embd.weight', t.data.length).slice().buffer);
  for (let k = 0; k < got.length; k++) {
    const want = Math.fround((words[k] / 4294967296 * 2 - 1) / Math.sqrt(64));
    if (got[k] !== want) assert.fail(`token_embd.weight[${k}]: ${got[k]} vs ${want}`);
  }
  assert.deepEqual(new Uint8Array(bytes), buildTinyGguf(options));
  assert.equal(writeTinyGguf(join(dir, 'small.gguf')), join(dir, 'small.gguf'));
  assert.deepEqual(new Uint8Array(readFileSync(join(dir, 'small.gguf'))), buildTinyGguf());
  // 64 x 20,000 + the norms and the layer's matrices.
  assert.equal(written.parameters, 64 * 20_000 + 64 + 64 + 4 * 64 * 64 + 64 + 3 * 64 * 64);
});

test('writeGguf pads each tensor to 32 bytes, times itself, and closes its file', () => {
  // Embedding 4: the norms take 16 bytes, so padding follows them.
  const options = { embedding: 4, heads: 1, feedForward: 4, seed: 3 };
  const open = readdirSync('/proc/self/fd').length;
  const started = performance.now();
  const written = writeGguf(join(dir, 'padded.gguf'), options);
  const elapsed = performance.now() - started;
  assert.equal(readdirSync('/proc/self/fd').length, open);
  assert.ok(written.seconds >= 0 && written.seconds * 1000 <= elapsed + 1, `${written.seconds} s in ${elapsed} ms`);
  assert.deepEqual(new Uint8Array(readFileSync(written.path)), buildTinyGguf(options));
});

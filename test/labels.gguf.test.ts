import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateGguf } from '../src/labels/gguf.js';
import { createLlamaLabeler } from '../src/labels/llama.js';
import { buildTinyGguf, writeTinyGguf, chatMlTemplate } from '../src/labels/gguf-writer.js';
import { labelFixture } from '../src/labels/labelFixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'dtlns-gguf-'));

test('the tiny test model is a valid GGUF v3 llama model with a chat template', () => {
  const file = writeTinyGguf(join(dir, 'tiny.gguf'));
  const summary = validateGguf(file);
  assert.equal(summary.version, 3);
  assert.equal(summary.architecture, 'llama');
  assert.equal(summary.blockCount, 1);
  assert.equal(summary.embeddingLength, 32);
  assert.equal(summary.contextLength, 4096);
  assert.equal(summary.chatTemplate, chatMlTemplate);
  assert.equal(summary.tensorCount, 3 + 9);
  assert.deepEqual(buildTinyGguf({ seed: 3 }), buildTinyGguf({ seed: 3 }), 'deterministic');
  assert.notDeepEqual(buildTinyGguf({ seed: 3 }), buildTinyGguf({ seed: 4 }));
});

test('BAD INPUT - missing, non-GGUF, truncated and incomplete model files are clear errors naming the file', async () => {
  const bytes = buildTinyGguf();
  const cases: [string, Uint8Array | undefined, RegExp][] = [
    ['missing.gguf', undefined, /missing\.gguf: model file not found/],
    ['text.gguf', Buffer.from('user item\n1 2\n'), /text\.gguf: not a GGUF model file/],
    ['empty.gguf', new Uint8Array(0), /empty\.gguf: not a GGUF model file/],
    ['header-cut.gguf', bytes.subarray(0, 300), /header-cut\.gguf: truncated or corrupt GGUF header/],
    ['data-cut.gguf', bytes.subarray(0, bytes.length - 4096), /data-cut\.gguf: truncated: the data of tensor .* ends past the end of the file/],
    ['no-ff.gguf', buildTinyGguf({ omitKeys: ['llama.feed_forward_length'] }), /no-ff\.gguf: missing required metadata llama\.feed_forward_length/],
    ['no-heads.gguf', buildTinyGguf({ omitKeys: ['llama.attention.head_count'] }), /no-heads\.gguf: missing required metadata llama\.attention\.head_count/],
    ['no-arch.gguf', buildTinyGguf({ omitKeys: ['general.architecture'] }), /no-arch\.gguf: missing required metadata general\.architecture/],
    ['no-vocab.gguf', buildTinyGguf({ omitKeys: ['tokenizer.ggml.tokens'] }), /no-vocab\.gguf: missing required metadata tokenizer\.ggml\.tokens/],
  ];
  const corrupt = Buffer.from(bytes);
  corrupt.writeUInt32LE(7, 4);
  cases.push(['v7.gguf', corrupt, /v7\.gguf: unsupported GGUF version 7/]);
  const hugeString = Buffer.from(bytes);
  hugeString.writeBigUInt64LE(1n << 40n, 24);
  cases.push(['huge.gguf', hugeString, /huge\.gguf: corrupt GGUF header: a metadata key has an impossible length/]);
  const items = labelFixture({ users: 1 }).items;
  for (const [name, content, message] of cases) {
    const file = join(dir, name);
    if (content) writeFileSync(file, content);
    assert.throws(() => validateGguf(file), { name: 'DataFileError', message }, name);
    // The labeler refuses the file before node-llama-cpp ever sees it (some of these abort llama.cpp).
    await assert.rejects(createLlamaLabeler({ modelPath: file, items }), { name: 'DataFileError', message }, name);
  }
  assert.throws(() => validateGguf(dir), { name: 'DataFileError', message: /not a regular file|cannot open/ });
});

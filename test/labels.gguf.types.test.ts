/**
 * validateGguf's ggml type sizes (bytes per block of each tensor type) against the ones llama.cpp
 * itself reports through node-llama-cpp's bindings: a tensor of each type is accepted with exactly
 * its data and refused one byte short. Apart from labels.gguf.exact: loading llama.cpp takes seconds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateGguf } from '../src/labels/gguf.js';
import { getSharedLlama } from '../src/labels/llama.js';

const dir = mkdtempSync(join(tmpdir(), 'dtlns-gguf-types-'));
const u32 = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32LE(n); return b; };
const u64 = (n: number): Buffer => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(n)); return b; };
const str = (s: string): Buffer => Buffer.concat([u64(Buffer.byteLength(s)), Buffer.from(s)]);
const kvString = (key: string, s: string) => Buffer.concat([str(key), u32(8), str(s)]);
const kvU32 = (key: string, n: number) => Buffer.concat([str(key), u32(4), u32(n)]);
const pairs = [
  kvString('general.architecture', 'llama'), kvString('tokenizer.ggml.model', 'llama'), Buffer.concat([str('tokenizer.ggml.tokens'), u32(9), u32(8), u64(1), str('a')]),
  kvU32('llama.block_count', 1), kvU32('llama.embedding_length', 8), kvU32('llama.feed_forward_length', 16), kvU32('llama.attention.head_count', 2),
];

/** Header, the pairs, one tensor info, padding to 32, then `data` bytes. */
function gguf(ne0: number, type: number, data: number): string {
  const info = Buffer.concat([str('w'), u32(2), u64(ne0), u64(3), u32(type), u64(0)]);
  const head = Buffer.concat([Buffer.from('GGUF'), u32(3), u64(1), u64(pairs.length), ...pairs, info]);
  const file = join(dir, `t${type}-${data}.gguf`);
  writeFileSync(file, Buffer.concat([head, Buffer.alloc(Math.ceil(head.length / 32) * 32 - head.length + data)]));
  return file;
}

test('each ggml type takes the bytes per block that llama.cpp reports', async () => {
  const llama = await getSharedLlama(1);
  // Internal to node-llama-cpp (its GGUF insights use them the same way).
  const bindings = (llama as unknown as { _bindings: { getBlockSizeForGgmlType(t: number): number | undefined; getTypeSizeForGgmlType(t: number): number | undefined } })._bindings;
  let checked = 0;
  for (let type = 0; type < 45; type++) {
    const block = bindings.getBlockSizeForGgmlType(type);
    const size = bindings.getTypeSizeForGgmlType(type);
    if (!block || !size) {
      // Removed or unknown types: no size, so no data is required.
      assert.equal(validateGguf(gguf(1, type, 0)).tensorCount, 1, `type ${type}`);
      continue;
    }
    // Three blocks: [block, 3] elements.
    assert.equal(validateGguf(gguf(block, type, 3 * size)).tensorCount, 1, `type ${type}`);
    const short = gguf(block, type, 3 * size - 1);
    assert.throws(() => validateGguf(short), { name: 'DataFileError', message: new RegExp(`truncated: the data of tensor w ends past the end of the file`) }, `type ${type}`);
    checked++;
  }
  assert.ok(checked >= 30, `${checked} types`);
});

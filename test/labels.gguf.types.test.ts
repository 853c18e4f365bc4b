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
import { gguf, required, tensorInfo } from './support/gguf-encode.js';

const dir = mkdtempSync(join(tmpdir(), 'dtlns-gguf-types-'));

/** The required keys, one tensor `w` of [ne0, 3] elements of `type`, then `data` bytes. */
function file(ne0: number, type: number, data: number): string {
  const path = join(dir, `t${type}-${data}.gguf`);
  writeFileSync(path, gguf(required(), [tensorInfo('w', [ne0, 3], type, 0)], data));
  return path;
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
      assert.equal(validateGguf(file(1, type, 0)).tensorCount, 1, `type ${type}`);
      continue;
    }
    // Three blocks: [block, 3] elements.
    assert.equal(validateGguf(file(block, type, 3 * size)).tensorCount, 1, `type ${type}`);
    const short = file(block, type, 3 * size - 1);
    assert.throws(() => validateGguf(short), { name: 'DataFileError', message: /truncated: the data of tensor w ends past the end of the file/ }, `type ${type}`);
    checked++;
  }
  assert.ok(checked >= 30, `${checked} types`);
});

/**
 * validateGguf on hand-encoded GGUF files (test/support/gguf-encode, independent of gguf-writer):
 * the summary of each value type, the reading window, every refusal with its whole message and the
 * bounds at their edges. The ggml type sizes against llama.cpp's own are in labels.gguf.types.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateGguf } from '../src/labels/gguf.js';
import { gguf, kv, kvString, kvStrings, kvU32, required, str, tensorInfo, u32, u64 } from './support/gguf-encode.js';

const dir = mkdtempSync(join(tmpdir(), 'dtlns-gguf-exact-'));

let n = 0;
function write(bytes: Buffer | Uint8Array, name = `f${n++}.gguf`): string {
  const file = join(dir, name);
  writeFileSync(file, bytes);
  return file;
}
function refused(bytes: Buffer, why: string): void {
  const file = write(bytes);
  assert.throws(() => validateGguf(file), { name: 'DataFileError', message: `${file}: ${why}` });
}

test('the summary: version, counts, architecture, sizes, context length and template only when present', () => {
  const bare = gguf(required());
  const file = write(bare);
  // No tensors: the header ends exactly at the end of the file.
  assert.deepEqual(validateGguf(file), { file, version: 3, tensorCount: 0, kvCount: 7, architecture: 'llama', blockCount: 2, embeddingLength: 8, fileBytes: bare.length });
  const full = gguf([...required('qwen2'), kvU32('qwen2.context_length', 512), kvString('tokenizer.chat_template', '{{ x }}')], [], 0, { version: 2 });
  const file2 = write(full);
  assert.deepEqual(validateGguf(file2), {
    file: file2, version: 2, tensorCount: 0, kvCount: 9, architecture: 'qwen2', blockCount: 2, embeddingLength: 8, contextLength: 512, chatTemplate: '{{ x }}', fileBytes: full.length,
  });
  // A context length or template of another type is left out; a block count that is not a number reads 0.
  const odd = [kvString('general.architecture', 'llama'), kvString('tokenizer.ggml.model', 'llama'), kvStrings('tokenizer.ggml.tokens', ['a']),
    kvString('llama.block_count', 'two'), kvU32('llama.embedding_length', 8), kvU32('llama.feed_forward_length', 16), kvU32('llama.attention.head_count', 2),
    kvString('llama.context_length', '512'), kvU32('tokenizer.chat_template', 1)];
  const summary = validateGguf(write(gguf(odd)));
  assert.deepEqual([summary.blockCount, 'contextLength' in summary, 'chatTemplate' in summary], [0, false, false]);
});

test('every scalar value type is read as its own width and signedness', () => {
  const scalar = (type: number, bytes: Buffer) => gguf([...required().filter((_, k) => k !== 3), kv('llama.block_count', type, bytes)]);
  const le = (write: (b: Buffer) => void, size: number) => { const b = Buffer.alloc(size); write(b); return b; };
  const cases: [number, Buffer, number][] = [
    [0, Buffer.from([200]), 200],
    [1, Buffer.from([0xfb]), -5],
    [2, le((b) => b.writeUInt16LE(60000), 2), 60000],
    [3, le((b) => b.writeInt16LE(-300), 2), -300],
    [4, u32(4_000_000_000), 4_000_000_000],
    [5, le((b) => b.writeInt32LE(-70000), 4), -70000],
    [6, le((b) => b.writeFloatLE(1.5), 4), 1.5],
    [7, Buffer.from([1]), 0], // a boolean is not a number
    [10, u64(2n ** 40n), 2 ** 40],
    [10, u64(2n ** 63n), 2 ** 63], // unsigned: not read as a negative I64
    [11, le((b) => b.writeBigInt64LE(-(2n ** 40n)), 8), -(2 ** 40)],
    [12, le((b) => b.writeDoubleLE(2.25), 8), 2.25],
  ];
  for (const [type, bytes, value] of cases) assert.equal(validateGguf(write(scalar(type, bytes))).blockCount, value, `type ${type}`);
});

test('arrays are skipped by their element width, across the 1 MiB reading window', () => {
  const arrays = [
    kv('a.u8', 9, Buffer.concat([u32(0), u64(3), Buffer.alloc(3)])),
    kv('a.i16', 9, Buffer.concat([u32(3), u64(3), Buffer.alloc(6)])),
    kv('a.f32', 9, Buffer.concat([u32(6), u64(2), Buffer.alloc(8)])),
    kv('a.bool', 9, Buffer.concat([u32(7), u64(5), Buffer.alloc(5)])),
    kv('a.f64', 9, Buffer.concat([u32(12), u64(2), Buffer.alloc(16)])),
    kv('a.i64', 9, Buffer.concat([u32(11), u64(1), Buffer.alloc(8)])),
    // 1.5 MiB of strings: later reads leave the first window.
    kvStrings('a.strings', Array.from({ length: 3500 }, (_, k) => `${k}`.padEnd(500, 'x'))),
  ];
  const bytes = gguf([...arrays, ...required(), kvU32('llama.context_length', 777)]);
  assert.ok(bytes.length > 1.5 * (1 << 20));
  const summary = validateGguf(write(bytes));
  assert.deepEqual([summary.kvCount, summary.blockCount, summary.contextLength], [arrays.length + 8, 2, 777]);
  // An array skipped right up to the end of the file.
  const last = gguf([...required(), kv('a.last', 9, Buffer.concat([u32(4), u64(3), Buffer.alloc(12)]))]);
  assert.equal(validateGguf(write(last)).fileBytes, last.length);
});

test('a string as long as the 1 MiB window is read; a longer one is skipped (read as empty)', () => {
  const window = 1 << 20;
  const fits = validateGguf(write(gguf([...required(), kvString('tokenizer.chat_template', 't'.repeat(window))])));
  assert.equal(fits.chatTemplate, 't'.repeat(window));
  const skipped = validateGguf(write(gguf([...required(), kvString('tokenizer.chat_template', 't'.repeat(window + 1)), kvU32('llama.context_length', 9)])));
  assert.deepEqual([skipped.chatTemplate, skipped.contextLength], ['', 9]);
});

test('BAD INPUT - each refusal of a corrupt header, with its whole message', () => {
  refused(Buffer.from('GGU'), 'not a GGUF model file (the first bytes are not "GGUF")');
  refused(Buffer.from('GGUF'), 'truncated or corrupt GGUF header (the header runs past the end of the file at 4 bytes)');
  refused(Buffer.concat([Buffer.from('GGUX'), u32(3)]), 'not a GGUF model file (the first bytes are not "GGUF")');
  refused(gguf(required(), [], 0, { version: 1 }), 'unsupported GGUF version 1 (2 and 3 are supported)');
  refused(gguf(required(), [], 0, { version: 4 }), 'unsupported GGUF version 4 (2 and 3 are supported)');
  const counts = (tensors: number | bigint, pairs: number | bigint) => Buffer.concat([Buffer.from('GGUF'), u32(3), u64(tensors), u64(pairs)]);
  const truncated = (size: number) => `truncated or corrupt GGUF header (the header runs past the end of the file at ${size} bytes)`;
  refused(counts(1_000_001, 0), 'corrupt header: 1000001 tensors and 0 metadata keys');
  refused(counts(0, 1_000_001), 'corrupt header: 0 tensors and 1000001 metadata keys');
  refused(counts(Number.MAX_SAFE_INTEGER, 1), 'corrupt header: 9007199254740991 tensors and 1 metadata keys');
  refused(counts(2n ** 53n, 1), 'corrupt header: Infinity tensors and 1 metadata keys');
  // A million pairs are allowed; this file simply ends.
  refused(counts(1_000_000, 1_000_000), truncated(24));
  refused(Buffer.concat([Buffer.from('GGUF'), u32(3), u64(0)]), truncated(16));
  const withPair = (pair: Buffer) => gguf([pair, ...required()]);
  refused(withPair(Buffer.concat([u64(2 ** 30 + 1), Buffer.from('k')])), 'corrupt GGUF header: a metadata key has an impossible length 1073741825');
  const edge = withPair(Buffer.concat([u64(2 ** 30), Buffer.from('k')]));
  refused(edge, truncated(edge.length));
  refused(withPair(Buffer.concat([str('s'), u32(8), u64(2 ** 30 + 1)])), 'corrupt GGUF header: the value of s has an impossible length 1073741825');
  refused(withPair(kv('arr', 9, Buffer.concat([u32(8), u64(2), str('x'), u64(2 ** 31)]))), 'corrupt GGUF header: an element of arr has an impossible length 2147483648');
  refused(withPair(kv('arr', 9, Buffer.concat([u32(4), u64(2 ** 30 + 1)]))), 'corrupt GGUF header: the array arr has an impossible length 1073741825');
  const edgeArray = withPair(kv('arr', 9, Buffer.concat([u32(0), u64(2 ** 30)])));
  refused(edgeArray, truncated(edgeArray.length));
  refused(withPair(kv('arr', 9, Buffer.concat([u32(9), u64(1)]))), 'corrupt GGUF header: the array arr has an unknown element type 9');
  refused(withPair(kv('arr', 9, Buffer.concat([u32(13), u64(1)]))), 'corrupt GGUF header: the array arr has an unknown element type 13');
  refused(withPair(kv('odd', 13, u32(0))), 'corrupt GGUF header: the key odd has an unknown value type 13');
  // An array that claims more bytes than are left, as the last pair.
  const short = gguf([...required(), kv('a.cut', 9, Buffer.concat([u32(0), u64(10), Buffer.alloc(5)]))]);
  refused(short, truncated(short.length));
  refused(gguf(required(), [Buffer.concat([u64(2 ** 30 + 1), Buffer.from('w')])]), 'corrupt GGUF header: a tensor name has an impossible length 1073741825');
  const cut = gguf(required());
  refused(cut.subarray(0, cut.length - 1), truncated(cut.length - 1));
});

test('BAD INPUT - missing keys listed in order, a non-string architecture, a bad alignment', () => {
  const [arch, model, tokens, blocks, , ff, heads] = required();
  refused(gguf([arch, tokens, ff, blocks]), 'missing required metadata tokenizer.ggml.model, llama.embedding_length, llama.attention.head_count; llama.cpp cannot load this model');
  refused(gguf([model, tokens]), 'missing required metadata general.architecture; llama.cpp cannot load this model');
  refused(gguf([kvU32('general.architecture', 1), model, tokens, blocks, heads]), 'general.architecture is not a string');
  for (const [value, shown] of [[kvU32('general.alignment', 0), '0'], [kvU32('general.alignment', 48), '48'], [kvString('general.alignment', '32'), '32'], [kv('general.alignment', 7, Buffer.from([1])), 'true'], [kv('general.alignment', 7, Buffer.from([0])), 'false']] as const) {
    refused(gguf([...required(), value]), `invalid general.alignment ${shown}`);
  }
  assert.equal(validateGguf(write(gguf([...required(), kvU32('general.alignment', 1)]))).kvCount, 8);
});

test('tensor infos: dimensions 1 to 4, data within the file after the alignment padding', () => {
  const pairs = required();
  refused(gguf(pairs, [tensorInfo('w', [], 0, 0)]), 'tensor w has 0 dimensions');
  refused(gguf(pairs, [tensorInfo('w', [1, 1, 1, 1, 1], 0, 0)]), 'tensor w has 5 dimensions');
  // f32 [2, 3, 4, 5]: 480 bytes; a second tensor [8] at offset 480: 32 bytes more.
  const tensors = [tensorInfo('w', [2, 3, 4, 5], 0, 0), tensorInfo('v', [8], 0, 480)];
  const exact = gguf(pairs, tensors, 512);
  assert.equal(validateGguf(write(exact)).tensorCount, 2);
  const short = exact.subarray(0, exact.length - 1);
  refused(short, `truncated: the data of tensor v ends past the end of the file (${short.length} bytes)`);
  refused(gguf(pairs, [tensorInfo('w', [8], 0, 2n ** 60n)], 32), `truncated: the data of tensor w ends past the end of the file (${gguf(pairs, [tensorInfo('w', [8], 0, 0)], 32).length} bytes)`);
  // An unknown ggml type has no known size: only its offset is checked.
  assert.equal(validateGguf(write(gguf(pairs, [tensorInfo('w', [64], 99, 0)]))).tensorCount, 1);
  // With general.alignment 64 the data starts at the next multiple of 64, not of 32.
  const aligned = [...pairs, kvU32('general.alignment', 64)];
  // A tensor name whose header ends where padding to 32 stops short of padding to 64.
  const unpadded = (name: string) => gguf(aligned, [tensorInfo(name, [8], 0, 0)], 0, { alignment: 1 }).length;
  const name = ['w', 'ww', 'www', 'wwww', 'wwwww', 'wwwwww', 'wwwwwww', 'wwwwwwww'].map((w) => w.repeat(4)).find((w) => Math.ceil(unpadded(w) / 32) * 32 < Math.ceil(unpadded(w) / 64) * 64)!;
  const exact64 = gguf(aligned, [tensorInfo(name, [8], 0, 0)], 32, { alignment: 64 });
  assert.equal(validateGguf(write(exact64)).tensorCount, 1);
  const short64 = exact64.subarray(0, exact64.length - 1);
  refused(short64, `truncated: the data of tensor ${name} ends past the end of the file (${short64.length} bytes)`);
});

test('BAD INPUT - the path: not a string, missing, not a file, cannot be opened; no descriptor is left open', () => {
  assert.throws(() => validateGguf(''), { name: 'TypeError', message: 'Expected a file path for model but received ' });
  assert.throws(() => validateGguf(undefined as never), { name: 'TypeError', message: 'Expected a file path for model but received undefined' });
  const missing = join(dir, 'absent.gguf');
  assert.throws(() => validateGguf(missing), { name: 'DataFileError', message: `${missing}: model file not found` });
  assert.throws(() => validateGguf(dir), { name: 'DataFileError', message: `${dir}: not a regular file` });
  const under = join(write(gguf(required()), 'plain.gguf'), 'x.gguf');
  assert.throws(() => validateGguf(under), { name: 'DataFileError', message: `${under}: cannot open the model file (ENOTDIR)` });
  const open = readdirSync('/proc/self/fd').length;
  const good = write(gguf(required()));
  const bad = write(Buffer.from('GGU'));
  for (let k = 0; k < 20; k++) {
    validateGguf(good);
    assert.throws(() => validateGguf(bad));
    assert.throws(() => validateGguf(dir));
  }
  assert.equal(readdirSync('/proc/self/fd').length, open);
});

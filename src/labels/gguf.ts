/**
 * GGUF header validation before a file reaches node-llama-cpp. llama.cpp ABORTS the whole process
 * (not a catchable error) on some malformed models, for example a llama model without
 * `feed_forward_length` or `attention.head_count`, so every model file is read here first: magic,
 * version, counts, every metadata pair, every tensor info, and whether the tensor data lies within
 * the file. Any problem is a DataFileError naming the file.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { DataFileError } from '../data/errors.js';

export interface GgufSummary {
  file: string;
  version: number;
  tensorCount: number;
  kvCount: number;
  architecture: string;
  blockCount: number;
  embeddingLength: number;
  contextLength?: number;
  /** The Jinja chat template, when the file has one. */
  chatTemplate?: string;
  fileBytes: number;
}

/** Keys (after `<arch>.`) without which llama.cpp cannot build a transformer, or aborts. */
const requiredArchitectureKeys = ['block_count', 'embedding_length', 'feed_forward_length', 'attention.head_count'];
const requiredKeys = ['general.architecture', 'tokenizer.ggml.model', 'tokenizer.ggml.tokens'];

/** ggml type -> [elements per block, bytes per block], as the llama.cpp build in node-llama-cpp 3.21.1 reports them. */
const ggmlTypeSizes: Record<number, [number, number]> = {
  0: [1, 4], 1: [1, 2], 2: [32, 18], 3: [32, 20], 6: [32, 22], 7: [32, 24], 8: [32, 34], 9: [32, 36],
  10: [256, 84], 11: [256, 110], 12: [256, 144], 13: [256, 176], 14: [256, 210], 15: [256, 292],
  16: [256, 66], 17: [256, 74], 18: [256, 98], 19: [256, 50], 20: [32, 18], 21: [256, 110], 22: [256, 82],
  23: [256, 136], 24: [1, 1], 25: [1, 2], 26: [1, 4], 27: [1, 8], 28: [1, 8], 29: [256, 56], 30: [1, 2],
  34: [256, 54], 35: [256, 66], 39: [32, 17], 40: [64, 36], 41: [128, 18], 42: [64, 18],
};

const enum T { U8, I8, U16, I16, U32, I32, F32, Bool, String, Array, U64, I64, F64 }
const scalarBytes: Record<number, number> = { [T.U8]: 1, [T.I8]: 1, [T.U16]: 2, [T.I16]: 2, [T.U32]: 4, [T.I32]: 4, [T.F32]: 4, [T.Bool]: 1, [T.U64]: 8, [T.I64]: 8, [T.F64]: 8 };
/** Strings and arrays longer than this are corruption, not data (a vocabulary has < 2^24 entries). */
const MAX_LENGTH = 1 << 30;

class Truncated extends Error {}

/** Sequential reads through a window over a file descriptor; reading past the end throws Truncated. */
class HeaderReader {
  private buffer = Buffer.alloc(1 << 20);
  private start = 0;
  private end = 0;
  offset = 0;

  constructor(private readonly fd: number, readonly size: number) {}

  private ensure(n: number): number {
    if (this.offset + n > this.size) throw new Truncated();
    if (this.offset < this.start || this.offset + n > this.end) {
      if (n > this.buffer.length) this.buffer = Buffer.alloc(n);
      this.start = this.offset;
      this.end = this.start + readSync(this.fd, this.buffer, 0, this.buffer.length, this.start);
      if (this.offset + n > this.end) throw new Truncated();
    }
    const at = this.offset - this.start;
    this.offset += n;
    return at;
  }
  u32(): number { return this.buffer.readUInt32LE(this.ensure(4)); }
  u64(): number {
    const v = this.buffer.readBigUInt64LE(this.ensure(8));
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(v);
  }
  bytes(n: number): Buffer { const at = this.ensure(n); return this.buffer.subarray(at, at + n); }
  skip(n: number): void {
    if (this.offset + n > this.size) throw new Truncated();
    this.offset += n;
  }
  string(what: string): string {
    const n = this.u64();
    if (n > MAX_LENGTH) throw new Error(`${what} has an impossible length ${n}`);
    if (n > this.buffer.length) { this.skip(n); return ''; }
    return this.bytes(n).toString('utf8');
  }
  scalar(type: number): number | boolean {
    const at = this.ensure(scalarBytes[type]);
    const b = this.buffer;
    switch (type) {
      case T.U8: return b.readUInt8(at);
      case T.I8: return b.readInt8(at);
      case T.U16: return b.readUInt16LE(at);
      case T.I16: return b.readInt16LE(at);
      case T.U32: return b.readUInt32LE(at);
      case T.I32: return b.readInt32LE(at);
      case T.F32: return b.readFloatLE(at);
      case T.Bool: return b.readUInt8(at) !== 0;
      case T.U64: return Number(b.readBigUInt64LE(at));
      case T.I64: return Number(b.readBigInt64LE(at));
      default: return b.readDoubleLE(at);
    }
  }
}

type Value = number | boolean | string | { arrayOf: number; length: number };

function readValue(r: HeaderReader, type: number, key: string): Value {
  if (type === T.String) return r.string(`the value of ${key}`);
  if (type === T.Array) {
    const itemType = r.u32();
    const length = r.u64();
    if (length > MAX_LENGTH) throw new Error(`the array ${key} has an impossible length ${length}`);
    if (itemType === T.String) for (let k = 0; k < length; k++) r.string(`an element of ${key}`);
    else if (scalarBytes[itemType] !== undefined) r.skip(length * scalarBytes[itemType]);
    else throw new Error(`the array ${key} has an unknown element type ${itemType}`);
    return { arrayOf: itemType, length };
  }
  if (scalarBytes[type] === undefined) throw new Error(`the key ${key} has an unknown value type ${type}`);
  return r.scalar(type);
}

/**
 * Reads and checks a GGUF file's header; returns a summary, or throws a DataFileError naming the
 * file: missing, not GGUF, unsupported version, truncated or corrupt header, missing required
 * keys, tensor data beyond the end of the file.
 */
export function validateGguf(file: string): GgufSummary {
  if (typeof file !== 'string' || file.length === 0) throw new TypeError(`Expected a file path for model but received ${String(file)}`);
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new DataFileError(file, undefined, code === 'ENOENT' ? 'model file not found' : `cannot open the model file (${code ?? (error as Error).message})`);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new DataFileError(file, undefined, 'not a regular file');
    return readSummary(file, new HeaderReader(fd, stat.size));
  } finally {
    closeSync(fd);
  }
}

function readSummary(file: string, r: HeaderReader): GgufSummary {
  const fail = (why: string): never => { throw new DataFileError(file, undefined, why); };
  if (r.size < 4 || r.bytes(4).toString('latin1') !== 'GGUF') fail('not a GGUF model file (the first bytes are not "GGUF")');
  try {
    const version = r.u32();
    if (version < 2 || version > 3) fail(`unsupported GGUF version ${version} (2 and 3 are supported)`);
    const tensorCount = r.u64();
    const kvCount = r.u64();
    if (tensorCount > 1e6 || kvCount > 1e6) fail(`corrupt header: ${tensorCount} tensors and ${kvCount} metadata keys`);
    const kv = new Map<string, Value>();
    for (let k = 0; k < kvCount; k++) {
      const key = r.string('a metadata key');
      kv.set(key, readValue(r, r.u32(), key));
    }
    const architecture = kv.get('general.architecture');
    const missing = requiredKeys.filter((key) => !kv.has(key));
    if (typeof architecture === 'string') {
      for (const key of requiredArchitectureKeys) if (!kv.has(`${architecture}.${key}`)) missing.push(`${architecture}.${key}`);
    }
    if (missing.length > 0) fail(`missing required metadata ${missing.join(', ')}; llama.cpp cannot load this model`);
    if (typeof architecture !== 'string') return fail('general.architecture is not a string');
    const alignment = kv.get('general.alignment') ?? 32;
    if (typeof alignment !== 'number' || alignment < 1 || (alignment & (alignment - 1)) !== 0) fail(`invalid general.alignment ${String(alignment)}`);
    const tensors: { name: string; bytes: number; offset: number }[] = [];
    for (let t = 0; t < tensorCount; t++) {
      const name = r.string('a tensor name');
      const dims = r.u32();
      if (dims < 1 || dims > 4) fail(`tensor ${name} has ${dims} dimensions`);
      let elements = 1;
      for (let d = 0; d < dims; d++) elements *= r.u64();
      const type = r.u32();
      const offset = r.u64();
      const sizes = ggmlTypeSizes[type];
      tensors.push({ name, offset, bytes: sizes ? (elements / sizes[0]) * sizes[1] : 0 });
    }
    const dataStart = Math.ceil(r.offset / (alignment as number)) * (alignment as number);
    for (const t of tensors) {
      if (!Number.isFinite(t.offset) || dataStart + t.offset + t.bytes > r.size) {
        fail(`truncated: the data of tensor ${t.name} ends past the end of the file (${r.size} bytes)`);
      }
    }
    const number = (key: string): number | undefined => {
      const v = kv.get(`${architecture}.${key}`);
      return typeof v === 'number' ? v : undefined;
    };
    const template = kv.get('tokenizer.chat_template');
    return {
      file, version, tensorCount, kvCount, architecture,
      blockCount: number('block_count') ?? 0,
      embeddingLength: number('embedding_length') ?? 0,
      ...(number('context_length') !== undefined ? { contextLength: number('context_length') } : {}),
      ...(typeof template === 'string' ? { chatTemplate: template } : {}),
      fileBytes: r.size,
    };
  } catch (error) {
    if (error instanceof DataFileError) throw error;
    if (error instanceof Truncated) return fail(`truncated or corrupt GGUF header (the header runs past the end of the file at ${r.size} bytes)`);
    return fail(`corrupt GGUF header: ${(error as Error).message}`);
  }
}

/**
 * A minimal GGUF v3 reader for the writer's tests, independent of src/labels: metadata (scalars,
 * strings, arrays, with their value types), tensor infos and data; and the writer's documented
 * random stream, re-derived.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';

export interface ParsedTensor { name: string; shape: number[]; type: number; offset: number; data: Uint8Array }

export function parseGguf(bytes: Uint8Array): { kv: Map<string, unknown>; types: Map<string, number>; tensors: Map<string, ParsedTensor>; dataStart: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const u32 = (): number => { const v = view.getUint32(at, true); at += 4; return v; };
  const u64 = (): number => { const v = Number(view.getBigUint64(at, true)); at += 8; return v; };
  const str = (): string => { const n = u64(); const s = Buffer.from(bytes.subarray(at, at + n)).toString('utf8'); at += n; return s; };
  const value = (type: number): unknown => {
    switch (type) {
      case 4: return u32();
      case 5: { const v = view.getInt32(at, true); at += 4; return v; }
      case 6: { const v = view.getFloat32(at, true); at += 4; return v; }
      case 7: return bytes[at++] !== 0;
      case 8: return str();
      case 9: { const itemType = u32(); const n = u64(); return Array.from({ length: n }, () => value(itemType)); }
      default: throw new Error(`unexpected metadata type ${type}`);
    }
  };
  assert.equal(Buffer.from(bytes.subarray(0, 4)).toString('latin1'), 'GGUF');
  at = 4;
  assert.equal(u32(), 3);
  const nTensors = u64();
  const nKv = u64();
  const kv = new Map<string, unknown>();
  const types = new Map<string, number>();
  for (let k = 0; k < nKv; k++) {
    const key = str();
    const type = u32();
    types.set(key, type === 9 ? 900 + view.getUint32(at, true) : type);
    kv.set(key, value(type));
  }
  const infos = Array.from({ length: nTensors }, () => {
    const name = str();
    const dims = u32();
    const shape = Array.from({ length: dims }, u64);
    return { name, shape, type: u32(), offset: u64() };
  });
  const dataStart = Math.ceil(at / 32) * 32;
  const tensors = new Map<string, ParsedTensor>();
  for (const t of infos) {
    const elements = t.shape.reduce((a, b) => a * b, 1);
    const size = t.type === 8 ? (elements / 32) * 34 : elements * 4;
    tensors.set(t.name, { ...t, data: bytes.subarray(dataStart + t.offset, dataStart + t.offset + size) });
  }
  return { kv, types, tensors, dataStart };
}

/** The documented random stream, re-derived: xorshift32 words from SHA-256(`seed:name`), as bytes. */
export function expectedStream(seed: number, name: string, bytes: number): Uint8Array {
  let s = createHash('sha256').update(`${seed}:${name}`).digest().readUInt32LE(0) || 1;
  const words = new Uint32Array(Math.ceil(bytes / 4));
  for (let k = 0; k < words.length; k++) {
    s = (s ^ (s << 13)) >>> 0;
    s = (s ^ (s >>> 17)) >>> 0;
    s = (s ^ (s << 5)) >>> 0;
    words[k] = s;
  }
  return new Uint8Array(words.buffer, 0, bytes);
}

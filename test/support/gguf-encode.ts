/**
 * A GGUF encoder for validateGguf's tests, written here and independent of src/labels/gguf-writer:
 * little-endian fields, metadata pairs, tensor infos and whole files with padding and data.
 */
export const u32 = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32LE(n); return b; };
export const u64 = (n: number | bigint): Buffer => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(n)); return b; };
export const str = (s: string): Buffer => Buffer.concat([u64(Buffer.byteLength(s)), Buffer.from(s)]);
/** One metadata pair: key, value type, value bytes. */
export const kv = (key: string, type: number, value: Buffer): Buffer => Buffer.concat([str(key), u32(type), value]);
export const kvString = (key: string, s: string) => kv(key, 8, str(s));
export const kvU32 = (key: string, n: number) => kv(key, 4, u32(n));
export const kvStrings = (key: string, list: string[]) => kv(key, 9, Buffer.concat([u32(8), u64(list.length), ...list.map(str)]));
export const tensorInfo = (name: string, dims: number[], type: number, offset: number | bigint) =>
  Buffer.concat([str(name), u32(dims.length), ...dims.map((d) => u64(d)), u32(type), u64(offset)]);

/** The keys llama.cpp needs, for architecture `arch`. */
export const required = (arch = 'llama'): Buffer[] => [
  kvString('general.architecture', arch), kvString('tokenizer.ggml.model', 'llama'), kvStrings('tokenizer.ggml.tokens', ['a', 'b']),
  kvU32(`${arch}.block_count`, 2), kvU32(`${arch}.embedding_length`, 8), kvU32(`${arch}.feed_forward_length`, 16), kvU32(`${arch}.attention.head_count`, 2),
];

/** A whole file: header, pairs, tensor infos, padding to `alignment`, then `data` bytes. */
export function gguf(pairs: Buffer[], tensors: Buffer[] = [], data = 0, { version = 3, alignment = 32 } = {}): Buffer {
  const head = Buffer.concat([Buffer.from('GGUF'), u32(version), u64(tensors.length), u64(pairs.length), ...pairs, ...tensors]);
  const padded = tensors.length > 0 ? Math.ceil(head.length / alignment) * alignment : head.length;
  return Buffer.concat([head, Buffer.alloc(padded - head.length + data)]);
}

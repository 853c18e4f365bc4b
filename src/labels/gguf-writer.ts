/**
 * A dependency-free writer of tiny llama-architecture GGUF v3 models for tests: a SentencePiece-style
 * vocabulary (control tokens, the 256 byte tokens, ASCII characters with and without the `▁` space
 * marker, and every prefix of a few whole words with score = length so merges reach the words), a
 * ChatML-like Jinja chat template, and deterministic random F32 weights. node-llama-cpp loads such a
 * file in about 0.1 s and runs it on CPU. Nothing is downloaded or committed: tests write one into a
 * temporary folder.
 *
 * Layout (GGUF v3): `GGUF`, u32 version, u64 tensor count, u64 KV count; the KV pairs; the tensor
 * infos (name, n_dims, u64 ne[] innermost first, ggml type, offset); padding to `general.alignment`
 * (32); the tensor data, each tensor aligned to 32.
 */
import { writeFileSync } from 'node:fs';

export interface TinyGgufOptions {
  /** Whole words added to the vocabulary (with and without `▁`), so prompts take fewer tokens. */
  words?: string[];
  embedding?: number;
  layers?: number;
  heads?: number;
  feedForward?: number;
  contextLength?: number;
  /** Seed of the weights. */
  seed?: number;
  /** Jinja chat template stored under `tokenizer.chat_template`; null leaves the key out. */
  chatTemplate?: string | null;
  /** Metadata keys to leave out (to make invalid files for tests). */
  omitKeys?: string[];
}

/** A ChatML-style template; node-llama-cpp recognises it and renders `<|im_start|>role\n...<|im_end|>`. */
export const chatMlTemplate =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/** The answer words every tiny model knows as whole tokens. */
export const answerWords = ['Yes', 'No'];

const enum ValueType { U32 = 4, I32 = 5, F32 = 6, Bool = 7, String = 8, Array = 9 }
const enum TokenType { Normal = 1, Unknown = 2, Control = 3, Byte = 6 }
const GGML_F32 = 0;
const ALIGNMENT = 32;

type KvValue =
  | { type: ValueType.U32 | ValueType.I32 | ValueType.F32; value: number }
  | { type: ValueType.Bool; value: boolean }
  | { type: ValueType.String; value: string }
  | { type: ValueType.Array; itemType: ValueType.String; values: string[] }
  | { type: ValueType.Array; itemType: ValueType.F32 | ValueType.I32; values: number[] };

interface Tensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** Growable little-endian byte buffer. */
class ByteWriter {
  private bytes = new Uint8Array(1 << 16);
  private view = new DataView(this.bytes.buffer);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.bytes.subarray(0, this.length));
    this.bytes = next;
    this.view = new DataView(next.buffer);
  }
  u32(v: number): void { this.reserve(4); this.view.setUint32(this.length, v, true); this.length += 4; }
  i32(v: number): void { this.reserve(4); this.view.setInt32(this.length, v, true); this.length += 4; }
  u64(v: number): void { this.reserve(8); this.view.setBigUint64(this.length, BigInt(v), true); this.length += 8; }
  f32(v: number): void { this.reserve(4); this.view.setFloat32(this.length, v, true); this.length += 4; }
  u8(v: number): void { this.reserve(1); this.bytes[this.length++] = v; }
  raw(data: Uint8Array): void { this.reserve(data.length); this.bytes.set(data, this.length); this.length += data.length; }
  string(s: string): void { const b = Buffer.from(s, 'utf8'); this.u64(b.length); this.raw(b); }
  pad(alignment: number): void { while (this.length % alignment !== 0) this.u8(0); }
  result(): Uint8Array { return this.bytes.slice(0, this.length); }
}

/** The vocabulary: tokens, scores and token types, in id order. */
export function tinyVocabulary(words: string[] = []): { tokens: string[]; scores: number[]; types: number[] } {
  const tokens: string[] = [];
  const scores: number[] = [];
  const types: number[] = [];
  const seen = new Set<string>();
  const add = (token: string, score: number, type: number): void => {
    if (seen.has(token)) return;
    seen.add(token);
    tokens.push(token);
    scores.push(score);
    types.push(type);
  };
  add('<unk>', 0, TokenType.Unknown);
  add('<s>', 0, TokenType.Control);
  add('</s>', 0, TokenType.Control);
  add('<|im_start|>', 0, TokenType.Control);
  add('<|im_end|>', 0, TokenType.Control);
  for (let b = 0; b < 256; b++) add(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`, 0, TokenType.Byte);
  add('▁', 1, TokenType.Normal);
  for (let c = 0x21; c <= 0x7e; c++) {
    const ch = String.fromCharCode(c);
    add(ch, 1, TokenType.Normal);
    add(`▁${ch}`, 2, TokenType.Normal);
  }
  for (const word of [...answerWords, ...words]) {
    const clean = word.replace(/\s+/g, '');
    for (const marked of [clean, `▁${clean}`]) {
      for (let end = 2; end <= marked.length; end++) add(marked.slice(0, end), end, TokenType.Normal);
    }
  }
  return { tokens, scores, types };
}

/** xorshift32 in [-scale, scale): deterministic weights. */
function randomWeights(count: number, scale: number, state: { s: number }): Float32Array {
  const out = new Float32Array(count);
  for (let k = 0; k < count; k++) {
    let s = state.s;
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    state.s = s;
    out[k] = (s / 4294967296 * 2 - 1) * scale;
  }
  return out;
}

/** The bytes of a tiny llama GGUF model. */
export function buildTinyGguf(options: TinyGgufOptions = {}): Uint8Array {
  const nEmbd = options.embedding ?? 32;
  const nLayer = options.layers ?? 1;
  const nHead = options.heads ?? 2;
  const nFf = options.feedForward ?? 64;
  const contextLength = options.contextLength ?? 4096;
  const vocab = tinyVocabulary(options.words);
  const nVocab = vocab.tokens.length;
  const omit = new Set(options.omitKeys ?? []);
  const template = options.chatTemplate === undefined ? chatMlTemplate : options.chatTemplate;

  const kv: [string, KvValue][] = [
    ['general.architecture', { type: ValueType.String, value: 'llama' }],
    ['general.name', { type: ValueType.String, value: 'dtlns-tiny-test' }],
    ['general.alignment', { type: ValueType.U32, value: ALIGNMENT }],
    ['general.file_type', { type: ValueType.U32, value: 0 }],
    ['llama.context_length', { type: ValueType.U32, value: contextLength }],
    ['llama.embedding_length', { type: ValueType.U32, value: nEmbd }],
    ['llama.block_count', { type: ValueType.U32, value: nLayer }],
    ['llama.feed_forward_length', { type: ValueType.U32, value: nFf }],
    ['llama.attention.head_count', { type: ValueType.U32, value: nHead }],
    ['llama.attention.head_count_kv', { type: ValueType.U32, value: nHead }],
    ['llama.attention.layer_norm_rms_epsilon', { type: ValueType.F32, value: 1e-5 }],
    ['llama.rope.dimension_count', { type: ValueType.U32, value: nEmbd / nHead }],
    ['llama.rope.freq_base', { type: ValueType.F32, value: 10000 }],
    ['llama.vocab_size', { type: ValueType.U32, value: nVocab }],
    ['tokenizer.ggml.model', { type: ValueType.String, value: 'llama' }],
    ['tokenizer.ggml.tokens', { type: ValueType.Array, itemType: ValueType.String, values: vocab.tokens }],
    ['tokenizer.ggml.scores', { type: ValueType.Array, itemType: ValueType.F32, values: vocab.scores }],
    ['tokenizer.ggml.token_type', { type: ValueType.Array, itemType: ValueType.I32, values: vocab.types }],
    ['tokenizer.ggml.bos_token_id', { type: ValueType.U32, value: 1 }],
    ['tokenizer.ggml.eos_token_id', { type: ValueType.U32, value: vocab.tokens.indexOf('<|im_end|>') }],
    ['tokenizer.ggml.unknown_token_id', { type: ValueType.U32, value: 0 }],
    ['tokenizer.ggml.add_bos_token', { type: ValueType.Bool, value: true }],
    ['tokenizer.ggml.add_eos_token', { type: ValueType.Bool, value: false }],
  ];
  if (template !== null) kv.push(['tokenizer.chat_template', { type: ValueType.String, value: template }]);
  const keep = kv.filter(([key]) => !omit.has(key));

  const state = { s: (options.seed ?? 1) * 2654435761 >>> 0 || 1 };
  const matrix = (name: string, nIn: number, nOut: number): Tensor => ({
    name, shape: [nIn, nOut], data: randomWeights(nIn * nOut, 1 / Math.sqrt(nIn), state),
  });
  const norm = (name: string): Tensor => ({ name, shape: [nEmbd], data: new Float32Array(nEmbd).fill(1) });
  const tensors: Tensor[] = [
    { name: 'token_embd.weight', shape: [nEmbd, nVocab], data: randomWeights(nEmbd * nVocab, 1, state) },
    norm('output_norm.weight'),
    matrix('output.weight', nEmbd, nVocab),
  ];
  for (let l = 0; l < nLayer; l++) {
    tensors.push(
      norm(`blk.${l}.attn_norm.weight`),
      matrix(`blk.${l}.attn_q.weight`, nEmbd, nEmbd),
      matrix(`blk.${l}.attn_k.weight`, nEmbd, nEmbd),
      matrix(`blk.${l}.attn_v.weight`, nEmbd, nEmbd),
      matrix(`blk.${l}.attn_output.weight`, nEmbd, nEmbd),
      norm(`blk.${l}.ffn_norm.weight`),
      matrix(`blk.${l}.ffn_gate.weight`, nEmbd, nFf),
      matrix(`blk.${l}.ffn_up.weight`, nEmbd, nFf),
      matrix(`blk.${l}.ffn_down.weight`, nFf, nEmbd),
    );
  }

  const w = new ByteWriter();
  w.raw(Buffer.from('GGUF', 'latin1'));
  w.u32(3);
  w.u64(tensors.length);
  w.u64(keep.length);
  for (const [key, value] of keep) {
    w.string(key);
    w.u32(value.type);
    writeValue(w, value);
  }
  let offset = 0;
  for (const t of tensors) {
    w.string(t.name);
    w.u32(t.shape.length);
    for (const n of t.shape) w.u64(n);
    w.u32(GGML_F32);
    w.u64(offset);
    offset += Math.ceil((t.data.byteLength) / ALIGNMENT) * ALIGNMENT;
  }
  w.pad(ALIGNMENT);
  for (const t of tensors) {
    w.raw(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    w.pad(ALIGNMENT);
  }
  return w.result();
}

function writeValue(w: ByteWriter, value: KvValue): void {
  switch (value.type) {
    case ValueType.U32: w.u32(value.value); break;
    case ValueType.I32: w.i32(value.value); break;
    case ValueType.F32: w.f32(value.value); break;
    case ValueType.Bool: w.u8(value.value ? 1 : 0); break;
    case ValueType.String: w.string(value.value); break;
    case ValueType.Array:
      w.u32(value.itemType);
      w.u64(value.values.length);
      if (value.itemType === ValueType.String) for (const s of value.values as string[]) w.string(s);
      else if (value.itemType === ValueType.F32) for (const v of value.values as number[]) w.f32(v);
      else for (const v of value.values as number[]) w.i32(v);
      break;
  }
}

/** Writes a tiny model to `path` and returns the path. */
export function writeTinyGguf(path: string, options: TinyGgufOptions = {}): string {
  writeFileSync(path, buildTinyGguf(options));
  return path;
}

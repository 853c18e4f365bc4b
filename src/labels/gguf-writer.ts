/**
 * A dependency-free writer of llama-architecture GGUF v3 models with random weights: tiny ones for
 * tests, and real models' shapes (Llama 3.1 8B: vocabulary 128,256, grouped-query attention, Q8_0)
 * for throughput measurements, where the cost of evaluating a prompt does not depend on the
 * weights' values. A SentencePiece-style vocabulary (control tokens, the 256 byte tokens, ASCII
 * characters with and without the `▁` space marker, every prefix of a few whole words with
 * score = length so merges reach the words, then unused tokens up to `vocabSize`), a ChatML-like
 * Jinja chat template, and deterministic random F32 or Q8_0 weights. node-llama-cpp loads a tiny one
 * in about 0.1 s. Nothing is downloaded or committed: tests write one into a temporary folder.
 *
 * Layout (GGUF v3): `GGUF`, u32 version, u64 tensor count, u64 KV count; the KV pairs; the tensor
 * infos (name, n_dims, u64 ne[] innermost first, ggml type, offset); padding to `general.alignment`
 * (32); the tensor data, each tensor aligned to 32.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';

export interface TinyGgufOptions {
  /** Whole words added to the vocabulary (with and without `▁`), so prompts take fewer tokens. */
  words?: string[];
  embedding?: number;
  layers?: number;
  heads?: number;
  /** Key/value heads (grouped-query attention, as Llama 3); default: heads. */
  headsKv?: number;
  feedForward?: number;
  contextLength?: number;
  /** Vocabulary size: the built vocabulary padded with unused reserved tokens up to this (as 128,256 for Llama 3). */
  vocabSize?: number;
  /** Type of the weight matrices; norms stay F32. Q8_0 needs embedding and feedForward divisible by 32. */
  weightType?: GgufWeightType;
  /** A separate output matrix (default, as Llama 3.1 8B); false ties it to the token embeddings (as Llama 3.2). */
  outputMatrix?: boolean;
  ropeFreqBase?: number;
  /** `general.name`. */
  name?: string;
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
const enum TokenType { Normal = 1, Unknown = 2, Control = 3, Unused = 5, Byte = 6 }
const ALIGNMENT = 32;
/** Elements per Q8_0 block. */
export const Q8_BLOCK = 32;
/** llama.cpp's LLAMA_FTYPE_MOSTLY_Q8_0. */
const FILE_TYPE_MOSTLY_Q8_0 = 7;

export type GgufWeightType = 'f32' | 'q8_0';

type KvValue =
  | { type: ValueType.U32 | ValueType.I32 | ValueType.F32; value: number }
  | { type: ValueType.Bool; value: boolean }
  | { type: ValueType.String; value: string }
  | { type: ValueType.Array; itemType: ValueType.String; values: string[] }
  | { type: ValueType.Array; itemType: ValueType.F32 | ValueType.I32; values: number[] };

interface Tensor {
  name: string;
  shape: number[];
  elements: number;
  type: GgufWeightType;
  /** Random values in about [-scale, scale], or all ones (norms). */
  scale: number | 'ones';
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

/**
 * The random words of one tensor: xorshift32 (s ^= s << 13; s ^= s >>> 17; s ^= s << 5), started from
 * the first four bytes (little-endian) of SHA-256(`${seed}:${tensor name}`), or 1 when they are zero;
 * word k is the state after k + 1 steps. A tight loop over big word buffers fills about a gigabyte a
 * second here (Node's AES-CTR stream managed 0.08), so big models never make a JS call per weight;
 * tests re-derive the stream independently.
 */
export function tensorRandomWords(seed: number, name: string): (out: Uint32Array) => void {
  let state = createHash('sha256').update(`${seed}:${name}`).digest().readUInt32LE(0) || 1;
  return (out) => {
    let s = state;
    for (let k = 0; k < out.length; k++) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      out[k] = s;
    }
    state = s;
  };
}

/** IEEE half precision bits of `x` (round to nearest even; subnormals kept; overflow to infinity). */
export function float16Bits(x: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer)[0];
  const sign = (u >>> 16) & 0x8000;
  const exponent = ((u >>> 23) & 0xff) - 127 + 15;
  let mantissa = u & 0x7fffff;
  if (((u >>> 23) & 0xff) === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  if (exponent >= 0x1f) return sign | 0x7c00;
  if (exponent <= 0) {
    if (exponent < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - exponent;
    const half = 1 << (shift - 1);
    let m = mantissa >>> shift;
    const rest = mantissa & ((1 << shift) - 1);
    if (rest > half || (rest === half && (m & 1))) m++;
    return sign | m;
  }
  let h = (exponent << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (h & 1))) h++;
  return sign | h;
}

/** Bytes per element block of each tensor type written here (ggml: Q8_0 = f16 scale + 32 int8). */
const blockBytes: Record<GgufWeightType, { elements: number; bytes: number; ggmlType: number }> = {
  f32: { elements: 1, bytes: 4, ggmlType: 0 },
  q8_0: { elements: Q8_BLOCK, bytes: 2 + Q8_BLOCK, ggmlType: 8 },
};

/**
 * A tensor's data, generated chunk by chunk into one reused buffer (consume each chunk before asking
 * for the next). Random tensors hold values uniform in about [-scale, scale] drawn from the tensor's
 * random words (tensorRandomWords) read as little-endian bytes: F32 element k =
 * (word_k / 2^32 * 2 - 1) * scale; a Q8_0 block b takes bytes [34b, 34b + 34) of the stream, its
 * first two replaced by the f16 scale (scale / 127) and the other 32 read as the int8 quants.
 * Norms are ones (F32).
 */
function* tensorData(t: Tensor, seed: number): Generator<Uint8Array> {
  const layout = blockBytes[t.type];
  const total = (t.elements / layout.elements) * layout.bytes;
  if (t.scale === 'ones') {
    yield new Uint8Array(new Float32Array(t.elements).fill(1).buffer);
    return;
  }
  const fill = tensorRandomWords(seed, t.name);
  // A multiple of 4 (whole words) and of the block size: 4 MiB of F32 data, 34 MiB of Q8_0.
  const chunkWords = layout.bytes * (1 << 18);
  const words = new Uint32Array(Math.min(chunkWords, Math.ceil(total / 4)));
  const bytes = new Uint8Array(words.buffer);
  const d = t.type === 'q8_0' ? float16Bits(t.scale / 127) : 0;
  for (let done = 0; done < total; done += bytes.length) {
    fill(words);
    const n = Math.min(bytes.length, total - done);
    if (t.type === 'q8_0') {
      for (let b = 0; b < n; b += layout.bytes) {
        bytes[b] = d & 0xff;
        bytes[b + 1] = d >>> 8;
      }
      yield bytes.subarray(0, n);
    } else {
      const out = new Float32Array(n >>> 2);
      for (let k = 0; k < out.length; k++) out[k] = (words[k] / 4294967296 * 2 - 1) * t.scale;
      yield new Uint8Array(out.buffer);
    }
  }
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`Expected a positive integer for ${name} but received ${String(value)}`);
  return value;
}

/** The header (metadata and tensor infos, padded) and the tensors of a model; see the module comment. */
function layoutGguf(options: TinyGgufOptions): { header: Uint8Array; tensors: Tensor[]; seed: number } {
  const nEmbd = positiveInteger(options.embedding ?? 32, 'embedding');
  const nLayer = positiveInteger(options.layers ?? 1, 'layers');
  const nHead = positiveInteger(options.heads ?? 2, 'heads');
  const nHeadKv = positiveInteger(options.headsKv ?? nHead, 'headsKv');
  const nFf = positiveInteger(options.feedForward ?? 64, 'feedForward');
  const contextLength = positiveInteger(options.contextLength ?? 4096, 'contextLength');
  const type = options.weightType ?? 'f32';
  if (!(type in blockBytes)) throw new RangeError(`Expected 'f32' or 'q8_0' for weightType but received ${String(type)}`);
  if (nEmbd % nHead !== 0) throw new RangeError(`Expected heads to divide embedding (${nEmbd}) but received ${nHead}`);
  if (nHead % nHeadKv !== 0) throw new RangeError(`Expected headsKv to divide heads (${nHead}) but received ${nHeadKv}`);
  const nEmbdKv = (nEmbd / nHead) * nHeadKv;
  const block = blockBytes[type].elements;
  // Quantised rows are ne[0] = the input width: embedding for every matrix except ffn_down (feedForward).
  for (const [name, value] of [['embedding', nEmbd], ['feedForward', nFf]] as const) {
    if (value % block !== 0) throw new RangeError(`Expected a multiple of ${block} for ${name} with weightType ${type} but received ${value}`);
  }
  const vocab = tinyVocabulary(options.words);
  if (options.vocabSize !== undefined) {
    const size = positiveInteger(options.vocabSize, 'vocabSize');
    if (size < vocab.tokens.length) throw new RangeError(`Expected vocabSize >= ${vocab.tokens.length} (the built vocabulary) but received ${size}`);
    for (let k = vocab.tokens.length; k < size; k++) {
      vocab.tokens.push(`<|reserved_${k}|>`);
      vocab.scores.push(0);
      vocab.types.push(TokenType.Unused);
    }
  }
  const nVocab = vocab.tokens.length;
  const omit = new Set(options.omitKeys ?? []);
  const template = options.chatTemplate === undefined ? chatMlTemplate : options.chatTemplate;

  const kv: [string, KvValue][] = [
    ['general.architecture', { type: ValueType.String, value: 'llama' }],
    ['general.name', { type: ValueType.String, value: options.name ?? 'dtlns-tiny-test' }],
    ['general.alignment', { type: ValueType.U32, value: ALIGNMENT }],
    ['general.file_type', { type: ValueType.U32, value: type === 'q8_0' ? FILE_TYPE_MOSTLY_Q8_0 : 0 }],
    ['llama.context_length', { type: ValueType.U32, value: contextLength }],
    ['llama.embedding_length', { type: ValueType.U32, value: nEmbd }],
    ['llama.block_count', { type: ValueType.U32, value: nLayer }],
    ['llama.feed_forward_length', { type: ValueType.U32, value: nFf }],
    ['llama.attention.head_count', { type: ValueType.U32, value: nHead }],
    ['llama.attention.head_count_kv', { type: ValueType.U32, value: nHeadKv }],
    ['llama.attention.layer_norm_rms_epsilon', { type: ValueType.F32, value: 1e-5 }],
    ['llama.rope.dimension_count', { type: ValueType.U32, value: nEmbd / nHead }],
    ['llama.rope.freq_base', { type: ValueType.F32, value: options.ropeFreqBase ?? 10000 }],
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

  const matrix = (name: string, nIn: number, nOut: number, scale = 1 / Math.sqrt(nIn)): Tensor =>
    ({ name, shape: [nIn, nOut], elements: nIn * nOut, type, scale });
  const norm = (name: string): Tensor => ({ name, shape: [nEmbd], elements: nEmbd, type: 'f32', scale: 'ones' });
  const untied = options.outputMatrix ?? true;
  // Tied embeddings are the output matrix too: at scale 1 the logits would be so peaked that P(yes)
  // and P(no) round to 0 (the inputs do not care: every layer starts with an RMS norm).
  const tensors: Tensor[] = [matrix('token_embd.weight', nEmbd, nVocab, untied ? 1 : 1 / Math.sqrt(nEmbd)), norm('output_norm.weight')];
  if (untied) tensors.push(matrix('output.weight', nEmbd, nVocab));
  for (let l = 0; l < nLayer; l++) {
    tensors.push(
      norm(`blk.${l}.attn_norm.weight`),
      matrix(`blk.${l}.attn_q.weight`, nEmbd, nEmbd),
      matrix(`blk.${l}.attn_k.weight`, nEmbd, nEmbdKv),
      matrix(`blk.${l}.attn_v.weight`, nEmbd, nEmbdKv),
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
    w.u32(blockBytes[t.type].ggmlType);
    w.u64(offset);
    offset += paddedBytes(t);
  }
  w.pad(ALIGNMENT);
  const seed = (options.seed ?? 1) >>> 0;
  return { header: w.result(), tensors, seed };
}

function tensorBytes(t: Tensor): number {
  const layout = blockBytes[t.type];
  return (t.elements / layout.elements) * layout.bytes;
}

function paddedBytes(t: Tensor): number {
  return Math.ceil(tensorBytes(t) / ALIGNMENT) * ALIGNMENT;
}

/** The bytes of a small llama GGUF model, in memory (see writeGguf for big ones). */
export function buildTinyGguf(options: TinyGgufOptions = {}): Uint8Array {
  const { header, tensors, seed } = layoutGguf(options);
  const out = new Uint8Array(header.length + tensors.reduce((sum, t) => sum + paddedBytes(t), 0));
  out.set(header);
  let at = header.length;
  for (const t of tensors) {
    let k = at;
    for (const chunk of tensorData(t, seed)) {
      out.set(chunk, k);
      k += chunk.length;
    }
    at += paddedBytes(t);
  }
  return out;
}

export interface GgufWriteResult {
  path: string;
  bytes: number;
  parameters: number;
  seconds: number;
}

/** Streams a llama GGUF model to `path` (gigabytes in seconds: no per-weight JS random calls). */
export function writeGguf(path: string, options: TinyGgufOptions = {}): GgufWriteResult {
  const started = performance.now();
  const { header, tensors, seed } = layoutGguf(options);
  const fd = openSync(path, 'w');
  let bytes = 0;
  const write = (data: Uint8Array): void => {
    for (let done = 0; done < data.length;) done += writeSync(fd, data, done, data.length - done);
    bytes += data.length;
  };
  try {
    write(header);
    for (const t of tensors) {
      for (const chunk of tensorData(t, seed)) write(chunk);
      const pad = paddedBytes(t) - tensorBytes(t);
      if (pad > 0) write(new Uint8Array(pad));
    }
  } finally {
    closeSync(fd);
  }
  return { path, bytes, parameters: tensors.reduce((sum, t) => sum + t.elements, 0), seconds: (performance.now() - started) / 1000 };
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

/** Writes a small model to `path` and returns the path. */
export function writeTinyGguf(path: string, options: TinyGgufOptions = {}): string {
  return writeGguf(path, options).path;
}

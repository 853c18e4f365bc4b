/**
 * The GGUF writer's small-model output, exactly, read back by the independent parser of
 * test/support/gguf-read: every metadata key with its value type and default, the vocabulary, the
 * tensor list with offsets, the F32 weights re-derived from the documented random stream,
 * float16Bits at its edges, and each refused option's whole message. No model
 * is loaded; labels.gguf-writer.big holds the tests of bigger files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { answerWords, buildTinyGguf, chatMlTemplate, float16Bits, tinyVocabulary } from '../src/labels/gguf-writer.js';
import { expectedStream, parseGguf } from './support/gguf-read.js';

const [U32, I32, F32, BOOL, STRING] = [4, 5, 6, 7, 8];
const ARRAY_OF = (t: number) => 900 + t;

test('the vocabulary: control tokens, 256 byte tokens, characters with and without ▁, then word prefixes scored by length', () => {
  const v = tinyVocabulary(['ab c', 'Yes', 'xy']);
  assert.deepEqual(v.tokens.slice(0, 7), ['<unk>', '<s>', '</s>', '<|im_start|>', '<|im_end|>', '<0x00>', '<0x01>']);
  assert.deepEqual(v.tokens.slice(258, 266), ['<0xFD>', '<0xFE>', '<0xFF>', '▁', '!', '▁!', '"', '▁"']);
  assert.deepEqual(v.types.slice(0, 7), [2, 3, 3, 3, 3, 6, 6]);
  assert.deepEqual([v.types[260], v.types[261], v.types[262], v.types[263]], [6, 1, 1, 1]);
  assert.deepEqual([v.scores[0], v.scores[260], v.scores[261], v.scores[262], v.scores[263]], [0, 0, 1, 1, 2]);
  // 5 control, 256 bytes, ▁, 94 characters twice: 450; then Yes, No and the words (duplicates once).
  assert.deepEqual(v.tokens.slice(448), ['~', '▁~', 'Ye', 'Yes', '▁Ye', '▁Yes', 'No', '▁No', 'ab', 'abc', '▁ab', '▁abc', 'xy', '▁xy']);
  assert.deepEqual(v.scores.slice(450), [2, 3, 3, 4, 2, 3, 2, 3, 3, 4, 2, 3]);
  assert.ok(v.types.slice(261).every((t) => t === 1));
  assert.deepEqual(answerWords, ['Yes', 'No']);
  assert.equal(tinyVocabulary().tokens.length, 456);
});

test('the metadata: every key, its value type and its default, in order', () => {
  const { kv, types, tensors } = parseGguf(buildTinyGguf());
  const vocab = tinyVocabulary();
  assert.deepEqual([...kv.keys()], [
    'general.architecture', 'general.name', 'general.alignment', 'general.file_type', 'llama.context_length', 'llama.embedding_length',
    'llama.block_count', 'llama.feed_forward_length', 'llama.attention.head_count', 'llama.attention.head_count_kv',
    'llama.attention.layer_norm_rms_epsilon', 'llama.rope.dimension_count', 'llama.rope.freq_base', 'llama.vocab_size', 'tokenizer.ggml.model',
    'tokenizer.ggml.tokens', 'tokenizer.ggml.scores', 'tokenizer.ggml.token_type', 'tokenizer.ggml.bos_token_id', 'tokenizer.ggml.eos_token_id',
    'tokenizer.ggml.unknown_token_id', 'tokenizer.ggml.add_bos_token', 'tokenizer.ggml.add_eos_token', 'tokenizer.chat_template',
  ]);
  const expected: [string, number, unknown][] = [
    ['general.architecture', STRING, 'llama'], ['general.name', STRING, 'dtlns-tiny-test'], ['general.alignment', U32, 32], ['general.file_type', U32, 0],
    ['llama.context_length', U32, 4096], ['llama.embedding_length', U32, 32], ['llama.block_count', U32, 1], ['llama.feed_forward_length', U32, 64],
    ['llama.attention.head_count', U32, 2], ['llama.attention.head_count_kv', U32, 2], ['llama.attention.layer_norm_rms_epsilon', F32, Math.fround(1e-5)],
    ['llama.rope.dimension_count', U32, 16], ['llama.rope.freq_base', F32, 10000], ['llama.vocab_size', U32, 456], ['tokenizer.ggml.model', STRING, 'llama'],
    ['tokenizer.ggml.tokens', ARRAY_OF(STRING), vocab.tokens], ['tokenizer.ggml.scores', ARRAY_OF(F32), vocab.scores], ['tokenizer.ggml.token_type', ARRAY_OF(I32), vocab.types],
    ['tokenizer.ggml.bos_token_id', U32, 1], ['tokenizer.ggml.eos_token_id', U32, 4], ['tokenizer.ggml.unknown_token_id', U32, 0],
    ['tokenizer.ggml.add_bos_token', BOOL, true], ['tokenizer.ggml.add_eos_token', BOOL, false], ['tokenizer.chat_template', STRING, chatMlTemplate],
  ];
  for (const [key, type, value] of expected) {
    assert.equal(types.get(key), type, `${key}'s type`);
    assert.deepEqual(kv.get(key), value, key);
  }
  assert.equal(chatMlTemplate,
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}");
  assert.equal(tensors.size, 12);

  const custom = parseGguf(buildTinyGguf({
    name: 'n', contextLength: 77, ropeFreqBase: 500000, heads: 4, headsKv: 2, embedding: 64, layers: 3, feedForward: 96, vocabSize: 500,
    chatTemplate: 'T', omitKeys: ['general.name', 'llama.vocab_size'],
  }));
  assert.deepEqual(
    ['general.name', 'llama.context_length', 'llama.rope.freq_base', 'llama.attention.head_count', 'llama.attention.head_count_kv', 'llama.rope.dimension_count',
      'llama.embedding_length', 'llama.block_count', 'llama.feed_forward_length', 'llama.vocab_size', 'tokenizer.chat_template'].map((key) => custom.kv.get(key)),
    [undefined, 77, 500000, 4, 2, 16, 64, 3, 96, undefined, 'T'],
  );
  assert.equal((custom.kv.get('tokenizer.ggml.tokens') as string[]).length, 500);
  assert.equal((custom.kv.get('tokenizer.ggml.tokens') as string[])[499], '<|reserved_499|>');
  assert.deepEqual([(custom.kv.get('tokenizer.ggml.scores') as number[])[499], (custom.kv.get('tokenizer.ggml.token_type') as number[])[499]], [0, 5]);
  assert.equal(parseGguf(buildTinyGguf({ chatTemplate: null })).kv.has('tokenizer.chat_template'), false);
  // A vocabulary exactly the built size gets no padding.
  assert.deepEqual(parseGguf(buildTinyGguf({ vocabSize: 456 })).kv.get('tokenizer.ggml.tokens'), tinyVocabulary().tokens);
});

test('the tensors: names, shapes, types and offsets in order; F32 weights from the random stream, norms ones', () => {
  const bytes = buildTinyGguf({ layers: 2, seed: 5 });
  const { tensors } = parseGguf(bytes);
  const names = ['token_embd.weight', 'output_norm.weight', 'output.weight'];
  for (const l of [0, 1]) names.push(...['attn_norm', 'attn_q', 'attn_k', 'attn_v', 'attn_output', 'ffn_norm', 'ffn_gate', 'ffn_up', 'ffn_down'].map((t) => `blk.${l}.${t}.weight`));
  assert.deepEqual([...tensors.keys()], names);
  const shapes: Record<string, number[]> = {
    'token_embd.weight': [32, 456], 'output_norm.weight': [32], 'output.weight': [32, 456], 'blk.1.attn_norm.weight': [32], 'blk.1.attn_q.weight': [32, 32],
    'blk.1.attn_k.weight': [32, 32], 'blk.1.ffn_gate.weight': [32, 64], 'blk.1.ffn_up.weight': [32, 64], 'blk.1.ffn_down.weight': [64, 32],
  };
  for (const [name, shape] of Object.entries(shapes)) assert.deepEqual(tensors.get(name)!.shape, shape, name);
  let offset = 0;
  for (const t of tensors.values()) {
    assert.equal(t.type, 0, `${t.name} is F32`);
    assert.equal(t.offset, offset, `${t.name}'s offset`);
    offset += Math.ceil(t.data.length / 32) * 32;
  }
  assert.equal(bytes.length, parseGguf(bytes).dataStart + offset, 'the data ends the file');
  const weights = (name: string, scale: number) => {
    const t = tensors.get(name)!;
    const words = new Uint32Array(expectedStream(5, name, t.data.length).slice().buffer);
    const got = new Float32Array(t.data.slice().buffer);
    for (let k = 0; k < got.length; k++) {
      const want = Math.fround((words[k] / 4294967296 * 2 - 1) * scale);
      if (got[k] !== want) assert.fail(`${name}[${k}]: ${got[k]} vs ${want}`);
    }
  };
  weights('token_embd.weight', 1);
  weights('output.weight', 1 / Math.sqrt(32));
  weights('blk.1.attn_q.weight', 1 / Math.sqrt(32));
  weights('blk.0.ffn_down.weight', 1 / Math.sqrt(64));
  for (const name of ['output_norm.weight', 'blk.1.ffn_norm.weight']) assert.ok(new Float32Array(tensors.get(name)!.data.slice().buffer).every((x) => x === 1), name);
  // Tied output: no output.weight, and the embeddings at 1/sqrt(embedding).
  const tied = parseGguf(buildTinyGguf({ outputMatrix: false, seed: 5 })).tensors;
  assert.equal(tied.has('output.weight'), false);
  const embd = new Float32Array(tied.get('token_embd.weight')!.data.slice().buffer);
  const words = new Uint32Array(expectedStream(5, 'token_embd.weight', 8).slice().buffer);
  assert.deepEqual([embd[0], embd[1]], [...words].map((w) => Math.fround((w / 4294967296 * 2 - 1) / Math.sqrt(32))));
  // The default seed is 1, and seeds are taken modulo 2^32.
  assert.deepEqual(buildTinyGguf(), buildTinyGguf({ seed: 1 }));
  assert.deepEqual(buildTinyGguf({ seed: -1 }), buildTinyGguf({ seed: 2 ** 32 - 1 }));
});

test('float16Bits: signs, infinities, NaN, overflow by rounding, the subnormal range and its edge', () => {
  const cases: [number, number][] = [
    [-0, 0x8000], [Infinity, 0x7c00], [-Infinity, 0xfc00], [NaN, 0x7e00], [98304, 0x7c00], [65520, 0x7c00], [65519, 0x7bff], [-65504, 0xfbff],
    [2 ** -14, 0x0400], [2 ** -14 * (1 - 2 ** -12), 0x0400], [-(2 ** -24), 0x8001], [2 ** -25, 0], [1.5 * 2 ** -25, 0x0001], [2 ** -26, 0], [-(2 ** -26), 0x8000], [2 ** -45, 0], [-1e-30, 0x8000], [1e-40, 0],
    [5 * 2 ** -25, 0x0002], [7 * 2 ** -25, 0x0004], [2 ** -15 + 2 ** -25, 0x0200], [2 ** -15 + 3 * 2 ** -25, 0x0202], [2 ** -15 + 3 * 2 ** -26, 0x0201],
    [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02], [1 + 2 ** -11 + 2 ** -20, 0x3c01], [1 + 2 ** -12, 0x3c00], [2 - 2 ** -12, 0x4000],
  ];
  for (const [x, bits] of cases) assert.equal(float16Bits(x), bits, `f16(${x}) = 0x${bits.toString(16)}`);
});

test('BAD INPUT - each option the writer cannot express, with its whole message', () => {
  for (const name of ['embedding', 'layers', 'heads', 'headsKv', 'feedForward', 'contextLength', 'vocabSize'] as const) {
    for (const value of [0, 1.5, -2]) {
      assert.throws(() => buildTinyGguf({ [name]: value }), { name: 'RangeError', message: `Expected a positive integer for ${name} but received ${value}` }, `${name} ${value}`);
    }
  }
  assert.throws(() => buildTinyGguf({ weightType: 'q4_0' as never }), { name: 'RangeError', message: "Expected 'f32' or 'q8_0' for weightType but received q4_0" });
  assert.throws(() => buildTinyGguf({ embedding: 30, heads: 4 }), { name: 'RangeError', message: 'Expected heads to divide embedding (30) but received 4' });
  assert.throws(() => buildTinyGguf({ heads: 4, headsKv: 3 }), { name: 'RangeError', message: 'Expected headsKv to divide heads (4) but received 3' });
  assert.throws(() => buildTinyGguf({ embedding: 48, heads: 4, weightType: 'q8_0' }), { name: 'RangeError', message: 'Expected a multiple of 32 for embedding with weightType q8_0 but received 48' });
  assert.throws(() => buildTinyGguf({ embedding: 64, feedForward: 80, weightType: 'q8_0' }), { name: 'RangeError', message: 'Expected a multiple of 32 for feedForward with weightType q8_0 but received 80' });
  assert.throws(() => buildTinyGguf({ vocabSize: 455 }), { name: 'RangeError', message: 'Expected vocabSize >= 456 (the built vocabulary) but received 455' });
  // The smallest valid shapes are accepted: one layer, one head, feedForward 1 in F32.
  assert.equal(parseGguf(buildTinyGguf({ embedding: 1, heads: 1, layers: 1, feedForward: 1, contextLength: 1 })).kv.get('llama.feed_forward_length'), 1);
  assert.equal(parseGguf(buildTinyGguf({ embedding: 32, feedForward: 32, weightType: 'q8_0' })).kv.get('general.file_type'), 7);
});

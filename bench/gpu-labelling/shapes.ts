/**
 * Model shapes for the labelling throughput runs: real models' dimensions with random Q8_0 weights
 * (the cost of evaluating a prompt does not depend on the weights' values). All use Llama 3's
 * vocabulary size, so the output layer and the next-token distribution cost what they cost there.
 */
import { systemPrompt } from '../../src/labels/prompt.js';
import type { TinyGgufOptions } from '../../src/labels/gguf-writer.js';

export interface ModelShape {
  /** What it imitates. */
  like: string;
  options: TinyGgufOptions;
}

const llama3Vocabulary = 128_256;

export const modelShapes = {
  '8b': {
    like: 'Llama-3.1-8B (the authors\' labeller): 32 layers, n_embd 4096, 32 heads, 8 KV heads, ff 14336, untied output',
    options: { embedding: 4096, layers: 32, heads: 32, headsKv: 8, feedForward: 14_336, outputMatrix: true },
  },
  '3b': {
    like: 'Llama-3.2-3B: 28 layers, n_embd 3072, 24 heads, 8 KV heads, ff 8192, tied output',
    options: { embedding: 3072, layers: 28, heads: 24, headsKv: 8, feedForward: 8192, outputMatrix: false },
  },
  '1b': {
    like: 'Llama-3.2-1B: 16 layers, n_embd 2048, 32 heads, 8 KV heads, ff 8192, tied output',
    options: { embedding: 2048, layers: 16, heads: 32, headsKv: 8, feedForward: 8192, outputMatrix: false },
  },
  '0.5b': {
    like: 'Qwen2.5-0.5B dimensions with Llama 3\'s vocabulary: 24 layers, n_embd 896, 14 heads, 2 KV heads, ff 4864, tied output',
    options: { embedding: 896, layers: 24, heads: 14, headsKv: 2, feedForward: 4864, outputMatrix: false },
  },
  tiny: {
    like: 'a test model: 2 layers, n_embd 64, 4 heads, 2 KV heads, ff 128, Llama 3\'s vocabulary',
    options: { embedding: 64, layers: 2, heads: 4, headsKv: 2, feedForward: 128, outputMatrix: false },
  },
} satisfies Record<string, ModelShape>;

export type ShapeName = keyof typeof modelShapes;
export const shapeNames = Object.keys(modelShapes) as ShapeName[];

/**
 * Whole words of the DTL-NS prompt and every number below 1000, so the generated SentencePiece
 * vocabulary cuts a prompt into about as many tokens as Llama 3's BPE does (words whole, digits in
 * groups of up to three, a path code `1-0-3` one token per character).
 */
export function promptVocabularyWords(): string[] {
  const words = systemPrompt.split(/\s+/).map((w) => w.replace(/[.,:;()]+$/, ''));
  const records = ['{"item_id":', '"co_path":', '"emb_path":', 'Candidate:', "user's", 'history', 'items):', 'Would', 'like', 'candidate', 'below?', 'Answer', 'Yes', 'No.'];
  const numbers = Array.from({ length: 1000 }, (_, k) => String(k));
  return [...new Set([...words, ...records, ...numbers])].filter((w) => w.length > 1);
}

/** The writer options of a shape: Llama 3's vocabulary size, Q8_0, the prompt's words. */
export function shapeOptions(shape: ShapeName, seed: number): TinyGgufOptions {
  return {
    ...modelShapes[shape].options,
    vocabSize: llama3Vocabulary,
    weightType: 'q8_0',
    contextLength: 8192,
    ropeFreqBase: 500_000,
    words: promptVocabularyWords(),
    name: `dtlns-random-${shape}`,
    seed,
  };
}

/** The llama labeler's options that `label` and `run` share, declared once. */
import type { Argv } from 'yargs';
import { labelDefaults } from '../defaults.js';
import { llamaGpuChoices, type LlamaGpu, type LlamaLabelerOptions, type LlamaMode } from '../labels/llama.js';

export interface LlamaArgs {
  llmModel?: string;
  mode: LlamaMode;
  gpu: LlamaGpu;
  gpuLayers: string;
}

export function llamaOptions<T>(y: Argv<T>) {
  return y
    .option('llm-model', { type: 'string', describe: 'llama: a GGUF instruct model, run in-process by node-llama-cpp' })
    .option('mode', { type: 'string', choices: ['score', 'generate'], default: labelDefaults.mode, describe: 'llama: score (compare P(yes) and P(no), no generation) or generate (grammar-constrained answer)' })
    .option('gpu', {
      type: 'string', choices: llamaGpuChoices, default: labelDefaults.gpu,
      describe: 'llama: llama.cpp backend; auto takes the best build that works here (CUDA, Vulkan, Metal, else CPU), the others exactly that one',
    })
    .option('gpu-layers', { type: 'string', default: String(labelDefaults.gpuLayers), describe: 'llama: layers offloaded to the GPU: auto (what fits), max (all) or a number (0: none)' });
}

/** --gpu-layers: 'auto', 'max' or a non-negative integer. */
export function parseGpuLayers(text: string): number | 'auto' | 'max' {
  if (text === 'auto' || text === 'max') return text;
  const n = Number(text);
  if (text.trim() === '' || !Number.isInteger(n) || n < 0) throw new RangeError(`Expected "auto", "max" or a non-negative integer for --gpu-layers but received "${text}"`);
  return n;
}

/** The llama labeler options given on the command line (its model, mode and device). */
export function llamaArgs(args: LlamaArgs): Pick<LlamaLabelerOptions, 'modelPath' | 'mode' | 'gpu' | 'gpuLayers'> {
  return { modelPath: args.llmModel!, mode: args.mode, gpu: args.gpu, gpuLayers: parseGpuLayers(args.gpuLayers) };
}

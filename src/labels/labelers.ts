/** One entry point that builds any labeler by name (the CLI's --labeler). */
import { createHash } from 'node:crypto';
import { labelDefaults } from '../defaults.js';
import { createLlamaLabeler, type LlamaLabelerOptions } from './llama.js';
import { createOpenAiLabeler, type OpenAiLabelerOptions } from './openai.js';
import { systemPrompt, type PromptItems } from './prompt.js';
import { createNoneLabeler, createRandomCodesLabeler, createRuleLabeler, createTopNLabeler } from './rule.js';
import type { Labeler } from './types.js';

export const labelerKinds = ['llama', 'openai', 'rule', 'topn', 'random-codes', 'none'] as const;
export type LabelerKind = (typeof labelerKinds)[number];
export const randomCodesInnerKinds = ['llama', 'openai', 'rule'] as const;
export type RandomCodesInner = (typeof randomCodesInnerKinds)[number];

export interface LabelerSpec {
  kind: LabelerKind;
  /** Item ids and both path codes (needed by every labeler except topn and none). */
  items?: PromptItems;
  /** rule: similarity threshold. */
  theta?: number;
  llama?: Omit<LlamaLabelerOptions, 'items'>;
  openai?: Omit<OpenAiLabelerOptions, 'items'>;
  /** random-codes: the labeler fed shuffled paths (default rule). */
  inner?: RandomCodesInner;
  /** random-codes: permutation seed. */
  seed?: number;
}

/** Options that change how a labeler runs but not which labels it gives; left out of its settings. */
const operational = new Set(['threads', 'sequences', 'gpuLayers', 'gpu', 'concurrency', 'timeoutMs', 'retries', 'retryBaseMs',
  'maxRetryWaitMs', 'maxRetryTotalMs', 'maxResponseBytes', 'apiKey']);

function labelSettings(spec: LabelerSpec): Record<string, unknown> {
  const keep = (o: object | undefined) => o && Object.fromEntries(Object.entries(o).filter(([k, v]) => !operational.has(k) && typeof v !== 'function'));
  const items = spec.items && createHash('sha256').update(JSON.stringify([spec.items.itemIds, spec.items.structural, spec.items.semantic], (_k, v) => (ArrayBuffer.isView(v) ? Array.from(v as Int32Array) : v))).digest('hex');
  return {
    kind: spec.kind, theta: spec.theta ?? labelDefaults.theta, inner: spec.inner, seed: spec.seed, items,
    prompt: createHash('sha256').update(systemPrompt).digest('hex'), llama: keep(spec.llama), openai: keep(spec.openai),
  };
}

/** The labeler `spec` names, with its settings (for the label store's fingerprint). */
export async function createLabeler(spec: LabelerSpec): Promise<Labeler> {
  const labeler = await buildLabeler(spec);
  return Object.defineProperty(labeler, 'settings', { value: labelSettings(spec), enumerable: true });
}

async function buildLabeler(spec: LabelerSpec): Promise<Labeler> {
  if (!labelerKinds.includes(spec?.kind)) throw new RangeError(`Expected one of ${labelerKinds.join(', ')} for kind but received ${String(spec?.kind)}`);
  if (spec.kind === 'topn') return createTopNLabeler();
  if (spec.kind === 'none') return createNoneLabeler();
  const items = spec.items;
  if (!items) throw new TypeError(`Expected prompt items (item ids and both path codes) for items with labeler ${spec.kind}`);
  const build = (kind: RandomCodesInner, with_: PromptItems): Promise<Labeler> | Labeler => {
    switch (kind) {
      case 'rule':
        return createRuleLabeler(with_.structural, with_.semantic, spec.theta ?? labelDefaults.theta);
      case 'llama':
        if (!spec.llama) throw new TypeError('Expected llama options (modelPath, ...) for llama with labeler llama');
        return createLlamaLabeler({ ...spec.llama, items: with_ });
      case 'openai':
        if (!spec.openai) throw new TypeError('Expected openai options (url, modelName, ...) for openai with labeler openai');
        return createOpenAiLabeler({ ...spec.openai, items: with_ });
    }
  };
  if (spec.kind === 'random-codes') {
    const inner = spec.inner ?? labelDefaults.randomCodesInner;
    if (!randomCodesInnerKinds.includes(inner)) throw new RangeError(`Expected one of ${randomCodesInnerKinds.join(', ')} for inner but received ${String(inner)}`);
    return createRandomCodesLabeler(items, (shuffled) => build(inner, shuffled), spec.seed ?? labelDefaults.randomCodesSeed);
  }
  return build(spec.kind, items);
}

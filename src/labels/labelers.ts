/** One entry point that builds any labeler by name (the CLI's --labeler). */
import { labelDefaults } from '../defaults.js';
import { createLlamaLabeler, type LlamaLabelerOptions } from './llama.js';
import { createOpenAiLabeler, type OpenAiLabelerOptions } from './openai.js';
import type { PromptItems } from './prompt.js';
import { createFileLabeler, type ImportedLabels } from './import.js';
import { createNoneLabeler, createRandomCodesLabeler, createRuleLabeler, createTopNLabeler } from './rule.js';
import type { Labeler } from './types.js';

export const labelerKinds = ['llama', 'openai', 'rule', 'file', 'topn', 'random-codes', 'none'] as const;
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
  /** file: the imported labels (importLabels) that answer for each candidate. */
  imported?: ImportedLabels;
}

export async function createLabeler(spec: LabelerSpec): Promise<Labeler> {
  if (!labelerKinds.includes(spec?.kind)) throw new RangeError(`Expected one of ${labelerKinds.join(', ')} for kind but received ${String(spec?.kind)}`);
  if (spec.kind === 'topn') return createTopNLabeler();
  if (spec.kind === 'none') return createNoneLabeler();
  if (spec.kind === 'file') {
    if (!spec.imported) throw new TypeError('Expected imported labels (importLabels) for imported with labeler file');
    return createFileLabeler(spec.imported);
  }
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

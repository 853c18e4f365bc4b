/** One entry point that builds any labeler by name (the CLI's --labeler). */
import { labelDefaults } from '../defaults.js';
import { createLlamaLabeler, type LlamaLabelerOptions } from './llama.js';
import { createOpenAiLabeler, type OpenAiLabelerOptions } from './openai.js';
import type { PromptItems } from './prompt.js';
import { createFileLabeler, type ImportedLabels } from './import.js';
import { codeControls, createCodeControlLabeler, createNoneLabeler, createRuleLabeler, createTopNLabeler, type CodeControl, type RuleOptions } from './rule.js';
import type { Labeler } from './types.js';

export const labelerKinds = ['llama', 'openai', 'rule', 'file', 'topn', 'random-codes', 'shuffled-codes', 'none'] as const;
export type LabelerKind = (typeof labelerKinds)[number];
/** The labelers a code control (random-codes, shuffled-codes) can feed with meaningless paths. */
export const codeControlInnerKinds = ['llama', 'openai', 'rule'] as const;
export type CodeControlInner = (typeof codeControlInnerKinds)[number];

/** rule (and a code control's inner rule): the RuleOptions, each defaulting to labelDefaults.rule. */
export interface LabelerSpec extends Partial<RuleOptions> {
  kind: LabelerKind;
  /** Item ids and both path codes (needed by every labeler except topn and none). */
  items?: PromptItems;
  llama?: Omit<LlamaLabelerOptions, 'items'>;
  openai?: Omit<OpenAiLabelerOptions, 'items'>;
  /** random-codes / shuffled-codes: the labeler fed the meaningless paths (default rule). */
  inner?: CodeControlInner;
  /** random-codes / shuffled-codes: seed of the codes. */
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
  const build = (kind: CodeControlInner, with_: PromptItems): Promise<Labeler> | Labeler => {
    switch (kind) {
      case 'rule':
        return createRuleLabeler(with_.structural, with_.semantic, { theta: spec.theta, views: spec.views, minSupport: spec.minSupport, cap: spec.cap });
      case 'llama':
        if (!spec.llama) throw new TypeError('Expected llama options (modelPath, ...) for llama with labeler llama');
        return createLlamaLabeler({ ...spec.llama, items: with_ });
      case 'openai':
        if (!spec.openai) throw new TypeError('Expected openai options (url, modelName, ...) for openai with labeler openai');
        return createOpenAiLabeler({ ...spec.openai, items: with_ });
    }
  };
  if ((codeControls as readonly string[]).includes(spec.kind)) {
    const inner = spec.inner ?? labelDefaults.codeControlInner;
    if (!codeControlInnerKinds.includes(inner)) throw new RangeError(`Expected one of ${codeControlInnerKinds.join(', ')} for inner but received ${String(inner)}`);
    return createCodeControlLabeler(spec.kind as CodeControl, items, (meaningless) => build(inner, meaningless), spec.seed ?? labelDefaults.codeControlSeed);
  }
  return build(spec.kind as CodeControlInner, items);
}

/** One entry point that builds any labeler by name (the CLI's --labeler). */
import { createHash } from 'node:crypto';
import { labelDefaults } from '../defaults.js';
import { createLlamaLabeler, type LlamaLabelerOptions } from './llama.js';
import { createOpenAiLabeler, type OpenAiLabelerOptions } from './openai.js';
import { systemPrompt, type PromptItems } from './prompt.js';
import { createFileLabeler, type ImportedLabels } from './import.js';
import { createCodeControlLabeler, createNoneLabeler, createRuleLabeler, createTopNLabeler, resolveRuleOptions, type RuleOptions } from './rule.js';
import { codeControlInnerKinds, labelerCan, labelerKinds, type CodeControl, type CodeControlInner, type LabelerKind } from './labeler-catalogue.js';
import type { Labeler } from './types.js';

export { labelerKinds, codeControlInnerKinds, type LabelerKind, type CodeControlInner } from './labeler-catalogue.js';

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

/** Options that change how a labeler runs but not which labels it gives; left out of its settings. */
const operational = new Set(['threads', 'sequences', 'gpuLayers', 'gpu', 'concurrency', 'timeoutMs', 'retries', 'retryBaseMs',
  'maxRetryWaitMs', 'maxRetryTotalMs', 'maxResponseBytes', 'apiKey']);

/** What decides a labeler's labels, for the label store's fingerprint (exported for the test that pins it). */
export function labelSettings(spec: LabelerSpec): Record<string, unknown> {
  const keep = (o: object | undefined) => o && Object.fromEntries(Object.entries(o).filter(([k, v]) => !operational.has(k) && typeof v !== 'function'));
  const items = spec.items && createHash('sha256').update(JSON.stringify([spec.items.itemIds, spec.items.structural, spec.items.semantic], (_k, v) => (ArrayBuffer.isView(v) ? Array.from(v as Int32Array) : v))).digest('hex');
  return {
    kind: spec.kind, rule: resolveRuleOptions(spec), inner: spec.inner, seed: spec.seed, items,
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
  if (labelerCan(spec.kind, 'codeControl')) {
    const inner = spec.inner ?? labelDefaults.codeControlInner;
    if (!codeControlInnerKinds.includes(inner)) throw new RangeError(`Expected one of ${codeControlInnerKinds.join(', ')} for inner but received ${String(inner)}`);
    return createCodeControlLabeler(spec.kind as CodeControl, items, (meaningless) => build(inner, meaningless), spec.seed ?? labelDefaults.codeControlSeed);
  }
  return build(spec.kind as CodeControlInner, items);
}

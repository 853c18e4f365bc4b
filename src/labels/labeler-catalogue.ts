/**
 * The false-negative labelers, one entry each: what it does, the options it reads (default,
 * range, doc, CLI flag, experiment config key) and its capabilities. Everything else is derived
 * from this file: the kind lists of the CLI (`label`, `run`), the API (createLabeler) and the
 * experiment grid; labelDefaults; the `label` and `run` options; the checks of what each kind
 * needs; the grid's labeler fields; and the labeler part of the fingerprints. Adding a labeler
 * option: one field here (and its use in the labeler's code).
 */
import type { RuleOptions } from './rule.js';
import { expectBoolean, expectInteger, expectNumber, expectOneOf } from '../data/validate.js';

export interface LabelerCapabilities {
  /** Gives labels at all ('none' is the no-label baseline). */
  labels: boolean;
  /** Reads the path codes of both item trees. */
  readsPaths: boolean;
  /** Reads the rule options (theta, views, minSupport, cap): the rule, and the code controls that feed it. */
  readsRuleOptions: boolean;
  /** A code control: feeds an inner labeler meaningless paths. */
  codeControl: boolean;
  /** Can be the inner labeler of a code control. */
  innerOfCodeControl: boolean;
}

/** One option of a labeler. */
export interface LabelerFieldSpec {
  /** 'path': a file, resolved against an experiment config's folder and checked to exist there. */
  kind: 'integer' | 'number' | 'choice' | 'boolean' | 'string' | 'path';
  /** Absent: no default (an input the labeler needs, or one it works out itself). */
  default?: number | string | boolean;
  /** Inclusive bounds of a number. */
  min?: number;
  max?: number;
  choices?: readonly string[];
  /** The CLI help text. */
  doc: string;
  /** The CLI flag, when not the field's name in kebab case. */
  flag?: string;
  /** The commands that declare the flag; none: an API option only. */
  cli: readonly ('label' | 'run')[];
  /** The flag's text when it is not the value itself (--gpu-layers auto|max|N). */
  parse?: (text: string) => unknown;
  /** Its key in an experiment config's labeler object ({"kind": "llama", "llmModel": ...}). */
  config?: string;
  /** Its field in the grid's MethodSpec (default: `config`); without `config`, set on the config's method itself (methods[].theta). */
  method?: string;
  /** The labeler cannot run without it. */
  required?: boolean;
  /** What to give, for the error message of a missing required field. */
  hint?: string;
}

export interface LabelerEntry {
  doc: string;
  /** The options it reads; the CLI declares them in this order. */
  fields: Readonly<Record<string, LabelerFieldSpec>>;
  /** The LabelerSpec key its options go under (spec.llama, spec.openai); absent: the spec itself. */
  optionsAt?: 'llama' | 'openai';
  capabilities: LabelerCapabilities;
}

export const ruleViews = ['sum', 'both', 'either'] as const;
export const llamaGpuChoices = ['auto', 'cuda', 'vulkan', 'metal', 'cpu'] as const;

/** --gpu-layers: 'auto', 'max' or a non-negative integer. */
export function parseGpuLayers(text: string): number | 'auto' | 'max' {
  if (text === 'auto' || text === 'max') return text;
  const n = Number(text);
  if (text.trim() === '' || !Number.isInteger(n) || n < 0) throw new RangeError(`Expected "auto", "max" or a non-negative integer for --gpu-layers but received "${text}"`);
  return n;
}

/**
 * Rule labeler (src/labels/rule.ts): a history item SUPPORTS a candidate in one tree when their
 * path similarity (LCP / min(len)) reaches `theta`; `views` counts the support ('sum': each
 * tree's supporting items added, 'both': items supporting in both trees, 'either': in one);
 * the candidate is positive with at least `minSupport`, keeping at most `cap` positives per
 * user (0: no cap), the best supported first. Chosen by measurement (docs/labelers.md,
 * `dtlns-native bench --suite labelers`): the best F1 against the held-out interactions on both
 * dtlns-sports and dtlns-toys with the authors' trees and candidates (8.9 % and 9.3 % of its
 * positives are held-out, 5.0x the base rate; the earlier rule: 3.2 % and 3.8 %; the same
 * number of positives given to the longest histories: 2.1-2.2x). views 'either', minSupport 1,
 * cap 0 is the earlier rule. Read by the rule and by the code controls that feed it.
 */
const ruleFields = {
  theta: {
    kind: 'number', default: 1, min: 0, max: 1, cli: ['label', 'run'], method: 'theta',
    doc: 'rule: path similarity (LCP / min(len)) at which a history item supports a candidate',
  },
  views: {
    kind: 'choice', default: 'sum', choices: ruleViews, cli: ['label', 'run'],
    doc: 'rule: sum (each tree\'s supporting history items, added), both (items reaching theta in both trees) or either (in at least one)',
  },
  minSupport: { kind: 'integer', default: 4, min: 1, cli: ['label', 'run'], doc: 'rule: support (counted as --views says) a positive needs' },
  cap: { kind: 'integer', default: 0, min: 0, cli: ['label', 'run'], doc: 'rule: most positives per user, best supported first (0: no cap)' },
} as const satisfies Record<keyof RuleOptions, LabelerFieldSpec>;

/** The code controls (random-codes, shuffled-codes): an inner labeler fed meaningless paths. */
const codeControlFields = {
  inner: {
    kind: 'choice', default: 'rule', cli: ['label'], doc: 'random-codes, shuffled-codes: the labeler fed the meaningless paths',
    // The labelers that can be inner ones, from their capabilities (read once the catalogue exists).
    get choices(): readonly string[] {
      return codeControlInnerKinds;
    },
  },
  // `run` seeds the codes with its --seed.
  seed: { kind: 'integer', default: 2026, min: 0, cli: ['label'], doc: 'random-codes, shuffled-codes: seed of the codes' },
} as const satisfies Record<string, LabelerFieldSpec>;

/** Both LLM labelers. */
const answerFields = {
  maxAnswerTokens: { kind: 'integer', default: 4, min: 1, cli: [], doc: 'Most tokens a generated answer may take' },
} as const satisfies Record<string, LabelerFieldSpec>;

const llamaFields = {
  modelPath: {
    kind: 'path', flag: 'llm-model', cli: ['label', 'run'], config: 'llmModel', required: true, hint: 'PATH.gguf',
    doc: 'llama: a GGUF instruct model, run in-process by node-llama-cpp',
  },
  mode: {
    kind: 'choice', default: 'score', choices: ['score', 'generate'], cli: ['label', 'run'], config: 'mode', method: 'llmMode',
    doc: 'llama: score (compare P(yes) and P(no), no generation) or generate (grammar-constrained answer)',
  },
  gpu: {
    kind: 'choice', default: 'auto', choices: llamaGpuChoices, cli: ['label', 'run'],
    doc: 'llama: llama.cpp backend; auto takes the best build that works here (CUDA, Vulkan, Metal, else CPU), the others exactly that one',
  },
  gpuLayers: {
    kind: 'string', default: 'auto', cli: ['label', 'run'], parse: parseGpuLayers,
    doc: 'llama: layers offloaded to the GPU: auto (what fits), max (all) or a number (0: none)',
  },
  threshold: { kind: 'number', default: 0.5, min: 0, max: 1, cli: ['label'], doc: 'llama score mode: positive when P(yes)/(P(yes)+P(no)) reaches this' },
  // No gain measured from more sequences on 2 CPU cores.
  sequences: { kind: 'integer', default: 1, min: 1, cli: ['label'], doc: 'llama: context sequences (users labelled in parallel)' },
  contextSize: { kind: 'integer', default: 4096, min: 256, cli: ['label'], doc: 'llama: tokens per sequence' },
  maxPrefixTokens: { kind: 'integer', default: 3072, min: 1, cli: ['label'], doc: 'llama: budget of the system + history prefix; longer histories keep their last items' },
  prefixReuse: {
    kind: 'boolean', default: true, cli: ['label'],
    doc: "llama: evaluate each user's system + history prefix once (--no-prefix-reuse: one full prompt per candidate, as the DTL-NS release)",
  },
  ...answerFields,
} as const satisfies Record<string, LabelerFieldSpec>;

const openaiFields = {
  url: {
    kind: 'string', flag: 'llm-url', cli: ['label', 'run'], config: 'llmUrl', required: true,
    doc: 'openai: base URL of an OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1 (key from OPENAI_API_KEY)',
  },
  modelName: { kind: 'string', flag: 'llm-model-name', cli: ['label', 'run'], config: 'llmModel', required: true, doc: 'openai: the model name the server serves' },
  concurrency: { kind: 'integer', default: 8, min: 1, cli: ['label'], doc: 'openai: requests in flight' },
  timeoutMs: { kind: 'integer', default: 60_000, min: 1, cli: ['label'], doc: 'openai: per-request timeout, ms' },
  retries: { kind: 'integer', default: 5, min: 0, cli: ['label'], doc: 'openai: retries on 429/5xx/network errors (exponential backoff)' },
  retryBaseMs: { kind: 'integer', default: 500, min: 0, cli: [], doc: 'openai: first backoff between tries, ms' },
  maxRetryWaitMs: { kind: 'integer', default: 60_000, min: 0, cli: [], doc: 'openai: longest wait between two tries, ms, whatever a Retry-After header asks' },
  maxRetryTotalMs: {
    kind: 'integer', default: 300_000, min: 0, cli: [], doc: 'openai: most time one request may spend waiting between tries, ms; then the job stops (resumable)',
  },
  maxResponseBytes: {
    kind: 'integer', default: 1 << 20, min: 1, cli: [], doc: 'openai: largest response body read, bytes; a larger one stops the job (a chat completion is a few KB)',
  },
  maxPromptTokens: { kind: 'integer', default: 3072, min: 1, cli: [], doc: 'openai: history budget in estimated tokens (4 characters per token)' },
  ...answerFields,
} as const satisfies Record<string, LabelerFieldSpec>;

const fileFields = {
  // `run` takes it as --labels (the training option --extra-positives), `label` as --import.
  file: { kind: 'path', flag: 'labels', cli: [], config: 'file', method: 'labelFile', required: true, hint: 'FILE', doc: 'file: the labels, a label store or "user item" pairs' },
} as const satisfies Record<string, LabelerFieldSpec>;

export const labelerCatalogue = {
  none: {
    doc: 'none', fields: {},
    capabilities: { labels: false, readsPaths: false, readsRuleOptions: false, codeControl: false, innerOfCodeControl: false },
  },
  rule: {
    doc: "rule (counts the history items that share the candidate's path, tree by tree: --theta, --views, --min-support, --cap)", fields: ruleFields,
    capabilities: { labels: true, readsPaths: true, readsRuleOptions: true, codeControl: false, innerOfCodeControl: true },
  },
  topn: {
    doc: 'topn (all positive)', fields: {},
    capabilities: { labels: true, readsPaths: false, readsRuleOptions: false, codeControl: false, innerOfCodeControl: false },
  },
  'random-codes': {
    doc: 'random-codes (fresh random paths)', fields: { ...ruleFields, ...codeControlFields },
    capabilities: { labels: true, readsPaths: true, readsRuleOptions: true, codeControl: true, innerOfCodeControl: false },
  },
  'shuffled-codes': {
    doc: 'shuffled-codes (paths permuted among items)', fields: { ...ruleFields, ...codeControlFields },
    capabilities: { labels: true, readsPaths: true, readsRuleOptions: true, codeControl: true, innerOfCodeControl: false },
  },
  file: {
    doc: 'file (labels from a file)', fields: fileFields,
    capabilities: { labels: true, readsPaths: false, readsRuleOptions: false, codeControl: false, innerOfCodeControl: false },
  },
  llama: {
    doc: 'llama (GGUF in-process)', fields: llamaFields, optionsAt: 'llama',
    capabilities: { labels: true, readsPaths: true, readsRuleOptions: false, codeControl: false, innerOfCodeControl: true },
  },
  openai: {
    doc: 'openai (HTTP endpoint)', fields: openaiFields, optionsAt: 'openai',
    capabilities: { labels: true, readsPaths: true, readsRuleOptions: false, codeControl: false, innerOfCodeControl: true },
  },
} as const satisfies Record<string, LabelerEntry>;

export type LabelerKind = keyof typeof labelerCatalogue;
export const labelerKinds = Object.keys(labelerCatalogue) as LabelerKind[];

type KindsWith<C extends keyof LabelerCapabilities> = { [K in LabelerKind]: (typeof labelerCatalogue)[K]['capabilities'][C] extends true ? K : never }[LabelerKind];

function kindsWith<C extends keyof LabelerCapabilities>(capability: C): KindsWith<C>[] {
  return labelerKinds.filter((kind) => labelerCatalogue[kind].capabilities[capability]) as KindsWith<C>[];
}

/** The labelers a code control can feed with meaningless paths. */
export const codeControlInnerKinds = kindsWith('innerOfCodeControl');
export type CodeControlInner = KindsWith<'innerOfCodeControl'>;
/** The code controls: an inner labeler fed random or permuted paths. */
export const codeControls = kindsWith('codeControl');
export type CodeControl = KindsWith<'codeControl'>;

/** Whether `kind` has the capability (false for a name that is not a labeler). */
export function labelerCan(kind: string, capability: keyof LabelerCapabilities): boolean {
  return Object.hasOwn(labelerCatalogue, kind) && labelerCatalogue[kind as LabelerKind].capabilities[capability];
}

type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;
type AllFieldSpecs = UnionToIntersection<(typeof labelerCatalogue)[LabelerKind]['fields']>;
type FieldValue<F> = F extends { kind: 'choice'; choices: readonly (infer C)[] } ? C : F extends { kind: 'boolean' } ? boolean
  : F extends { kind: 'integer' | 'number' } ? number : string;

/** Every labeler option by name, each declared once. */
export type LabelerFieldName = keyof AllFieldSpecs & string;

export const labelerFieldSpecs: Readonly<Record<LabelerFieldName, LabelerFieldSpec>> = Object.assign({}, ...Object.values(labelerCatalogue).map((entry) => entry.fields));
export const labelerFieldNames = Object.keys(labelerFieldSpecs) as LabelerFieldName[];

/** The options of `kind`, in its entry's order. */
export function labelerFieldsOf(kind: LabelerKind): LabelerFieldName[] {
  return Object.keys(labelerCatalogue[kind].fields) as LabelerFieldName[];
}

/** The CLI flag of an option. */
export function labelerFlag(name: LabelerFieldName): string {
  return labelerFieldSpecs[name].flag ?? name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** The parsed CLI argument of an option (yargs' camel case of its flag). */
export function labelerArg(name: LabelerFieldName): string {
  return labelerFlag(name).replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
}

/** The option's field in the grid's MethodSpec, when an experiment config sets it. */
export function labelerMethodKey(name: LabelerFieldName): string | undefined {
  return labelerFieldSpecs[name].method ?? labelerFieldSpecs[name].config;
}

type WithDefault = { [K in LabelerFieldName]: AllFieldSpecs[K] extends { default: unknown } ? K : never }[LabelerFieldName];
const fieldDefaults = Object.fromEntries(labelerFieldNames.flatMap((name) => {
  const d = labelerFieldSpecs[name].default;
  return d === undefined ? [] : [[name, d]];
})) as { [K in WithDefault]: FieldValue<AllFieldSpecs[K]> };
const { inner, seed, theta, views, minSupport, cap, gpuLayers, ...otherDefaults } = fieldDefaults;

/** Each option's default, in the shape of labelDefaults (src/defaults.ts). */
export const labelerCatalogueDefaults = {
  /** The labeler that the code controls (random-codes, shuffled-codes) feed with meaningless paths. */
  codeControlInner: inner as CodeControlInner,
  /** Seed of the code controls' random codes or permutation. */
  codeControlSeed: seed,
  rule: { theta, views, minSupport, cap } as RuleOptions,
  gpuLayers: gpuLayers as 'auto' | 'max' | number,
  ...otherDefaults,
};

/** The value of an option given as CLI text (parsed where its flag takes text for something else). */
export function labelerArgValue(name: LabelerFieldName, value: unknown): unknown {
  const parse = labelerFieldSpecs[name].parse;
  return parse && typeof value === 'string' ? parse(value) : value;
}

/** The values `command` parsed for `names` (those it declares and were given or defaulted), by option name. */
export function labelerFieldsFromArgs(names: readonly LabelerFieldName[], args: object, command: 'label' | 'run'): Record<string, unknown> {
  const a = args as Record<string, unknown>;
  return Object.fromEntries(names.flatMap((name) => {
    if (!labelerFieldSpecs[name].cli.includes(command) || a[labelerArg(name)] === undefined) return [];
    return [[name, labelerArgValue(name, a[labelerArg(name)])]];
  }));
}

/** The options that sit on a LabelerSpec itself (the rule's, the code controls', file's), in catalogue order. */
export const topLevelLabelerFields = labelerFieldNames.filter((name) =>
  labelerKinds.some((kind) => !('optionsAt' in labelerCatalogue[kind]) && name in labelerCatalogue[kind].fields));

/** The CLI inputs `kind` needs that `args` lacks, as one error message (undefined when none is missing). */
export function missingLabelerInputs(kind: string, args: object, via = `--labeler ${kind}`): string | undefined {
  if (!Object.hasOwn(labelerCatalogue, kind)) return undefined;
  const needs = labelerFieldsOf(kind as LabelerKind).filter((name) => labelerFieldSpecs[name].required);
  if (needs.every((name) => (args as Record<string, unknown>)[labelerArg(name)])) return undefined;
  return `${via} needs ${needs.map((name) => `--${labelerFlag(name)}${labelerFieldSpecs[name].hint ? ` ${labelerFieldSpecs[name].hint}` : ''}`).join(' and ')}`;
}

/** An option's value, checked against its field (a TypeError/RangeError names it). */
export function checkLabelerField(name: LabelerFieldName, value: unknown): unknown {
  const spec = labelerFieldSpecs[name];
  switch (spec.kind) {
    case 'integer':
      return expectInteger(value, name, spec.min, spec.max);
    case 'number':
      return expectNumber(value, name, spec.min, spec.max);
    case 'choice':
      return expectOneOf(value, name, spec.choices!);
    case 'boolean':
      return expectBoolean(value, name);
    default:
      if (typeof value !== 'string' || value.length === 0) throw new TypeError(`Expected a non-empty string for ${name} but received ${String(value)}`);
      return value;
  }
}

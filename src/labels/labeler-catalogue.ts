/**
 * The false-negative labelers, one entry each: what it does, what it needs and its
 * capabilities. The kind lists of the CLI (`label`, `run`), the API (createLabeler) and the
 * experiment grid, and the checks of what each kind needs, are derived from this file. The
 * labeler's own options are declared beside its code (ruleOptionCatalogue in rule.ts, the
 * llama options in cli/llama-options.ts, labelDefaults in defaults.ts).
 */

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

/** An input a labeler cannot run without: its `run`/`label` flag and its field in an experiment config's labeler object. */
export interface LabelerNeed {
  flag: string;
  /** The parsed CLI argument (camel case of the flag). */
  arg: string;
  config: string;
  /** What to give, for the error message. */
  hint?: string;
}

export interface LabelerEntry {
  doc: string;
  needs: readonly LabelerNeed[];
  /** Fields of the experiment config's labeler object that apply to it (beyond kind and heldOut). */
  configFields: readonly string[];
  capabilities: LabelerCapabilities;
}

const llmModelFile = { flag: 'llm-model', arg: 'llmModel', config: 'llmModel', hint: 'PATH.gguf' } as const;

export const labelerCatalogue = {
  none: {
    doc: 'none', needs: [], configFields: [],
    capabilities: { labels: false, readsPaths: false, readsRuleOptions: false, codeControl: false, innerOfCodeControl: false },
  },
  rule: {
    doc: "rule (counts the history items that share the candidate's path, tree by tree: --theta, --views, --min-support, --cap)", needs: [], configFields: [],
    capabilities: { labels: true, readsPaths: true, readsRuleOptions: true, codeControl: false, innerOfCodeControl: true },
  },
  topn: {
    doc: 'topn (all positive)', needs: [], configFields: [],
    capabilities: { labels: true, readsPaths: false, readsRuleOptions: false, codeControl: false, innerOfCodeControl: false },
  },
  'random-codes': {
    doc: 'random-codes (fresh random paths)', needs: [], configFields: [],
    capabilities: { labels: true, readsPaths: true, readsRuleOptions: true, codeControl: true, innerOfCodeControl: false },
  },
  'shuffled-codes': {
    doc: 'shuffled-codes (paths permuted among items)', needs: [], configFields: [],
    capabilities: { labels: true, readsPaths: true, readsRuleOptions: true, codeControl: true, innerOfCodeControl: false },
  },
  file: {
    // `label` reads the file from --import instead (its own check).
    doc: 'file (labels from a file)', needs: [{ flag: 'labels', arg: 'extraPositives', config: 'file', hint: 'FILE' }], configFields: ['file'],
    capabilities: { labels: true, readsPaths: false, readsRuleOptions: false, codeControl: false, innerOfCodeControl: false },
  },
  llama: {
    doc: 'llama (GGUF in-process)', needs: [llmModelFile], configFields: ['llmModel', 'mode'],
    capabilities: { labels: true, readsPaths: true, readsRuleOptions: false, codeControl: false, innerOfCodeControl: true },
  },
  openai: {
    doc: 'openai (HTTP endpoint)',
    needs: [{ flag: 'llm-url', arg: 'llmUrl', config: 'llmUrl' }, { flag: 'llm-model-name', arg: 'llmModelName', config: 'llmModel' }],
    configFields: ['llmUrl', 'llmModel'],
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

/** The CLI inputs `kind` needs that `args` lacks, as one error message (undefined when none is missing). */
export function missingLabelerInputs(kind: string, args: object, via = `--labeler ${kind}`): string | undefined {
  if (!Object.hasOwn(labelerCatalogue, kind)) return undefined;
  const needs: readonly LabelerNeed[] = labelerCatalogue[kind as LabelerKind].needs;
  if (needs.every((n) => (args as Record<string, unknown>)[n.arg])) return undefined;
  return `${via} needs ${needs.map((n) => `--${n.flag}${n.hint ? ` ${n.hint}` : ''}`).join(' and ')}`;
}

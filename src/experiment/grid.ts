/**
 * The experiment grid: a JSON config (datasets x models x methods x seeds) read, checked
 * field by field (each error names the file and the field) and expanded into cells.
 * Paths in the config are relative to the config file's folder.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { samplerCatalogue, samplerFieldNames, samplerFieldSpecs, samplerNames, type SamplerFieldName, type SamplerFieldValues, type SamplerName } from '../sampling/catalogue.js';
import {
  labelerCan, labelerFieldNames, labelerFieldSpecs, labelerFieldsOf, labelerKinds, labelerMethodKey, type LabelerFieldName, type LabelerKind,
} from '../labels/labeler-catalogue.js';
import { syntheticPresetNames } from '../data/synthetic.js';
import type { TrainOptions } from '../train/train.js';
import { spectralScalings } from '../trees/options.js';
import { optimizerNames } from '../defaults.js';
import { expectInteger, expectNumber, expectOptions } from '../data/validate.js';
import { labelUses, type LabelUseOptions } from '../labels/use.js';
import { heldOutPolicies, type HeldOutPolicy } from '../labels/heldout.js';

/** A config that cannot be used: names the file and the field (`methods[2].sampler`). */
export class ExperimentConfigError extends Error {
  readonly file: string;
  readonly field: string;

  constructor(file: string, field: string, message: string) {
    super(`${file}: ${field}: ${message}`);
    this.name = 'ExperimentConfigError';
    this.file = file;
    this.field = field;
  }
}

/** Labelers a grid can use: every kind of the labeler catalogue (the LLM labelers label once per cell). */
export const experimentLabelers = labelerKinds;
export type ExperimentLabeler = LabelerKind;
/** Where a method's trees / candidates come from: the files shipped in the dataset folder, or our pipeline. */
export const inputSources = ['authors', 'ours'] as const;
export type InputSource = (typeof inputSources)[number];

export interface DatasetSpec {
  name: string;
  /** The data as the config writes it (relative to the config): fingerprints use it, so a moved checkout keeps its results. */
  data: string;
  /** What loadDataset reads: an absolute folder or file path, or `synthetic:<preset>`. */
  source: string;
  /** The folder, when the source is one (where the authors' path and candidate files are looked for). */
  folder?: string;
}

export interface ModelSpec extends Pick<TrainOptions, 'layers' | 'dim' | 'lr' | 'batch' | 'l2' | 'optimizer' | 'initStd'> {
  name: string;
  model: 'mf' | 'lightgcn';
}

/** Negative-sampler settings a method or the shared training options may set: every field of the sampler catalogue. */
export type SamplerSettings = SamplerFieldValues;

export interface MethodSpec extends SamplerSettings, LabelUseOptions {
  name: string;
  sampler: SamplerName;
  labeler: ExperimentLabeler;
  /** file: the label file as the config writes it (relative to the config). */
  labelFile?: string;
  /** llama: the GGUF file (relative to the config) and its mode; openai: the served model's name. */
  llmModel?: string;
  llmMode?: 'score' | 'generate';
  /** openai: the server's base URL. */
  llmUrl?: string;
  /** Labels on held-out candidates (src/labels/heldout.ts); default keep. */
  heldOut?: HeldOutPolicy;
  /** Set when the sampler or the labeler reads path codes. */
  paths?: InputSource;
  /** Set when the method labels candidates. */
  candidates?: InputSource;
  /** rule and the code controls: prefix-similarity threshold. */
  theta?: number;
}

export type TrainSettings = SamplerSettings &
  Pick<TrainOptions, 'epochs' | 'evalEvery' | 'patience' | 'timeBudget' | 'lr' | 'batch' | 'l2' | 'optimizer' | 'initStd'>;

export interface PretrainSettings extends Omit<TrainSettings, keyof SamplerSettings> {
  seed?: number;
}

export interface TreeSettings {
  branching?: number;
  leafSize?: number;
  seed?: number;
  scaling?: 'none' | 'eigenvalue';
  rowNormalize?: boolean;
}

/** Command-line overrides for quick runs. */
export interface ConfigOverrides {
  epochs?: number;
  timeBudget?: number;
  seeds?: number[];
  out?: string;
}

export interface ExperimentConfig {
  /** Absolute path of the config file. */
  file: string;
  name: string;
  datasets: DatasetSpec[];
  models: ModelSpec[];
  methods: MethodSpec[];
  seeds: number[];
  train: TrainSettings;
  /** Options of the pre-trained model shared by a dataset x model (defaults: train's). */
  pretrain: PretrainSettings;
  trees: TreeSettings;
  /** N of our candidates: each user's top-N unobserved items of the pre-trained model. */
  candidatesPerUser: number;
  /** Methods among which the best (mean test Recall@20) is the reference of each dataset x model. */
  baselines: string[];
  /** Absolute root folder of the cells, prep, summary and plots. */
  out: string;
  overrides: ConfigOverrides;
  /** The config as written. */
  raw: Record<string, unknown>;
}

/** One run of the grid: a dataset, a model, a method and a seed. */
export interface Cell {
  id: string;
  dataset: DatasetSpec;
  model: ModelSpec;
  method: MethodSpec;
  seed: number;
  /** Absolute run folder: out/cells/<id>. */
  dir: string;
}

/** Whether a method labels candidates (its cells run the whole pipeline and report both masks). */
export function hasLabels(method: Pick<MethodSpec, 'labeler'>): boolean {
  return labelerCan(method.labeler, 'labels');
}

/** Whether a method's labels come from the rule labeler (directly, or fed meaningless codes by a control). */
export function readsRuleOptions(method: Pick<MethodSpec, 'labeler'>): boolean {
  return labelerCan(method.labeler, 'readsRuleOptions');
}

/** Whether a method reads the path codes of the two trees (the dtlns sampler, the labelers that read paths). */
export function usesPaths(method: Pick<MethodSpec, 'sampler' | 'labeler'>): boolean {
  return samplerCatalogue[method.sampler].capabilities.readsPaths || labelerCan(method.labeler, 'readsPaths');
}

/** Whether a method's cells read the shared prep of their dataset x model (the pre-trained model, our trees, our candidates). */
export function usesPrep(method: Pick<MethodSpec, 'labeler' | 'paths' | 'candidates'>): boolean {
  return method.paths === 'ours' || (hasLabels(method) && method.candidates === 'ours');
}

const namePattern = /^[A-Za-z0-9][A-Za-z0-9_.+]*(-[A-Za-z0-9_.+]+)*$/;

type Check = (value: unknown, field: string) => unknown;

/** Field checks bound to one file, so every error names it. */
function checkers(file: string) {
  const fail = (field: string, message: string): never => {
    throw new ExperimentConfigError(file, field || '(config)', message);
  };
  const show = (v: unknown) => JSON.stringify(v) ?? String(v);
  const integer = (lo: number, hi: number): Check => (v, field) =>
    typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi ? v : fail(field, `expected an integer in [${lo}, ${hi}] but received ${show(v)}`);
  const number = (lo: number, hi = Infinity, open = false): Check => (v, field) =>
    typeof v === 'number' && Number.isFinite(v) && (open ? v > lo : v >= lo) && v <= hi
      ? v
      : fail(field, `expected a number ${open ? `above ${lo}` : `in [${lo}, ${hi}]`} but received ${show(v)}`);
  const oneOf = (allowed: readonly string[]): Check => (v, field) =>
    typeof v === 'string' && allowed.includes(v) ? v : fail(field, `expected one of ${allowed.join(', ')} but received ${show(v)}`);
  const string: Check = (v, field) => (typeof v === 'string' && v.length > 0 ? v : fail(field, `expected a non-empty string but received ${show(v)}`));
  const name: Check = (v, field) =>
    typeof v === 'string' && namePattern.test(v) ? v : fail(field, `expected a name of letters, digits, '_', '.', '+' and single '-' (it names folders) but received ${show(v)}`);
  const boolean: Check = (v, field) => (typeof v === 'boolean' ? v : fail(field, `expected true or false but received ${show(v)}`));
  /** An object with known fields only; required ones must be present. */
  const object = (value: unknown, field: string, fields: Record<string, Check>, required: string[] = []): Record<string, unknown> => {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return fail(field, `expected an object but received ${show(value)}`);
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      const at = field ? `${field}.${key}` : key;
      if (!Object.hasOwn(fields, key)) fail(at, `unknown field (known: ${Object.keys(fields).join(', ')})`);
      out[key] = fields[key](v, at);
    }
    for (const key of required) if (out[key] === undefined) fail(field ? `${field}.${key}` : key, 'is required');
    return out;
  };
  const array = (value: unknown, field: string): unknown[] =>
    Array.isArray(value) && value.length > 0 ? value : fail(field, `expected a non-empty array but received ${show(value)}`);
  return { fail, integer, number, oneOf, string, name, boolean, object, array };
}

/** The sampler fields' checks, from the sampler catalogue (a bound naming another field is checked by training). */
const samplerFields = (c: ReturnType<typeof checkers>): Record<string, Check> =>
  Object.fromEntries(samplerFieldNames.map((name) => {
    const spec = samplerFieldSpecs[name];
    const max = (s: typeof spec): number => (typeof s.max === 'string' ? (samplerFieldSpecs[s.max as SamplerFieldName].max as number) : s.max ?? Infinity);
    const check = spec.kind === 'choice' ? c.oneOf(spec.choices!) : spec.kind === 'integer' ? c.integer(spec.min ?? 0, max(spec)) : c.number(spec.min ?? -Infinity, max(spec));
    return [name, check];
  }));

/**
 * Options of `dtlns-native train` that a config sets elsewhere than in `train`: refused there
 * by name, saying where (a test checks that every train option is accepted or refused).
 */
export const trainOptionsElsewhere: Record<string, string> = {
  model: 'set per model in models[].model', layers: 'set per model in models[].layers', dim: 'set per model in models[].dim',
  sampler: 'set per method in methods[].sampler (or the samplers axis)', seed: 'the config\'s seeds list', ks: 'cells report the cut-offs 5, 10, 20, 50',
  evalMask: 'cells with labels report both masks (original and augmented)', pathsStruct: 'set per method: "paths": "authors" or "ours"',
  pathsSemantic: 'set per method: "paths": "authors" or "ours"', extraPositives: 'set per method: "labeler": {"file": PATH}',
  labelUse: 'set per method in methods[].labelUse', labelWeight: 'set per method in methods[].labelWeight',
  threads: 'a command-line option of `experiment` (--threads)', out: 'the config\'s "out" (or --out)', fresh: 'cells resume; remove a cell\'s folder to redo it',
  json: 'a command-line option of `experiment` (--json)', quiet: 'a command-line option of `experiment` (--quiet)',
  ...Object.fromEntries(['data', 'format', 'minRating', 'split', 'splitRatio', 'dropColdUsers'].map((key) => [key, 'a dataset entry in datasets[] (a folder, or a NAME.dataset.json manifest with its format and split)'])),
};

const trainingFields = (c: ReturnType<typeof checkers>): Record<string, Check> => ({
  epochs: c.integer(1, 1e7), evalEvery: c.integer(1, 1e7), patience: c.integer(1, 1e7), timeBudget: c.number(0, Infinity, true),
  lr: c.number(0), batch: c.integer(1, 1 << 24), l2: c.number(0), optimizer: c.oneOf(optimizerNames), initStd: c.number(0, Infinity, true),
});

/** The nearest ancestor of a missing path that is missing itself: "/work/shared" rather than the whole path. */
function firstMissing(path: string): string {
  let missing = path;
  for (let parent = dirname(missing); parent !== missing && !existsSync(parent); parent = dirname(parent)) missing = parent;
  return missing;
}

function readDatasets(value: unknown, dir: string, c: ReturnType<typeof checkers>): DatasetSpec[] {
  return c.array(value, 'datasets').map((entry, i) => {
    const field = `datasets[${i}]`;
    const spec = typeof entry === 'string' ? { data: c.string(entry, field) as string } : (c.object(entry, field, { name: c.name, data: c.string }, ['data']) as { name?: string; data: string });
    const dataField = typeof entry === 'string' ? field : `${field}.data`;
    if (spec.data === 'synthetic' || spec.data.startsWith('synthetic:')) {
      const preset = spec.data === 'synthetic' ? 'small' : spec.data.slice('synthetic:'.length);
      c.oneOf(syntheticPresetNames)(preset, `${dataField} (synthetic:<preset>)`);
      return { name: spec.name ?? `synthetic-${preset}`, data: `synthetic:${preset}`, source: `synthetic:${preset}` };
    }
    const path = resolve(dir, spec.data);
    if (!existsSync(path)) {
      const missing = firstMissing(path);
      c.fail(dataField, `"${spec.data}" resolves to ${path}, which does not exist${missing !== path ? ` (${missing} is missing)` : ''}`);
    }
    const isFolder = statSync(path).isDirectory();
    const name = spec.name ?? basename(path).replace(/\.[^.]*$/, '').replace(/[^A-Za-z0-9_.+-]+/g, '-');
    return { name: c.name(name, spec.name ? `${field}.name` : field) as string, data: spec.data, source: path, ...(isFolder ? { folder: path } : {}) };
  });
}

function readModels(value: unknown, c: ReturnType<typeof checkers>): ModelSpec[] {
  return c.array(value, 'models').map((entry, i) => {
    const field = `models[${i}]`;
    const m = c.object(entry, field, {
      name: c.name, model: c.oneOf(['mf', 'lightgcn']), layers: c.integer(0, 4), dim: c.integer(1, 4096), lr: c.number(0), batch: c.integer(1, 1 << 24),
      l2: c.number(0), optimizer: c.oneOf(optimizerNames), initStd: c.number(0, Infinity, true),
    }, ['model']) as Omit<ModelSpec, 'name'> & { name?: string };
    if (m.model === 'mf' && m.layers !== undefined && m.layers !== 0) c.fail(`${field}.layers`, `mf has no propagation layers; received ${m.layers}`);
    return { ...m, name: m.name ?? m.model };
  });
}

interface MethodDefaults {
  paths: InputSource;
  candidates: InputSource;
}

/** The labeler options an experiment config sets in a labeler object, by config key (the first field with the key: llmModel is llama's file and openai's model name). */
const configLabelerFields: [string, LabelerFieldName][] = [];
for (const name of labelerFieldNames) {
  const key = labelerFieldSpecs[name].config;
  if (key !== undefined && !configLabelerFields.some(([k]) => k === key)) configLabelerFields.push([key, name]);
}

/** The labeler options an experiment config sets on the method itself (methods[].theta). */
const methodLabelerFields = labelerFieldNames.filter((name) => labelerFieldSpecs[name].method !== undefined && labelerFieldSpecs[name].config === undefined);

/** A config check of a labeler option, from its field. */
function labelerFieldCheck(name: LabelerFieldName, c: ReturnType<typeof checkers>): Check {
  const spec = labelerFieldSpecs[name];
  if (spec.kind === 'choice') return c.oneOf(spec.choices!);
  if (spec.kind === 'integer') return c.integer(spec.min ?? 0, spec.max ?? Number.MAX_SAFE_INTEGER);
  if (spec.kind === 'number') return c.number(spec.min ?? -Infinity, spec.max ?? Infinity);
  if (spec.kind === 'boolean') return c.boolean;
  return c.string;
}

/**
 * A method's labeler as the config writes it: a name, or an object: {"file": PATH, "heldOut"},
 * {"kind": "llama", "llmModel": PATH, "mode"}, {"kind": "openai", "llmUrl", "llmModel"}, or
 * {"kind": <name>, "heldOut"}; flattened into the method's fields. The keys are the labeler
 * catalogue's `config` keys.
 */
function readLabeler(value: unknown, field: string, dir: string, c: ReturnType<typeof checkers>): Partial<MethodSpec> {
  if (typeof value === 'string') return { labeler: c.oneOf(experimentLabelers)(value, field) as ExperimentLabeler };
  const o = c.object(value, field, {
    kind: c.oneOf(experimentLabelers), ...Object.fromEntries(configLabelerFields.map(([key, name]) => [key, labelerFieldCheck(name, c)])),
    heldOut: c.oneOf(heldOutPolicies),
  });
  const kind = (o.kind ?? (o.file !== undefined ? 'file' : c.fail(`${field}.kind`, 'is required (or give "file")'))) as ExperimentLabeler;
  const own = labelerFieldsOf(kind).filter((name) => labelerFieldSpecs[name].config !== undefined);
  for (const name of own) if (labelerFieldSpecs[name].required && o[labelerFieldSpecs[name].config!] === undefined) c.fail(`${field}.${labelerFieldSpecs[name].config!}`, `is required with labeler ${kind}`);
  for (const [key] of configLabelerFields) {
    if (o[key] !== undefined && !own.some((name) => labelerFieldSpecs[name].config === key)) c.fail(`${field}.${key}`, `does not apply to labeler ${kind}`);
  }
  for (const name of own) {
    const key = labelerFieldSpecs[name].config!;
    if (labelerFieldSpecs[name].kind !== 'path' || o[key] === undefined) continue;
    const path = resolve(dir, o[key] as string);
    if (!existsSync(path)) c.fail(`${field}.${key}`, `"${o[key] as string}" resolves to ${path}, which does not exist`);
  }
  // Each option under its MethodSpec key (file -> labelFile, mode -> llmMode), in catalogue order.
  return {
    labeler: kind,
    ...Object.fromEntries(configLabelerFields.flatMap(([key, name]) => (o[key] === undefined ? [] : [[labelerMethodKey(name)!, o[key]]]))),
    ...(o.heldOut !== undefined ? { heldOut: o.heldOut as HeldOutPolicy } : {}),
  };
}

function readMethod(entry: Record<string, unknown>, field: string, defaults: MethodDefaults, c: ReturnType<typeof checkers>): MethodSpec {
  const method = { labeler: 'none', ...entry } as MethodSpec;
  if (!hasLabels(method)) {
    for (const key of ['labelUse', 'labelWeight'] as const) {
      if (entry[key] !== undefined) c.fail(`${field}.${key}`, `only a method with a labeler has labels to use; ${method.name} has none`);
    }
  }
  if (entry.labelWeight !== undefined && method.labelUse !== 'weighted') c.fail(`${field}.labelWeight`, 'applies to labelUse "weighted" only');
  const incomplete = labelerFieldsOf(method.labeler).some((name) => labelerFieldSpecs[name].required && (method as unknown as Record<string, unknown>)[labelerMethodKey(name)!] === undefined);
  if (incomplete) {
    c.fail(`${field}.labeler`, `${method.labeler} is given as an object: {"file": PATH}, {"kind": "llama", "llmModel": PATH.gguf, "mode": "score"} or {"kind": "openai", "llmUrl": URL, "llmModel": NAME}`);
  }
  if (entry.paths !== undefined && !usesPaths(method) && !hasLabels(method)) {
    c.fail(`${field}.paths`, `only the dtlns sampler and the labelers read paths; ${method.name} uses neither`);
  }
  if (entry.candidates !== undefined && !hasLabels(method)) c.fail(`${field}.candidates`, `only a method with a labeler reads candidates; ${method.name} has none`);
  for (const name of methodLabelerFields) {
    if (entry[name] !== undefined && !labelerFieldsOf(method.labeler).includes(name)) {
      c.fail(`${field}.${name}`, `only the labelers ${labelerKinds.filter((kind) => labelerFieldsOf(kind).includes(name)).join(', ')} read ${name}`);
    }
  }
  // A labelled method runs the pipeline, whose trees stage wants two path files even when nothing reads them.
  if (usesPaths(method) || hasLabels(method)) method.paths ??= defaults.paths;
  if (hasLabels(method)) method.candidates ??= defaults.candidates;
  return method;
}

function readMethods(raw: Record<string, unknown>, dir: string, c: ReturnType<typeof checkers>): MethodSpec[] {
  const defaults: MethodDefaults = {
    paths: (raw.paths === undefined ? 'ours' : c.oneOf(inputSources)(raw.paths, 'paths')) as InputSource,
    candidates: (raw.candidates === undefined ? 'ours' : c.oneOf(inputSources)(raw.candidates, 'candidates')) as InputSource,
  };
  const methodFields: Record<string, Check> = {
    name: c.name, sampler: c.oneOf(samplerNames), labeler: (v) => v, paths: c.oneOf(inputSources),
    candidates: c.oneOf(inputSources), ...Object.fromEntries(methodLabelerFields.map((name) => [name, labelerFieldCheck(name, c)])), labelUse: c.oneOf(labelUses),
    labelWeight: (v, field) => (v === 'confidence' ? v : c.number(0, 1, true)(v, field)), ...samplerFields(c),
  };
  let methods: MethodSpec[];
  if (raw.methods !== undefined) {
    if (raw.samplers !== undefined || raw.labelers !== undefined) {
      c.fail(raw.samplers !== undefined ? 'samplers' : 'labelers', 'give either methods, or the samplers x labelers axes, not both');
    }
    methods = c.array(raw.methods, 'methods').map((entry, i) => {
      const { labeler, ...fields } = c.object(entry, `methods[${i}]`, methodFields, ['name', 'sampler']);
      const flat = labeler === undefined ? fields : { ...fields, ...readLabeler(labeler, `methods[${i}].labeler`, dir, c) };
      return readMethod(flat, `methods[${i}]`, defaults, c);
    });
  } else if (raw.samplers !== undefined) {
    const samplers = c.array(raw.samplers, 'samplers').map((s, i) => c.oneOf(samplerNames)(s, `samplers[${i}]`) as SamplerName);
    const labelers = raw.labelers === undefined
      ? ['none' as const]
      : c.array(raw.labelers, 'labelers').map((l, i) => c.oneOf(experimentLabelers)(l, `labelers[${i}]`) as ExperimentLabeler);
    methods = samplers.flatMap((sampler) => labelers.map((labeler) =>
      readMethod({ name: labeler === 'none' ? sampler : `${sampler}+${labeler}`, sampler, labeler }, `samplers x labelers (${sampler}, ${labeler})`, defaults, c)));
  } else {
    return c.fail('methods', 'is required (or the samplers [x labelers] axes)');
  }
  const seen = new Set<string>();
  methods.forEach((m, i) => {
    if (seen.has(m.name)) c.fail(raw.methods !== undefined ? `methods[${i}].name` : 'samplers', `the method name "${m.name}" is used twice`);
    seen.add(m.name);
  });
  return methods;
}

/** The authors' files a method reads must be in the dataset folder. */
function checkAuthorsFiles(datasets: DatasetSpec[], methods: MethodSpec[], raw: Record<string, unknown>, c: ReturnType<typeof checkers>): void {
  methods.forEach((m, mi) => {
    const at = (key: string) => (raw.methods !== undefined ? `methods[${mi}].${key}` : key);
    const needs: Array<[string, string[]]> = [];
    if (m.paths === 'authors') needs.push(['paths', ['paths-struct.txt', 'paths-semantic.txt']]);
    if (m.candidates === 'authors') needs.push(['candidates', ['candidates.txt']]);
    for (const [key, files] of needs) {
      datasets.forEach((d, di) => {
        if (!d.folder) c.fail(at(key), `"authors" reads ${files.join(' and ')} from the dataset folder, but datasets[${di}] (${d.name}) is not a folder`);
        for (const f of files) {
          if (!existsSync(join(d.folder!, f))) c.fail(at(key), `"authors" reads ${f} from the folder of datasets[${di}], but ${join(d.folder!, f)} does not exist`);
        }
      });
    }
  });
}

function checkOverrides(o: ConfigOverrides): void {
  expectOptions(o, 'overrides');
  if (o.epochs !== undefined) expectInteger(o.epochs, 'overrides.epochs', 1, 1e7);
  if (o.timeBudget !== undefined && !(expectNumber(o.timeBudget, 'overrides.timeBudget') > 0)) {
    throw new RangeError(`Expected a positive number of seconds for overrides.timeBudget but received ${o.timeBudget}`);
  }
  if (o.seeds !== undefined) {
    if (!Array.isArray(o.seeds) || o.seeds.length === 0) throw new TypeError(`Expected a non-empty array of seeds for overrides.seeds but received ${String(o.seeds)}`);
    o.seeds.forEach((s, i) => expectInteger(s, `overrides.seeds[${i}]`, 0, 2 ** 32 - 1));
    if (new Set(o.seeds).size !== o.seeds.length) throw new RangeError(`Expected each seed once in overrides.seeds but received ${o.seeds.join(',')}`);
  }
  if (o.out !== undefined && (typeof o.out !== 'string' || o.out.length === 0)) throw new TypeError(`Expected a folder for overrides.out but received ${String(o.out)}`);
}

/** Checks a parsed config object; `file` names it in errors and anchors its relative paths. */
export function parseExperimentConfig(value: unknown, file: string, overrides: ConfigOverrides = {}): ExperimentConfig {
  checkOverrides(overrides);
  const path = resolve(file);
  const dir = dirname(path);
  const c = checkers(file);
  const raw = c.object(value, '', {
    name: c.name, datasets: (v) => v, models: (v) => v, methods: (v) => v, samplers: (v) => v, labelers: (v) => v, paths: (v) => v,
    candidates: (v) => v, seeds: (v) => v, train: (v) => v, pretrain: (v) => v, trees: (v) => v, candidatesPerUser: c.integer(1, 1000),
    baselines: (v) => v, out: c.string,
  }, ['datasets', 'models', 'seeds']);
  const datasets = readDatasets(raw.datasets, dir, c);
  const models = readModels(raw.models, c);
  const methods = readMethods(raw, dir, c);
  checkAuthorsFiles(datasets, methods, raw, c);
  const seeds = overrides.seeds ?? c.array(raw.seeds, 'seeds').map((s, i) => c.integer(0, 2 ** 32 - 1)(s, `seeds[${i}]`) as number);
  for (const [what, list] of [['datasets', datasets], ['models', models]] as const) {
    const names = list.map((x) => x.name);
    const twice = names.find((n, i) => names.indexOf(n) !== i);
    if (twice) c.fail(what, `the name "${twice}" is used twice: give the entries distinct "name" fields`);
  }
  if (new Set(seeds).size !== seeds.length) c.fail('seeds', `each seed once, received ${JSON.stringify(seeds)}`);
  const refused = Object.fromEntries(Object.entries(trainOptionsElsewhere).map(([key, where]) => [key, (_v: unknown, at: string) => c.fail(at, `unknown field (a training option set elsewhere: ${where})`)]));
  const train = (raw.train === undefined ? {} : c.object(raw.train, 'train', { ...refused, ...trainingFields(c), ...samplerFields(c) })) as TrainSettings;
  const pretrain = (raw.pretrain === undefined ? {} : c.object(raw.pretrain, 'pretrain', { ...trainingFields(c), seed: c.integer(0, 2 ** 32 - 1) })) as PretrainSettings;
  const trees = (raw.trees === undefined ? {} : c.object(raw.trees, 'trees', {
    branching: c.integer(2, 65536), leafSize: c.integer(1, 0x7fffffff), seed: c.integer(0, Number.MAX_SAFE_INTEGER), scaling: c.oneOf(spectralScalings), rowNormalize: c.boolean,
  })) as TreeSettings;
  const names = methods.map((m) => m.name);
  const baselines = raw.baselines === undefined
    ? methods.filter((m) => !hasLabels(m) && m.sampler !== 'dtlns').map((m) => m.name)
    : c.array(raw.baselines, 'baselines').map((b, i) => c.oneOf(names)(b, `baselines[${i}]`) as string);
  // Training options shared with the pre-training, unless it sets its own; overrides apply to both.
  const shared = Object.fromEntries(Object.entries(train).filter(([key]) => !(samplerFieldNames as string[]).includes(key))) as PretrainSettings;
  const quick = { ...(overrides.epochs !== undefined ? { epochs: overrides.epochs } : {}), ...(overrides.timeBudget !== undefined ? { timeBudget: overrides.timeBudget } : {}) };
  const name = (raw.name as string | undefined) ?? basename(path, extname(path));
  return {
    file: path, name, datasets, models, methods, seeds,
    train: { ...train, ...quick }, pretrain: { ...shared, ...pretrain, ...quick }, trees,
    candidatesPerUser: (raw.candidatesPerUser as number | undefined) ?? 20,
    baselines,
    out: overrides.out ? resolve(overrides.out) : resolve(dir, (raw.out as string | undefined) ?? `${name}-runs`),
    overrides, raw,
  };
}

/** Reads and checks a config file (JSON). */
export function readExperimentConfig(file: string, overrides: ConfigOverrides = {}): ExperimentConfig {
  if (typeof file !== 'string' || file.length === 0) throw new TypeError(`Expected a config file path for file but received ${String(file)}`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ExperimentConfigError(file, '(file)', `cannot be read: ${(error as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ExperimentConfigError(file, '(file)', `is not valid JSON: ${(error as Error).message}`);
  }
  return parseExperimentConfig(value, file, overrides);
}

/** The cells of the grid, in run order: per dataset and model, seed by seed, every method (a first full seed comes early). */
export function expandCells(config: ExperimentConfig): Cell[] {
  const cells: Cell[] = [];
  const ids = new Set<string>();
  for (const dataset of config.datasets) {
    for (const model of config.models) {
      for (const seed of config.seeds) {
        for (const method of config.methods) {
          const id = `${dataset.name}-${model.name}-${method.name}-s${seed}`;
          if (ids.has(id)) throw new ExperimentConfigError(config.file, 'datasets/models/methods', `two cells share the folder name ${id}: rename one`);
          ids.add(id);
          cells.push({ id, dataset, model, method, seed, dir: join(config.out, 'cells', id) });
        }
      }
    }
  }
  return cells;
}

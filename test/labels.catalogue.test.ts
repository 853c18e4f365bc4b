/**
 * The labeler catalogue's fields are the only declaration of the labelers' options: the
 * fingerprints built from them (the `run` pipeline's labels stage, the label store's settings
 * from `label`, an experiment cell and its labeler) are pinned to the values they had before the
 * fields moved into the catalogue, so an old run folder, label store or cell stays up to date.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import yargs, { type Argv, type CommandModule } from 'yargs';
import { pipelineOptionsFromArgs, runCommand, type RunArgs } from '../src/cli/run-command.js';
import { labelCommand, labelerSpecFromArgs, type LabelArgs } from '../src/cli/label.js';
import { labelSettings } from '../src/labels/labelers.js';
import { createOpenAiLabeler } from '../src/labels/openai.js';
import { createLlamaLabeler } from '../src/labels/llama.js';
import { parseExperimentConfig, expandCells } from '../src/experiment/grid.js';
import { cellFingerprint, cellLabeler } from '../src/experiment/cells.js';
import { fingerprint } from '../src/pipeline/stages.js';
import {
  checkLabelerField, labelerArg, labelerArgValue, labelerCatalogue, labelerFieldNames, labelerFieldSpecs, labelerFieldsFromArgs, labelerFieldsOf, labelerFlag,
  labelerKinds, labelerMethodKey, missingLabelerInputs, parseGpuLayers, topLevelLabelerFields, type LabelerEntry, type LabelerFieldName, type LabelerKind,
} from '../src/labels/labeler-catalogue.js';

const builderOf = (command: CommandModule<object, never>) => command.builder as (y: Argv) => Argv;

function parse<T>(command: CommandModule<object, never>, argv: string[]): T {
  return builderOf(command)(yargs(argv).exitProcess(false).fail((message, error) => {
    throw error ?? new Error(message);
  })).parseSync() as T;
}

/** The labeler part of the pipeline's labels-stage fingerprint (src/pipeline/pipeline.ts: device options left out). */
function runLabelerKey(argv: string[]): string {
  const { file: _file, ...labeler } = pipelineOptionsFromArgs(parse<RunArgs>(runCommand as CommandModule<object, never>, ['--threads', '2', ...argv]), 'd').labeler!;
  return fingerprint({ ...labeler, llama: labeler.llama && { ...labeler.llama, threads: undefined, gpu: undefined, gpuLayers: undefined } });
}

/** The label store's settings as `label` makes them (without path codes: those are hashed apart). */
function labelSettingsKey(argv: string[]): string {
  const args = parse<LabelArgs>(labelCommand as CommandModule<object, never>, ['--threads', '2', '--out', 'x.jsonl', '--candidates', 'c.txt', ...argv]);
  return fingerprint(labelSettings(labelerSpecFromArgs(args, args.labeler)));
}

const runCases: Record<string, [string[], string]> = {
  rule: [[], '2259e8978379b058'],
  'rule, looser': [['--views', 'either', '--min-support', '1', '--cap', '3', '--theta', '0.5'], '8671fb9a6d1ca0ca'],
  'random-codes': [['--labeler', 'random-codes'], '0138726f2f597843'],
  'shuffled-codes, seed 7': [['--labeler', 'shuffled-codes', '--seed', '7'], '497cd1851555fd80'],
  topn: [['--labeler', 'topn'], '3ffb1560facd00ca'],
  none: [['--labeler', 'none'], 'a6bf12c36797ce96'],
  llama: [['--llm-model', 'package.json'], 'a5d82ba2824bf408'],
  'llama generate on cpu': [['--labeler', 'llama', '--llm-model', 'package.json', '--mode', 'generate', '--gpu', 'cpu', '--gpu-layers', '0'], 'fb45b0828ec29f2d'],
  openai: [['--labeler', 'openai', '--llm-url', 'http://127.0.0.1:9/v1', '--llm-model-name', 'qwen'], '4cd4a7ebdd76a69e'],
  file: [['--labels', 'package.json'], 'e4b83d3303821451'],
};

const labelCases: Record<string, [string[], string]> = {
  rule: [[], 'a5d9e28d56401ae8'],
  'rule, looser': [['--views', 'both', '--min-support', '2', '--cap', '5', '--theta', '0.75'], '6fc494a6060eaa4e'],
  'random-codes': [['--labeler', 'random-codes', '--seed', '9'], 'ebad7db7ea71fd5a'],
  'shuffled-codes of llama': [['--labeler', 'shuffled-codes', '--inner', 'llama', '--llm-model', 'm.gguf'], 'd2752445e6230eb9'],
  topn: [['--labeler', 'topn'], '824f501e8861687f'],
  llama: [['--labeler', 'llama', '--llm-model', 'm.gguf', '--mode', 'generate', '--threshold', '0.6', '--context-size', '2048', '--max-prefix-tokens', '1000', '--no-prefix-reuse', '--sequences', '3', '--gpu', 'cpu'], '04c1818bee70aaaf'],
  openai: [['--labeler', 'openai', '--llm-url', 'http://127.0.0.1:9/v1', '--llm-model-name', 'qwen', '--concurrency', '3', '--timeout-ms', '5', '--retries', '1'], 'f698b73082e85aba'],
};

const grid = parseExperimentConfig({
  datasets: ['synthetic:tiny'], models: [{ model: 'mf' }, { model: 'lightgcn', layers: 2 }], seeds: [1, 2],
  methods: [
    { name: 'rns', sampler: 'rns' },
    { name: 'rule', sampler: 'dtlns', labeler: 'rule' },
    { name: 'rule-theta', sampler: 'dns', labeler: 'rule', theta: 0.5, labelUse: 'exclude' },
    { name: 'random-codes', sampler: 'dtlns', labeler: { kind: 'random-codes', heldOut: 'drop' } },
    { name: 'file', sampler: 'mixgcf', labeler: { file: '/dev/null', heldOut: 'impute' }, paths: 'ours' },
    { name: 'llama', sampler: 'dtlns', labeler: { kind: 'llama', llmModel: '/dev/null', mode: 'generate' } },
    { name: 'openai', sampler: 'dtlns', labeler: { kind: 'openai', llmUrl: 'http://127.0.0.1:9/v1', llmModel: 'qwen' } },
    { name: 'topn', sampler: 'pop', labeler: 'topn', popAlpha: 0.5 },
  ],
}, '/fixed/grid.json');
const cells = expandCells(grid).filter((c) => c.seed === 2 && c.model.name === 'lightgcn');

const cellCases: Record<string, [string, string]> = {
  rns: ['e9cc4c77f06de411', ''],
  rule: ['6a8ae597d50c4970', '6717b4aa55d288a4'],
  'rule-theta': ['0398110780def451', '204d2efd0da8cf34'],
  'random-codes': ['f4dcbb5b8e22d142', 'c3d316c0efc8d593'],
  file: ['8fa91a37bf4ee9d8', '60a501ef29d345bc'],
  llama: ['6dbde76b2d6878b7', '31ea60aa80dfaa00'],
  openai: ['17cf78c4ed75acbd', 'f001362be6daea98'],
  topn: ['eee2976adff75dc9', '8e0aee4611c7cf00'],
};

test('run: the labels stage fingerprint of each labeler is unchanged', () => {
  const actual = Object.fromEntries(Object.entries(runCases).map(([name, [argv]]) => [name, runLabelerKey(argv)]));
  assert.deepEqual(actual, Object.fromEntries(Object.entries(runCases).map(([name, [, key]]) => [name, key])));
});

test("label: the label store's settings of each labeler are unchanged", () => {
  const actual = Object.fromEntries(Object.entries(labelCases).map(([name, [argv]]) => [name, labelSettingsKey(argv)]));
  assert.deepEqual(actual, Object.fromEntries(Object.entries(labelCases).map(([name, [, key]]) => [name, key])));
});

test("experiment: each cell's fingerprint and its labeler's are unchanged", () => {
  const actual = Object.fromEntries(cells.map((cell) => [cell.method.name, [
    cellFingerprint(grid, cell), cell.method.labeler === 'none' ? '' : fingerprint(cellLabeler(grid, cell)),
  ]]));
  assert.deepEqual(actual, cellCases);
});

/** A value of the field's kind and range other than its default, as CLI arguments and as the labeler receives it. */
function probe(name: LabelerFieldName): { argv: string[]; value: unknown } {
  const spec = labelerFieldSpecs[name];
  const flag = `--${labelerFlag(name)}`;
  if (spec.kind === 'boolean') return { argv: [`--no-${labelerFlag(name)}`], value: !spec.default };
  if (spec.kind === 'choice') {
    const value = spec.choices!.find((c) => c !== spec.default)!;
    return { argv: [flag, value], value };
  }
  if (spec.kind === 'integer' || spec.kind === 'number') {
    const d = Number(spec.default ?? 0), max = spec.max ?? Infinity;
    const value = spec.kind === 'integer' ? (d + 1 <= max ? d + 1 : d - 1) : (d + (spec.min ?? d - 1)) / 2;
    return { argv: [flag, String(value)], value };
  }
  if (spec.parse) return { argv: [flag, '3'], value: spec.parse('3') };
  return { argv: [flag, 'package.json'], value: 'package.json' };
}

/**
 * The first labeler that reads `name`, and the arguments of the options it cannot run without
 * (`label`: every labeler's, since --inner may name another one).
 */
function readerOf(name: LabelerFieldName, command: 'label' | 'run' = 'run'): { kind: LabelerKind; required: string[] } {
  const kind = labelerKinds.find((k) => labelerFieldsOf(k).includes(name))!;
  const kinds = command === 'label' ? labelerKinds : [kind];
  const required = [...new Set(kinds.flatMap((k) => labelerFieldsOf(k)))]
    .filter((r) => r !== name && labelerFieldSpecs[r].required && labelerFieldSpecs[r].cli.includes(command)).flatMap((r) => [`--${labelerFlag(r)}`, 'package.json']);
  return { kind, required };
}

/** Where the LabelerSpec of `kind` holds its option `name`. */
function specValue(spec: Record<string, unknown>, kind: LabelerKind, name: LabelerFieldName): unknown {
  const at = (labelerCatalogue[kind] as LabelerEntry).optionsAt;
  return at ? (spec[at] as Record<string, unknown> | undefined)?.[name] : spec[name];
}

for (const command of ['label', 'run'] as const) {
  test(`${command}: every labeler option its catalogue field lists is a flag with the field's default, and reaches the labeler`, () => {
    const cmd = (command === 'label' ? labelCommand : runCommand) as CommandModule<object, never>;
    const defaults = parse<Record<string, unknown>>(cmd, command === 'label' ? ['--out', 'x', '--candidates', 'c'] : []);
    const names = labelerFieldNames.filter((name) => labelerFieldSpecs[name].cli.includes(command));
    assert.ok(names.length >= (command === 'label' ? 18 : 10), `${command} declares ${names.join(', ')}`);
    for (const name of names) {
      assert.equal(defaults[labelerArg(name)], labelerFieldSpecs[name].default, `${command} --${labelerFlag(name)}: default`);
      const { kind, required } = readerOf(name, command);
      const { argv, value } = probe(name);
      const all = ['--labeler', kind, ...required, ...argv];
      const spec = command === 'label'
        ? labelerSpecFromArgs(parse<LabelArgs>(cmd, ['--out', 'x', '--candidates', 'c', ...all]), kind)
        : pipelineOptionsFromArgs(parse<RunArgs>(cmd, all), 'd').labeler!;
      assert.deepEqual(specValue(spec as Record<string, unknown>, kind, name), value, `${command} ${all.join(' ')}: ${name} of the labeler`);
    }
  });
}

test('experiment: every labeler option with a config key is read from the config and reaches the cell\'s labeler', () => {
  const names = labelerFieldNames.filter((name) => labelerMethodKey(name) !== undefined);
  assert.ok(names.length >= 6, names.join(', '));
  for (const name of names) {
    const spec = labelerFieldSpecs[name];
    const { kind } = readerOf(name);
    const { value } = probe(name);
    // A path relative to the config's folder (here the working folder, the repository's root), resolved for the labeler.
    const configValue = spec.kind === 'path' ? 'package.json' : value;
    const required = Object.fromEntries(labelerFieldsOf(kind).filter((r) => r !== name && labelerFieldSpecs[r].required)
      .map((r) => [labelerFieldSpecs[r].config!, labelerFieldSpecs[r].kind === 'path' ? 'package.json' : 'http://127.0.0.1:9/v1']));
    const labeler = spec.config !== undefined ? { labeler: { kind, ...required, [spec.config]: configValue } } : { labeler: { kind, ...required }, [name]: configValue };
    const config = parseExperimentConfig({ datasets: ['synthetic:tiny'], models: [{ model: 'mf' }], seeds: [1], methods: [{ name: 'm', sampler: 'rns', ...labeler }] }, join(process.cwd(), 'grid.json'));
    const [cell] = expandCells(config);
    assert.equal((cell.method as unknown as Record<string, unknown>)[labelerMethodKey(name)!], configValue, `${name}: the method's ${labelerMethodKey(name)}`);
    assert.deepEqual(specValue(cellLabeler(config, cell) as Record<string, unknown>, kind, name), spec.kind === 'path' ? resolve(configValue as string) : configValue,
      `${name} of the cell's labeler`);
  }
});

test("the LLM labelers refuse each integer option below its field's minimum, naming it", async () => {
  const base = { url: 'http://127.0.0.1:9/v1', modelName: 'm', modelPath: 'none.gguf', items: {} as never };
  for (const kind of ['openai', 'llama'] as const) {
    const integers = labelerFieldsOf(kind).filter((name) => labelerFieldSpecs[name].kind === 'integer');
    assert.ok(integers.length >= 4, `${kind}: ${integers.join(', ')}`);
    for (const name of integers) {
      const below = { ...base, [name]: labelerFieldSpecs[name].min! - 1 };
      const create = kind === 'openai' ? async () => createOpenAiLabeler(below) : () => createLlamaLabeler(below);
      await assert.rejects(create, (e: Error) => e instanceof RangeError && e.message.includes(name), `${kind} ${name} = ${labelerFieldSpecs[name].min! - 1}`);
    }
    if (kind === 'openai') for (const name of integers) createOpenAiLabeler({ ...base, [name]: labelerFieldSpecs[name].min! });
  }
});

test('--gpu-layers takes auto, max or a non-negative integer, and refuses anything else by its text', () => {
  assert.deepEqual(['auto', 'max', '0', '12', ' 3 '].map(parseGpuLayers), ['auto', 'max', 0, 12, 3]);
  // '' and blanks would be 0 to Number().
  for (const text of ['', '  ', '-1', '1.5', 'abc', 'Max', '-0x1']) {
    assert.throws(() => parseGpuLayers(text), { name: 'RangeError', message: `Expected "auto", "max" or a non-negative integer for --gpu-layers but received "${text}"` });
  }
  // Only CLI text is parsed; an API value passes as it is (checked by the labeler).
  assert.deepEqual([labelerArgValue('gpuLayers', '7'), labelerArgValue('gpuLayers', 7), labelerArgValue('gpuLayers', 'max'), labelerArgValue('theta', '0.5')], [7, 7, 'max', '0.5']);
});

test('flags are the kebab case of the option unless the field names one; parsed arguments are their camel case', () => {
  const names = ['maxPrefixTokens', 'minSupport', 'modelPath', 'file', 'theta'] as const;
  assert.deepEqual(names.map(labelerFlag), ['max-prefix-tokens', 'min-support', 'llm-model', 'labels', 'theta']);
  assert.deepEqual(names.map(labelerArg), ['maxPrefixTokens', 'minSupport', 'llmModel', 'labels', 'theta']);
});

test("labelerFieldsFromArgs keeps the options the command declares and the arguments give, by option name", () => {
  const args = { threshold: 0.7, llmModel: 'm.gguf', retryBaseMs: 5, mode: undefined, theta: 0.5 };
  const names = ['threshold', 'modelPath', 'retryBaseMs', 'mode', 'gpu', 'theta'] as const;
  assert.deepEqual(labelerFieldsFromArgs(names, args, 'run'), { modelPath: 'm.gguf', theta: 0.5 });
  assert.deepEqual(labelerFieldsFromArgs(names, args, 'label'), { threshold: 0.7, modelPath: 'm.gguf', theta: 0.5 });
  assert.deepEqual(labelerFieldsFromArgs(['gpuLayers'], { gpuLayers: '2' }, 'label'), { gpuLayers: 2 });
});

test('the options on a LabelerSpec itself are those of the rule, the code controls and file', () => {
  assert.deepEqual(topLevelLabelerFields, ['theta', 'views', 'minSupport', 'cap', 'inner', 'seed', 'file']);
});

test('missingLabelerInputs names every flag a labeler needs, with its hint, when one is missing', () => {
  assert.equal(missingLabelerInputs('llama', {}), '--labeler llama needs --llm-model PATH.gguf');
  assert.equal(missingLabelerInputs('llama', { llmModel: '' }), '--labeler llama needs --llm-model PATH.gguf');
  assert.equal(missingLabelerInputs('llama', { llmModel: 'm.gguf' }), undefined);
  assert.equal(missingLabelerInputs('openai', { llmUrl: 'http://127.0.0.1:9/v1' }, '--inner openai'), '--inner openai needs --llm-url and --llm-model-name');
  assert.equal(missingLabelerInputs('openai', { llmUrl: 'http://127.0.0.1:9/v1', llmModelName: 'qwen' }), undefined);
  assert.equal(missingLabelerInputs('file', { labels: undefined }), '--labeler file needs --labels FILE');
  assert.equal(missingLabelerInputs('rule', {}), undefined);
  // Not a labeler: left to the kind check, which names the choices.
  assert.equal(missingLabelerInputs('bogus', {}), undefined);
});

test('checkLabelerField checks booleans and strings too, naming the option', () => {
  assert.equal(checkLabelerField('prefixReuse', false), false);
  assert.throws(() => checkLabelerField('prefixReuse', 'no'), { name: 'TypeError', message: 'Expected a boolean for prefixReuse but received "no"' });
  assert.deepEqual([checkLabelerField('url', 'http://127.0.0.1:9/v1'), checkLabelerField('modelPath', 'm.gguf')], ['http://127.0.0.1:9/v1', 'm.gguf']);
  for (const [value, shown] of [['', ''], [3, '3'], [undefined, 'undefined']] as const) {
    assert.throws(() => checkLabelerField('url', value), { name: 'TypeError', message: `Expected a non-empty string for url but received ${shown}` });
  }
});

/**
 * `train`, `run` and `experiment` share the training options: every option of `train` is
 * accepted by `run` and reaches its final training, and an experiment config takes it in
 * `train` or refuses it by name saying where it goes. Nothing is silently ignored.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import yargs, { type Argv, type CommandModule } from 'yargs';
import { trainCommand } from '../src/cli/train.js';
import { pipelineOptionsFromArgs, runCommand, type RunArgs } from '../src/cli/run-command.js';
import { trainingOptionsFromArgs, type TrainArgs } from '../src/cli/shared.js';
import { ExperimentConfigError, parseExperimentConfig } from '../src/experiment/grid.js';
import { samplerFieldNames, samplerFieldSpecs, samplerFlag, type SamplerFieldSpec } from '../src/sampling/catalogue.js';

const builderOf = (command: CommandModule<object, never>) => command.builder as (y: Argv) => Argv;

function optionNames(command: CommandModule<object, never>): string[] {
  const options = (builderOf(command)(yargs([])) as unknown as { getOptions(): unknown }).getOptions() as { key: Record<string, unknown>; alias: Record<string, string[]> };
  const aliases = new Set(Object.values(options.alias).flat());
  return Object.keys(options.key).filter((key) => key !== 'help' && key !== 'version' && !aliases.has(key));
}

function parse<T>(command: CommandModule<object, never>, argv: string[]): T {
  return builderOf(command)(yargs(argv).exitProcess(false).fail((message, error) => {
    throw error ?? new Error(message);
  })).parseSync() as T;
}

const camel = (flag: string) => flag.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());

/** A value other than the default for every `train` option (sampler fields come from the catalogue). */
const probes: Record<string, { argv: string; json?: unknown }> = {
  data: { argv: 'synthetic:tiny' }, format: { argv: 'pairs' }, 'min-rating': { argv: '4' }, split: { argv: 'temporal' },
  'split-ratio': { argv: '0.7,0.2,0.1' }, 'drop-cold-users': { argv: 'true' },
  model: { argv: 'mf' }, layers: { argv: '2' }, dim: { argv: '16' }, lr: { argv: '0.01', json: 0.01 }, batch: { argv: '512', json: 512 },
  l2: { argv: '0.5', json: 0.5 }, epochs: { argv: '7', json: 7 }, 'eval-every': { argv: '2', json: 2 }, patience: { argv: '3', json: 3 },
  'time-budget': { argv: '9', json: 9 }, optimizer: { argv: 'sgd', json: 'sgd' }, 'eval-mask': { argv: 'augmented' }, seed: { argv: '5' },
  ks: { argv: '20,40' }, sampler: { argv: 'pop' }, 'paths-struct': { argv: 'package.json' }, 'paths-semantic': { argv: 'package.json' },
  'extra-positives': { argv: 'package.json' }, 'label-use': { argv: 'exclude' }, 'label-weight': { argv: '0.25' },
  threads: { argv: '3' }, out: { argv: 'somewhere' }, json: { argv: 'true' }, quiet: { argv: 'true' }, fresh: { argv: 'true' },
};
/** A value of the field's kind and range other than its default. */
function otherValue(spec: SamplerFieldSpec): number | string {
  if (spec.kind === 'choice') return spec.choices!.find((c) => c !== spec.default)!;
  const d = Number(spec.default);
  const min = spec.min ?? -Infinity;
  const max = typeof spec.max === 'number' ? spec.max : Infinity;
  const value = [d + 1, d - 1, (d + max) / 2, (d + min) / 2].find((v) => v !== d && v >= min && v <= max && (spec.kind !== 'integer' || Number.isInteger(v)));
  assert.ok(value !== undefined, `no value other than the default in the range of ${JSON.stringify(spec)}`);
  return value;
}
for (const name of samplerFieldNames) {
  const value = otherValue(samplerFieldSpecs[name]);
  probes[samplerFlag(name)] = { argv: String(value), json: value };
}
/** The pair of options that `run` takes together (the trees stage reads both files or builds both trees). */
const together: Record<string, string> = { 'paths-struct': 'paths-semantic', 'paths-semantic': 'paths-struct' };
/** Read by the same code in both commands before training: the dataset loader, and the output format. */
const readBeforeTraining = new Set(['data', 'format', 'min-rating', 'split', 'split-ratio', 'drop-cold-users', 'json', 'quiet']);

test('every train option is declared by run and reaches its pipeline options', () => {
  const trainNames = optionNames(trainCommand as CommandModule<object, never>);
  const runNames = new Set(optionNames(runCommand as CommandModule<object, never>));
  const pipeline = (argv: string[]) => JSON.stringify(pipelineOptionsFromArgs(parse<RunArgs>(runCommand as CommandModule<object, never>, argv), 'd'));
  const defaults = pipeline([]);
  for (const flag of trainNames) {
    assert.ok(runNames.has(flag), `run does not declare --${flag} of train`);
    const probe = probes[flag];
    assert.ok(probe, `no probe value for the train option --${flag}: add one to this test`);
    if (readBeforeTraining.has(flag)) continue;
    const argv = [`--${flag}`, probe.argv, ...(together[flag] ? [`--${together[flag]}`, probes[together[flag]].argv] : [])];
    assert.notEqual(pipeline(argv), defaults, `run ignores --${flag}`);
  }
});

test('train hands every sampler field of the catalogue to training', () => {
  const defaults = JSON.stringify(trainingOptionsFromArgs(parse<TrainArgs>(trainCommand as CommandModule<object, never>, [])));
  for (const name of samplerFieldNames) {
    const options = trainingOptionsFromArgs(parse<TrainArgs>(trainCommand as CommandModule<object, never>, [`--${samplerFlag(name)}`, probes[samplerFlag(name)].argv]));
    assert.notEqual(JSON.stringify(options), defaults, `train ignores --${samplerFlag(name)}`);
    assert.equal((options as Record<string, unknown>)[name], probes[samplerFlag(name)].json);
  }
});

test('an experiment config takes every train option in "train", or refuses it by name saying where it goes', () => {
  const base = { datasets: ['synthetic:tiny'], models: [{ model: 'mf' }], methods: [{ name: 'rns', sampler: 'rns' }], seeds: [1] };
  for (const flag of optionNames(trainCommand as CommandModule<object, never>)) {
    // A config names a sampler field by its name, which its CLI flag may spell otherwise.
    const key = samplerFieldNames.find((name) => samplerFlag(name) === flag) ?? camel(flag);
    const probe = probes[flag];
    const value = probe.json ?? probe.argv;
    let config;
    try {
      config = parseExperimentConfig({ ...base, train: { [key]: value } }, '/configs/grid.json');
    } catch (error) {
      assert.ok(error instanceof ExperimentConfigError, String(error));
      assert.equal(error.field, `train.${key}`);
      assert.match(error.message, /set elsewhere: \S/, `train.${key} is refused without saying where it goes: ${error.message}`);
      continue;
    }
    assert.deepEqual((config.train as Record<string, unknown>)[key], value, `train.${key} is accepted but dropped`);
  }
});

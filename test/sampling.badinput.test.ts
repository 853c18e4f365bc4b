/** BAD CALL cases for the sampler options and draws: the right error class, naming the field, never a crash. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { native } from '../src/native.js';
import { train } from '../src/train/train.js';
import { resolveSampler } from '../src/sampling/options.js';
import { adamDefaults, samplerDefaults } from '../src/defaults.js';
import { generateSynthetic } from '../src/data/synthetic.js';
import { packPaths } from '../src/trees/path-codes.js';
import { randomGraph, randomState } from './support/training.js';
import { pathFields, randomDraws, randomPaths } from './support/sampling.js';

const graph = randomGraph(6, 9, 3, 61);
const state = randomState(graph, 4, 62);
const co = randomPaths(graph.nItems, 3, 2, 63), se = randomPaths(graph.nItems, 3, 2, 64);
const paths = pathFields(co, se);
const draws = randomDraws(graph, 2, 1, 3, 2, 2, 65);
const base = {
  ...state, model: 'lightgcn', layers: 2, optimizer: 'adam', trainIndptr: graph.trainIndptr, trainIndices: graph.trainIndices,
  lr: 0.01, ...adamDefaults, l2: 1e-4, threads: 1, sampler: 'dtlns', negs: 3, ...paths,
};
const calls = {
  trainEpoch: (o: object) => native.trainEpoch({ ...base, batch: 4, seed: 1, ...o } as never),
  trainStep: (o: object) => native.trainStep({ ...base, ...draws, ...o } as never),
  mineNegatives: (o: object) => native.mineNegatives({ ...base, ...draws, ...o } as never),
  sampleNegatives: (o: object) =>
    native.sampleNegatives({ trainIndptr: graph.trainIndptr, trainIndices: graph.trainIndices, nItems: graph.nItems, seed: 1, batch: 4, threads: 1, sampler: 'pop', ...o } as never),
};
type Call = keyof typeof calls;

/** [field, override, error class, calls it applies to]. */
const cases: [string, object, typeof TypeError | typeof RangeError, Call[]][] = [
  ['sampler', { sampler: 'hard' }, RangeError, ['trainEpoch', 'trainStep', 'mineNegatives', 'sampleNegatives']],
  ['sampler', { sampler: 3 }, TypeError, ['trainEpoch', 'trainStep', 'mineNegatives', 'sampleNegatives']],
  ['sampler', { sampler: 'rns' }, RangeError, ['mineNegatives']],
  // Label-use arrays: the rejection set must hold every positive; one finite weight >= 0 per positive.
  ['nonNegativesIndices', { nonNegativesIndptr: new Uint32Array(graph.nUsers + 1), nonNegativesIndices: new Uint32Array(0) }, RangeError, ['trainEpoch', 'sampleNegatives']],
  ['nonNegativesIndptr', { nonNegativesIndptr: graph.trainIndptr.subarray(1), nonNegativesIndices: graph.trainIndices }, RangeError, ['trainEpoch', 'sampleNegatives']],
  ['nonNegativesIndices', { nonNegativesIndptr: graph.trainIndptr }, TypeError, ['trainEpoch', 'sampleNegatives']],
  ['positiveWeights', { positiveWeights: new Float32Array(graph.trainIndices.length - 1) }, RangeError, ['trainEpoch']],
  ['positiveWeights', { positiveWeights: new Float32Array(graph.trainIndices.length).fill(NaN) }, RangeError, ['trainEpoch']],
  ['positiveWeights', { positiveWeights: new Float32Array(graph.trainIndices.length).fill(-1) }, RangeError, ['trainEpoch']],
  ['positiveWeights', { positiveWeights: Array(graph.trainIndices.length).fill(1) }, TypeError, ['trainEpoch']],
  ['positiveWeights', { positiveWeights: new Float32Array(graph.trainIndices.length) }, RangeError, ['sampleNegatives']],
  ['negs', { negs: 0 }, RangeError, ['trainEpoch', 'trainStep', 'mineNegatives']],
  ['negs', { negs: 2.5 }, TypeError, ['trainEpoch', 'trainStep', 'mineNegatives']],
  ['k', { k: 0 }, RangeError, ['trainEpoch', 'trainStep', 'mineNegatives', 'sampleNegatives']],
  ['alphaCo', { alphaCo: NaN }, RangeError, ['trainEpoch', 'trainStep', 'mineNegatives']],
  ['alphaSe', { alphaSe: Infinity }, RangeError, ['trainEpoch', 'trainStep', 'mineNegatives']],
  ['alphaSe', { alphaSe: '0.3' }, TypeError, ['trainEpoch', 'trainStep', 'mineNegatives']],
  ['popAlpha', { popAlpha: -1 }, RangeError, ['sampleNegatives', 'trainEpoch']],
  ['popAlpha', { popAlpha: NaN }, RangeError, ['sampleNegatives']],
  ['dnsTopK', { sampler: 'dns', dnsTopK: 4 }, RangeError, ['trainEpoch', 'trainStep', 'mineNegatives']],
  ['ahnsAlpha', { sampler: 'ahns', ahnsAlpha: NaN }, RangeError, ['trainEpoch', 'trainStep', 'mineNegatives', 'sampleNegatives']],
  ['ahnsAlpha', { sampler: 'ahns', ahnsAlpha: '1' }, TypeError, ['trainEpoch', 'trainStep', 'mineNegatives']],
  ['ahnsBeta', { sampler: 'ahns', ahnsBeta: -0.1 }, RangeError, ['trainEpoch', 'trainStep', 'mineNegatives', 'sampleNegatives']],
  ['ahnsP', { sampler: 'ahns', ahnsP: -1.5 }, TypeError, ['trainEpoch', 'trainStep', 'mineNegatives']],
  ['ahnsP', { sampler: 'ahns', ahnsP: 9 }, RangeError, ['trainEpoch', 'trainStep', 'mineNegatives']],
  ['pathsCo', { pathsCo: undefined }, TypeError, ['trainEpoch', 'trainStep', 'mineNegatives']],
  ['pathsSe', { pathsSe: new Float32Array(9) }, TypeError, ['trainEpoch', 'trainStep', 'mineNegatives']],
  ['pathsCo', { pathsCo: co.paths.subarray(0, co.paths.length - co.maxDepth) }, RangeError, ['trainEpoch', 'trainStep', 'mineNegatives']],
  ['pathsSeLengths', { pathsSeLengths: se.lengths.subarray(1) }, RangeError, ['trainEpoch', 'trainStep', 'mineNegatives']],
  ['pathsCoLengths', { pathsCoLengths: co.lengths.map((l, i) => (i === 0 ? co.maxDepth + 1 : l)) }, RangeError, ['trainEpoch', 'mineNegatives']],
  ['candidates', { candidates: draws.candidates.subarray(1) }, RangeError, ['trainStep', 'mineNegatives']],
  ['candidates', { candidates: draws.candidates.map((c, i) => (i === 0 ? 99 : c)) }, RangeError, ['trainStep', 'mineNegatives']],
  ['candidates', { candidates: draws.candidates.map((c, i) => (i === 0 ? draws.pos[0] : c)) }, RangeError, ['trainStep', 'mineNegatives']],
  ['candidates', { candidates: Array.from(draws.candidates) }, TypeError, ['trainStep', 'mineNegatives']],
  ['alphas', { alphas: draws.alphas.subarray(1) }, RangeError, ['trainStep', 'mineNegatives']],
  ['alphas', { alphas: draws.alphas.map((a, i) => (i === 1 ? 1.5 : a)) }, RangeError, ['trainStep', 'mineNegatives']],
  ['alphas', { alphas: draws.alphas.map((a, i) => (i === 1 ? NaN : a)) }, RangeError, ['trainStep', 'mineNegatives']],
  ['picks', { sampler: 'dns', dnsTopK: 2, picks: Uint32Array.of(0, 2) }, RangeError, ['trainStep', 'mineNegatives']],
  ['picks', { sampler: 'dns', dnsTopK: 2, picks: undefined }, TypeError, ['trainStep', 'mineNegatives']],
  ['neg', { sampler: 'rns', k: 2, neg: draws.candidates.subarray(0, 2) }, RangeError, ['trainStep']],
];

for (const [field, override, errorClass, names] of cases) {
  for (const name of names) {
    test(`BAD CALL - ${name} with ${field} = ${JSON.stringify(Object.values(override)[Object.keys(override).length - 1]) ?? 'undefined'} throws ${errorClass.name} naming ${field}`, async () => {
      await assert.rejects(
        async () => calls[name](override),
        (error: Error) => {
          assert.ok(error instanceof errorClass, `${error.constructor.name}: ${error.message}`);
          assert.match(error.message, new RegExp(`\\b${field}\\b`));
          return true;
        },
      );
    });
  }
}

test('BAD CALL - the TS options name the option', () => {
  const bad: [object, typeof TypeError | typeof RangeError, string][] = [
    [{ sampler: 'hard' }, RangeError, 'sampler'],
    [{ negs: 0 }, RangeError, 'negs'],
    [{ k: 1.5 }, TypeError, 'k'],
    [{ alphaCo: NaN }, TypeError, 'alphaCo'],
    [{ alphaSe: Infinity }, RangeError, 'alphaSe'],
    [{ popAlpha: 11 }, RangeError, 'popAlpha'],
    [{ sampler: 'dns', negs: 3, dnsTopK: 4 }, RangeError, 'dnsTopK'],
    [{ sampler: 'ahns', ahnsAlpha: NaN }, TypeError, 'ahnsAlpha'],
    [{ sampler: 'ahns', ahnsBeta: -1 }, RangeError, 'ahnsBeta'],
    [{ sampler: 'ahns', ahnsP: 0.5 }, TypeError, 'ahnsP'],
    [{ sampler: 'ahns', ahnsP: -9 }, RangeError, 'ahnsP'],
    [{ sampler: 'dtlns', pathsSe: se }, TypeError, 'pathsCo'],
    [{ sampler: 'dtlns', pathsCo: co, pathsSe: packPaths([[0], [1]]) }, RangeError, 'pathsSe'],
  ];
  for (const [options, errorClass, name] of bad) {
    assert.throws(() => resolveSampler(options, graph.nItems), (error: Error) => error instanceof errorClass && new RegExp(`\\b${name}\\b`).test(error.message), JSON.stringify(options));
  }
  assert.match(
    (() => {
      try {
        resolveSampler({ sampler: 'dtlns' }, 9);
      } catch (error) {
        return (error as Error).message;
      }
      return '';
    })(),
    /dtlns-native trees/,
  );
});

test('train() rejects a bad sampler option before any epoch', async () => {
  const dataset = generateSynthetic({ preset: 'tiny' });
  await assert.rejects(train(dataset, { sampler: 'dtlns', epochs: 1, threads: 1 }), /pathsCo/);
  await assert.rejects(train(dataset, { sampler: 'mixgcf', negs: 0, epochs: 1, threads: 1 }), RangeError);
});

test('an absent sampler field takes its value from samplerDefaults, its one declaration', async () => {
  const draw = () => native.sampleNegatives({ trainIndptr: graph.trainIndptr, trainIndices: graph.trainIndices, nItems: graph.nItems, seed: 1, batch: 4, threads: 1, sampler: 'dns' });
  const perSample = async () => {
    const t = await draw();
    return t.neg.length / t.users.length;
  };
  assert.equal(await perSample(), samplerDefaults.negs);
  const saved = samplerDefaults.negs;
  samplerDefaults.negs = 3;
  try {
    assert.equal(await perSample(), 3);
  } finally {
    samplerDefaults.negs = saved;
  }
});

/** native.trainStep with each sampler against the plain-TS step on the same explicit draws. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { native, type ModelState, type SamplerName, type TrainModel, type TrainOptimizer } from '../src/native.js';
import { referenceSamplerStep } from '../src/sampling/sampler-reference.js';
import { assertClose, assertStatesEqual, cloneState, randomGraph, randomState, TABLES, type Graph } from './support/training.js';
import { pathFields, randomDraws, randomPaths } from './support/sampling.js';
import { samplerCatalogue, samplerNames } from '../src/sampling/catalogue.js';

const graph = randomGraph(14, 18, 6, 21);
const dim = 8;
const negs = 4;
const pathsCo = randomPaths(graph.nItems, 4, 3, 22);
const pathsSe = randomPaths(graph.nItems, 5, 2, 23);

function hyper(model: TrainModel, layers: number, optimizer: TrainOptimizer, g: Graph = graph) {
  return {
    model, layers, optimizer, trainIndptr: g.trainIndptr, trainIndices: g.trainIndices,
    lr: optimizer === 'sgd' ? 0.5 : 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, l2: 0.01,
  };
}

interface Case {
  sampler: SamplerName;
  k: number;
  dnsTopK?: number;
  ahnsAlpha?: number;
  ahnsBeta?: number;
  ahnsP?: number;
}

function drawsFor(c: Case, layers: number, seed: number, g: Graph = graph, n = 20, candidates = negs) {
  const scores = c.sampler !== 'rns' && c.sampler !== 'pop';
  const d = randomDraws(g, n, c.k, scores ? candidates : 1, layers, c.dnsTopK ?? 1, seed);
  return scores ? d : { users: d.users, pos: d.pos, neg: d.candidates };
}

async function compare(c: Case, model: TrainModel, layers: number, optimizer: TrainOptimizer, warm: boolean) {
  const effective = model === 'mf' ? 0 : layers;
  const draws = drawsFor(c, effective, 30 + layers);
  const settings = { ...c, negs, alphaCo: 0.2, alphaSe: 0.5 };
  const start = randomState(graph, dim, 31, warm);
  const ours = cloneState(start), theirs = cloneState(start);
  const stats = await native.trainStep({ ...ours, ...hyper(model, layers, optimizer), ...settings, ...pathFields(pathsCo, pathsSe), threads: 1, ...draws });
  const expected = referenceSamplerStep(theirs, hyper(model, layers, optimizer), { ...settings, pathsCo, pathsSe }, draws.users, draws.pos, draws);
  assert.equal(stats.step, start.step + 1);
  assert.equal(stats.samples, draws.users.length);
  assertClose([stats.loss, stats.bprLoss, stats.regLoss], [expected.loss, expected.bprLoss, expected.regLoss], 'loss');
  for (const name of TABLES) assertClose(ours[name], theirs[name], name, 1e-4, 2e-6);
  assert.notDeepEqual(ours.itemEmb, start.itemEmb, 'the step changed the parameters');
}

const cases: Case[] = [
  { sampler: 'mixgcf', k: 1 },
  { sampler: 'dtlns', k: 1 },
  { sampler: 'dtlns', k: 3 },
  { sampler: 'dns', k: 1 },
  { sampler: 'dns', k: 2, dnsTopK: 2 },
  { sampler: 'ahns', k: 1 },
  { sampler: 'ahns', k: 2, ahnsAlpha: 0, ahnsBeta: 1, ahnsP: 0 },
  { sampler: 'rns', k: 3 },
];
test('the reference cases cover every sampler that scores candidates', () => {
  for (const name of samplerNames.filter((n) => samplerCatalogue[n].capabilities.scoresCandidates)) assert.ok(cases.some((c) => c.sampler === name), `no trainStep case for ${name}`);
});
for (const c of cases) {
  for (const [model, layers] of [['mf', 0], ['lightgcn', 1], ['lightgcn', 3]] as const) {
    for (const optimizer of ['adam', 'lazy-adam'] as const) {
      const label = `${c.sampler} k=${c.k}${c.dnsTopK ? ` top-${c.dnsTopK}` : ''} ${model}-${layers} ${optimizer}`;
      test(`trainStep ${label} matches the reference`, () => compare(c, model, layers, optimizer, optimizer === 'adam'));
    }
  }
}

test('trainStep mixgcf sgd on lightgcn-2 matches the reference', () => compare({ sampler: 'mixgcf', k: 2 }, 'lightgcn', 2, 'sgd', false));

test('mixing gradients reach the positive and every chosen candidate through the layers', async () => {
  // One positive, one negative: with sgd only rows with a nonzero gradient move.
  const c: Case = { sampler: 'mixgcf', k: 1 };
  const draws = drawsFor(c, 0, 32, graph, 1) as ReturnType<typeof randomDraws>;
  const start = randomState(graph, dim, 33);
  const ours = cloneState(start);
  const mined = await native.mineNegatives({ ...start, ...hyper('mf', 0, 'sgd'), ...c, negs, threads: 1, ...draws });
  await native.trainStep({ ...ours, ...hyper('mf', 0, 'sgd'), ...c, negs, threads: 1, ...draws });
  const moved = (s: ModelState, item: number) => s.itemEmb.subarray(item * dim, (item + 1) * dim).some((v, d) => v !== start.itemEmb[item * dim + d]);
  const chosen = mined.items[0];
  for (let item = 0; item < graph.nItems; item++) {
    const expected = item === draws.pos[0] || item === chosen;
    assert.equal(moved(ours, item), expected, `item ${item} (positive ${draws.pos[0]}, chosen ${chosen})`);
  }
});

test('the mixing samplers\' steps are bit-identical at 1 and 2 threads', async () => {
  // Large enough that every stage of the step crosses the size at which it goes multi-threaded.
  const big = randomGraph(3000, 2000, 20, 34);
  const co = randomPaths(big.nItems, 6, 4, 35), se = randomPaths(big.nItems, 6, 4, 36);
  for (const sampler of samplerNames.filter((name) => samplerCatalogue[name].capabilities.mixes)) {
    const c: Case = { sampler, k: 2 };
    const draws = drawsFor(c, 2, 37, big, 3000, 10);
    const one = randomState(big, 64, 38, true), two = cloneState(one);
    const h = { ...hyper('lightgcn', 2, 'adam', big), ...c, negs: 10, ...pathFields(co, se) };
    const s1 = await native.trainStep({ ...one, ...h, threads: 1, ...draws });
    const s2 = await native.trainStep({ ...two, ...h, threads: 2, ...draws });
    assert.equal(s1.loss, s2.loss, sampler);
    assertStatesEqual(one, two, sampler);
  }
});

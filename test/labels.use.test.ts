/** Label uses (src/labels/use.ts): what labelled false negatives do, down to the kernels' draws and gradients. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { native } from '../src/native.js';
import { applyLabelUse, resolveLabelUse } from '../src/labels/use.js';
import { referenceSamplerStep } from '../src/sampling/sampler-reference.js';
import { generateSynthetic } from '../src/data/synthetic.js';
import { csrFromPairs } from '../src/data/csr.js';
import { train } from '../src/train/train.js';
import type { Csr } from '../src/data/types.js';
import { assertClose, cloneState, graphFromRows, randomGraph, randomState, seededRandom, TABLES } from './support/training.js';
import { pathFields, randomDraws, randomPaths } from './support/sampling.js';
import { samplerNames } from '../src/sampling/catalogue.js';

const csr = (rows: number[][], cols: number): Csr => {
  const g = graphFromRows(rows, cols);
  return { rows: rows.length, cols, indptr: g.trainIndptr, indices: g.trainIndices };
};

test('applyLabelUse: positive, exclude and weighted on a hand-made example', () => {
  // user 0 trains on {1, 3}; labels {2, 3} (3 is already a positive); user 1 trains on {0}, label {4}.
  const trainSet = csr([[1, 3], [0]], 5);
  const labels = { pairs: csr([[2, 3], [4]], 5), confidence: Float32Array.of(0.75, 0.5, 0.25) };
  const union = { indptr: [0, 3, 5], indices: [1, 2, 3, 0, 4] };
  const positive = applyLabelUse(trainSet, labels, { labelUse: 'positive' });
  assert.deepEqual(Array.from(positive.positives.indices), union.indices);
  assert.deepEqual(Array.from(positive.positives.indptr), union.indptr);
  assert.equal(positive.nonNegatives, undefined);
  assert.equal(positive.positiveWeights, undefined);

  const exclude = applyLabelUse(trainSet, labels, { labelUse: 'exclude' });
  assert.equal(exclude.positives, trainSet, 'exclude trains on the original positives only');
  assert.deepEqual(Array.from(exclude.nonNegatives!.indices), union.indices);
  assert.deepEqual(Array.from(exclude.augmented.indices), union.indices);

  const weighted = applyLabelUse(trainSet, labels, { labelUse: 'weighted', labelWeight: 0.25 });
  assert.deepEqual(Array.from(weighted.positives.indices), union.indices);
  // items 1, 2, 3 of user 0 and 0, 4 of user 1: training positives keep weight 1.
  assert.deepEqual(Array.from(weighted.positiveWeights!), [1, 0.25, 1, 1, 0.25]);
  const confident = applyLabelUse(trainSet, labels, { labelUse: 'weighted', labelWeight: 'confidence' });
  assert.deepEqual(Array.from(confident.positiveWeights!), [1, 0.75, 1, 1, 0.25]);
});

test('BAD CALL - label use options name the option', () => {
  assert.throws(() => resolveLabelUse({ labelUse: 'drop' as never }), (e: Error) => e instanceof RangeError && /labelUse/.test(e.message));
  for (const w of [0, 1.5, NaN, '0.5']) {
    assert.throws(() => resolveLabelUse({ labelWeight: w as never }), (e: Error) => e instanceof RangeError && /labelWeight/.test(e.message));
  }
  const trainSet = csr([[1]], 3);
  assert.throws(() => applyLabelUse(trainSet, { pairs: csr([[2]], 3) }, { labelUse: 'weighted', labelWeight: 'confidence' }),
    (e: Error) => e instanceof TypeError && /confidence/.test(e.message));
});

test('BAD CALL - train() with labelUse but no labels, or a confidence of the wrong length, names the option', async () => {
  const data = generateSynthetic({ preset: 'tiny' });
  await assert.rejects(train(data, { labelUse: 'exclude', epochs: 1 }), (e: Error) => e instanceof TypeError && /labelUse/.test(e.message));
  await assert.rejects(train(data, { labelWeight: 0.5, epochs: 1 }), (e: Error) => e instanceof TypeError && /labelWeight/.test(e.message));
  await assert.rejects(train(data, { extraPositives: data.hidden!, extraConfidence: new Float32Array(1), epochs: 1 }),
    (e: Error) => e instanceof TypeError && /extraConfidence/.test(e.message));
});

// A graph and labels: every user has 2-4 training items and 3 labelled ones among 12 items.
const graph = randomGraph(40, 12, 4, 7);
const labelRows = Array.from({ length: graph.nUsers }, (_, u) => {
  const own = new Set(graph.trainIndices.subarray(graph.trainIndptr[u], graph.trainIndptr[u + 1]));
  const random = seededRandom(100 + u);
  const picked = new Set<number>();
  while (picked.size < 3) {
    const j = Math.floor(random() * graph.nItems);
    if (!own.has(j)) picked.add(j);
  }
  return [...picked].sort((a, b) => a - b);
});
const trainCsr: Csr = { rows: graph.nUsers, cols: graph.nItems, indptr: graph.trainIndptr, indices: graph.trainIndices };
const labels = csr(labelRows, graph.nItems);
const excluded = applyLabelUse(trainCsr, { pairs: labels }, { labelUse: 'exclude' }).nonNegatives!;
const co = randomPaths(graph.nItems, 3, 2, 8), se = randomPaths(graph.nItems, 3, 2, 9);

for (const sampler of samplerNames) {
  test(`sampleNegatives (${sampler}): an excluded item is never a negative nor a hard-negative candidate over 50 epochs of draws`, async () => {
    const draw = (seed: number, exclude: boolean) =>
      native.sampleNegatives({
        trainIndptr: graph.trainIndptr, trainIndices: graph.trainIndices, nItems: graph.nItems, seed, batch: 16, threads: 2, sampler, negs: 4,
        ...(sampler === 'dtlns' ? pathFields(co, se) : {}),
        ...(exclude ? { nonNegativesIndptr: excluded.indptr, nonNegativesIndices: excluded.indices } : {}),
      });
    const isLabel = (u: number, j: number) => labelRows[u].includes(j);
    let labelledDraws = 0, drawn = 0;
    for (let seed = 1; seed <= 50; seed++) {
      const t = await draw(seed, true);
      const perSample = t.neg.length / t.users.length;
      assert.equal(perSample, sampler === 'rns' || sampler === 'pop' ? 1 : 4);
      t.neg.forEach((j, x) => {
        const u = t.users[Math.floor(x / perSample)];
        assert.ok(!isLabel(u, j), `seed ${seed}: user ${u} drew the excluded item ${j}`);
        drawn++;
      });
      // Without the exclusion the same labelled items are drawn: the check above is not vacuous.
      const plain = await draw(seed, false);
      plain.neg.forEach((j, x) => (labelledDraws += isLabel(plain.users[Math.floor(x / perSample)], j) ? 1 : 0));
    }
    assert.ok(drawn > 1000);
    assert.ok(labelledDraws > 100, `only ${labelledDraws} labelled items drawn without the exclusion`);
  });
}

const hyper = (model: 'mf' | 'lightgcn', layers: number) => ({
  model, layers, optimizer: 'adam' as const, trainIndptr: graph.trainIndptr, trainIndices: graph.trainIndices,
  lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, l2: 0.01,
});

for (const [sampler, model, layers] of [['rns', 'mf', 0], ['rns', 'lightgcn', 2], ['mixgcf', 'lightgcn', 2], ['dtlns', 'lightgcn', 1], ['dns', 'mf', 0], ['ahns', 'lightgcn', 2]] as const) {
  test(`trainStep with weights (${sampler}, ${model}-${layers}) matches the weighted reference`, async () => {
    const scores = sampler !== 'rns';
    const d = randomDraws(graph, 24, 1, scores ? 4 : 1, layers, 1, 31);
    const draws = scores ? d : { users: d.users, pos: d.pos, neg: d.candidates };
    const weights = Float32Array.from({ length: draws.users.length }, (_, k) => [1, 0.5, 0, 0.25][k % 4]);
    const start = randomState(graph, 8, 32, true);
    const ours = cloneState(start), theirs = cloneState(start);
    const settings = { sampler, negs: scores ? 4 : 1, k: 1 };
    const stats = await native.trainStep({ ...ours, ...hyper(model, layers), ...settings, ...pathFields(co, se), threads: 2, ...draws, weights });
    const expected = referenceSamplerStep(theirs, hyper(model, layers), { ...settings, pathsCo: co, pathsSe: se }, draws.users, draws.pos, { ...draws, weights });
    assertClose([stats.loss, stats.bprLoss, stats.regLoss], [expected.loss, expected.bprLoss, expected.regLoss], 'loss');
    for (const name of TABLES) assertClose(ours[name], theirs[name], name, 1e-4, 2e-6);
    // The weights matter: the unweighted step lands elsewhere.
    const unweighted = cloneState(start);
    await native.trainStep({ ...unweighted, ...hyper(model, layers), ...settings, ...pathFields(co, se), threads: 2, ...draws });
    assert.notDeepEqual(unweighted.userEmb, ours.userEmb);
  });
}

test('trainEpoch with positiveWeights trains each planned positive with its own weight (= trainStep batch by batch)', async () => {
  const augmented = applyLabelUse(trainCsr, { pairs: labels }, { labelUse: 'weighted', labelWeight: 0.25 });
  const h = { ...hyper('lightgcn', 1), trainIndptr: augmented.positives.indptr, trainIndices: augmented.positives.indices };
  const start = randomState(graph, 8, 41);
  const epoch = cloneState(start);
  const batch = 16, seed = 5;
  await native.trainEpoch({ ...epoch, ...h, sampler: 'rns', batch, seed, threads: 2, positiveWeights: augmented.positiveWeights });
  // The same samples (sampleNegatives draws them exactly as trainEpoch), one trainStep per batch with each sample's weight.
  const t = await native.sampleNegatives({ trainIndptr: h.trainIndptr, trainIndices: h.trainIndices, nItems: graph.nItems, seed, batch, threads: 1, sampler: 'rns' });
  const weightOf = (u: number, i: number) => (labelRows[u].includes(i) ? 0.25 : 1);
  const steps = cloneState(start);
  for (let b = 0; b < t.users.length; b += batch) {
    const users = t.users.slice(b, b + batch), pos = t.pos.slice(b, b + batch), neg = t.neg.slice(b, b + batch);
    const weights = Float32Array.from(users, (u, k) => weightOf(u, pos[k]));
    const stats = await native.trainStep({ ...steps, ...h, sampler: 'rns', threads: 1, users, pos, neg, weights });
    steps.step = stats.step;
  }
  for (const name of TABLES) assertClose(epoch[name], steps[name], name, 1e-5, 1e-7);
  // Weights of 1 everywhere are the unweighted epoch, bit for bit.
  const ones = cloneState(start), plain = cloneState(start);
  await native.trainEpoch({ ...ones, ...h, sampler: 'mixgcf', batch, seed, threads: 2, positiveWeights: new Float32Array(h.trainIndices.length).fill(1) });
  await native.trainEpoch({ ...plain, ...h, sampler: 'mixgcf', batch, seed, threads: 2 });
  for (const name of TABLES) assert.deepEqual(ones[name], plain[name], name);
});

for (const [model, layers, optimizer] of [['lightgcn', 1, 'adam'], ['mf', 0, 'sgd']] as const) {
  test(`trainEpoch with nonNegatives (${model}-${layers} ${optimizer}) draws its negatives outside them (= trainStep on sampleNegatives' draws)`, async () => {
    const h = { ...hyper(model, layers), optimizer };
    const exclusion = { nonNegativesIndptr: excluded.indptr, nonNegativesIndices: excluded.indices };
    const start = randomState(graph, 8, 43);
    const epoch = cloneState(start), steps = cloneState(start);
    const batch = 16, seed = 6;
    await native.trainEpoch({ ...epoch, ...h, sampler: 'rns', batch, seed, threads: 1, ...exclusion });
    const t = await native.sampleNegatives({ trainIndptr: graph.trainIndptr, trainIndices: graph.trainIndices, nItems: graph.nItems, seed, batch, threads: 1, sampler: 'rns', ...exclusion });
    for (let b = 0; b < t.users.length; b += batch) {
      const stats = await native.trainStep({ ...steps, ...h, sampler: 'rns', threads: 1, users: t.users.slice(b, b + batch), pos: t.pos.slice(b, b + batch), neg: t.neg.slice(b, b + batch) });
      steps.step = stats.step;
    }
    for (const name of TABLES) assertClose(epoch[name], steps[name], name, 1e-5, 1e-7);
  });
}

test('planted hidden positives: true labels as exclude or weighted do not lower valid Recall@20; random labels do not raise it', async () => {
  const data = generateSynthetic({ preset: 'small' });
  const hidden = data.hidden!;
  // As many random unobserved pairs per user as it has hidden positives.
  const random = seededRandom(9);
  const rows: number[] = [], cols: number[] = [];
  for (let u = 0; u < data.nUsers; u++) {
    const seen = new Set(data.train.indices.subarray(data.train.indptr[u], data.train.indptr[u + 1]));
    for (let n = hidden.indptr[u + 1] - hidden.indptr[u]; n > 0;) {
      const j = Math.floor(random() * data.nItems);
      if (!seen.has(j)) { rows.push(u); cols.push(j); seen.add(j); n--; }
    }
  }
  const randomLabels = csrFromPairs(data.nUsers, data.nItems, Uint32Array.from(rows), Uint32Array.from(cols)).csr;
  const recall = async (options: object) => {
    let sum = 0;
    for (const seed of [1, 2]) {
      const r = await train(data, { model: 'mf', dim: 32, lr: 0.005, epochs: 40, evalEvery: 5, patience: 3, threads: 2, seed, ...options });
      sum += r.valid!['recall@20'];
    }
    return sum / 2;
  };
  const none = await recall({});
  const exclude = await recall({ extraPositives: hidden, labelUse: 'exclude' });
  const weighted = await recall({ extraPositives: hidden, labelUse: 'weighted', labelWeight: 0.5 });
  const noise = await recall({ extraPositives: randomLabels, labelUse: 'positive' });
  const tolerance = 0.005; // about twice the seed-to-seed spread of this setting
  assert.ok(exclude >= none - tolerance, `exclude ${exclude} vs none ${none}`);
  assert.ok(weighted >= none - tolerance, `weighted ${weighted} vs none ${none}`);
  assert.ok(noise <= none + tolerance, `random labels ${noise} vs none ${none}`);
});

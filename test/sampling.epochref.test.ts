/**
 * Whole epochs of several batches against the plain-TS reference, step by step on the same draws
 * (remade from the native random streams): what one step leaves behind in the epoch's reused
 * buffers (gradient rows, mined negatives, drawn batches) must not reach the next step. MF takes
 * the default deferred dense Adam, which must match the reference's every-row steps.
 */
import { test } from 'node:test';
import { native } from '../src/native.js';
import { referenceSamplerStep } from '../src/sampling/sampler-reference.js';
import { assertClose, cloneState, randomGraph, randomState, TABLES } from './support/training.js';
import { pathFields, randomPaths } from './support/sampling.js';
import { referenceEpochDraws } from './support/epoch-draws.js';

const graph = randomGraph(40, 30, 6, 61);
const co = randomPaths(graph.nItems, 4, 3, 62), se = randomPaths(graph.nItems, 5, 2, 63);

for (const [sampler, layers] of [['mixgcf', 2], ['dtlns', 2], ['mixgcf', 0], ['dns', 2], ['rns', 2]] as const) {
  test(`a ${sampler} epoch of ${layers ? `LightGCN-${layers}` : 'MF'} in several batches is the reference step after step on its draws`, async () => {
    const hyper = {
      model: layers ? 'lightgcn' as const : 'mf' as const, layers, optimizer: 'adam' as const,
      trainIndptr: graph.trainIndptr, trainIndices: graph.trainIndices, lr: 0.05, beta1: 0.9, beta2: 0.999, eps: 1e-8, l2: 1e-3,
    };
    const k = 1, negs = sampler === 'rns' ? 1 : 3, batch = 24;
    const settings = { sampler, k, negs, ...(sampler === 'dtlns' ? { pathsCo: co, pathsSe: se } : {}) };
    const start = randomState(graph, 4, 64), ours = cloneState(start), theirs = cloneState(start);
    const stats = await native.trainEpoch({
      ...ours, ...hyper, batch, seed: 9, threads: 1, sampler, k, negs, ...(sampler === 'dtlns' ? pathFields(co, se) : {}),
    });
    const mixes = sampler === 'mixgcf' || sampler === 'dtlns';
    const batches = referenceEpochDraws(graph, 9, batch, { candidates: k * negs, alphas: mixes ? k * (layers + 1) : 0, picks: 0 });
    let bpr = 0, samples = 0;
    for (const d of batches) {
      const r = referenceSamplerStep(theirs, hyper, settings, d.users, d.pos,
        sampler === 'rns' ? { neg: d.candidates } : { candidates: d.candidates, ...(mixes ? { alphas: d.alphas } : {}) });
      theirs.step = r.step;
      bpr += r.bprLoss;  // the epoch's loss is the mean of its steps' means
      samples += r.samples;
    }
    const label = `${sampler} ${layers ? `LightGCN-${layers}` : 'MF'}`;
    assertClose([stats.steps, stats.samples, stats.step], [batches.length, samples, theirs.step], `${label} counts`, 0, 0);
    assertClose([stats.bprLoss], [bpr / batches.length], `${label} loss`, 1e-5);
    for (const name of TABLES) assertClose(ours[name], theirs[name], `${label} ${name}`, 1e-4, 2e-6);
  });
}

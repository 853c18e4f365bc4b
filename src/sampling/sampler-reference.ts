/**
 * The selection formulas of the samplers that choose among candidates, in plain TypeScript
 * (float64), written to be obviously correct rather than fast: the yardstick for
 * native.mineNegatives and the native training step in tests and the bench. Conventions as in
 * native/kernels/sampler.hpp: F_u is the user's final (mean-pooled) embedding, ties go to the
 * lowest candidate index.
 *
 *   dns     score <F_u, F_j>; the best candidate, or the picks[g]-th best with dnsTopK > 1.
 *   ahns    score <F_u, F_j>; the candidate nearest the hardness target
 *           t = ahnsBeta (<F_u, F_i> + ahnsAlpha)^(ahnsP + 1): argmin |score - t|.
 *   mixgcf  per layer l: ẽ_j = a_l E^l_i + (1 - a_l) E^l_j, score <F_u, ẽ_j>, argmax.
 *   dtlns   per layer: the mixgcf scores min-max normalised over the candidates,
 *           (s - min) / (max - min + 1e-8), plus alphaCo sim_co(i, j) + alphaSe sim_se(i, j).
 */
import type { ModelState } from '../native.js';
import { expectInteger, expectNumber, expectOneOf, expectUint32Array } from '../data/validate.js';
import { expectPathCodes, type PathCodes } from '../trees/path-codes.js';
import { prefixSimilarityReference } from '../trees/prefix.js';
import {
  referenceLayerTables, referenceMiniBatchStep, referenceTrainStep, type ReferenceStepOptions, type ReferenceStepResult,
} from '../train/step-reference.js';
import type { SamplerName } from './options.js';

export type ScoringSampler = 'dns' | 'ahns' | 'mixgcf' | 'dtlns';

export interface ReferenceMineOptions {
  sampler: ScoringSampler;
  negs: number;
  /** Negatives per positive (default 1). */
  k?: number;
  /** dns (default 1). */
  dnsTopK?: number;
  /** ahns (defaults 1, 0.1, -2). */
  ahnsAlpha?: number;
  ahnsBeta?: number;
  ahnsP?: number;
  /** dtlns (defaults 0.1 and 0.3) and its path codes. */
  alphaCo?: number;
  alphaSe?: number;
  pathsCo?: PathCodes;
  pathsSe?: PathCodes;
  /** E^0..E^L, each (nUsers + nItems) x dim with the users first (referenceLayerTables). */
  tables: Float64Array[];
  nUsers: number;
  dim: number;
  users: Uint32Array;
  pos: Uint32Array;
  /** n x k x negs. */
  candidates: Uint32Array;
  /** n x k x (L+1), mixgcf / dtlns. */
  alphas?: ArrayLike<number>;
  /** n x k, dns with dnsTopK > 1. */
  picks?: Uint32Array;
}

export interface ReferenceMined {
  /** n x k x (L+1): index of the chosen candidate in its group. */
  choice: Uint32Array;
  /** n x k x (L+1): the chosen item. */
  items: Uint32Array;
  /** n x k x dim: the negative's final embedding. */
  negatives: Float64Array;
  /** n x k x (L+1) x dim: its per-layer (mixed) rows. */
  layerRows: Float64Array;
  /** n x k x (L+1) x negs: the score each candidate was chosen by. */
  scores: Float64Array;
}

function argmax(scores: ArrayLike<number>): number {
  let best = 0;
  for (let c = 1; c < scores.length; c++) if (scores[c] > scores[best]) best = c;
  return best;
}

function checkMineOptions(o: ReferenceMineOptions) {
  const sampler = expectOneOf(o.sampler, 'sampler', ['dns', 'ahns', 'mixgcf', 'dtlns'] as const);
  const negs = expectInteger(o.negs, 'negs', 1);
  const k = expectInteger(o.k ?? 1, 'k', 1);
  const dnsTopK = expectInteger(o.dnsTopK ?? 1, 'dnsTopK', 1, negs);
  const L1 = o.tables.length;
  if (L1 < 1) throw new RangeError('Expected at least the layer-0 table in tables but received none');
  const n = expectUint32Array(o.users, 'users').length;
  expectUint32Array(o.pos, 'pos', n);
  expectUint32Array(o.candidates, 'candidates', n * k * negs);
  const mixes = sampler === 'mixgcf' || sampler === 'dtlns';
  if (mixes && o.alphas?.length !== n * k * L1) {
    throw new RangeError(`Expected ${n * k * L1} elements in alphas but received ${o.alphas?.length}`);
  }
  if (sampler === 'dns' && dnsTopK > 1) expectUint32Array(o.picks, 'picks', n * k);
  const alphaCo = expectNumber(o.alphaCo ?? 0.1, 'alphaCo');
  const alphaSe = expectNumber(o.alphaSe ?? 0.3, 'alphaSe');
  const ahns = {
    alpha: expectNumber(o.ahnsAlpha ?? 1, 'ahnsAlpha'),
    beta: expectNumber(o.ahnsBeta ?? 0.1, 'ahnsBeta', 0),
    p: expectInteger(o.ahnsP ?? -2, 'ahnsP', -8, 8),
  };
  const paths = sampler === 'dtlns' ? { co: expectPathCodes(o.pathsCo, 'pathsCo'), se: expectPathCodes(o.pathsSe, 'pathsSe') } : undefined;
  return { sampler, negs, k, dnsTopK, L1, n, mixes, alphaCo, alphaSe, ahns, paths };
}

/** The negatives dns, ahns, mixgcf or dtlns choose for these draws (ahns: scores holds |score - target|). */
export function referenceMineNegatives(o: ReferenceMineOptions): ReferenceMined {
  const { sampler, negs, k, dnsTopK, L1, n, mixes, alphaCo, alphaSe, ahns, paths } = checkMineOptions(o);
  const { dim, nUsers, tables } = o;
  const row = (l: number, node: number) => tables[l].subarray(node * dim, (node + 1) * dim);
  const final = (node: number) => Float64Array.from({ length: dim }, (_, d) => tables.reduce((acc, t) => acc + t[node * dim + d], 0) / L1);
  const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
    let sum = 0;
    for (let d = 0; d < dim; d++) sum += a[d] * b[d];
    return sum;
  };
  const out: ReferenceMined = {
    choice: new Uint32Array(n * k * L1), items: new Uint32Array(n * k * L1), negatives: new Float64Array(n * k * dim),
    layerRows: new Float64Array(n * k * L1 * dim), scores: new Float64Array(n * k * L1 * negs),
  };
  for (let b = 0; b < n; b++) {
    const fu = final(o.users[b]);
    const i = o.pos[b];
    for (let s = 0; s < k; s++) {
      const g = b * k + s;
      const cand = Array.from(o.candidates.subarray(g * negs, (g + 1) * negs));
      for (let l = 0; l < L1; l++) {
        let scores: number[];
        let rows: Float64Array[];
        if (!mixes) {
          rows = cand.map((j) => final(nUsers + j));
          scores = rows.map((r) => dot(fu, r));
        } else {
          const a = o.alphas![g * L1 + l];
          const ei = row(l, nUsers + i);
          rows = cand.map((j) => {
            const ej = row(l, nUsers + j);
            return Float64Array.from(ei, (x, d) => a * x + (1 - a) * ej[d]);
          });
          scores = rows.map((r) => dot(fu, r));
          if (sampler === 'dtlns') {
            const lo = Math.min(...scores), hi = Math.max(...scores);
            scores = scores.map((v, c) =>
              (v - lo) / (hi - lo + 1e-8) + alphaCo * prefixSimilarityReference(paths!.co, i, cand[c]) + alphaSe * prefixSimilarityReference(paths!.se, i, cand[c]));
          }
        }
        let best: number;
        if (sampler === 'ahns') {
          // Distance to the target; the nearest wins, so negate for the argmax (first on ties, as the kernel).
          const target = ahns.beta * Math.pow(dot(fu, final(nUsers + i)) + ahns.alpha, ahns.p + 1);
          scores = scores.map((v) => Math.abs(v - target));
          best = argmax(scores.map((v) => -v));
        } else if (!mixes && dnsTopK > 1) {
          const order = cand.map((_, c) => c).sort((x, y) => scores[y] - scores[x] || x - y);
          best = order[o.picks![g]];
        } else {
          best = argmax(scores);
        }
        out.choice[g * L1 + l] = best;
        out.items[g * L1 + l] = cand[best];
        out.scores.set(scores, (g * L1 + l) * negs);
        const chosen = mixes ? rows[best] : row(l, nUsers + cand[best]);
        out.layerRows.set(chosen, (g * L1 + l) * dim);
        for (let d = 0; d < dim; d++) out.negatives[g * dim + d] += chosen[d] / L1;
      }
    }
  }
  return out;
}

/** Sampler settings of a reference step (the fields of ResolvedSampler it reads). */
export interface ReferenceSamplerSettings {
  sampler: SamplerName;
  negs: number;
  k: number;
  dnsTopK?: number;
  alphaCo?: number;
  alphaSe?: number;
  ahnsAlpha?: number;
  ahnsBeta?: number;
  ahnsP?: number;
  pathsCo?: PathCodes;
  pathsSe?: PathCodes;
}

/** Explicit draws, as native.trainStep takes them. */
export interface ReferenceDraws {
  neg?: Uint32Array;
  candidates?: Uint32Array;
  alphas?: ArrayLike<number>;
  picks?: Uint32Array;
  /** One loss weight per positive (native.trainStep's weights); absent: all 1. */
  weights?: ArrayLike<number>;
}

/**
 * One training step with a sampler on explicit draws, as native.trainStep runs it: rns / pop
 * with k = 1 and no weights is referenceTrainStep on `neg`; otherwise the negatives are chosen by
 * referenceMineNegatives (dns, ahns, mixgcf, dtlns) or taken from `neg` (n x k), and trained by
 * referenceMiniBatchStep.
 */
export function referenceSamplerStep(
  state: ModelState,
  o: ReferenceStepOptions,
  sampler: ReferenceSamplerSettings,
  users: Uint32Array,
  pos: Uint32Array,
  draws: ReferenceDraws,
): ReferenceStepResult {
  const layers = o.model === 'mf' ? 0 : o.layers;
  const L1 = layers + 1;
  if (sampler.sampler === 'rns' || sampler.sampler === 'pop') {
    const neg = expectUint32Array(draws.neg, 'neg', users.length * sampler.k);
    if (sampler.k === 1 && !draws.weights) return referenceTrainStep(state, o, users, pos, neg);
    const items = Uint32Array.from({ length: neg.length * L1 }, (_, x) => neg[Math.floor(x / L1)]);
    return referenceMiniBatchStep(state, o, users, pos, { k: sampler.k, items, ...(draws.weights ? { weights: draws.weights } : {}) });
  }
  const tables = referenceLayerTables({ ...o, nUsers: state.nUsers, nItems: state.nItems, dim: state.dim, userEmb: state.userEmb, itemEmb: state.itemEmb });
  const mined = referenceMineNegatives({
    ...sampler, sampler: sampler.sampler, tables, nUsers: state.nUsers, dim: state.dim, users, pos,
    candidates: expectUint32Array(draws.candidates, 'candidates'), alphas: draws.alphas, picks: draws.picks,
  });
  return referenceMiniBatchStep(state, o, users, pos, {
    k: sampler.k, items: mined.items, ...(sampler.sampler === 'dns' || sampler.sampler === 'ahns' ? {} : { alphas: draws.alphas }),
    ...(draws.weights ? { weights: draws.weights } : {}),
  });
}

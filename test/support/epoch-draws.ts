/**
 * The draws of a whole trainEpoch, remade in TypeScript from the native definitions
 * (kernels/bpr.cpp, kernels/sampler.cpp) with the same random streams (src/trees/xoshiro.ts):
 * the Fisher-Yates plan from stream 0, then per chunk of 256 positives of a batch its own stream
 * (1 + batch x chunks per batch + chunk), drawing per sample its uniform candidates by rejection,
 * its mixing weights and its dns picks, in that order. For the sampler-epoch reference tests.
 */
import { Xoshiro256ss } from '../../src/trees/xoshiro.js';
import type { Graph } from './training.js';

const kSampleChunk = 256;
const kRejectionTries = 64;

export interface BatchDraws {
  users: Uint32Array;
  pos: Uint32Array;
  candidates: Uint32Array;
  alphas: Float32Array;
  picks: Uint32Array;
}

export interface DrawCounts {
  /** Candidates per sample (k x negs for the samplers that score them, k otherwise). */
  candidates: number;
  /** Mixing weights per sample (k x (layers + 1) for mixgcf and dtlns, else 0). */
  alphas: number;
  /** dns picks per sample (k when dnsTopK > 1, else 0), each below dnsTopK. */
  picks: number;
  dnsTopK?: number;
}

/** The batches of an epoch (users with every item positive are skipped, as native). */
export function referenceEpochDraws(g: Graph, seed: number, batch: number, counts: DrawCounts): BatchDraws[] {
  const n = g.trainIndices.length;
  const order = Uint32Array.from({ length: n }, (_, k) => k);
  const planRng = new Xoshiro256ss(seed, 0);
  for (let k = n; k > 1; k--) {
    const j = planRng.below(k);
    [order[k - 1], order[j]] = [order[j]!, order[k - 1]!];
  }
  const rowOf = new Uint32Array(n);
  for (let u = 0; u < g.nUsers; u++) for (let p = g.trainIndptr[u]!; p < g.trainIndptr[u + 1]!; p++) rowOf[p] = u;
  const users = Uint32Array.from(order, (p) => rowOf[p]!), items = Uint32Array.from(order, (p) => g.trainIndices[p]!);
  const row = (u: number) => g.trainIndices.subarray(g.trainIndptr[u], g.trainIndptr[u + 1]);
  const nBatches = Math.ceil(n / batch), chunksPerBatch = Math.ceil(batch / kSampleChunk);
  const out: BatchDraws[] = [];
  for (let b = 0; b < nBatches; b++) {
    const begin = b * batch, end = Math.min(n, begin + batch);
    const kept = { users: [] as number[], pos: [] as number[], candidates: [] as number[], alphas: [] as number[], picks: [] as number[] };
    for (let c = 0; begin + c * kSampleChunk < end; c++) {
      const rng = new Xoshiro256ss(seed, 1 + b * chunksPerBatch + c);
      for (let k = begin + c * kSampleChunk; k < Math.min(end, begin + (c + 1) * kSampleChunk); k++) {
        const positives = row(users[k]!);
        if (positives.length >= g.nItems) continue;
        kept.users.push(users[k]!);
        kept.pos.push(items[k]!);
        for (let x = 0; x < counts.candidates; x++) kept.candidates.push(uniformNegative(positives, g.nItems, rng));
        for (let x = 0; x < counts.alphas; x++) kept.alphas.push(Number(rng.next() >> 40n) / 16777216);
        for (let x = 0; x < counts.picks; x++) kept.picks.push(rng.below(counts.dnsTopK ?? 1));
      }
    }
    out.push({
      users: Uint32Array.from(kept.users), pos: Uint32Array.from(kept.pos), candidates: Uint32Array.from(kept.candidates),
      alphas: Float32Array.from(kept.alphas), picks: Uint32Array.from(kept.picks),
    });
  }
  return out;
}

/** drawUniformNegative: rejection, then the r-th non-positive after kRejectionTries misses. */
function uniformNegative(positives: Uint32Array, nItems: number, rng: Xoshiro256ss): number {
  for (let attempt = 0; attempt < kRejectionTries; attempt++) {
    const j = rng.below(nItems);
    if (!positives.includes(j)) return j;
  }
  let r = rng.below(nItems - positives.length);
  for (let j = 0; j < nItems; j++) if (!positives.includes(j) && r-- === 0) return j;
  throw new Error('unreachable: the user has a non-positive');
}

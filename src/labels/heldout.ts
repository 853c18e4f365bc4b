/**
 * Held-out candidates: candidate pairs that are the user's validation or test interactions.
 * The DTL-NS release's LLM labels were filtered with the ground truth (none of its 3,754
 * held-out candidates is labelled positive, against 92.1 % of the others), so its rows gain
 * from knowing the held-out sets. A policy puts every labelled row on the same footing:
 * - keep: the labels as given (our own labelers never read the held-out sets);
 * - impute: each held-out candidate is positive with the labeler's own acceptance rate over
 *   the other candidates, drawn with a seed (what a labeler blind to the held-out sets gives
 *   on average);
 * - drop: no held-out candidate is positive (e.g. "all candidates but the held-out ones").
 */
import type { Csr, Dataset } from '../data/types.js';
import { csrFind, csrFromPairs, csrUnion } from '../data/csr.js';
import { mulberry32 } from '../util/random.js';
import type { Candidates } from './types.js';

export const heldOutPolicies = ['keep', 'impute', 'drop'] as const;
export type HeldOutPolicy = (typeof heldOutPolicies)[number];

export interface HeldOutReport {
  policy: HeldOutPolicy;
  /** Candidate pairs that are validation or test interactions. */
  candidates: number;
  /** Share of the other candidates that the labels accept. */
  acceptance: number;
  /** Labelled positives that are validation / test interactions, after the policy. */
  positivesInValid: number;
  positivesInTest: number;
  /** Labelled positives after the policy. */
  positives: number;
}

function has(csr: Csr | undefined, u: number, item: number): boolean {
  return csr !== undefined && csrFind(csr, u, item) >= 0;
}

/** The labelled positives after the policy, and how many of them are held-out interactions. */
export function applyHeldOutPolicy(
  positives: Csr, candidates: Candidates, dataset: Dataset, policy: HeldOutPolicy, seed: number,
): { positives: Csr; report: HeldOutReport } {
  if (!(heldOutPolicies as readonly string[]).includes(policy)) {
    throw new RangeError(`Expected heldOut to be one of ${heldOutPolicies.join(', ')} but received ${String(policy)}`);
  }
  const heldOut = (u: number, i: number) => has(dataset.valid, u, i) || has(dataset.test, u, i);
  const held: Array<[number, number]> = [];
  let others = 0, accepted = 0;
  for (let c = 0; c < candidates.users.length; c++) {
    const u = candidates.users[c];
    for (let p = candidates.indptr[c]; p < candidates.indptr[c + 1]; p++) {
      const i = candidates.items[p];
      if (heldOut(u, i)) held.push([u, i]);
      else {
        others++;
        if (has(positives, u, i)) accepted++;
      }
    }
  }
  const acceptance = others ? accepted / others : 0;
  let result = positives;
  if (policy !== 'keep') {
    const isHeld = new Set(held.map(([u, i]) => u * dataset.nItems + i));
    const random = mulberry32(seed);
    const rows: number[] = [], cols: number[] = [];
    for (let u = 0; u < positives.rows; u++) {
      for (let p = positives.indptr[u]; p < positives.indptr[u + 1]; p++) {
        if (!isHeld.has(u * dataset.nItems + positives.indices[p])) { rows.push(u); cols.push(positives.indices[p]); }
      }
    }
    const kept = csrFromPairs(dataset.nUsers, dataset.nItems, Uint32Array.from(rows), Uint32Array.from(cols)).csr;
    // One draw per held-out candidate, in candidate order, whatever the labels said.
    const imputed = held.filter(() => random() < acceptance);
    result = policy === 'drop' ? kept : csrUnion(kept, csrFromPairs(dataset.nUsers, dataset.nItems,
      Uint32Array.from(imputed, ([u]) => u), Uint32Array.from(imputed, ([, i]) => i)).csr);
  }
  let inValid = 0, inTest = 0;
  for (let u = 0; u < result.rows; u++) {
    for (let p = result.indptr[u]; p < result.indptr[u + 1]; p++) {
      if (has(dataset.valid, u, result.indices[p])) inValid++;
      if (has(dataset.test, u, result.indices[p])) inTest++;
    }
  }
  return {
    positives: result,
    report: { policy, candidates: held.length, acceptance, positivesInValid: inValid, positivesInTest: inTest, positives: result.indices.length },
  };
}

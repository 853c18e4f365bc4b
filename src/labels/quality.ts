/** Labeler quality where the truth is known: synthetic data with planted hidden positives. */
import type { Dataset } from '../data/types.js';
import { csrHas } from '../data/csr.js';
import { idLookup } from './ids.js';
import type { LabelRecord } from './types.js';

export interface LabelQuality {
  /** Labelled (user, candidate) pairs. */
  pairs: number;
  positives: number;
  unparsed: number;
  /** Labelled pairs that are hidden positives (the most any labeler can find). */
  hiddenAmongPairs: number;
  /** Positives that are hidden positives. */
  truePositives: number;
  /** truePositives / positives (0 when nothing is positive). */
  precision: number;
  /** truePositives / hiddenAmongPairs: how many of the findable hidden positives were found. */
  recall: number;
  f1: number;
  /** hiddenAmongPairs / pairs: the precision of calling every candidate positive (topn). */
  baseRate: number;
  /** hiddenAmongPairs / all hidden positives of the labelled users: what the candidates let through. */
  candidateCoverage: number;
}

/** Precision and recall of the positive records against `dataset.hidden` (synthetic datasets only). */
export function labelQuality(records: LabelRecord[], dataset: Dataset): LabelQuality {
  if (!Array.isArray(records)) throw new TypeError(`Expected an array of label records for records but received ${String(records)}`);
  const hidden = dataset.hidden;
  if (!hidden) throw new RangeError(`Expected a dataset with planted hidden positives (synthetic) but ${dataset.name} has none`);
  const users = idLookup(dataset.userIds);
  const items = idLookup(dataset.itemIds);
  let positives = 0, unparsed = 0, hiddenAmongPairs = 0, truePositives = 0;
  const labelledUsers = new Set<number>();
  for (const r of records) {
    const u = users.get(r.user);
    const i = items.get(r.item);
    if (u === undefined || i === undefined) throw new RangeError(`Expected label records of dataset ${dataset.name} but user ${r.user} item ${r.item} is not in it`);
    labelledUsers.add(u);
    const isHidden = csrHas(hidden, u, i);
    if (isHidden) hiddenAmongPairs++;
    if (r.label === 'positive') {
      positives++;
      if (isHidden) truePositives++;
    } else if (r.label === 'unparsed') unparsed++;
  }
  let hiddenOfUsers = 0;
  for (const u of labelledUsers) hiddenOfUsers += hidden.indptr[u + 1] - hidden.indptr[u];
  const precision = positives > 0 ? truePositives / positives : 0;
  const recall = hiddenAmongPairs > 0 ? truePositives / hiddenAmongPairs : 0;
  return {
    pairs: records.length, positives, unparsed, hiddenAmongPairs, truePositives, precision, recall,
    f1: precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0,
    baseRate: records.length > 0 ? hiddenAmongPairs / records.length : 0,
    candidateCoverage: hiddenOfUsers > 0 ? hiddenAmongPairs / hiddenOfUsers : 0,
  };
}

export interface HeldOutShare {
  /** Labelled (user, candidate) pairs. */
  pairs: number;
  positives: number;
  /** Pairs that are the user's valid or test interactions. */
  heldOutAmongPairs: number;
  /** Positives that are the user's valid or test interactions. */
  heldOutPositives: number;
  /** positives / pairs. */
  acceptance: number;
  /** heldOutPositives / positives: a lower bound on precision (a true future interaction was labelled positive). */
  precisionProxy: number;
  /** heldOutAmongPairs / pairs: the precision proxy of labelling every candidate positive. */
  baseRate: number;
  /** heldOutPositives / heldOutAmongPairs: the share of held-out candidates the labeler accepted. */
  recallProxy: number;
}

/**
 * How many of a labeler's positives are the users' held-out (valid or test) interactions, against
 * the base rate of all labelled pairs: the measurement on real data, where the false negatives are
 * unknown. It reads valid/test; labelers never do (they see the training history only).
 */
export function labelHeldOut(records: LabelRecord[], dataset: Dataset): HeldOutShare {
  if (!Array.isArray(records)) throw new TypeError(`Expected an array of label records for records but received ${String(records)}`);
  const heldOut = [dataset.valid, dataset.test].filter((m) => m !== undefined);
  if (heldOut.length === 0) throw new RangeError(`Expected a dataset with valid or test interactions but ${dataset.name} has none`);
  const users = idLookup(dataset.userIds);
  const items = idLookup(dataset.itemIds);
  let positives = 0, heldOutAmongPairs = 0, heldOutPositives = 0;
  for (const r of records) {
    const u = users.get(r.user);
    const i = items.get(r.item);
    if (u === undefined || i === undefined) throw new RangeError(`Expected label records of dataset ${dataset.name} but user ${r.user} item ${r.item} is not in it`);
    const isHeldOut = heldOut.some((m) => csrHas(m, u, i));
    if (isHeldOut) heldOutAmongPairs++;
    if (r.label === 'positive') {
      positives++;
      if (isHeldOut) heldOutPositives++;
    }
  }
  const pairs = records.length;
  return {
    pairs, positives, heldOutAmongPairs, heldOutPositives,
    acceptance: pairs > 0 ? positives / pairs : 0,
    precisionProxy: positives > 0 ? heldOutPositives / positives : 0,
    baseRate: pairs > 0 ? heldOutAmongPairs / pairs : 0,
    recallProxy: heldOutAmongPairs > 0 ? heldOutPositives / heldOutAmongPairs : 0,
  };
}

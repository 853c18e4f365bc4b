/** Summary figures of a Dataset (the `datasets` CLI command prints them). */
import type { Csr, Dataset, LoadReport } from './types.js';
import { csrColumnCounts, csrRowLengths } from './csr.js';

/** Distribution of a count over users or items (linear-interpolated quantiles, as numpy's default). */
export interface CountSummary {
  min: number;
  p25: number;
  median: number;
  p75: number;
  p90: number;
  max: number;
  mean: number;
}

export interface DatasetStats {
  name: string;
  nUsers: number;
  nItems: number;
  nTrain: number;
  nValid: number;
  nTest: number;
  /** train + valid + test. */
  nInteractions: number;
  /** nInteractions / (nUsers * nItems). */
  density: number;
  usersWithTrain: number;
  usersWithValid: number;
  usersWithTest: number;
  itemsWithTrain: number;
  /** Items with no training interaction but some in valid or test. */
  itemsOnlyInValidOrTest: number;
  /** Items in no split at all (possible when the count comes from stats.json). */
  itemsWithoutInteractions: number;
  /** Over all users (zeros included). */
  trainItemsPerUser: CountSummary;
  /** Over all items (zeros included). */
  trainUsersPerItem: CountSummary;
  /** Synthetic data: planted hidden positives. */
  nHidden?: number;
  reports: LoadReport[];
}

export function summarizeCounts(counts: Uint32Array): CountSummary {
  const n = counts.length;
  if (n === 0) return { min: 0, p25: 0, median: 0, p75: 0, p90: 0, max: 0, mean: 0 };
  const sorted = counts.slice().sort();
  const q = (p: number): number => {
    const x = p * (n - 1);
    const lo = Math.floor(x);
    const hi = Math.min(n - 1, lo + 1);
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (x - lo);
  };
  let sum = 0;
  for (let k = 0; k < n; k++) sum += sorted[k];
  return { min: sorted[0], p25: q(0.25), median: q(0.5), p75: q(0.75), p90: q(0.9), max: sorted[n - 1], mean: sum / n };
}

function nonEmptyRows(csr: Csr | undefined): number {
  if (!csr) return 0;
  let n = 0;
  for (let r = 0; r < csr.rows; r++) if (csr.indptr[r + 1] > csr.indptr[r]) n++;
  return n;
}

export function datasetStats(ds: Dataset): DatasetStats {
  if (ds === null || typeof ds !== 'object' || !ds.train) throw new TypeError(`Expected a Dataset for ds but received ${String(ds)}`);
  const nnz = (c: Csr | undefined): number => (c ? c.indptr[c.rows] : 0);
  const nTrain = nnz(ds.train);
  const nValid = nnz(ds.valid);
  const nTest = nnz(ds.test);
  const perItemTrain = csrColumnCounts(ds.train);
  const perItemEval = new Uint32Array(ds.nItems);
  for (const c of [ds.valid, ds.test]) {
    if (!c) continue;
    for (let p = 0; p < nnz(c); p++) perItemEval[c.indices[p]]++;
  }
  let itemsWithTrain = 0;
  let itemsOnlyInValidOrTest = 0;
  let itemsWithoutInteractions = 0;
  for (let i = 0; i < ds.nItems; i++) {
    if (perItemTrain[i] > 0) itemsWithTrain++;
    else if (perItemEval[i] > 0) itemsOnlyInValidOrTest++;
    else itemsWithoutInteractions++;
  }
  const nInteractions = nTrain + nValid + nTest;
  const stats: DatasetStats = {
    name: ds.name,
    nUsers: ds.nUsers,
    nItems: ds.nItems,
    nTrain,
    nValid,
    nTest,
    nInteractions,
    density: ds.nUsers * ds.nItems > 0 ? nInteractions / (ds.nUsers * ds.nItems) : 0,
    usersWithTrain: nonEmptyRows(ds.train),
    usersWithValid: nonEmptyRows(ds.valid),
    usersWithTest: nonEmptyRows(ds.test),
    itemsWithTrain,
    itemsOnlyInValidOrTest,
    itemsWithoutInteractions,
    trainItemsPerUser: summarizeCounts(csrRowLengths(ds.train)),
    trainUsersPerItem: summarizeCounts(perItemTrain),
    reports: ds.reports,
  };
  if (ds.hidden) stats.nHidden = nnz(ds.hidden);
  return stats;
}

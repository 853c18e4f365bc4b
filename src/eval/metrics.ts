/**
 * Ranking metrics with LightGCN-PyTorch's definitions: Recall@K = hits / |test_u|,
 * Precision@K = hits / K, NDCG@K with IDCG over min(|test_u|, K), HitRate@K = [hits > 0];
 * all averaged over the users that have at least one test item.
 */
import type { Csr } from '../data/types.js';

export type MetricName = 'recall' | 'ndcg' | 'precision' | 'hit';
/** Keys like "recall@20". */
export type Metrics = Record<string, number>;

/**
 * @param topItems users.length x k ranked item indices (row-major).
 * @param users the user index of each row.
 * @param truth users x items relevant items.
 */
export function rankingMetrics(topItems: Uint32Array, k: number, users: Uint32Array, truth: Csr, ks: number[]): Metrics {
  for (const cut of ks) {
    if (!Number.isInteger(cut) || cut < 1 || cut > k) throw new RangeError(`Expected every cut-off in ks within [1, ${k}] but received ${cut}`);
  }
  const sums: Record<string, number> = {};
  for (const cut of ks) for (const m of ['recall', 'ndcg', 'precision', 'hit']) sums[`${m}@${cut}`] = 0;
  const maxK = Math.max(...ks);
  const discount = new Float64Array(maxK);
  for (let r = 0; r < maxK; r++) discount[r] = 1 / Math.log2(r + 2);
  const sortedKs = [...new Set(ks)].sort((a, b) => a - b);
  let counted = 0;
  for (let q = 0; q < users.length; q++) {
    const u = users[q];
    const start = truth.indptr[u], end = truth.indptr[u + 1];
    const nTrue = end - start;
    if (nTrue === 0) continue;
    counted++;
    const relevant = new Set<number>();
    for (let p = start; p < end; p++) relevant.add(truth.indices[p]);
    let hits = 0, dcg = 0, idcg = 0;
    let cutIndex = 0;
    for (let r = 0; r < maxK; r++) {
      if (relevant.has(topItems[q * k + r])) {
        hits++;
        dcg += discount[r];
      }
      if (r < nTrue) idcg += discount[r];
      while (cutIndex < sortedKs.length && sortedKs[cutIndex] === r + 1) {
        const cut = sortedKs[cutIndex++];
        sums[`recall@${cut}`] += hits / nTrue;
        sums[`precision@${cut}`] += hits / cut;
        sums[`ndcg@${cut}`] += dcg / idcg;
        sums[`hit@${cut}`] += hits > 0 ? 1 : 0;
      }
    }
  }
  const out: Metrics = {};
  for (const key of Object.keys(sums)) out[key] = counted ? sums[key] / counted : 0;
  out.users = counted;
  return out;
}

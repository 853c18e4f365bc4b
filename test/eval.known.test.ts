/** Known answers worked out by hand: ranking metrics, and masked evaluation (evaluateEmbeddings, train()). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Csr } from '../src/data/types.js';
import { rankingMetrics } from '../src/eval/metrics.js';
import { evaluateEmbeddings, usersWithItems } from '../src/eval/evaluate.js';
import { referenceMaskedTopK } from '../src/eval/topk-reference.js';
import { generateSynthetic } from '../src/data/synthetic.js';
import { train } from '../src/train/train.js';

function csr(rows: number[][], cols: number): Csr {
  const indptr = new Uint32Array(rows.length + 1);
  rows.forEach((row, r) => (indptr[r + 1] = indptr[r] + row.length));
  return { rows: rows.length, cols, indptr, indices: Uint32Array.from(rows.flat()) };
}

function assertMetrics(actual: Record<string, number>, expected: Record<string, number>): void {
  for (const [key, value] of Object.entries(expected)) {
    assert.ok(Math.abs(actual[key] - value) <= 1e-12, `${key}: ${actual[key]} vs ${value}`);
  }
}

const log2 = Math.log2;

test('ranking metrics: Recall, Precision, NDCG and HitRate @1/3/5 of a worked ranking (LightGCN-PyTorch definitions)', () => {
  // user 0: truth {2, 5, 7}, ranking [5, 1, 7, 0, 2]: hits at ranks 1, 3, 5.
  // user 1: truth {4},       ranking [3, 6, 0, 1, 9]: no hit.
  // user 2: no truth: left out of every mean (users = 2), whatever its ranking.
  const truth = csr([[2, 5, 7], [4], []], 10);
  const ranking = Uint32Array.from([5, 1, 7, 0, 2, 3, 6, 0, 1, 9, 2, 5, 7, 4, 0]);
  const m = rankingMetrics(ranking, 5, Uint32Array.of(0, 1, 2), truth, [1, 3, 5]);
  // user 0, K = 1: 1 hit of 3 -> recall 1/3, precision 1/1, DCG = 1/log2(2) = 1, IDCG over min(3, 1) = 1 rank = 1.
  // user 0, K = 3: 2 hits -> recall 2/3, precision 2/3, DCG = 1 + 1/log2(4) = 1.5,
  //                IDCG over 3 ranks = 1 + 1/log2(3) + 1/log2(4) = 2.1309297535714578 -> NDCG 0.7039180890341347.
  // user 0, K = 5: 3 hits -> recall 1, precision 3/5, DCG = 1.5 + 1/log2(6) = 1.8868528072345416,
  //                IDCG still over min(3, 5) = 3 ranks -> NDCG 0.8854598815714874.
  // user 1: every metric 0. Means over the 2 users with truth: user 0's value / 2.
  assertMetrics(m, {
    'recall@1': 1 / 3 / 2, 'precision@1': 1 / 2, 'ndcg@1': 1 / 2, 'hit@1': 1 / 2,
    'recall@3': 2 / 3 / 2, 'precision@3': 2 / 3 / 2, 'ndcg@3': 0.7039180890341347 / 2, 'hit@3': 1 / 2,
    'recall@5': 1 / 2, 'precision@5': 3 / 5 / 2, 'ndcg@5': 0.8854598815714874 / 2, 'hit@5': 1 / 2,
  });
  // The same figures from the formula's terms, so a wrong constant above cannot hide.
  assert.ok(Math.abs(0.7039180890341347 - 1.5 / (1 + 1 / log2(3) + 1 / log2(4))) < 1e-15);
  assert.ok(Math.abs(0.8854598815714874 - (1.5 + 1 / log2(6)) / (1 + 1 / log2(3) + 1 / log2(4))) < 1e-15);
  assert.equal(m.users, 2);
  assert.deepEqual(Object.keys(m).sort(), [
    'hit@1', 'hit@3', 'hit@5', 'ndcg@1', 'ndcg@3', 'ndcg@5', 'precision@1', 'precision@3', 'precision@5', 'recall@1', 'recall@3', 'recall@5', 'users',
  ]);
});

test('ranking metrics: a cut-off below k reads only the first ranks; IDCG is capped at K when truth is larger', () => {
  // truth {0, 1, 2, 3}, ranking [9, 0, 1]; K = 2: 1 hit at rank 2 -> recall 1/4, precision 1/2,
  // DCG = 1/log2(3), IDCG over min(4, 2) = 2 ranks = 1 + 1/log2(3).
  const m = rankingMetrics(Uint32Array.from([9, 0, 1]), 3, Uint32Array.of(0), csr([[0, 1, 2, 3]], 10), [2]);
  assertMetrics(m, { 'recall@2': 1 / 4, 'precision@2': 1 / 2, 'ndcg@2': 1 / log2(3) / (1 + 1 / log2(3)), 'hit@2': 1 });
  assert.throws(() => rankingMetrics(Uint32Array.from([9, 0, 1]), 3, Uint32Array.of(0), csr([[0]], 10), [4]), RangeError);
});

// dim 1: user 0 = [1] scores items [5, 4, 3, 2, 1] as 5 > 4 > 3 > 2 > 1; user 1 = [-1] reverses it.
const userEmb = Float32Array.of(1, -1);
const itemEmb = Float32Array.of(5, 4, 3, 2, 1);
const trainItems = csr([[0, 1], [4]], 5);
const testItems = csr([[2, 4], [3]], 5);

test('evaluateEmbeddings removes the mask\'s items from each ranking before the metrics', async () => {
  // Masked rankings: user 0 [2, 3, 4] (hits at ranks 1, 3), user 1 [3, 2, 1] (hit at rank 1).
  // @1: user 0 recall 1/2, ndcg 1; user 1 recall 1, ndcg 1 -> means 3/4 and 1.
  // @3: user 0 recall 1, ndcg (1 + 1/log2(4)) / (1 + 1/log2(3)); user 1 recall 1, ndcg 1.
  const masked = await evaluateEmbeddings(userEmb, itemEmb, 1, testItems, { ks: [1, 3], mask: trainItems, threads: 1 });
  assertMetrics(masked, {
    'recall@1': 3 / 4, 'ndcg@1': 1, 'precision@1': 1, 'hit@1': 1,
    'recall@3': 1, 'ndcg@3': (1.5 / (1 + 1 / log2(3)) + 1) / 2, 'precision@3': (2 / 3 + 1 / 3) / 2, 'hit@3': 1,
  });
  // Unmasked rankings: user 0 [0, 1, 2] (hit at rank 3), user 1 [4, 3, 2] (hit at rank 2): recall@1 0.
  const unmasked = await evaluateEmbeddings(userEmb, itemEmb, 1, testItems, { ks: [1, 3], threads: 1 });
  assertMetrics(unmasked, { 'recall@1': 0, 'recall@3': (1 / 2 + 1) / 2 });
});

test('train() evaluates valid and test with the original training items masked', async () => {
  const dataset = generateSynthetic({ preset: 'tiny', seed: 11 });
  const ks = [5, 20];
  const result = await train(dataset, { model: 'mf', dim: 8, epochs: 2, evalEvery: 1, threads: 1, ks });
  for (const split of ['valid', 'test'] as const) {
    const truth = dataset[split]!;
    const users = usersWithItems(truth);
    // The plain-TS ranking of the returned embeddings with the training items removed.
    const { items } = referenceMaskedTopK(result.userEmb, result.itemEmb, result.dim, users, 20, dataset.train);
    const expected = rankingMetrics(items, 20, users, truth, ks);
    assert.deepEqual(result[split], expected, split);
    const { items: unmaskedItems } = referenceMaskedTopK(result.userEmb, result.itemEmb, result.dim, users, 20);
    assert.notDeepEqual(rankingMetrics(unmaskedItems, 20, users, truth, ks), expected, `${split}: the mask changes the figures`);
  }
});

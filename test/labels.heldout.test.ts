/**
 * Held-out policies and labeler quality on hand-made cases, exactly: every imputed draw of the
 * seeded generator, the reports' counts, and each quality figure worked out in the comments.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyHeldOutPolicy } from '../src/labels/heldout.js';
import { labelHeldOut, labelQuality } from '../src/labels/quality.js';
import { mulberry32 } from '../src/util/random.js';
import type { Csr, Dataset } from '../src/data/types.js';
import type { LabelRecord } from '../src/labels/types.js';

const csr = (rows: number[][], cols: number): Csr => {
  const indptr = new Uint32Array(rows.length + 1);
  rows.forEach((r, u) => (indptr[u + 1] = indptr[u] + r.length));
  return { rows: rows.length, cols, indptr, indices: Uint32Array.from(rows.flat()) };
};
const rows = (m: Csr) => Array.from({ length: m.rows }, (_, u) => Array.from(m.indices.subarray(m.indptr[u], m.indptr[u + 1])));

// 3 users, 6 items, original ids 10.. and 100..; valid: user 0 {2}, user 1 {3}; test: user 0 {5}, user 2 {4}.
const dataset: Dataset = {
  name: 'mini', nUsers: 3, nItems: 6, userIds: [10, 11, 12], itemIds: [100, 101, 102, 103, 104, 105],
  train: csr([[0, 1], [2], [3]], 6), valid: csr([[2], [3], []], 6), test: csr([[5], [], [4]], 6), reports: [],
};
// Candidates: user 0 {2 (valid), 3, 4, 5 (test)}, user 1 {0, 3 (valid), 4}, user 2 {0, 1}.
// Held out, in candidate order: (0,2), (0,5), (1,3). The six others: (0,3) (0,4) (1,0) (1,4) (2,0) (2,1).
const candidates = { users: Uint32Array.of(0, 1, 2), indptr: Uint32Array.of(0, 4, 7, 9), items: Uint32Array.of(2, 3, 4, 5, 0, 3, 4, 0, 1) };

test('applyHeldOutPolicy keep and drop: the reports count held-out positives, also labels outside the candidates', () => {
  // Labels: (0,2) valid, (0,3), (1,0), (1,3) valid, and (2,4), a test interaction that is no candidate.
  const labels = csr([[2, 3], [0, 3], [4]], 6);
  // Others accepted: (0,3) and (1,0), 2 of 6.
  const keep = applyHeldOutPolicy(labels, candidates, dataset, 'keep', 1);
  assert.equal(keep.positives, labels);
  assert.deepEqual(keep.report, { policy: 'keep', candidates: 3, acceptance: 2 / 6, positivesInValid: 2, positivesInTest: 1, positives: 5 });
  // drop removes the held-out candidates (0,2) and (1,3) only: (2,4) is not a candidate.
  const drop = applyHeldOutPolicy(labels, candidates, dataset, 'drop', 1);
  assert.deepEqual(rows(drop.positives), [[3], [0], [4]]);
  assert.deepEqual(drop.report, { policy: 'drop', candidates: 3, acceptance: 2 / 6, positivesInValid: 0, positivesInTest: 1, positives: 3 });
  assert.equal(
    (() => { try { applyHeldOutPolicy(labels, candidates, dataset, 'hide' as never, 1); } catch (e) { return (e as Error).message; } return ''; })(),
    'Expected heldOut to be one of keep, impute, drop but received hide',
  );
});

test('applyHeldOutPolicy impute: one draw per held-out candidate in candidate order, positive below the acceptance rate', () => {
  // Labels filtered with the truth: (0,3), (0,4), (1,0) accepted of the 6 others (rate 1/2), no held-out one.
  const labels = csr([[3, 4], [0], []], 6);
  const seen = new Set<string>();
  for (let seed = 1; seed <= 12; seed++) {
    const random = mulberry32(seed);
    const [d02, d05, d13] = [random(), random(), random()].map((r) => r < 0.5);
    const expected = [[...(d02 ? [2] : []), 3, 4, ...(d05 ? [5] : [])], [0, ...(d13 ? [3] : [])], []];
    const r = applyHeldOutPolicy(labels, candidates, dataset, 'impute', seed);
    assert.deepEqual(rows(r.positives), expected, `seed ${seed}`);
    assert.deepEqual(r.report, {
      policy: 'impute', candidates: 3, acceptance: 0.5, positivesInValid: Number(d02) + Number(d13), positivesInTest: Number(d05), positives: 3 + Number(d02) + Number(d05) + Number(d13),
    });
    seen.add(`${d02}${d05}${d13}`);
  }
  assert.ok(seen.size >= 4, 'the seeds give several draws');
  // A held-out label is dropped before the draws: with (0,2) labelled, a seed drawing it negative removes it.
  const random = mulberry32(2);
  const drawn02 = random() < 0.5;
  const withHeld = applyHeldOutPolicy(csr([[2, 3, 4], [0], []], 6), candidates, dataset, 'impute', 2);
  assert.equal(rows(withHeld.positives)[0].includes(2), drawn02);
  // No other candidate: acceptance 0, nothing imputed.
  const onlyHeld = { users: Uint32Array.of(0), indptr: Uint32Array.of(0, 2), items: Uint32Array.of(2, 5) };
  const none = applyHeldOutPolicy(csr([[2], [], []], 6), onlyHeld, dataset, 'impute', 3);
  assert.deepEqual(rows(none.positives), [[], [], []]);
  assert.deepEqual(none.report, { policy: 'impute', candidates: 2, acceptance: 0, positivesInValid: 0, positivesInTest: 0, positives: 0 });
  // Every other candidate accepted: every held-out candidate imputed.
  const all = applyHeldOutPolicy(csr([[3, 4], [0, 4], [0, 1]], 6), candidates, dataset, 'impute', 4);
  assert.deepEqual(rows(all.positives), [[2, 3, 4, 5], [0, 3, 4], [0, 1]]);
  // Without a validation split only the test interactions are held out: (0,5).
  const noValid = applyHeldOutPolicy(csr([[2, 3], [0, 3], []], 6), candidates, { ...dataset, valid: undefined }, 'drop', 1);
  assert.deepEqual(rows(noValid.positives), [[2, 3], [0, 3], []]);
  assert.deepEqual(noValid.report, { policy: 'drop', candidates: 1, acceptance: 4 / 8, positivesInValid: 0, positivesInTest: 0, positives: 4 });
  const noTest = applyHeldOutPolicy(csr([[2, 5], [], []], 6), candidates, { ...dataset, test: undefined }, 'drop', 1);
  assert.deepEqual(rows(noTest.positives), [[5], [], []]);
  assert.deepEqual(noTest.report, { policy: 'drop', candidates: 2, acceptance: 1 / 7, positivesInValid: 0, positivesInTest: 0, positives: 1 });
});

const rec = (user: number, item: number, label: LabelRecord['label']): LabelRecord => ({ user, item, label, labeler: 'rule', model: 'x' });

function message(f: () => unknown): string {
  try {
    f();
  } catch (error) {
    return `${(error as Error).constructor.name}: ${(error as Error).message}`;
  }
  return 'no error';
}

test('labelQuality against planted hidden positives, worked out by hand', () => {
  // Hidden: user 10 {101, 102, 104}, user 11 {103}, user 12 {105} (never labelled).
  const planted: Dataset = { ...dataset, hidden: csr([[1, 2, 4], [3], [5]], 6) };
  const q = labelQuality([
    rec(10, 101, 'positive'), rec(10, 102, 'negative'), rec(10, 103, 'positive'), rec(10, 105, 'unparsed'), rec(11, 103, 'positive'), rec(11, 104, 'negative'),
  ], planted);
  // Hidden among the 6 pairs: (10,101) (10,102) (11,103) = 3; positives 3, of which hidden (10,101) (11,103) = 2.
  // precision 2/3, recall 2/3, F1 = 2pr/(p+r); base rate 3/6; the labelled users hold 3 + 1 hidden: coverage 3/4.
  assert.deepEqual(q, {
    pairs: 6, positives: 3, unparsed: 1, hiddenAmongPairs: 3, truePositives: 2, precision: 2 / 3, recall: 2 / 3,
    f1: (2 * (2 / 3) * (2 / 3)) / (2 / 3 + 2 / 3), baseRate: 0.5, candidateCoverage: 0.75,
  });
  // Precision and recall that differ: positives (10,101) hidden, (10,103) not, (10,104) hidden; pairs add (11,104).
  const q2 = labelQuality([rec(10, 101, 'positive'), rec(10, 103, 'positive'), rec(10, 104, 'positive'), rec(11, 104, 'negative'), rec(11, 103, 'negative')], planted);
  assert.deepEqual(q2, {
    pairs: 5, positives: 3, unparsed: 0, hiddenAmongPairs: 3, truePositives: 2, precision: 2 / 3, recall: 2 / 3,
    f1: (2 * (2 / 3) * (2 / 3)) / (2 / 3 + 2 / 3), baseRate: 3 / 5, candidateCoverage: 3 / 4,
  });
  const q3 = labelQuality([rec(10, 101, 'positive'), rec(10, 103, 'positive'), rec(10, 100, 'positive'), rec(10, 102, 'negative')], planted);
  // 3 positives, 1 hidden: precision 1/3; hidden among pairs (10,101) (10,102): recall 1/2; user 10 holds 3 hidden.
  assert.deepEqual(q3, {
    pairs: 4, positives: 3, unparsed: 0, hiddenAmongPairs: 2, truePositives: 1, precision: 1 / 3, recall: 1 / 2,
    f1: (2 * (1 / 3) * (1 / 2)) / (1 / 3 + 1 / 2), baseRate: 2 / 4, candidateCoverage: 2 / 3,
  });
  // Nothing to divide by: every ratio 0.
  assert.deepEqual(labelQuality([], planted), {
    pairs: 0, positives: 0, unparsed: 0, hiddenAmongPairs: 0, truePositives: 0, precision: 0, recall: 0, f1: 0, baseRate: 0, candidateCoverage: 0,
  });
  // A user without hidden positives, a negative record: coverage 0 and recall 0, base rate 0.
  const bare: Dataset = { ...dataset, hidden: csr([[], [], [5]], 6) };
  assert.deepEqual(labelQuality([rec(10, 103, 'negative'), rec(11, 100, 'positive')], bare), {
    pairs: 2, positives: 1, unparsed: 0, hiddenAmongPairs: 0, truePositives: 0, precision: 0, recall: 0, f1: 0, baseRate: 0, candidateCoverage: 0,
  });
  assert.equal(message(() => labelQuality([rec(13, 101, 'positive')], planted)), 'RangeError: Expected label records of dataset mini but user 13 item 101 is not in it');
  assert.equal(message(() => labelQuality([rec(10, 106, 'positive')], planted)), 'RangeError: Expected label records of dataset mini but user 10 item 106 is not in it');
  assert.equal(message(() => labelQuality([rec(10, 101, 'positive')], dataset)), 'RangeError: Expected a dataset with planted hidden positives (synthetic) but mini has none');
  assert.equal(message(() => labelQuality('x' as never, planted)), 'TypeError: Expected an array of label records for records but received x');
});

test('labelHeldOut: test-only and valid-only datasets, nothing to divide by, and the whole messages', () => {
  // Pairs: (10,102) valid, (10,105) test, (11,103) valid, (12,104) test, (12,100) neither.
  const records = [rec(10, 102, 'positive'), rec(10, 105, 'negative'), rec(11, 103, 'unparsed'), rec(12, 104, 'positive'), rec(12, 100, 'positive')];
  assert.deepEqual(labelHeldOut(records, dataset), {
    pairs: 5, positives: 3, heldOutAmongPairs: 4, heldOutPositives: 2, acceptance: 3 / 5, precisionProxy: 2 / 3, baseRate: 4 / 5, recallProxy: 2 / 4,
  });
  // Test only: (10,105) and (12,104) held out.
  assert.deepEqual(labelHeldOut(records, { ...dataset, valid: undefined }), {
    pairs: 5, positives: 3, heldOutAmongPairs: 2, heldOutPositives: 1, acceptance: 3 / 5, precisionProxy: 1 / 3, baseRate: 2 / 5, recallProxy: 1 / 2,
  });
  // Valid only: (10,102) and (11,103).
  assert.deepEqual(labelHeldOut(records, { ...dataset, test: undefined }), {
    pairs: 5, positives: 3, heldOutAmongPairs: 2, heldOutPositives: 1, acceptance: 3 / 5, precisionProxy: 1 / 3, baseRate: 2 / 5, recallProxy: 1 / 2,
  });
  assert.deepEqual(labelHeldOut([], dataset), { pairs: 0, positives: 0, heldOutAmongPairs: 0, heldOutPositives: 0, acceptance: 0, precisionProxy: 0, baseRate: 0, recallProxy: 0 });
  assert.deepEqual(labelHeldOut([rec(12, 100, 'negative')], dataset), { pairs: 1, positives: 0, heldOutAmongPairs: 0, heldOutPositives: 0, acceptance: 0, precisionProxy: 0, baseRate: 0, recallProxy: 0 });
  assert.equal(message(() => labelHeldOut([rec(9, 100, 'positive')], dataset)), 'RangeError: Expected label records of dataset mini but user 9 item 100 is not in it');
  assert.equal(message(() => labelHeldOut([rec(10, 99, 'positive')], dataset)), 'RangeError: Expected label records of dataset mini but user 10 item 99 is not in it');
  assert.equal(message(() => labelHeldOut({} as never, dataset)), 'TypeError: Expected an array of label records for records but received [object Object]');
  assert.equal(message(() => labelHeldOut([], { ...dataset, valid: undefined, test: undefined })), 'RangeError: Expected a dataset with valid or test interactions but mini has none');
});

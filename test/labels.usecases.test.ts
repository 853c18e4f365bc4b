/** Label uses on a second hand-made case: each weight read from the right pair, the defaults, the whole messages. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyLabelUse, labelUses, resolveLabelUse } from '../src/labels/use.js';
import type { Csr } from '../src/data/types.js';

const csr = (rows: number[][], cols: number): Csr => {
  const indptr = new Uint32Array(rows.length + 1);
  rows.forEach((r, u) => (indptr[u + 1] = indptr[u] + r.length));
  return { rows: rows.length, cols, indptr, indices: Uint32Array.from(rows.flat()) };
};
const rows = (m: Csr) => Array.from({ length: m.rows }, (_, u) => Array.from(m.indices.subarray(m.indptr[u], m.indptr[u + 1])));

// Training: user 0 {3}, user 1 {0, 1}, user 2 {}. Labels: user 0 {2, 4}, user 1 {1} (a training pair), user 2 {0, 3};
// confidences aligned with the labels: 0.125, 0.25, 0.375, 0.5, 0.625.
const trainSet = csr([[3], [0, 1], []], 5);
const labels = { pairs: csr([[2, 4], [1], [0, 3]], 5), confidence: Float32Array.of(0.125, 0.25, 0.375, 0.5, 0.625) };

test('applyLabelUse weighted: every label its own confidence, training pairs 1, rows of labels only', () => {
  // Union: user 0 [2, 3, 4], user 1 [0, 1], user 2 [0, 3].
  const confident = applyLabelUse(trainSet, labels, { labelUse: 'weighted', labelWeight: 'confidence' });
  assert.deepEqual(rows(confident.positives), [[2, 3, 4], [0, 1], [0, 3]]);
  assert.deepEqual(Array.from(confident.positiveWeights!), [0.125, 1, 0.25, 1, 1, 0.5, 0.625]);
  assert.equal(confident.nonNegatives, undefined);
  assert.equal(confident.augmented, confident.positives);
  const fixed = applyLabelUse(trainSet, labels, { labelUse: 'weighted', labelWeight: 0.75 });
  assert.deepEqual(Array.from(fixed.positiveWeights!), [0.75, 1, 0.75, 1, 1, 0.75, 0.75]);
  // The default weight is 0.5; weight 1 is allowed.
  assert.deepEqual(Array.from(applyLabelUse(trainSet, labels, { labelUse: 'weighted' }).positiveWeights!), [0.5, 1, 0.5, 1, 1, 0.5, 0.5]);
  assert.deepEqual(Array.from(applyLabelUse(trainSet, labels, { labelUse: 'weighted', labelWeight: 1 }).positiveWeights!), [1, 1, 1, 1, 1, 1, 1]);
  // The default use is positive: the union, no weights, no separate non-negatives.
  const byDefault = applyLabelUse(trainSet, labels);
  assert.deepEqual(Object.keys(byDefault).sort(), ['augmented', 'positives']);
  assert.deepEqual(rows(byDefault.positives), [[2, 3, 4], [0, 1], [0, 3]]);
  const exclude = applyLabelUse(trainSet, labels, { labelUse: 'exclude' });
  assert.deepEqual(Object.keys(exclude).sort(), ['augmented', 'nonNegatives', 'positives']);
  assert.deepEqual(rows(exclude.nonNegatives!), [[2, 3, 4], [0, 1], [0, 3]]);
});

test('resolveLabelUse: defaults and the whole messages', () => {
  assert.deepEqual(labelUses, ['positive', 'exclude', 'weighted']);
  assert.deepEqual(resolveLabelUse({}), { labelUse: 'positive', labelWeight: 0.5 });
  assert.deepEqual(resolveLabelUse({ labelUse: 'exclude', labelWeight: 'confidence' }), { labelUse: 'exclude', labelWeight: 'confidence' });
  assert.deepEqual(resolveLabelUse({ labelWeight: 1 }), { labelUse: 'positive', labelWeight: 1 });
  assert.throws(() => resolveLabelUse({ labelUse: 'drop' as never }), { name: 'RangeError', message: 'Expected labelUse to be one of positive, exclude, weighted but received drop' });
  for (const w of [0, 1.0001, -1, '0.5']) {
    assert.throws(() => resolveLabelUse({ labelWeight: w as never }), { name: 'RangeError', message: `Expected labelWeight in (0, 1] or 'confidence' but received ${w}` });
  }
  assert.throws(() => applyLabelUse(trainSet, { pairs: labels.pairs }, { labelUse: 'weighted', labelWeight: 'confidence' }), {
    name: 'TypeError',
    message: "Expected labels with a confidence per pair for labelWeight 'confidence' (a labeler that scores, e.g. llama in score mode) but these labels have none",
  });
  // Without confidences a fixed weight, exclude and positive work.
  assert.deepEqual(Array.from(applyLabelUse(trainSet, { pairs: labels.pairs }, { labelUse: 'weighted', labelWeight: 0.25 }).positiveWeights!), [0.25, 1, 0.25, 1, 1, 0.25, 0.25]);
});

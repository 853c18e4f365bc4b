/** train() keeps the model of its best validation epoch, and patience counts from it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateSynthetic } from '../src/data/synthetic.js';
import { train } from '../src/train/train.js';

const dataset = () => generateSynthetic({ preset: 'tiny', seed: 7 });
// At lr 0.2 validation Recall@20 peaks at epoch 14 of 25 (0.7675) and ends lower (0.7100).
const options = { model: 'mf' as const, dim: 16, lr: 0.2, l2: 0, evalEvery: 1, threads: 1 };

test('train: the result is the best validation epoch\'s model, not the last one', async () => {
  const result = await train(dataset(), { ...options, epochs: 25, patience: 100 });
  const recalls = result.history.map((r) => r.eval!.metrics['recall@20']);
  const peak = recalls.indexOf(Math.max(...recalls)) + 1;
  assert.ok(peak < 25 && recalls[24] < recalls[peak - 1], `the run must peak before its last epoch (recalls ${recalls.join(' ')})`);
  assert.equal(result.bestEpoch, peak);
  assert.equal(result.epochs, 25);
  assert.equal(result.stoppedBy, 'epochs');
  // The returned embeddings are the peak's: re-evaluated, they give the peak epoch's figures exactly.
  assert.deepEqual(result.valid, result.history[peak - 1].eval!.metrics);
  assert.deepEqual(result.history.map((r) => r.eval!.best), recalls.map((v, e) => v > Math.max(-Infinity, ...recalls.slice(0, e))));

  // Patience 3 stops three evaluations after that peak, with the same model.
  const patient = await train(dataset(), { ...options, epochs: 25, patience: 3 });
  assert.equal(patient.epochs, peak + 3);
  assert.equal(patient.stoppedBy, 'patience');
  assert.equal(patient.bestEpoch, peak);
  assert.deepEqual(patient.valid, result.valid);
  assert.deepEqual(patient.userEmb, result.userEmb);
});

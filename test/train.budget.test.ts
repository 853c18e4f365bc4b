import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateSynthetic } from '../src/data/synthetic.js';
import { train } from '../src/train/train.js';

const dataset = () => generateSynthetic({ preset: 'tiny', seed: 7 });

test('train: a time budget stops after the epoch that spends it, keeps the best model and says why', async () => {
  const result = await train(dataset(), { model: 'mf', epochs: 50, evalEvery: 1, patience: 100, threads: 1, timeBudget: 1e-9 });
  assert.equal(result.epochs, 1);
  assert.equal(result.stoppedBy, 'time');
  assert.equal(result.stoppedEarly, true);
  assert.equal(result.bestEpoch, 1);
  // The model kept is epoch 1's: its validation figures are that evaluation's.
  assert.deepEqual(result.valid, result.history[0].eval!.metrics);
});

test('train: without a budget the epoch limit or patience ends training, named in stoppedBy', async () => {
  const full = await train(dataset(), { model: 'mf', epochs: 3, evalEvery: 1, patience: 100, threads: 1 });
  assert.equal(full.epochs, 3);
  assert.equal(full.stoppedBy, 'epochs');
  assert.equal(full.stoppedEarly, false);
  const patient = await train(dataset(), { model: 'mf', epochs: 400, evalEvery: 1, patience: 1, lr: 0.5, threads: 1 });
  assert.equal(patient.stoppedBy, 'patience');
  assert.ok(patient.epochs < 400);
});

test('train: a time budget that is not a positive number is refused naming timeBudget', async () => {
  for (const bad of [0, -1, Number.NaN]) {
    await assert.rejects(train(dataset(), { model: 'mf', epochs: 1, timeBudget: bad }), (e: Error) => e instanceof RangeError && /timeBudget/.test(e.message));
  }
});

test('train: a time budget left unspent, or spent in the last epoch, stops nothing', async () => {
  // 60 s for three epochs of the tiny set: seconds are not milliseconds.
  const roomy = await train(dataset(), { model: 'mf', epochs: 3, evalEvery: 1, patience: 100, threads: 1, timeBudget: 60 });
  assert.equal(roomy.epochs, 3);
  assert.equal(roomy.stoppedBy, 'epochs');
  // The budget runs out in epoch 1, but that was the last epoch anyway.
  const last = await train(dataset(), { model: 'mf', epochs: 1, threads: 1, timeBudget: 1e-9 });
  assert.equal(last.epochs, 1);
  assert.equal(last.stoppedBy, 'epochs');
  assert.equal(last.stoppedEarly, false);
});

test('train: the budget counts from the call, not from the start of the process', async () => {
  // A run that starts late in a long-lived process (an experiment's hundredth cell) gets its whole budget:
  // here 1.5 times the process's age, far more than three epochs of the tiny set take.
  while (performance.now() < 4000) await new Promise((resolve) => setTimeout(resolve, 100));
  const late = await train(dataset(), { model: 'mf', epochs: 3, evalEvery: 1, patience: 100, threads: 1, timeBudget: (1.5 * performance.now()) / 1000 });
  assert.equal(late.epochs, 3);
  assert.equal(late.stoppedBy, 'epochs');
});

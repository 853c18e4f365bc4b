import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mean, pairedTTest, sampleStd } from '../src/experiment/stats.js';

const close = (actual: number, expected: number, tolerance: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} vs ${expected}`);

test('stats: mean and sample standard deviation of known values', () => {
  assert.equal(mean([2, 4, 4, 4, 5, 5, 7, 9]), 5);
  close(sampleStd([2, 4, 4, 4, 5, 5, 7, 9]), Math.sqrt(32 / 7), 1e-12, 'sample std (n - 1)');
  assert.ok(Number.isNaN(mean([])));
  assert.ok(Number.isNaN(sampleStd([0.3])), 'one value has no sample std');
  assert.equal(sampleStd([0.25, 0.25, 0.25]), 0);
});

test('stats: the paired t-test reproduces Student\'s sleep data (R: t = -4.0621, df = 9, p-value = 0.002833)', () => {
  // Extra hours of sleep under two drugs, the same ten patients (Cushny & Peebles, analysed by Student, 1908).
  const drug1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0];
  const drug2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4];
  const r = pairedTTest(drug1, drug2);
  close(r.t, -4.0621, 5e-5, 't');
  assert.equal(r.df, 9);
  close(r.p, 0.002833, 5e-7, 'p');
  close(r.meanDifference, -1.58, 1e-12, 'mean difference');
  const reversed = pairedTTest(drug2, drug1);
  close(reversed.t, 4.0621, 5e-5, 't reversed');
  close(reversed.p, r.p, 1e-15, 'two-sided p is symmetric');
});

test('stats: three seeds at the 5 % critical value of t with 2 degrees of freedom give p = 0.05', () => {
  // Differences m - 1, m, m + 1 have sample std 1, so t = m sqrt(3); t(0.975, 2) = 4.302653.
  const m = 4.302653 / Math.sqrt(3);
  const r = pairedTTest([m + 9, m + 10, m + 11], [10, 10, 10]);
  close(r.t, 4.302653, 1e-9, 't');
  close(r.p, 0.05, 1e-6, 'p');
});

test('stats: degenerate pairs give an undefined or a zero p-value, as scipy', () => {
  assert.ok(Number.isNaN(pairedTTest([0.2], [0.1]).p), 'one pair');
  assert.ok(Number.isNaN(pairedTTest([0.2, 0.3], [0.2, 0.3]).p), 'all differences zero');
  const constant = pairedTTest([0.75, 0.5], [0.25, 0]);
  assert.equal(constant.p, 0);
  assert.equal(constant.t, Infinity);
});

test('stats: bad inputs name the argument', () => {
  assert.throws(() => pairedTTest([1, 2], [1]), (e: unknown) => e instanceof RangeError && /a and b/.test(e.message));
  assert.throws(() => pairedTTest([1, NaN], [1, 2]), (e: unknown) => e instanceof TypeError && /in a/.test(e.message));
  assert.throws(() => mean('1,2' as unknown as number[]), (e: unknown) => e instanceof TypeError && /for values/.test(e.message));
});

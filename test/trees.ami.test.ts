import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adjustedMutualInformation } from '../src/trees/ami.js';

test('AMI: identical and relabelled partitions score 1, a constant against distinct labels 0', () => {
  assert.equal(adjustedMutualInformation([0, 0, 1, 1, 2, 2], [0, 0, 1, 1, 2, 2]), 1);
  assert.ok(Math.abs(adjustedMutualInformation([1, 1, 2, 2], [2, 2, 3, 3]) - 1) < 1e-12);
  assert.ok(Math.abs(adjustedMutualInformation(Int32Array.from([0, 0, 1, 1, 2, 2]), Uint32Array.from([5, 5, 9, 9, 7, 7])) - 1) < 1e-12);
  assert.equal(adjustedMutualInformation([0, 0, 0, 0], [0, 1, 2, 3]), 0);
  assert.equal(adjustedMutualInformation([3, 3, 3], [1, 1, 1]), 1);
});

test('AMI: the known values of scikit-learn\'s tests (0.27821; 0.38 repeated 110 times)', () => {
  const a = [1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3];
  const b = [1, 1, 1, 1, 2, 1, 2, 2, 2, 2, 3, 1, 3, 3, 3, 2, 2];
  assert.ok(Math.abs(adjustedMutualInformation(a, b) - 0.27821) < 5e-6);
  const a110 = Array.from({ length: 110 }, () => a).flat();
  const b110 = Array.from({ length: 110 }, () => b).flat();
  assert.ok(Math.abs(adjustedMutualInformation(a110, b110) - 0.38) < 0.005);
});

test('AMI: independent labelings score about 0', () => {
  let s = 1;
  const next = () => (s = (s * 48271) % 2147483647) % 4;
  const a = Array.from({ length: 4000 }, next);
  const b = Array.from({ length: 4000 }, next);
  assert.ok(Math.abs(adjustedMutualInformation(a, b)) < 0.01);
});

test('BAD CALL - AMI: wrong types and lengths name the argument', () => {
  assert.throws(() => adjustedMutualInformation('ab' as unknown as number[], [0, 1]), { name: 'TypeError', message: /\ba\b/ });
  assert.throws(() => adjustedMutualInformation([0, 1], [0]), { name: 'RangeError', message: /\bb\b/ });
  assert.throws(() => adjustedMutualInformation([0, NaN], [0, 1]), { name: 'RangeError', message: /a\[1\]/ });
});

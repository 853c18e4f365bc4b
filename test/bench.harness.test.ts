/** The bench harness: interleaved rounds in alternating order, ratios paired round by round. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ratioLine, runInterleaved, throughputRatio, type BenchRow } from '../src/benchmarks/harness.js';

test('runInterleaved reverses the order every other round and keeps each round of every case', async () => {
  const calls: string[] = [];
  const cases = ['a', 'b', 'c'].map((name) => ({ name, unit: 'x', unitsPerRun: 1, fn: () => { calls.push(name); } }));
  const rows = await runInterleaved('t', cases, 3, () => {});
  // Round 0 warms up; rounds 1 and 3 run backwards.
  assert.equal(calls.join(''), 'abccbaabccba');
  assert.deepEqual(rows.map((r) => r.rounds?.length), [3, 3, 3]);
  assert.deepEqual(rows.map((r) => r.samples), [3, 3, 3]);
});

function row(name: string, units: number, rounds?: number[], seconds = 1): BenchRow {
  const s = rounds ? [...rounds].sort((x, y) => x - y)[rounds.length >> 1] : seconds;
  return { suite: 't', name, unit: 'x', perSecond: units / s, secondsPerRun: s, rme: 0, samples: rounds?.length ?? 1, rounds };
}

test('throughputRatio pairs the rounds of interleaved cases, so drift between rounds cancels', () => {
  // The machine ran 1x, 3x and 5x slower in rounds 2 and 3; b is twice as slow as a in rounds 1 and 2
  // but the medians (a 1 s, b 6 s) come from different rounds and would say 6x.
  const a = row('a', 10, [1, 1, 5]), b = row('b', 10, [2, 6, 6]);
  assert.deepEqual(throughputRatio(a, b), { ratio: 2, pairedRounds: 3 });
  assert.equal(ratioLine([a, b], 'a', 'b'), '  a / b = 2.00x (median of 3 paired rounds)');
  // Different units per run: the ratio is of throughputs.
  assert.equal(throughputRatio(row('a', 20, [1, 2, 4]), row('b', 10, [1, 2, 4])).ratio, 2);
});

test('throughputRatio falls back to the medians when the rows were not interleaved together', () => {
  assert.deepEqual(throughputRatio(row('a', 10, undefined, 1), row('b', 10, undefined, 4)), { ratio: 4, pairedRounds: 0 });
  assert.deepEqual(throughputRatio(row('a', 10, [1, 1]), row('b', 10, [3, 3, 3])), { ratio: 3, pairedRounds: 0 });
  assert.equal(ratioLine([row('a', 10)], 'a', 'b'), undefined);
});

test('runInterleaved counts the seconds a kernelTimed case resolves to, not its wall time, and rejects anything else', async () => {
  let k = 0;
  const timed = { name: 'k', unit: 'x', unitsPerRun: 10, kernelTimed: true, fn: async () => [0.5, 0.25, 2][k++ % 3] };
  const [r] = await runInterleaved('t', [timed], 3, () => {});
  // Round 0 (0.5 s) warms up; the counted rounds resolve to 0.25, 2 and 0.5 s.
  assert.deepEqual(r.rounds, [0.25, 2, 0.5]);
  assert.equal(r.secondsPerRun, 0.5);
  assert.equal(r.perSecond, 20);
  const silent = { ...timed, name: 'silent', fn: async () => undefined };
  await assert.rejects(runInterleaved('t', [silent], 1, () => {}), /Expected benchmark case silent to resolve to its kernel's seconds, but it gave undefined/);
});

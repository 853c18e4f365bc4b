/** The Hogwild section of `bench --suite train-extra`: epochs against their update loop, both kernel-timed. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { benchHogwildLoop } from '../src/benchmarks/hogwild.js';

test('benchHogwildLoop pairs each epoch with the update loop over as many pre-drawn triples, timed by the kernel', async () => {
  const lines: string[] = [];
  const rows = await benchHogwildLoop((line) => lines.push(line), true);
  assert.deepEqual(rows.map((r) => r.name), [
    'native-epoch-1t-mf-sgd-medium', 'native-loop-1t-mf-sgd-medium', 'native-epoch-2t-mf-sgd-medium', 'native-loop-2t-mf-sgd-medium',
    'native-epoch-1t-mf-lazy-adam-medium', 'native-loop-1t-mf-lazy-adam-medium', 'native-epoch-2t-mf-lazy-adam-medium', 'native-loop-2t-mf-lazy-adam-medium',
  ]);
  for (let k = 0; k < rows.length; k += 2) {
    const [epoch, loop] = [rows[k]!, rows[k + 1]!];
    // Same units per run (the triples of one epoch), every round timed.
    assert.equal(Math.round(epoch.perSecond * epoch.secondsPerRun), Math.round(loop.perSecond * loop.secondsPerRun));
    assert.equal(epoch.rounds?.length, 2);
    assert.ok(epoch.rounds!.every((s) => s > 0) && loop.rounds!.every((s) => s > 0));
  }
  assert.equal(lines.filter((l) => /epoch rate \/ update-loop rate = \d+ % \(median of 2 paired rounds; goal >= 80 %\)/.test(l)).length, 4);
  // Both sides of every pair count the kernel's own seconds, not the call's wall time.
  assert.equal(lines.filter((l) => /ms\/run \(kernel time\)/.test(l)).length, 8);
});

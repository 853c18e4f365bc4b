/**
 * A caller that rewrites its arrays while a native promise is pending gets an error or a
 * (possibly wrong) result, never a crash or a hang: every typed-array input of every async entry
 * point is poisoned mid-call in a child process (test/support/mutationVictim.ts), so a crash
 * shows here as a signal exit and a hang as a timeout. After a crash the remaining entry points
 * run in a fresh child, so one report names every entry point that fails.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { victimEntryPoints } from './support/mutationVictim.js';

const victim = fileURLToPath(new URL('./support/mutationVictim.js', import.meta.url));
const lines = new Map<string, string[]>();
const deaths = new Map<string, string>();

before(() => {
  let remaining = [...victimEntryPoints];
  while (remaining.length > 0) {
    const run = spawnSync(process.execPath, [victim], {
      encoding: 'utf8', timeout: 120_000, env: { ...process.env, DTLNS_VICTIM: remaining.join(',') },
    });
    let current = '';
    for (const line of run.stdout.trim().split('\n').filter(Boolean)) {
      const [name, word] = line.split(' ');
      if (word === 'begins') lines.set((current = name), []);
      else lines.get(current)?.push(line);
    }
    if (run.signal === null && run.status === 0) break;
    const culprit = current || remaining[0];
    deaths.set(culprit, `the child died (${run.signal ?? `exit ${run.status}`}; SIGTERM: a hang) during ${culprit}` +
      ` after ${lines.get(culprit)?.length ?? 0} calls\n${run.stderr}`);
    remaining = remaining.slice(remaining.indexOf(culprit) + 1);
  }
});

for (const entry of victimEntryPoints) {
  test(`${entry}: every input overwritten mid-call gives an error or a result`, () => {
    assert.equal(deaths.get(entry), undefined);
    const calls = lines.get(entry) ?? [];
    assert.ok(calls.length >= 1, `${entry} was not reached`);
    for (const call of calls) assert.match(call, /^\w+\.\w+ (ok|Error|RangeError|TypeError|ModelFitError)$/);
  });
}

test('BAD CALL - a typed array on a resizable ArrayBuffer (it could shrink under the kernel) is a TypeError naming it', async () => {
  const { native } = await import('../src/native.js');
  const resizable = new Float32Array(new (ArrayBuffer as unknown as new (n: number, o: object) => ArrayBuffer)(16, { maxByteLength: 64 }));
  assert.throws(
    () => native.maskedTopK({ userEmb: resizable, itemEmb: new Float32Array(4), dim: 2, users: new Uint32Array(1), k: 1, threads: 1 }),
    (e: Error) => e instanceof TypeError && /userEmb/.test(e.message) && /resizable/.test(e.message),
  );
});

/**
 * One writer per run folder: a second `train` (or pipeline run) on a folder in use is refused
 * with a LockedError naming it, where two writers used to leave one dying on ENOENT; an --out
 * naming a file is a TypeError naming out, not a raw filesystem error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSynthetic, runPipeline, train } from '../src/index.js';
import { acquireLock, LockedError } from '../src/util/lock.js';

const dataset = generateSynthetic({ preset: 'tiny' });

test('a second train on a run folder in use is refused by name; the folder is free again afterwards', async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'dtlns-lock-')), 'run');
  // The second call comes once the first is training (it holds the lock from before its first epoch).
  let firstEpoch!: () => void;
  const training = new Promise<void>((resolve) => (firstEpoch = resolve));
  const first = train(dataset, { epochs: 100, dim: 8, out, threads: 1, onEpoch: () => firstEpoch() });
  await training;
  await assert.rejects(train(dataset, { epochs: 1, dim: 8, out, threads: 1 }), (e: Error) => e instanceof LockedError && e.message.includes(out));
  await first;
  assert.ok(!existsSync(`${out}.lock`), 'released');
  await train(dataset, { epochs: 4, dim: 8, out, threads: 1 });
});

test('a pipeline run folder in use is refused by name', async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'dtlns-lock-')), 'run');
  mkdirSync(out);
  const release = await acquireLock(out);
  await assert.rejects(runPipeline(dataset, { out }), (e: Error) => e instanceof LockedError && e.message.includes(out) && e.message.includes(`pid ${process.pid}`));
  await release();
});

test('BAD CALL - out naming a file is a TypeError naming out', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'dtlns-lock-')), 'model.txt');
  writeFileSync(file, '');
  await assert.rejects(train(dataset, { epochs: 1, out: file }), (e: Error) => e instanceof TypeError && /for out/.test(e.message) && e.message.includes(file));
  await assert.rejects(runPipeline(dataset, { out: file }), (e: Error) => e instanceof TypeError && /for out/.test(e.message));
});

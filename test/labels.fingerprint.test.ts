/**
 * Label stores that cannot go stale or be written twice: the store's fingerprint of its inputs
 * (dataset, candidates, labeler with prompt, path codes and options) refuses a resume with other
 * inputs; `unparsed` pairs are retried a bounded number of runs; a store holding every record twice
 * counts each once; a second writer is refused by the lock, a dead writer's lock is taken over.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLabeler } from '../src/labels/labelers.js';
import { labelCandidates } from '../src/labels/label.js';
import { readLabelStore } from '../src/labels/store.js';
import { LockedError } from '../src/util/lock.js';
import type { Labeler } from '../src/labels/types.js';
import { labelFixture, taxonomyPaths } from '../src/labels/labelFixtures.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'dtlns-fingerprint-'));
const fixture = labelFixture({ users: 6, perUser: 5 });
const rule = () => createLabeler({ kind: 'rule', items: fixture.items });
const pairs = fixture.candidates.items.length;

test('a store made from other inputs is refused, naming what changed; fresh starts it over', async () => {
  const out = join(tmp(), 'labels.jsonl');
  await labelCandidates(fixture.dataset, fixture.candidates, { labeler: await rule(), out });
  // Other path files: the labeler's settings change.
  const otherPaths = { ...fixture.items, semantic: taxonomyPaths(fixture.dataset, 0.9, 77) };
  await assert.rejects(labelCandidates(fixture.dataset, fixture.candidates, { labeler: await createLabeler({ kind: 'rule', items: otherPaths }), out }),
    (e: Error) => e.name === 'DataFileError' && e.message.includes(out) && /changed: labeler\)/.test(e.message) && /--fresh/.test(e.message));
  // Another theta, other candidates, another dataset.
  await assert.rejects(labelCandidates(fixture.dataset, fixture.candidates, { labeler: await createLabeler({ kind: 'rule', items: fixture.items, theta: 0.5 }), out }), /changed: labeler/);
  const fewer = { ...fixture.candidates, items: fixture.candidates.items.map((i, k) => (k === 0 ? fixture.candidates.items[1] : i)) };
  await assert.rejects(labelCandidates(fixture.dataset, fewer, { labeler: await rule(), out }), /changed: candidates/);
  const other = labelFixture({ users: 6, perUser: 5, seed: 99 });
  await assert.rejects(labelCandidates(other.dataset, other.candidates, { labeler: await createLabeler({ kind: 'rule', items: other.items }), out }), /changed: .*candidates/);
  // The same inputs resume (nothing to do); fresh relabels from scratch.
  assert.equal((await labelCandidates(fixture.dataset, fixture.candidates, { labeler: await rule(), out })).pairsResumed, pairs);
  const fresh = await labelCandidates(fixture.dataset, fixture.candidates, { labeler: await createLabeler({ kind: 'rule', items: otherPaths }), out, fresh: true });
  assert.equal(fresh.pairsResumed, 0);
  assert.equal(readFileSync(out, 'utf8').trim().split('\n').length, pairs + 1, 'one header, one record per pair');
});

test('a store with labels but no fingerprint (an older store) is refused', async () => {
  const out = join(tmp(), 'old.jsonl');
  await labelCandidates(fixture.dataset, fixture.candidates, { labeler: await rule(), out });
  writeFileSync(out, readFileSync(out, 'utf8').split('\n').slice(1).join('\n'));
  await assert.rejects(labelCandidates(fixture.dataset, fixture.candidates, { labeler: await rule(), out }), /no fingerprint/);
});

test('unparsed pairs are retried by the next runs, at most unparsedTries runs in all; a parsed answer supersedes', async () => {
  const out = join(tmp(), 'labels.jsonl');
  let calls = 0;
  let answer: 'unparsed' | 'positive' = 'unparsed';
  const flaky: Labeler = { name: 'flaky', model: 'm', labelUser: async (_u, _h, c) => Array.from(c, (item) => (calls++, { item, label: answer })) };
  for (let run = 1; run <= 4; run++) await labelCandidates(fixture.dataset, fixture.candidates, { labeler: flaky, out, unparsedTries: 3 });
  assert.equal(calls, 3 * pairs, 'three runs tried every pair, the fourth none');
  const out2 = join(tmp(), 'labels.jsonl');
  calls = 0;
  await labelCandidates(fixture.dataset, fixture.candidates, { labeler: flaky, out: out2 });
  answer = 'positive';
  await labelCandidates(fixture.dataset, fixture.candidates, { labeler: flaky, out: out2 });
  const records = await readLabelStore(out2);
  assert.equal(records.length, pairs);
  assert.ok(records.every((r) => r.label === 'positive'));
});

test('a store holding every record twice counts each pair once', async () => {
  const out = join(tmp(), 'labels.jsonl');
  await labelCandidates(fixture.dataset, fixture.candidates, { labeler: await rule(), out });
  const [header, ...lines] = readFileSync(out, 'utf8').trim().split('\n');
  writeFileSync(out, [header, ...lines, ...lines].join('\n') + '\n');
  assert.equal((await readLabelStore(out)).length, pairs);
  assert.equal((await labelCandidates(fixture.dataset, fixture.candidates, { labeler: await rule(), out })).pairsResumed, pairs);
});

test('a second writer is refused by name; the lock of a writer that died is taken over', async () => {
  const dir = tmp();
  const out = join(dir, 'labels.jsonl');
  const slow: Labeler = { ...(await rule()), name: 'rule', labelUser: async (u, h, c) => (await new Promise((r) => setTimeout(r, 30)), (await rule()).labelUser(u, h, c)) };
  const first = labelCandidates(fixture.dataset, fixture.candidates, { labeler: slow, out });
  await new Promise((r) => setTimeout(r, 10));
  await assert.rejects(labelCandidates(fixture.dataset, fixture.candidates, { labeler: await rule(), out }),
    (e: Error) => e instanceof LockedError && e.message.includes(out) && e.message.includes(`pid ${process.pid}`));
  await first;
  // A lock left by a process that no longer exists.
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
  const out2 = join(dir, 'other.jsonl');
  mkdirSync(`${out2}.lock`);
  writeFileSync(`${out2}.lock.pid`, dead);
  assert.equal((await labelCandidates(fixture.dataset, fixture.candidates, { labeler: await rule(), out: out2 })).pairs, pairs);
  // A lock left by a process killed between taking it and writing its pid (not refreshed since).
  const out3 = join(dir, 'third.jsonl');
  mkdirSync(`${out3}.lock`);
  const past = new Date(Date.now() - 3000);
  utimesSync(`${out3}.lock`, past, past);
  assert.equal((await labelCandidates(fixture.dataset, fixture.candidates, { labeler: await rule(), out: out3 })).pairs, pairs);
});

test('BAD CALL - out naming a folder is a TypeError naming out', async () => {
  const dir = tmp();
  await assert.rejects(labelCandidates(fixture.dataset, fixture.candidates, { labeler: await rule(), out: dir }), (e: Error) => e instanceof TypeError && /out/.test(e.message) && e.message.includes(dir));
});

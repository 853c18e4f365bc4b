import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LabelStore, mergeLabelStores, readLabelStore, labelsToPositives, formatRecord } from '../src/labels/store.js';
import { labelCandidates, labelFingerprint, parseShard } from '../src/labels/label.js';
import { createRuleLabeler } from '../src/labels/rule.js';
import type { LabelRecord, Labeler } from '../src/labels/types.js';
import { labelFixture } from '../src/labels/labelFixtures.js';

const here = dirname(fileURLToPath(import.meta.url));
const tmp = (): string => mkdtempSync(join(tmpdir(), 'dtlns-store-'));
const rec = (user: number, item: number, label: LabelRecord['label'], extra: Partial<LabelRecord> = {}): LabelRecord => ({ user, item, label, labeler: 'rule', model: 'theta=0.75', ...extra });

function pairsOf(records: LabelRecord[]): string[] {
  return records.map((r) => `${r.user} ${r.item}`);
}

test('store: append is durable JSON Lines, reopening resumes, a torn last line is dropped and rewritten', async () => {
  const file = join(tmp(), 'labels.jsonl');
  const store = await LabelStore.open(file, 'rule', 'theta=0.75');
  await store.append([rec(1, 10, 'positive', { score: 0.9 }), rec(1, 11, 'negative', { score: 0.1 })]);
  await store.append([rec(2, 10, 'unparsed')]);
  await store.close();
  assert.equal(readFileSync(file, 'utf8').split('\n').length, 4);
  appendFileSync(file, '{"user":3,"item":10,"la');
  const reopened = await LabelStore.open(file, 'rule', 'theta=0.75');
  assert.equal(reopened.repairedBytes, '{"user":3,"item":10,"la'.length);
  // An unparsed pair is tried again by the next run.
  assert.ok(reopened.has(1, 10) && !reopened.has(2, 10) && !reopened.has(3, 10));
  await reopened.append([rec(3, 10, 'negative')]);
  await reopened.close();
  const records = await readLabelStore(file);
  assert.deepEqual(records, [rec(1, 10, 'positive', { score: 0.9 }), rec(1, 11, 'negative', { score: 0.1 }), rec(2, 10, 'unparsed'), rec(3, 10, 'negative')]);
});

test('store: a corrupt complete line, another labeler, conflicting labels are errors naming the file', async () => {
  const dir = tmp();
  const bad = join(dir, 'bad.jsonl');
  writeFileSync(bad, formatRecord(rec(1, 1, 'positive')) + '\nnot json\n');
  await assert.rejects(LabelStore.open(bad, 'rule', 'theta=0.75'), { name: 'DataFileError', message: /bad\.jsonl, line 2: not a JSON label record/ });
  writeFileSync(bad, '{"user":1,"item":2,"label":"maybe","labeler":"rule","model":"m"}\n');
  await assert.rejects(readLabelStore(bad), { message: /line 1: invalid label record \(label must be one of positive, negative, unparsed\)/ });
  const other = join(dir, 'other.jsonl');
  writeFileSync(other, formatRecord(rec(1, 1, 'positive', { labeler: 'topn', model: 'none' })) + '\n');
  await assert.rejects(LabelStore.open(other, 'rule', 'theta=0.75'), { message: /other\.jsonl: holds labels of labeler "topn"/ });
  const conflict = join(dir, 'conflict.jsonl');
  writeFileSync(conflict, [rec(1, 1, 'positive'), rec(1, 1, 'negative')].map(formatRecord).join('\n') + '\n');
  await assert.rejects(LabelStore.open(conflict, 'rule', 'theta=0.75'), { message: /conflicting labels for user 1 item 1/ });
});

test('shards split users by index modulo n, and merging them equals the unsharded job', async () => {
  const fixture = labelFixture({ users: 30 });
  const dir = tmp();
  const labeler = createRuleLabeler(fixture.items.structural, fixture.items.semantic);
  const whole = join(dir, 'whole.jsonl');
  await labelCandidates(fixture.dataset, fixture.candidates, { labeler, out: whole });
  const shards: string[] = [];
  for (let i = 0; i < 3; i++) {
    const out = join(dir, `shard${i}.jsonl`);
    const summary = await labelCandidates(fixture.dataset, fixture.candidates, { labeler, out, shard: parseShard(`${i}/3`) });
    for (const r of await readLabelStore(out)) assert.equal(r.user % 3, i);
    assert.ok(summary.users > 0);
    shards.push(out);
  }
  const merged = join(dir, 'merged.jsonl');
  const result = await mergeLabelStores([...shards, shards[0]], merged);
  assert.equal(result.duplicates, (await readLabelStore(shards[0])).length);
  const sortKey = (a: LabelRecord, b: LabelRecord) => a.user - b.user || a.item - b.item;
  assert.deepEqual(await readLabelStore(merged), (await readLabelStore(whole)).sort(sortKey));
  const flipped = join(dir, 'flipped.jsonl');
  const first = (await readLabelStore(shards[1]))[0];
  writeFileSync(flipped, formatRecord({ ...first, label: first.label === 'positive' ? 'negative' : 'positive' }) + '\n');
  await assert.rejects(mergeLabelStores([shards[1], flipped], join(dir, 'x.jsonl')), { message: /flipped\.jsonl: conflicting labels .* in .*shard1\.jsonl/ });
  await assert.rejects(mergeLabelStores([join(dir, 'missing.jsonl')], join(dir, 'y.jsonl')), { message: /missing\.jsonl: cannot read the label store \(ENOENT\)/ });
  assert.ok(!existsSync(join(dir, 'x.jsonl')));
});

test('a partly labelled user gets only its missing candidates; a finished job labels nothing', async () => {
  const fixture = labelFixture({ users: 5 });
  const out = join(tmp(), 'labels.jsonl');
  const calls: number[] = [];
  const inner = createRuleLabeler(fixture.items.structural, fixture.items.semantic);
  const counting: Labeler = { name: inner.name, model: inner.model, labelUser: (u, h, c) => { calls.push(c.length); return inner.labelUser(u, h, c); } };
  const u0 = fixture.candidates.users[0];
  const firstItem = fixture.candidates.items[0];
  const fingerprint = labelFingerprint(fixture.dataset, fixture.candidates, fixture.dataset.train, counting);
  const store = await LabelStore.open(out, inner.name, inner.model, { fingerprint });
  const [done] = await inner.labelUser(u0, fixture.dataset.train.indices.subarray(fixture.dataset.train.indptr[u0], fixture.dataset.train.indptr[u0 + 1]), Uint32Array.of(firstItem));
  await store.append([{ user: u0, item: firstItem, label: done.label, labeler: inner.name, model: inner.model, score: done.score! }]);
  await store.close();
  const summary = await labelCandidates(fixture.dataset, fixture.candidates, { labeler: counting, out });
  assert.equal(summary.pairsResumed, 1);
  assert.equal(calls[0], fixture.candidates.indptr[1] - 1);
  assert.equal(summary.usersLabelled, 5);
  const again = await labelCandidates(fixture.dataset, fixture.candidates, { labeler: counting, out });
  assert.equal(again.usersLabelled, 0);
  assert.equal(again.pairsResumed, fixture.candidates.items.length);
  assert.equal(new Set(pairsOf(await readLabelStore(out))).size, fixture.candidates.items.length);
});

test('a label job killed in the middle and restarted ends with exactly one record per (user, candidate)', async () => {
  const dir = tmp();
  const out = join(dir, 'labels.jsonl');
  const script = join(dir, 'job.mjs');
  const dist = join(here, '..');
  // A slow labeler (the rule, 15 ms per user) so the kill lands mid-job.
  writeFileSync(script, `
    import { labelFixture } from ${JSON.stringify(join(dist, 'src/labels/labelFixtures.js'))};
    import { createRuleLabeler } from ${JSON.stringify(join(dist, 'src/labels/rule.js'))};
    import { labelCandidates } from ${JSON.stringify(join(dist, 'src/labels/label.js'))};
    const f = labelFixture({ users: 60 });
    const rule = createRuleLabeler(f.items.structural, f.items.semantic);
    const slow = { name: rule.name, model: rule.model, labelUser: async (u, h, c) => { await new Promise((r) => setTimeout(r, 15)); return rule.labelUser(u, h, c); } };
    const s = await labelCandidates(f.dataset, f.candidates, { labeler: slow, out: process.argv[2], concurrency: 2 });
    process.stdout.write(JSON.stringify(s) + '\\n');
  `);
  const run = (kill: boolean): Promise<string> =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [script, out], { stdio: ['ignore', 'pipe', 'inherit'] });
      let stdout = '';
      child.stdout.on('data', (d) => (stdout += d));
      const timer = kill
        ? setInterval(() => {
            if (existsSync(out) && readFileSync(out, 'utf8').split('\n').length > 200) child.kill('SIGKILL');
          }, 5)
        : undefined;
      child.on('exit', (code, signal) => {
        if (timer) clearInterval(timer);
        if (kill ? signal === 'SIGKILL' : code === 0) resolve(stdout);
        else reject(new Error(`job exited with ${code ?? signal}`));
      });
    });
  await run(true);
  const partial = await readLabelStore(out);
  const fixture = labelFixture({ users: 60 });
  assert.ok(partial.length > 0 && partial.length < fixture.candidates.items.length, `killed after ${partial.length} records`);
  const summary = JSON.parse((await run(false)).trim().split('\n').pop()!);
  assert.equal(summary.pairsResumed, partial.length);
  const records = await readLabelStore(out);
  const expected: string[] = [];
  for (let r = 0; r < fixture.candidates.users.length; r++) {
    for (let k = fixture.candidates.indptr[r]; k < fixture.candidates.indptr[r + 1]; k++) expected.push(`${fixture.candidates.users[r]} ${fixture.candidates.items[k]}`);
  }
  assert.equal(records.length, expected.length, 'no duplicates');
  assert.deepEqual(pairsOf(records).sort(), expected.sort(), 'none lost');
});

test('labelsToPositives gives the positive pairs as a Csr of indices', () => {
  const fixture = labelFixture({ users: 2 });
  const csr = labelsToPositives([rec(3, 5, 'positive'), rec(3, 2, 'positive'), rec(4, 9, 'negative'), rec(1, 7, 'unparsed'), rec(0, 1, 'positive')], fixture.dataset);
  assert.equal(csr.rows, fixture.dataset.nUsers);
  assert.deepEqual(Array.from(csr.indices), [1, 2, 5]);
  assert.deepEqual(Array.from(csr.indptr.subarray(0, 5)), [0, 1, 1, 1, 3]);
  assert.throws(() => labelsToPositives([rec(1e7, 1, 'positive')], fixture.dataset), { name: 'RangeError', message: /user 10000000/ });
});

test('BAD CALL - shard and job arguments', async () => {
  assert.throws(() => parseShard('3/3'), { name: 'RangeError', message: /shard/ });
  assert.throws(() => parseShard('a/b'), { name: 'RangeError', message: /shard/ });
  assert.deepEqual(parseShard('1/4'), { index: 1, count: 4 });
  const fixture = labelFixture({ users: 2 });
  const labeler = createRuleLabeler(fixture.items.structural, fixture.items.semantic);
  await assert.rejects(labelCandidates(fixture.dataset, fixture.candidates, { labeler, out: join(tmp(), 'l.jsonl'), concurrency: 0 }), { name: 'RangeError', message: /concurrency/ });
  await assert.rejects(labelCandidates(fixture.dataset, fixture.candidates, { labeler: {} as never, out: 'x' }), { name: 'TypeError', message: /labeler/ });
  await assert.rejects(labelCandidates(fixture.dataset, { ...fixture.candidates, items: Uint32Array.of(1) }, { labeler, out: 'x' }), { name: 'RangeError', message: /candidates/ });
});

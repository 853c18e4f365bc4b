import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LabelStore, mergeLabelStores, readLabelStore, labelsToPositives, labelConfidence, formatRecord } from '../src/labels/store.js';
import { open } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { labelCandidates, labelFingerprint, parseShard, type LabelProgress } from '../src/labels/label.js';
import { csrFromPairs } from '../src/data/csr.js';
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

test('BAD INPUT - each invalid record and header is a DataFileError naming the file, the line and why', async () => {
  const file = join(tmp(), 'bad.jsonl');
  const ok = formatRecord(rec(1, 2, 'positive'));
  const cases: [string, string][] = [
    ['[1]', 'not an object'],
    ['null', 'not an object'],
    ['5', 'not an object'],
    ['{"user":-1,"item":2,"label":"positive","labeler":"rule","model":"m"}', 'user must be a non-negative integer id'],
    ['{"user":1.5,"item":2,"label":"positive","labeler":"rule","model":"m"}', 'user must be a non-negative integer id'],
    ['{"user":"1","item":2,"label":"positive","labeler":"rule","model":"m"}', 'user must be a non-negative integer id'],
    ['{"user":1,"label":"positive","labeler":"rule","model":"m"}', 'item must be a non-negative integer id'],
    ['{"user":1,"item":2,"label":"positive","labeler":7,"model":"m"}', 'labeler and model must be strings'],
    ['{"user":1,"item":2,"label":"positive","labeler":"rule","model":null}', 'labeler and model must be strings'],
    ['{"user":1,"item":2,"label":"positive","labeler":"rule","model":"m","score":"0.5"}', 'score must be a finite number'],
    ['{"user":1,"item":2,"label":"positive","labeler":"rule","model":"m","score":null}', 'score must be a finite number'],
  ];
  for (const [line, why] of cases) {
    writeFileSync(file, `${ok}\n${line}\n`);
    await assert.rejects(readLabelStore(file), { name: 'DataFileError', message: `${file}, line 2: invalid label record (${why}): ${line.slice(0, 80)}` }, line);
  }
  const long = `{"user":1,"item":2,"label":"positive","labeler":"rule","model":"${'m'.repeat(100)}","score":"x"}`;
  writeFileSync(file, `${long}\n`);
  await assert.rejects(readLabelStore(file), { message: `${file}, line 1: invalid label record (score must be a finite number): ${long.slice(0, 80)}` });
  writeFileSync(file, `${ok}\n${'x'.repeat(100)}\n`);
  await assert.rejects(readLabelStore(file), { message: `${file}, line 2: not a JSON label record: ${'x'.repeat(80)}` });
  // A header only on the first line; a torn one, one without string hashes.
  writeFileSync(file, '{"fingerprint":{"a":"1"\n');
  await assert.rejects(readLabelStore(file), { name: 'DataFileError', message: `${file}, line 1: not a JSON store header: {"fingerprint":{"a":"1"` });
  const longHeader = `{"fingerprint":{"a":"${'x'.repeat(100)}`;
  writeFileSync(file, `${longHeader}\n`);
  await assert.rejects(readLabelStore(file), { message: `${file}, line 1: not a JSON store header: ${longHeader.slice(0, 80)}` });
  for (const header of ['{"fingerprint":{"a":1}}', '{"fingerprint":{"a":"1","b":2}}', '{"fingerprint":null}', '{"fingerprint":"abc"}']) {
    writeFileSync(file, `${header}\n${ok}\n`);
    await assert.rejects(readLabelStore(file), { message: `${file}, line 1: invalid store header (fingerprint must map input names to hashes)` }, header);
  }
  writeFileSync(file, `${ok}\n{"fingerprint":{"a":"1"}}\n`);
  await assert.rejects(readLabelStore(file), { message: /line 2: invalid label record \(user must be a non-negative integer id\)/ });
  // Blank lines are skipped, and the header is not a record.
  writeFileSync(file, `{"fingerprint":{"a":"1"}}\n\n  \n${ok}\n`);
  assert.deepEqual(await readLabelStore(file), [rec(1, 2, 'positive')]);
});

test('store: opening checks unparsedTries and names every changed input; appends queue behind a flush', async () => {
  const dir = tmp();
  for (const tries of [0, 1.5, -1]) {
    await assert.rejects(LabelStore.open(join(dir, 'a.jsonl'), 'rule', 'm', { unparsedTries: tries }), { name: 'RangeError', message: `Expected a positive integer for unparsedTries but received ${tries}` });
  }
  const file = join(dir, 'labels.jsonl');
  const store = await LabelStore.open(file, 'rule', 'theta=0.75', { fingerprint: { dataset: 'd1', candidates: 'c1', labeler: 'l1' } });
  const first = store.append([rec(1, 10, 'positive')]);
  assert.equal(store.pendingBytes, 0, 'the first batch is written at once');
  const second = store.append([rec(1, 11, 'negative'), rec(2, 10, 'unparsed')]);
  assert.equal(store.pendingBytes, (formatRecord(rec(1, 11, 'negative')) + '\n' + formatRecord(rec(2, 10, 'unparsed')) + '\n').length);
  assert.equal(second, first, 'one flush loop writes both batches');
  assert.equal(store.append([]), first, 'nothing to add: the flush in progress');
  await second;
  assert.equal(store.pendingBytes, 0);
  assert.equal(await store.append([]), undefined);
  await store.close();
  assert.deepEqual(readFileSync(file, 'utf8').split('\n'), [
    '{"fingerprint":{"dataset":"d1","candidates":"c1","labeler":"l1"}}', formatRecord(rec(1, 10, 'positive')), formatRecord(rec(1, 11, 'negative')), formatRecord(rec(2, 10, 'unparsed')), '',
  ]);
  await assert.rejects(LabelStore.open(file, 'rule', 'theta=0.75', { fingerprint: { dataset: 'd1', candidates: 'c2', histories: 'h1' } }),
    { name: 'DataFileError', message: `${file}: holds labels made from other inputs (changed: candidates, labeler, histories); start over with --fresh (fresh: true) or write to another file` });
  await assert.rejects(LabelStore.open(file, 'rule', 'theta=0.5', { fingerprint: { dataset: 'd1', candidates: 'c1', labeler: 'l1' } }),
    { message: `${file}: holds labels of labeler "rule" with model "theta=0.75", not "rule" with "theta=0.5"; write to another file` });
  const reopened = await LabelStore.open(file, 'rule', 'theta=0.75', { fingerprint: { dataset: 'd1', candidates: 'c1', labeler: 'l1' }, unparsedTries: 1 });
  assert.ok(reopened.has(1, 10) && reopened.has(1, 11) && reopened.has(2, 10), 'one try spent');
  assert.ok(!reopened.has(10, 1) && !reopened.has(2, 11));
  await reopened.close();
});

test('store: a failed write rejects the append and every later one, naming the file', async () => {
  const file = join(tmp(), 'labels.jsonl');
  const store = await LabelStore.open(file, 'rule', 'm');
  await (store as unknown as { handle: { close(): Promise<void> } }).handle.close();
  assert.equal(store.failed, false);
  await assert.rejects(store.append([rec(1, 1, 'positive')]), { message: new RegExp(`^Could not write labels to ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `) });
  assert.equal(store.failed, true);
  await assert.rejects(store.append([rec(1, 2, 'positive')]), /^Error: Could not write labels to /);
  await assert.rejects(store.flush(), /Could not write labels to/);
});

test('label job: the summary, the progress and the metadata file count what this run did, in its shard', async () => {
  const { dataset } = labelFixture({ users: 1 });
  const ids = dataset.itemIds;
  // Users 1..5 (shard 1/2 takes 1, 3, 5); user 3 has no candidates.
  const candidates = { users: Uint32Array.of(1, 2, 3, 4, 5), indptr: Uint32Array.of(0, 3, 5, 5, 6, 9), items: Uint32Array.of(10, 11, 12, 20, 21, 40, 50, 51, 52) };
  const histories = csrFromPairs(dataset.nUsers, dataset.nItems, Uint32Array.of(1, 1, 5), Uint32Array.of(7, 8, 9)).csr;
  const dir = tmp();
  const out = join(dir, 'deeper', 'labels.jsonl');
  let stats = { promptTokens: 100, fullPromptTokens: 200, generatedTokens: 3, retries: 1, historiesCut: 5 };
  const seen: [number, number[], number[]][] = [];
  const labeler: Labeler = {
    name: 'fake', model: 'm', device: { backend: 'cpu', gpuLayers: 0, layers: 2 },
    stats: () => ({ ...stats }),
    labelUser: async (user, history, c) => {
      seen.push([user, Array.from(history), Array.from(c)]);
      await new Promise((r) => setTimeout(r, 20));
      stats = { promptTokens: stats.promptTokens + 10, fullPromptTokens: stats.fullPromptTokens + 20, generatedTokens: stats.generatedTokens + 1, retries: stats.retries + 2, historiesCut: stats.historiesCut + 1 };
      return Array.from(c, (item, k) => (k === 0 ? { item, label: 'positive', score: 0.75 } : { item, label: k === 1 ? 'unparsed' : 'negative' }));
    },
  };
  // One pair done before, and a torn line.
  const fingerprint = labelFingerprint(dataset, candidates, histories, labeler);
  const store = await LabelStore.open(out.replace('deeper', ''), 'fake', 'm', { fingerprint });
  await store.append([rec(dataset.userIds[1], ids[10], 'negative', { labeler: 'fake', model: 'm' })]);
  await store.close();
  mkdirSync(dirname(out));
  writeFileSync(out, readFileSync(out.replace('deeper', ''), 'utf8') + '{"user":');
  const progress: LabelProgress[] = [];
  const summary = await labelCandidates(dataset, candidates, { labeler, out, shard: { index: 1, count: 2 }, histories, onProgress: (p) => progress.push(p) });
  assert.deepEqual(seen, [[1, [7, 8], [11, 12]], [5, [9], [50, 51, 52]]]);
  const { seconds } = summary;
  assert.ok(seconds >= 0.04 && seconds < 10, `${seconds} s`);
  assert.deepEqual(summary, {
    labeler: 'fake', model: 'm', device: { backend: 'cpu', gpuLayers: 0, layers: 2 }, out, users: 2, usersLabelled: 2, pairs: 6, pairsResumed: 1,
    counts: { positive: 2, negative: 1, unparsed: 2 }, promptTokens: 20, fullPromptTokens: 40, generatedTokens: 2, retries: 4, historiesCut: 2,
    repairedBytes: '{"user":'.length, seconds, usersPerSecond: 2 / seconds, pairsPerSecond: 5 / seconds,
  });
  assert.deepEqual(JSON.parse(readFileSync(`${out}.meta.json`, 'utf8')), summary);
  assert.deepEqual(progress.map(({ seconds: s, ...p }) => (assert.ok(s >= 0.02 && s <= seconds), p)), [
    { usersDone: 1, usersTotal: 2, pairsDone: 2, pairsTotal: 5, counts: { positive: 1, negative: 0, unparsed: 1 } },
    { usersDone: 2, usersTotal: 2, pairsDone: 5, pairsTotal: 5, counts: { positive: 2, negative: 1, unparsed: 2 } },
  ]);
  const u = (i: number) => dataset.userIds[i];
  assert.deepEqual(await readLabelStore(out), [
    rec(u(1), ids[10], 'negative', { labeler: 'fake', model: 'm' }), rec(u(1), ids[11], 'positive', { labeler: 'fake', model: 'm', score: 0.75 }),
    rec(u(1), ids[12], 'unparsed', { labeler: 'fake', model: 'm' }), rec(u(5), ids[50], 'positive', { labeler: 'fake', model: 'm', score: 0.75 }),
    rec(u(5), ids[51], 'unparsed', { labeler: 'fake', model: 'm' }), rec(u(5), ids[52], 'negative', { labeler: 'fake', model: 'm' }),
  ]);
  // A labeler without stats or device: zero counts, no device; the default shard takes every user.
  const plain: Labeler = { name: 'fake', model: 'm', labelUser: async (_u, _h, c) => Array.from(c, (item) => ({ item, label: 'negative' })) };
  const other = join(dir, 'plain.jsonl');
  const all = await labelCandidates(dataset, candidates, { labeler: plain, out: other });
  assert.equal(all.device, undefined);
  assert.deepEqual([all.users, all.usersLabelled, all.pairs, all.pairsResumed, all.promptTokens, all.retries], [4, 4, 9, 0, 0, 0]);
  // A labeler that answers for fewer candidates stops the job at that user.
  const calls: number[] = [];
  const short: Labeler = { name: 'short', model: 'm', labelUser: async (user, _h, c) => (calls.push(user), Array.from(c.subarray(1), (item) => ({ item, label: 'negative' }))) };
  await assert.rejects(labelCandidates(dataset, candidates, { labeler: short, out: join(dir, 'short.jsonl') }),
    { name: 'Error', message: `Labeler short returned 2 labels for 3 candidates of user ${u(1)}` });
  assert.deepEqual(calls, [1]);
});

test('BAD CALL - parseShard and the job options, with the whole message', async () => {
  assert.deepEqual(parseShard(' 2/3 '), { index: 2, count: 3 });
  assert.deepEqual(parseShard('0/1'), { index: 0, count: 1 });
  for (const text of ['3/3', '0/0', '-1/2', '1/2/3', '1/', 'x1/2', '1/2x']) {
    assert.throws(() => parseShard(text), { name: 'RangeError', message: `Expected a shard "i/n" with 0 <= i < n for shard but received "${text}"` }, text);
  }
  const fixture = labelFixture({ users: 2 });
  const labeler = createRuleLabeler(fixture.items.structural, fixture.items.semantic);
  const job = (options: Partial<Parameters<typeof labelCandidates>[2]>) => labelCandidates(fixture.dataset, fixture.candidates, { labeler, out: join(tmp(), 'l.jsonl'), ...options });
  for (const shard of [{ index: 2, count: 2 }, { index: -1, count: 2 }, { index: 0, count: 0 }, { index: 0.5, count: 2 }, { index: 0, count: 1.5 }]) {
    await assert.rejects(job({ shard }), { name: 'RangeError', message: `Expected a shard with 0 <= index < count but received ${shard.index}/${shard.count}` });
  }
  for (const concurrency of [0, 1.5]) await assert.rejects(job({ concurrency }), { name: 'RangeError', message: `Expected a positive integer for concurrency but received ${concurrency}` });
  await assert.rejects(job({ out: '' }), { name: 'TypeError', message: 'Expected a file path for out but received ' });
  await assert.rejects(job({ out: 7 as never }), { name: 'TypeError', message: 'Expected a file path for out but received 7' });
  await assert.rejects(job({ labeler: undefined as never }), { name: 'TypeError', message: 'Expected a Labeler for labeler but received undefined' });
  const rows = csrFromPairs(3, fixture.dataset.nItems, Uint32Array.of(0), Uint32Array.of(1)).csr;
  await assert.rejects(job({ histories: rows }), { name: 'RangeError', message: `Expected histories with ${fixture.dataset.nUsers} rows but received 3` });
  // parallelUsers is the default concurrency.
  let inFlight = 0, most = 0;
  const parallel: Labeler = { name: 'p', model: 'm', parallelUsers: 2, labelUser: async (u, h, c) => {
    most = Math.max(most, ++inFlight);
    await new Promise((r) => setTimeout(r, 20));
    inFlight--;
    return labeler.labelUser(u, h, c);
  } };
  await job({ labeler: parallel });
  assert.equal(most, 2);
});

test('mergeLabelStores: a parsed label replaces an unparsed one in either order, the output is sorted by user then item', async () => {
  const dir = tmp();
  const a = join(dir, 'a.jsonl'), b = join(dir, 'b.jsonl'), out = join(dir, 'out.jsonl');
  writeFileSync(a, '{"fingerprint":{"x":"1"}}\n' + [rec(2, 1, 'unparsed'), rec(1, 5, 'positive', { score: 0.5 }), rec(10, 2, 'negative'), rec(1, 3, 'negative')].map(formatRecord).join('\n') + '\n');
  writeFileSync(b, [rec(2, 1, 'positive'), rec(1, 5, 'unparsed'), rec(10, 2, 'negative'), rec(3, 3, 'unparsed')].map(formatRecord).join('\n') + '\n');
  assert.deepEqual(await mergeLabelStores([a, b, b], out), { records: 5, duplicates: 7 }, 'a pair seen after its replacement');
  assert.deepEqual(await mergeLabelStores([a, b], out), { records: 5, duplicates: 3 });
  assert.equal(readFileSync(out, 'utf8'), [rec(1, 3, 'negative'), rec(1, 5, 'positive', { score: 0.5 }), rec(2, 1, 'positive'), rec(3, 3, 'unparsed'), rec(10, 2, 'negative')].map((r) => formatRecord(r) + '\n').join(''));
  writeFileSync(b, formatRecord(rec(2, 1, 'negative')) + '\n');
  // The unparsed record of a does not conflict; a parsed one does.
  assert.deepEqual(await mergeLabelStores([a, b], join(dir, 'out2.jsonl')), { records: 4, duplicates: 1 });
  await assert.rejects(mergeLabelStores([b, a, a, out], join(dir, 'x.jsonl')), { name: 'DataFileError', message: `${out}: conflicting labels for user 2 item 1: negative in ${b}, positive here` });
  for (const files of [[], 'a.jsonl', [a, 7], undefined]) {
    await assert.rejects(mergeLabelStores(files as never, join(dir, 'y.jsonl')), { name: 'TypeError', message: `Expected a non-empty array of file paths for files but received ${String(files)}` });
  }
});

test('BAD CALL - labelsToPositives names the unknown user or item and the dataset', () => {
  const { dataset } = labelFixture({ users: 2 });
  assert.throws(() => labelsToPositives([rec(dataset.userIds[0], 1e7, 'positive')], dataset), { name: 'RangeError', message: `Expected label records of items in dataset ${dataset.name} but item 10000000 is not one` });
  assert.throws(() => labelsToPositives([rec(1e7, dataset.itemIds[0], 'positive')], dataset), { name: 'RangeError', message: `Expected label records of users in dataset ${dataset.name} but user 10000000 is not one` });
  assert.equal(labelsToPositives([rec(1e7, 1e7, 'negative')], dataset).indices.length, 0);
  assert.throws(() => labelsToPositives('x' as never, dataset), { name: 'TypeError', message: 'Expected an array of label records for records but received x' });
});

test('store: one record per pair when read (a parsed label is kept over a later unparsed one), conflicts name both labelers', async () => {
  const dir = tmp();
  const file = join(dir, 'l.jsonl');
  writeFileSync(file, [rec(1, 1, 'unparsed'), rec(1, 1, 'positive', { score: 0.5 }), rec(1, 1, 'unparsed'), rec(2, 1, 'negative')].map(formatRecord).join('\n') + '\n');
  assert.deepEqual(await readLabelStore(file), [rec(1, 1, 'positive', { score: 0.5 }), rec(2, 1, 'negative')]);
  const store = await LabelStore.open(file, 'rule', 'theta=0.75');
  assert.ok(store.has(1, 1) && store.has(2, 1));
  await store.close();
  writeFileSync(file, [rec(1, 1, 'unparsed'), rec(1, 1, 'positive'), rec(1, 1, 'negative', { score: 0.1 })].map(formatRecord).join('\n') + '\n');
  await assert.rejects(LabelStore.open(file, 'rule', 'theta=0.75'), { name: 'DataFileError', message: `${file}: conflicting labels for user 1 item 1: positive (rule) and negative (rule)` });
  writeFileSync(file, formatRecord(rec(1, 1, 'positive', { labeler: 'llama' })) + '\n');
  await assert.rejects(LabelStore.open(file, 'rule', 'theta=0.75'), { message: `${file}: holds labels of labeler "llama" with model "theta=0.75", not "rule" with "theta=0.75"; write to another file` });
  await assert.rejects(LabelStore.open(file, 'llama', 'theta=0.75', { fingerprint: { a: '1' } }),
    { message: `${file}: has labels but no fingerprint of the inputs they were made from (an older store); start over with --fresh (fresh: true) or write to another file` });
  // After a close, nothing to append is no write.
  const empty = await LabelStore.open(join(dir, 'e.jsonl'), 'rule', 'm');
  const idle = empty.append([]);
  assert.ok(idle instanceof Promise);
  await idle;
  await empty.close();
  assert.equal(await empty.append([]), undefined);
  assert.equal(empty.repairedBytes, 0, 'a new store has nothing to repair');
  await assert.rejects(empty.append([rec(1, 1, 'positive')]), /^Error: Could not write labels to /, 'closed');
});

test('store: after a failed write every append rejects with that same error', async () => {
  const store = await LabelStore.open(join(tmp(), 'labels.jsonl'), 'rule', 'm');
  await (store as unknown as { handle: { close(): Promise<void> } }).handle.close();
  const first = await store.append([rec(1, 1, 'positive')]).catch((e: Error) => e);
  assert.equal(await store.append([rec(1, 2, 'positive')]).catch((e: Error) => e), first);
  assert.equal(await store.flush().catch((e: Error) => e), first);
});

test('labelConfidence: the positive records\' scores aligned with the Csr, undefined unless every pair has one', () => {
  const { dataset } = labelFixture({ users: 2 });
  const u = dataset.userIds, i = dataset.itemIds;
  const positives = labelsToPositives([rec(u[0], i[3], 'positive'), rec(u[0], i[1], 'positive'), rec(u[2], i[0], 'positive')], dataset);
  const scored = [
    rec(u[2], i[0], 'positive', { score: 0.25 }), rec(u[0], i[3], 'positive', { score: 0.5 }), rec(u[0], i[1], 'positive', { score: 0.75 }),
    rec(u[0], i[1], 'negative', { score: 0.125 }), rec(u[1], i[1], 'positive', { score: 0.375 }), rec(1e7, i[1], 'positive', { score: 1 }), rec(u[0], 1e7, 'positive', { score: 1 }),
  ];
  assert.deepEqual(Array.from(labelConfidence(scored, positives, dataset)!), [0.75, 0.5, 0.25]);
  assert.equal(labelConfidence(scored.slice(1), positives, dataset), undefined, 'one pair without a score');
  assert.equal(labelConfidence([rec(u[2], i[0], 'positive'), ...scored.slice(1)], positives, dataset), undefined, 'a positive record without a score');
  const none = labelsToPositives([], dataset);
  assert.equal(labelConfidence(scored, none, dataset), undefined, 'no pairs');
});

test('labelFingerprint: sha256 of each input\'s parts (typed arrays as bytes, the rest as JSON, each followed by a NUL), 16 hex digits', () => {
  const dataset = { nUsers: 2, nItems: 3, userIds: [5, 6], itemIds: [7, 8, 9], train: undefined } as never as Parameters<typeof labelFingerprint>[0];
  const histories = { rows: 2, cols: 3, indptr: Uint32Array.of(0, 1, 2), indices: Uint32Array.of(2, 0) } as never as Parameters<typeof labelFingerprint>[2];
  const candidates = { users: Uint32Array.of(1), indptr: Uint32Array.of(0, 2), items: Uint32Array.of(1, 2) };
  const labeler: Labeler = { name: 'rule', model: 'theta=1', labelUser: async () => [] };
  const h = (...parts: (string | Uint8Array)[]) => {
    const x = createHash('sha256');
    for (const p of parts) x.update(p).update('\0');
    return x.digest('hex').slice(0, 16);
  };
  const bytes = (...words: number[]) => new Uint8Array(Uint32Array.from(words).buffer);
  assert.deepEqual(labelFingerprint(dataset, candidates, histories, labeler), {
    dataset: h('2', '3', '[5,6]', '[7,8,9]'),
    histories: h(bytes(0, 1, 2), bytes(2, 0)),
    candidates: h(bytes(1), bytes(0, 2), bytes(1, 2)),
    labeler: h('"rule"', '"theta=1"', 'null'),
  });
  assert.equal(labelFingerprint(dataset, candidates, histories, { ...labeler, settings: { a: 1 } }).labeler, h('"rule"', '"theta=1"', '{"a":1}'));
  // A typed array's own bytes, not its whole buffer.
  const shared = Uint32Array.of(9, 1, 2);
  assert.equal(labelFingerprint(dataset, { ...candidates, users: shared.subarray(1, 2) }, histories, labeler).candidates, h(bytes(1), bytes(0, 2), bytes(1, 2)));
});

test('label job: unparsedTries reaches the store; a failed write stops the job at the next user; a failure stops the other workers', async () => {
  const { dataset } = labelFixture({ users: 1 });
  const candidates = { users: Uint32Array.of(1, 2, 3, 4), indptr: Uint32Array.of(0, 1, 2, 3, 4), items: Uint32Array.of(10, 11, 12, 13) };
  const dir = tmp();
  let calls: number[] = [];
  const unparsed: Labeler = { name: 'u', model: 'm', labelUser: async (user, _h, c) => (calls.push(user), Array.from(c, (item) => ({ item, label: 'unparsed' }))) };
  const out = join(dir, 'u.jsonl');
  for (let run = 0; run < 3; run++) await labelCandidates(dataset, candidates, { labeler: unparsed, out, unparsedTries: 2 });
  assert.equal(calls.length, 8, 'two runs of four users, the third none');
  // A write that fails while user 1 is labelled is seen when user 2's records are queued.
  const handle = await open(join(dir, 'probe'), 'w');
  const proto = Object.getPrototypeOf(handle) as { write: (...a: unknown[]) => Promise<unknown> };
  await handle.close();
  const write = proto.write;
  let failing = false;
  calls = [];
  const breaking: Labeler = { name: 'b', model: 'm', labelUser: async (user, _h, c) => {
    calls.push(user);
    failing = true;
    await new Promise((r) => setTimeout(r, 10));
    return Array.from(c, (item) => ({ item, label: 'negative' }));
  } };
  proto.write = function (this: unknown, ...args: unknown[]) {
    return failing ? Promise.reject(new Error('disk full')) : write.apply(this, args);
  };
  try {
    await assert.rejects(labelCandidates(dataset, candidates, { labeler: breaking, out: join(dir, 'b.jsonl') }), { message: `Could not write labels to ${join(dir, 'b.jsonl')}: disk full` });
  } finally {
    proto.write = write;
  }
  assert.deepEqual(calls, [1, 2]);
  // Two workers: the one that fails stops the other after its current user.
  calls = [];
  const failsFirst: Labeler = { name: 'f', model: 'm', labelUser: async (user, _h, c) => {
    calls.push(user);
    if (user === 1) throw new Error('boom');
    await new Promise((r) => setTimeout(r, 20));
    return Array.from(c, (item) => ({ item, label: 'negative' }));
  } };
  await assert.rejects(labelCandidates(dataset, candidates, { labeler: failsFirst, out: join(dir, 'f.jsonl'), concurrency: 2 }), { message: 'boom' });
  assert.deepEqual(calls, [1, 2]);
  await assert.rejects(labelCandidates(dataset, candidates, { labeler: {} as never, out: join(dir, 'x.jsonl') }), { name: 'TypeError', message: 'Expected a Labeler for labeler but received [object Object]' });
  assert.deepEqual(parseShard('12/13'), { index: 12, count: 13 });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { permutePaths, pathText, type PathCodes } from '../src/labels/paths.js';
import { packPaths } from '../src/trees/paths.js';
import { createRuleLabeler, createTopNLabeler, createNoneLabeler, ruleScore } from '../src/labels/rule.js';
import { createLabeler } from '../src/labels/labelers.js';
import { labelCandidates } from '../src/labels/label.js';
import { readLabelStore } from '../src/labels/store.js';
import { labelQuality } from '../src/labels/quality.js';
import { labelFixture } from '../src/labels/labelFixtures.js';

const codes = (rows: number[][]): PathCodes => packPaths(rows);

test('paths print as 0-1-3-2', () => {
  const c = codes([[0, 1, 3, 2], []]);
  assert.equal(pathText(c, 0), '0-1-3-2');
  assert.equal(pathText(c, 1), '');
});

test('ruleScore takes the best view over the history', () => {
  const co = codes([[0, 0, 0], [1, 1, 1], [0, 0, 1]]);
  const se = codes([[2, 2, 2], [3, 3, 3], [3, 3, 0]]);
  // Candidate 2 vs history [0]: co 2/3, se 0; vs history [1]: co 0, se 2/3; vs both: 2/3.
  assert.equal(ruleScore(co, se, Uint32Array.of(0), 2), Math.fround(2 / 3));
  assert.equal(ruleScore(co, se, Uint32Array.of(1), 2), Math.fround(2 / 3));
  assert.equal(ruleScore(co, codes([[0, 0, 0], [1, 1, 1], [0, 0, 0]]), Uint32Array.of(0, 1), 2), 1);
  assert.equal(ruleScore(co, se, Uint32Array.of(), 2), 0);
});

test('permutePaths keeps the multiset of paths (same depths and branching) and moves items', () => {
  const { items } = labelFixture({ users: 1 });
  const shuffled = permutePaths(items.structural, 5);
  const n = items.structural.lengths.length;
  const texts = (c: PathCodes) => Array.from({ length: n }, (_, i) => pathText(c, i));
  assert.deepEqual([...texts(shuffled)].sort(), [...texts(items.structural)].sort());
  const moved = texts(shuffled).filter((t, i) => t !== texts(items.structural)[i]).length;
  assert.ok(moved > n / 2, `only ${moved} of ${n} items changed paths`);
  assert.deepEqual(permutePaths(items.structural, 5), shuffled, 'seeded');
});

test('rule, topn, random-codes and none on synthetic data with planted hidden positives', async () => {
  const fixture = labelFixture({ users: 120 });
  const dir = mkdtempSync(join(tmpdir(), 'dtlns-rule-'));
  const quality: Record<string, ReturnType<typeof labelQuality>> = {};
  for (const kind of ['rule', 'topn', 'random-codes', 'none'] as const) {
    const labeler = await createLabeler({ kind, items: fixture.items });
    const out = join(dir, `${kind}.jsonl`);
    const summary = await labelCandidates(fixture.dataset, fixture.candidates, { labeler, out });
    const records = await readLabelStore(out);
    assert.equal(records.length, fixture.candidates.items.length);
    assert.equal(summary.counts.positive + summary.counts.negative, records.length);
    quality[kind] = labelQuality(records, fixture.dataset);
  }
  const base = quality.topn.baseRate;
  assert.ok(base > 0.1 && base < 0.6, `base rate ${base}`);
  assert.equal(quality.topn.precision, base);
  assert.equal(quality.topn.recall, 1);
  assert.equal(quality.none.positives, 0);
  assert.equal(quality.none.recall, 0);
  // The rule finds planted positives far above the base rate; shuffled codes do not.
  assert.ok(quality.rule.precision > base + 0.2, `rule precision ${quality.rule.precision} vs base ${base}`);
  assert.ok(quality.rule.recall > 0.5, `rule recall ${quality.rule.recall}`);
  assert.ok(Math.abs(quality['random-codes'].precision - base) < 0.15, `random-codes precision ${quality['random-codes'].precision} vs base ${base}`);
  assert.ok(quality.rule.f1 > quality['random-codes'].f1 + 0.1);
});

test('rule labeler records its score and theta', async () => {
  const fixture = labelFixture({ users: 3 });
  const labeler = createRuleLabeler(fixture.items.structural, fixture.items.semantic, 0.5);
  assert.equal(labeler.model, 'theta=0.5');
  const u = fixture.candidates.users[0];
  const history = fixture.dataset.train.indices.subarray(fixture.dataset.train.indptr[u], fixture.dataset.train.indptr[u + 1]);
  const row = fixture.candidates.items.subarray(0, fixture.candidates.indptr[1]);
  const results = await labeler.labelUser(u, history, row);
  results.forEach((r, k) => {
    assert.equal(r.item, row[k]);
    assert.equal(r.score, ruleScore(fixture.items.structural, fixture.items.semantic, history, row[k]));
    assert.equal(r.label, r.score! >= 0.5 ? 'positive' : 'negative');
  });
  assert.deepEqual((await createTopNLabeler().labelUser(0, history, row)).map((r) => r.label), Array(row.length).fill('positive'));
  assert.deepEqual((await createNoneLabeler().labelUser(0, history, row)).map((r) => r.label), Array(row.length).fill('negative'));
});

test('BAD CALL - labeler arguments', async () => {
  const fixture = labelFixture({ users: 1 });
  assert.throws(() => createRuleLabeler(fixture.items.structural, fixture.items.semantic, 1.5), { name: 'RangeError', message: /theta/ });
  assert.throws(() => createRuleLabeler({ nItems: 0, paths: [], lengths: [] } as never, fixture.items.semantic), { name: 'TypeError', message: /structural/ });
  await assert.rejects(createLabeler({ kind: 'magic' as never }), { name: 'RangeError', message: /kind/ });
  await assert.rejects(createLabeler({ kind: 'rule' }), { name: 'TypeError', message: /items/ });
  await assert.rejects(createLabeler({ kind: 'llama', items: fixture.items }), { name: 'TypeError', message: /llama/ });
  await assert.rejects(createLabeler({ kind: 'random-codes', items: fixture.items, inner: 'topn' as never }), { name: 'RangeError', message: /inner/ });
  const short = packPaths([[0], [1]]);
  assert.throws(() => createRuleLabeler(fixture.items.structural, short), { name: 'RangeError', message: /semantic/ });
});

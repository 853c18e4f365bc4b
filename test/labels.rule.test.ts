import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { permutePaths, pathText, randomPaths, type PathCodes } from '../src/labels/labeler-paths.js';
import { packPaths, pathOf } from '../src/trees/path-codes.js';
import { createRuleLabeler, createTopNLabeler, createNoneLabeler, ruleEvidence, ruleViews, type RuleOptions } from '../src/labels/rule.js';
import { labelDefaults } from '../src/defaults.js';
import { mulberry32 } from '../src/util/random.js';
import { createLabeler, labelSettings, codeControlInnerKinds } from '../src/labels/labelers.js';
import { Xoshiro128ss } from '../src/data/rng.js';
import { systemPrompt } from '../src/labels/prompt.js';
import { createHash } from 'node:crypto';
import { labelerCatalogue } from '../src/labels/labeler-catalogue.js';
import { labelCandidates } from '../src/labels/label.js';
import { readLabelStore } from '../src/labels/store.js';
import { labelHeldOut, labelQuality } from '../src/labels/quality.js';
import { csrFromPairs } from '../src/data/csr.js';
import type { Dataset } from '../src/data/types.js';
import type { LabelRecord } from '../src/labels/types.js';
import { labelFixture } from '../src/labels/labelFixtures.js';
import { codeControls, labelerFieldSpecs, labelerFieldsOf, labelerKinds } from '../src/labels/labeler-catalogue.js';

const codes = (rows: number[][]): PathCodes => packPaths(rows);

test('paths print as 0-1-3-2', () => {
  const c = codes([[0, 1, 3, 2], []]);
  assert.equal(pathText(c, 0), '0-1-3-2');
  assert.equal(pathText(c, 1), '');
});

test('ruleEvidence counts the history items that reach theta in each tree (sum), in both, or in either', () => {
  const co = codes([[0, 0, 0], [1, 1, 1], [0, 0, 1]]);
  const se = codes([[2, 2, 2], [3, 3, 3], [3, 3, 0]]);
  // Candidate 2 vs history 0: co 2/3, se 0; vs history 1: co 0, se 2/3.
  assert.deepEqual(ruleEvidence(co, se, Uint32Array.of(0, 1), 2, 0.5, 'either'), { support: 2, score: Math.fround(2 / 3) });
  assert.deepEqual(ruleEvidence(co, se, Uint32Array.of(0, 1), 2, 0.5, 'both'), { support: 0, score: 0 });
  const se2 = codes([[0, 0, 0], [1, 1, 1], [0, 0, 0]]);
  // Candidate 2 vs history 0: co 2/3, se 1 -> both: min 2/3, either: max 1.
  assert.deepEqual(ruleEvidence(co, se2, Uint32Array.of(0), 2, 0.6, 'both'), { support: 1, score: Math.fround(2 / 3) });
  assert.deepEqual(ruleEvidence(co, se2, Uint32Array.of(0), 2, 1, 'both'), { support: 0, score: Math.fround(2 / 3) });
  assert.deepEqual(ruleEvidence(co, se2, Uint32Array.of(0, 1), 2, 1, 'either'), { support: 1, score: 1 });
  // sum: history 0 reaches 0.6 in both trees (2), history 1 in neither; the score is the mean similarity.
  assert.deepEqual(ruleEvidence(co, se2, Uint32Array.of(0, 1), 2, 0.6, 'sum'), { support: 2, score: (Math.fround(2 / 3) + 1) / 2 });
  assert.deepEqual(ruleEvidence(co, se2, Uint32Array.of(0, 1), 2, 1, 'sum'), { support: 1, score: (Math.fround(2 / 3) + 1) / 2 });
  assert.deepEqual(ruleEvidence(co, se, Uint32Array.of(), 2, 1, 'both'), { support: 0, score: 0 });
});

/** The rule written out plainly: path arrays, LCP by a loop, a count, then the cap by sorting. */
function referenceRule(co: PathCodes, se: PathCodes, history: number[], candidates: number[], o: RuleOptions): boolean[] {
  const sim = (c: PathCodes, a: number, b: number): number => {
    const pa = pathOf(c, a), pb = pathOf(c, b);
    const shorter = Math.min(pa.length, pb.length);
    if (shorter === 0) return 0;
    let l = 0;
    while (l < shorter && pa[l] === pb[l]) l++;
    return Math.fround(l / shorter);
  };
  const support = candidates.map((c) => {
    let n = 0;
    for (const h of history) {
      const a = sim(co, h, c) >= o.theta, b = sim(se, h, c) >= o.theta;
      if (o.views === 'sum') n += (a ? 1 : 0) + (b ? 1 : 0);
      else if (o.views === 'both' ? a && b : a || b) n++;
    }
    return n;
  });
  const accepted = support.map((s) => s >= o.minSupport);
  if (o.cap > 0) {
    const ranked = candidates.map((_, k) => k).filter((k) => accepted[k]).sort((a, b) => support[b] - support[a] || a - b);
    ranked.slice(o.cap).forEach((k) => (accepted[k] = false));
  }
  return accepted;
}

test('rule variants agree with the plain reference on small random trees', async () => {
  const rand = mulberry32(11);
  const randomCodes = (n: number) => codes(Array.from({ length: n }, () => Array.from({ length: Math.floor(rand() * 4) }, () => Math.floor(rand() * 2))));
  let checked = 0, positives = 0, capped = 0;
  for (let trial = 0; trial < 30; trial++) {
    const n = 12;
    const co = randomCodes(n), se = randomCodes(n);
    const history = Array.from({ length: Math.floor(rand() * 6) }, () => Math.floor(rand() * n));
    const candidates = Array.from({ length: 8 }, () => Math.floor(rand() * n));
    for (const views of ruleViews) {
      for (const theta of [0, 0.5, 0.75, 1]) {
        for (const minSupport of [1, 2, 3]) {
          for (const cap of [0, 1, 2, 5]) {
            const o = { views, theta, minSupport, cap };
            const got = (await createRuleLabeler(co, se, o).labelUser(0, Uint32Array.from(history), Uint32Array.from(candidates))).map((r) => r.label === 'positive');
            const want = referenceRule(co, se, history, candidates, o);
            assert.deepEqual(got, want, `trial ${trial} ${JSON.stringify(o)}`);
            checked++;
            positives += want.filter(Boolean).length;
            if (cap > 0 && referenceRule(co, se, history, candidates, { ...o, cap: 0 }).filter(Boolean).length > cap) capped++;
          }
        }
      }
    }
  }
  // The inputs exercise every branch: some positives, some caps that bite.
  assert.ok(checked === 30 * 144 && positives > 1000 && capped > 100, `${checked} cases, ${positives} positives, ${capped} capped`);
});

test('the default rule is labelDefaults.rule, and views either, support 1, no cap is the earlier rule', async () => {
  const fixture = labelFixture({ users: 40 });
  const { structural, semantic } = fixture.items;
  const byDefault = createRuleLabeler(structural, semantic);
  assert.equal(byDefault.model, `theta=${labelDefaults.rule.theta} views=${labelDefaults.rule.views} minSupport=${labelDefaults.rule.minSupport} cap=${labelDefaults.rule.cap}`);
  const earlier = createRuleLabeler(structural, semantic, { views: 'either', minSupport: 1, cap: 0, theta: 1 });
  const { train } = fixture.dataset;
  for (let r = 0; r < fixture.candidates.users.length; r++) {
    const u = fixture.candidates.users[r];
    const history = train.indices.subarray(train.indptr[u], train.indptr[u + 1]);
    const row = fixture.candidates.items.subarray(fixture.candidates.indptr[r], fixture.candidates.indptr[r + 1]);
    // The earlier rule: positive when max over the history of max(sim_co, sim_se) reaches theta.
    for (const res of await earlier.labelUser(u, history, row)) {
      let best = 0;
      for (const h of history) best = Math.max(best, ...[structural, semantic].map((c) => referenceRule(c, c, [h], [res.item], { views: 'both', theta: 1, minSupport: 1, cap: 0 })[0] ? 1 : 0));
      assert.equal(res.label === 'positive', best === 1);
    }
  }
});

test('randomPaths keeps each depth and the branching, is seeded, and moves items', () => {
  const { items } = labelFixture({ users: 1 });
  const c = items.structural;
  const random = randomPaths(c, 3);
  assert.deepEqual(random.lengths, c.lengths);
  const n = c.lengths.length;
  const maxDigit = (p: PathCodes) => Math.max(...Array.from(p.paths));
  assert.equal(maxDigit(random), maxDigit(c));
  assert.ok(Array.from(random.paths).every((d, k) => (d === -1) === (k % c.maxDepth >= c.lengths[Math.floor(k / c.maxDepth)])), 'padding only past each depth');
  const moved = Array.from({ length: n }, (_, i) => pathText(random, i) !== pathText(c, i)).filter(Boolean).length;
  assert.ok(moved > n / 2, `only ${moved} of ${n} items changed paths`);
  assert.deepEqual(randomPaths(c, 3), random, 'seeded');
  assert.notDeepEqual(randomPaths(c, 4), random);
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
  assert.notDeepEqual(permutePaths(items.structural, 6), shuffled);
});

test('shuffled-codes and random-codes label with the rule on the seeded codes of both trees', async () => {
  const fixture = labelFixture({ users: 5 });
  const { structural, semantic } = fixture.items;
  const { train } = fixture.dataset;
  for (const [kind, recode] of [['shuffled-codes', permutePaths], ['random-codes', randomPaths]] as const) {
    const control = await createLabeler({ kind, items: fixture.items, seed: 9, views: 'either' });
    assert.equal(control.name, `${kind}(rule)`);
    const plain = createRuleLabeler(recode(structural, 9), recode(semantic, 10), { views: 'either' });
    for (let r = 0; r < fixture.candidates.users.length; r++) {
      const u = fixture.candidates.users[r];
      const history = train.indices.subarray(train.indptr[u], train.indptr[u + 1]);
      const row = fixture.candidates.items.subarray(fixture.candidates.indptr[r], fixture.candidates.indptr[r + 1]);
      assert.deepEqual(await control.labelUser(u, history, row), await plain.labelUser(u, history, row));
    }
  }
});

test('every labeler that needs no input (rule, topn, the code controls, none) on synthetic data with planted hidden positives', async () => {
  const fixture = labelFixture({ users: 120 });
  const dir = mkdtempSync(join(tmpdir(), 'dtlns-rule-'));
  const quality: Record<string, ReturnType<typeof labelQuality>> = {};
  // file, llama and openai need a label file, a model or a server.
  const selfContained = labelerKinds.filter((kind) => labelerFieldsOf(kind).every((name) => !labelerFieldSpecs[name].required));
  assert.ok(selfContained.length >= 5, selfContained.join(', '));
  for (const kind of selfContained) {
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
  // The rule finds planted positives far above the base rate; meaningless codes do not.
  assert.ok(quality.rule.precision > base + 0.2, `rule precision ${quality.rule.precision} vs base ${base}`);
  assert.ok(quality.rule.recall > 0.3, `rule recall ${quality.rule.recall}`);
  // Meaningless codes find few: a count over the history still favours long histories (which hold
  // more hidden positives here), so their small positive sets are not at the base rate.
  for (const control of codeControls) {
    assert.ok(quality[control].recall < quality.rule.recall / 3, `${control} recall ${quality[control].recall} vs rule ${quality.rule.recall}`);
    assert.ok(quality.rule.f1 > quality[control].f1 + 0.1, `${control} F1 ${quality[control].f1} vs rule ${quality.rule.f1}`);
  }
});

test('rule labeler records its score and options', async () => {
  const fixture = labelFixture({ users: 3 });
  const labeler = createRuleLabeler(fixture.items.structural, fixture.items.semantic, { theta: 0.5, views: 'either' });
  assert.equal(labeler.model, `theta=0.5 views=either minSupport=${labelDefaults.rule.minSupport} cap=${labelDefaults.rule.cap}`);
  const u = fixture.candidates.users[0];
  const history = fixture.dataset.train.indices.subarray(fixture.dataset.train.indptr[u], fixture.dataset.train.indptr[u + 1]);
  const row = fixture.candidates.items.subarray(0, fixture.candidates.indptr[1]);
  const results = await labeler.labelUser(u, history, row);
  results.forEach((r, k) => {
    assert.equal(r.item, row[k]);
    const e = ruleEvidence(fixture.items.structural, fixture.items.semantic, history, row[k], 0.5, 'either');
    assert.equal(r.score, e.score);
    assert.equal(r.label, e.support >= labelDefaults.rule.minSupport ? 'positive' : 'negative');
  });
  assert.deepEqual((await createTopNLabeler().labelUser(0, history, row)).map((r) => r.label), Array(row.length).fill('positive'));
  assert.deepEqual((await createNoneLabeler().labelUser(0, history, row)).map((r) => r.label), Array(row.length).fill('negative'));
});

test('BAD CALL - labeler arguments', async () => {
  const fixture = labelFixture({ users: 1 });
  assert.throws(() => createRuleLabeler(fixture.items.structural, fixture.items.semantic, { theta: 1.5 }), { name: 'RangeError', message: /theta/ });
  assert.throws(() => createRuleLabeler(fixture.items.structural, fixture.items.semantic, { views: 'all' as never }), { name: 'RangeError', message: /views/ });
  assert.throws(() => createRuleLabeler(fixture.items.structural, fixture.items.semantic, { minSupport: 0 }), { name: 'RangeError', message: /minSupport/ });
  assert.throws(() => createRuleLabeler(fixture.items.structural, fixture.items.semantic, { cap: 1.5 }), { name: 'TypeError', message: /cap/ });
  await assert.rejects(createLabeler({ kind: 'shuffled-codes', items: fixture.items, seed: -1 }), { name: 'RangeError', message: /seed/ });
  assert.throws(() => createRuleLabeler({ nItems: 0, paths: [], lengths: [] } as never, fixture.items.semantic), { name: 'TypeError', message: /structural/ });
  await assert.rejects(createLabeler({ kind: 'magic' as never }), { name: 'RangeError', message: /kind/ });
  await assert.rejects(createLabeler({ kind: 'rule' }), { name: 'TypeError', message: /items/ });
  await assert.rejects(createLabeler({ kind: 'llama', items: fixture.items }), { name: 'TypeError', message: /llama/ });
  await assert.rejects(createLabeler({ kind: 'random-codes', items: fixture.items, inner: 'topn' as never }), { name: 'RangeError', message: /inner/ });
  const short = packPaths([[0], [1]]);
  assert.throws(() => createRuleLabeler(fixture.items.structural, short), { name: 'RangeError', message: /semantic/ });
  assert.throws(() => createRuleLabeler(undefined as never, fixture.items.semantic), { name: 'TypeError', message: /structural/ });
  // Seed 0 is a seed like any other.
  assert.match((await createLabeler({ kind: 'shuffled-codes', items: fixture.items, seed: 0 })).model, / seed=0$/);
  // Each rule option's --help line says it belongs to the rule labeler.
  for (const [name, field] of Object.entries(labelerCatalogue.rule.fields)) assert.match(field.doc, /^rule: \S/, name);
});

test('labelHeldOut counts the positives that are valid or test interactions, against the base rate', () => {
  // Original ids 10.. for users, 100.. for items; user 0: valid {1}, test {2}; user 1: test {3}.
  const m = (pairs: [number, number][]) => csrFromPairs(2, 6, Uint32Array.from(pairs, (p) => p[0]), Uint32Array.from(pairs, (p) => p[1])).csr;
  const dataset: Dataset = {
    name: 'tiny', nUsers: 2, nItems: 6, userIds: [10, 11], itemIds: [100, 101, 102, 103, 104, 105],
    train: m([[0, 0], [1, 0]]), valid: m([[0, 1]]), test: m([[0, 2], [1, 3]]), reports: [],
  };
  const rec = (user: number, item: number, label: LabelRecord['label']): LabelRecord => ({ user, item, label, labeler: 'rule', model: 'x' });
  const h = labelHeldOut([
    rec(10, 101, 'positive'), rec(10, 102, 'negative'), rec(10, 103, 'positive'), rec(10, 104, 'positive'),
    rec(11, 103, 'positive'), rec(11, 102, 'negative'), rec(11, 105, 'unparsed'), rec(11, 101, 'negative'),
  ], dataset);
  // Held-out pairs: (10,101) valid, (10,102) test, (11,103) test. Positives: 4, of which (10,101) and (11,103) held-out.
  assert.deepEqual(h, { pairs: 8, positives: 4, heldOutAmongPairs: 3, heldOutPositives: 2, acceptance: 0.5, precisionProxy: 0.5, baseRate: 3 / 8, recallProxy: 2 / 3 });
  assert.throws(() => labelHeldOut([rec(12, 101, 'positive')], dataset), { name: 'RangeError', message: /user 12/ });
  assert.throws(() => labelHeldOut([], { ...dataset, valid: undefined, test: undefined }), { name: 'RangeError', message: /valid or test/ });
});

test('permutePaths is the Fisher-Yates shuffle of Xoshiro128ss(seed); randomPaths draws each level below its branching, in item order', () => {
  const c = codes([[0, 5], [3], [], [1, 0, 2], [2, 1]]);
  // Fisher-Yates from the last position, j uniform in [0, i].
  const rng = new Xoshiro128ss(11);
  const order = [0, 1, 2, 3, 4];
  for (let i = 4; i > 0; i--) {
    const j = rng.below(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  const shuffled = permutePaths(c, 11);
  assert.deepEqual(Array.from({ length: 5 }, (_, i) => pathOf(shuffled, i)), order.map((from) => pathOf(c, from)));
  assert.deepEqual([shuffled.nItems, shuffled.maxDepth, shuffled.paths.length], [5, 3, 15]);
  assert.deepEqual(Array.from(shuffled.paths).filter((d) => d === -1).length, 7, 'padding kept');
  // Branching per level: largest index + 1 = [4, 6, 3].
  const draws = new Xoshiro128ss(11);
  const expected = [[0, 5], [3], [], [1, 0, 2], [2, 1]].map((p) => p.map((_, d) => draws.below([4, 6, 3][d])));
  const random = randomPaths(c, 11);
  assert.deepEqual(Array.from({ length: 5 }, (_, i) => pathOf(random, i)), expected);
  assert.deepEqual(Array.from(random.paths).filter((d) => d === -1).length, 7, 'padding kept');
  assert.deepEqual(Array.from(random.lengths), [2, 1, 0, 3, 2]);
  assert.notEqual(random.lengths, c.lengths, 'a copy');
  for (const recode of [permutePaths, randomPaths]) {
    assert.throws(() => recode({ nItems: 1 } as never, 1), { name: 'TypeError', message: 'Expected path codes {nItems, maxDepth, paths: Int32Array, lengths: Int32Array} for codes but received [object Object]' });
  }
});

test('createLabeler: refusals with the whole message, the settings it records, and each kind it builds', async () => {
  const fixture = labelFixture({ users: 1 });
  await assert.rejects(createLabeler(undefined as never), { name: 'RangeError', message: `Expected one of ${labelerKinds.join(', ')} for kind but received undefined` });
  await assert.rejects(createLabeler({ kind: 'magic' as never }), { name: 'RangeError', message: `Expected one of ${labelerKinds.join(', ')} for kind but received magic` });
  await assert.rejects(createLabeler({ kind: 'file' }), { name: 'TypeError', message: 'Expected imported labels (importLabels) for imported with labeler file' });
  await assert.rejects(createLabeler({ kind: 'rule' }), { name: 'TypeError', message: 'Expected prompt items (item ids and both path codes) for items with labeler rule' });
  await assert.rejects(createLabeler({ kind: 'llama', items: fixture.items }), { name: 'TypeError', message: 'Expected llama options (modelPath, ...) for llama with labeler llama' });
  await assert.rejects(createLabeler({ kind: 'openai', items: fixture.items }), { name: 'TypeError', message: 'Expected openai options (url, modelName, ...) for openai with labeler openai' });
  await assert.rejects(createLabeler({ kind: 'random-codes', items: fixture.items, inner: 'topn' as never }), { name: 'RangeError', message: `Expected one of ${codeControlInnerKinds.join(', ')} for inner but received topn` });
  // Given its options, llama goes on to the model file, openai to its own checks.
  await assert.rejects(createLabeler({ kind: 'llama', items: fixture.items, llama: { modelPath: '/nonexistent/m.gguf' } }), { name: 'DataFileError', message: /^\/nonexistent\/m\.gguf/ });
  const openai = await createLabeler({ kind: 'random-codes', inner: 'openai', items: fixture.items, openai: { url: 'http://127.0.0.1:9/v1', modelName: 'qwen' } });
  assert.deepEqual([openai.name, openai.model], ['random-codes(openai)', `qwen seed=${labelDefaults.codeControlSeed}`]);
  const imported = { provenance: { file: 'l.jsonl', sha256: 'ab'.repeat(32) } } as never;
  const file = await createLabeler({ kind: 'file', imported });
  assert.deepEqual([file.name, file.model], ['file', `l.jsonl@${'ab'.repeat(8)}`]);
  // The settings: an enumerable property (a labeler copied with {...labeler} keeps them).
  assert.deepEqual({ ...file }.settings, file.settings);
  const onToken = () => undefined;
  const spec = {
    kind: 'openai' as const, items: fixture.items, theta: 0.5,
    openai: { url: 'http://x/v1', modelName: 'qwen', maxPromptTokens: 900, concurrency: 2, timeoutMs: 1, retries: 1, retryBaseMs: 1, maxRetryWaitMs: 1, maxRetryTotalMs: 1, maxResponseBytes: 1, apiKey: 'k' },
    llama: { modelPath: 'm.gguf', mode: 'generate' as const, threads: 2, sequences: 2, gpuLayers: 3, gpu: 'cpu' as const, onToken } as never,
  };
  const hash = (x: string) => createHash('sha256').update(x).digest('hex');
  const array = (_k: string, v: unknown) => (ArrayBuffer.isView(v) ? Array.from(v as Int32Array) : v);
  assert.deepEqual(labelSettings(spec), {
    kind: 'openai', rule: { ...labelDefaults.rule, theta: 0.5 }, inner: undefined, seed: undefined,
    items: hash(JSON.stringify([fixture.items.itemIds, fixture.items.structural, fixture.items.semantic], array)), prompt: hash(systemPrompt),
    llama: { modelPath: 'm.gguf', mode: 'generate' }, openai: { url: 'http://x/v1', modelName: 'qwen', maxPromptTokens: 900 },
  });
  assert.match(labelSettings(spec).items as string, /^[0-9a-f]{64}$/);
  assert.deepEqual(labelSettings({ kind: 'topn' }), { kind: 'topn', rule: labelDefaults.rule, inner: undefined, seed: undefined, items: undefined, prompt: hash(systemPrompt), llama: undefined, openai: undefined });
});

/**
 * The rule labeler on paths small enough to work out by hand: each view's support and score at
 * several thresholds, the cap keeping the best supported, the options' checks and texts, and the
 * code-control wrapper passing its inner labeler's fields through.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCodeControlLabeler, createNoneLabeler, createRuleLabeler, createTopNLabeler, resolveRuleOptions, ruleEvidence, ruleModelText } from '../src/labels/rule.js';
import { packPaths } from '../src/trees/path-codes.js';
import type { Labeler } from '../src/labels/types.js';

// Items 0..3.  structural: [0,1] [0,1,2] [0,2] [1];  semantic: [2] [2,0] [2,1] [0,0].
// sim = LCP / min(len).  co(0,1) = 2/2 = 1, co(0,2) = 1/2, co(1,2) = 1/2, co(x,3) = 0, co(1,1) = 1;
// se(0,1) = 1/1 = 1, se(0,2) = 1, se(1,2) = 1/2, se(x,3) = 0, se(1,1) = 1.
const structural = packPaths([[0, 1], [0, 1, 2], [0, 2], [1]]);
const semantic = packPaths([[2], [2, 0], [2, 1], [0, 0]]);
const evidence = (history: number[], candidate: number, theta: number, views: 'sum' | 'both' | 'either') =>
  ruleEvidence(structural, semantic, Uint32Array.from(history), candidate, theta, views);

test('ruleEvidence: support and score of each view, worked out by hand', () => {
  // Candidate 2, history [0, 1]: (co, se) = (1/2, 1) and (1/2, 1/2).
  // theta 1/2: sum counts 2 + 2, both min(.5,1) and min(.5,.5) = 2, either 2; scores: mean .75, min .5, max 1.
  assert.deepEqual(evidence([0, 1], 2, 0.5, 'sum'), { support: 4, score: 0.75 });
  assert.deepEqual(evidence([0, 1], 2, 0.5, 'both'), { support: 2, score: 0.5 });
  assert.deepEqual(evidence([0, 1], 2, 0.5, 'either'), { support: 2, score: 1 });
  // theta 3/4: sum counts only se(0,2) = 1; both none; either item 0 (max 1).
  assert.deepEqual(evidence([0, 1], 2, 0.75, 'sum'), { support: 1, score: 0.75 });
  assert.deepEqual(evidence([0, 1], 2, 0.75, 'both'), { support: 0, score: 0.5 });
  assert.deepEqual(evidence([0, 1], 2, 0.75, 'either'), { support: 1, score: 1 });
  // The score is the best over the history, whatever the order: history [1, 0].
  assert.deepEqual(evidence([1, 0], 2, 0.75, 'sum'), { support: 1, score: 0.75 });
  // Candidate 3 shares nothing: no support above 0, score 0; at theta 0 every pair reaches it.
  assert.deepEqual(evidence([0, 1], 3, 0.5, 'sum'), { support: 0, score: 0 });
  assert.deepEqual(evidence([0, 1], 3, 0, 'sum'), { support: 4, score: 0 });
  assert.deepEqual(evidence([0, 1], 3, 0, 'both'), { support: 2, score: 0 });
  assert.deepEqual(evidence([0, 1], 3, 0, 'either'), { support: 2, score: 0 });
  // Candidate 1, history [0]: both trees 1, so theta 1 is reached.
  assert.deepEqual(evidence([0], 1, 1, 'sum'), { support: 2, score: 1 });
  assert.deepEqual(evidence([0], 1, 1, 'both'), { support: 1, score: 1 });
  // Only one tree at 1 (candidate 2: co 1/2, se 1): both 0, either 1, sum 1.
  assert.deepEqual(evidence([0], 2, 1, 'both'), { support: 0, score: 0.5 });
  assert.deepEqual(evidence([0], 2, 1, 'either'), { support: 1, score: 1 });
  assert.deepEqual(evidence([0], 2, 1, 'sum'), { support: 1, score: 0.75 });
  assert.deepEqual(evidence([], 2, 0, 'sum'), { support: 0, score: 0 });
});

test('rule labeler: minSupport, and the cap keeps the best supported (ties: the earlier candidate)', async () => {
  // History [0, 1], theta 3/4, sum: candidate 2 has support 1 (score .75); candidate 1: co(0,1) se(0,1) co(1,1) se(1,1) all 1 = 4 (score 1); 3: 0.
  const label = async (options: object, candidates: number[], history = [0, 1]) =>
    (await createRuleLabeler(structural, semantic, { theta: 0.75, views: 'sum', ...options }).labelUser(0, Uint32Array.from(history), Uint32Array.from(candidates)));
  assert.deepEqual(await label({ minSupport: 1, cap: 0 }, [2, 1, 3]), [
    { item: 2, label: 'positive', score: 0.75 }, { item: 1, label: 'positive', score: 1 }, { item: 3, label: 'negative', score: 0 },
  ]);
  assert.deepEqual((await label({ minSupport: 1, cap: 1 }, [2, 1, 3])).map((r) => r.label), ['negative', 'positive', 'negative']);
  assert.deepEqual((await label({ minSupport: 1, cap: 2 }, [2, 1, 3])).map((r) => r.label), ['positive', 'positive', 'negative']);
  assert.deepEqual((await label({ minSupport: 2, cap: 0 }, [2, 1, 3])).map((r) => r.label), ['negative', 'positive', 'negative']);
  assert.deepEqual((await label({ minSupport: 4, cap: 0 }, [2, 1, 3])).map((r) => r.label), ['negative', 'positive', 'negative']);
  assert.deepEqual((await label({ minSupport: 5, cap: 0 }, [2, 1, 3])).map((r) => r.label), ['negative', 'negative', 'negative']);
  // A tie (history [0], theta 1/2, sum: candidates 1 and 2 both have support 2): the earlier one is kept.
  assert.deepEqual((await label({ theta: 0.5, minSupport: 1, cap: 1 }, [2, 1, 3], [0])).map((r) => r.label), ['positive', 'negative', 'negative']);
  assert.deepEqual((await label({ theta: 0.5, minSupport: 1, cap: 1 }, [1, 2, 3], [0])).map((r) => r.label), ['positive', 'negative', 'negative']);
  // The defaults: theta 1, sum, minSupport 4, cap 0.
  const byDefault = createRuleLabeler(structural, semantic);
  assert.equal(byDefault.name, 'rule');
  assert.equal(byDefault.model, 'theta=1 views=sum minSupport=4 cap=0');
  assert.deepEqual((await byDefault.labelUser(0, Uint32Array.of(0, 1), Uint32Array.of(1, 2))).map((r) => r.label), ['positive', 'negative']);
});

test('rule options: defaults, each given option kept, checks naming the option, the model text', () => {
  assert.deepEqual(resolveRuleOptions(), { theta: 1, views: 'sum', minSupport: 4, cap: 0 });
  assert.deepEqual(resolveRuleOptions({ theta: 0.25 }), { theta: 0.25, views: 'sum', minSupport: 4, cap: 0 });
  assert.deepEqual(resolveRuleOptions({ theta: 0, views: 'both', minSupport: 1, cap: 3 }), { theta: 0, views: 'both', minSupport: 1, cap: 3 });
  assert.equal(ruleModelText({ theta: 0.5, views: 'either', minSupport: 2, cap: 7 }), 'theta=0.5 views=either minSupport=2 cap=7');
  const bad: [object, string][] = [
    [{ theta: 1.5 }, 'RangeError: Expected a number in [0, 1] for theta but received 1.5'],
    [{ theta: -0.5 }, 'RangeError: Expected a number in [0, 1] for theta but received -0.5'],
    [{ views: 'all' }, 'RangeError: Expected one of sum, both, either for views but received "all"'],
    [{ minSupport: 0 }, 'RangeError: Expected an integer in [1, 4294967295] for minSupport but received 0'],
    [{ cap: -1 }, 'RangeError: Expected an integer in [0, 4294967295] for cap but received -1'],
  ];
  for (const [options, expected] of bad) {
    assert.throws(() => resolveRuleOptions(options), (e: Error) => `${e.constructor.name}: ${e.message}` === expected, expected);
  }
  assert.throws(() => createRuleLabeler(structural, packPaths([[0], [1]])), { name: 'RangeError', message: 'Expected semantic for 4 items but received 2' });
});

test('controls: topn, none, and the code controls passing the inner labeler through', async () => {
  const candidates = Uint32Array.of(3, 1);
  assert.deepEqual(await createTopNLabeler().labelUser(0, Uint32Array.of(0), candidates), [{ item: 3, label: 'positive' }, { item: 1, label: 'positive' }]);
  assert.deepEqual(await createNoneLabeler().labelUser(0, Uint32Array.of(0), candidates), [{ item: 3, label: 'negative' }, { item: 1, label: 'negative' }]);
  assert.deepEqual([createTopNLabeler().name, createTopNLabeler().model, createNoneLabeler().name, createNoneLabeler().model], ['topn', 'none', 'none', 'none']);
  const items = { itemIds: [10, 11, 12, 13], structural, semantic };
  const seen: unknown[] = [];
  const inner: Labeler = {
    name: 'inner', model: 'm', parallelUsers: 3, device: 'cpu' as never,
    labelUser: async (user, history, c) => { seen.push([user, Array.from(history), Array.from(c)]); return [{ item: c[0], label: 'positive' }]; },
    stats: () => ({ calls: 1 }) as never,
    close: async () => { seen.push('closed'); },
  };
  let given: { structural: typeof structural; semantic: typeof semantic } | undefined;
  const control = await createCodeControlLabeler('shuffled-codes', items, (m) => { given = m; return inner; }, 5);
  assert.equal(control.name, 'shuffled-codes(inner)');
  assert.equal(control.model, 'm seed=5');
  assert.equal(control.parallelUsers, 3);
  assert.equal(control.device, 'cpu');
  assert.deepEqual(control.stats!(), { calls: 1 });
  assert.deepEqual(await control.labelUser(2, Uint32Array.of(1), candidates), [{ item: 3, label: 'positive' }]);
  await control.close!();
  assert.deepEqual(seen, [[2, [1], [3, 1]], 'closed']);
  // Shuffled: the same paths, permuted among items; the two trees with different seeds.
  const sorted = (c: typeof structural) => Array.from({ length: c.nItems }, (_, i) => Array.from(c.paths.subarray(i * c.maxDepth, (i + 1) * c.maxDepth)).join(',')).sort();
  assert.deepEqual(sorted(given!.structural), sorted(structural));
  assert.deepEqual(sorted(given!.semantic), sorted(semantic));
  // A bare inner labeler gives a bare control; the default seed is 2026.
  const bare = await createCodeControlLabeler('random-codes', items, () => createNoneLabeler());
  assert.equal(bare.model, 'none seed=2026');
  assert.deepEqual(Object.keys(bare).sort(), ['labelUser', 'model', 'name']);
  await assert.rejects(createCodeControlLabeler('random-codes', items, () => inner, -1), { name: 'RangeError', message: 'Expected a non-negative integer for seed but received -1' });
  await assert.rejects(createCodeControlLabeler('random-codes', items, () => inner, 1.5), { name: 'RangeError', message: 'Expected a non-negative integer for seed but received 1.5' });
  await assert.rejects(createCodeControlLabeler('codes' as never, items, () => inner), { name: 'RangeError', message: /control/ });
});

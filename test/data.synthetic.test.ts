import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateSynthetic, syntheticPresets } from '../src/data/synthetic.js';
import { csrHas, csrNnz, csrRow } from '../src/data/csr.js';
import type { Dataset } from '../src/data/types.js';

function observed(ds: Dataset): number {
  return csrNnz(ds.train) + csrNnz(ds.valid!) + csrNnz(ds.test!);
}

test('synthetic: the same seed gives identical arrays, another seed different ones', () => {
  const a = generateSynthetic({ preset: 'tiny', seed: 11 });
  const b = generateSynthetic({ preset: 'tiny', seed: 11 });
  const c = generateSynthetic({ preset: 'tiny', seed: 12 });
  for (const key of ['train', 'valid', 'test', 'hidden'] as const) assert.deepEqual(a[key], b[key]);
  assert.deepEqual(a.taxonomy, b.taxonomy);
  assert.notDeepEqual(a.train.indices, c.train.indices);
  assert.notDeepEqual(a.taxonomy!.paths, c.taxonomy!.paths);
});

test('synthetic: hidden positives are disjoint from train, valid and test, and every user has some', () => {
  const ds = generateSynthetic({ preset: 'tiny' });
  for (let u = 0; u < ds.nUsers; u++) {
    const hidden = csrRow(ds.hidden!, u);
    assert.ok(hidden.length >= 1);
    for (const i of hidden) for (const split of [ds.train, ds.valid!, ds.test!]) assert.equal(csrHas(split, u, i), false);
    for (const i of csrRow(ds.test!, u)) assert.equal(csrHas(ds.train, u, i) || csrHas(ds.valid!, u, i), false);
    assert.ok(csrRow(ds.train, u).length >= 1);
    assert.ok(csrRow(ds.test!, u).length >= 1);
  }
});

test('synthetic: sizes match the presets; the taxonomy has the configured shape', () => {
  for (const preset of ['tiny', 'small'] as const) {
    const spec = syntheticPresets[preset];
    const ds = generateSynthetic({ preset });
    assert.equal(ds.name, `synthetic:${preset}`);
    assert.equal(ds.nUsers, spec.nUsers);
    assert.equal(ds.nItems, spec.nItems);
    const target = spec.nUsers * spec.meanInteractions;
    assert.ok(Math.abs(observed(ds) - target) < 0.15 * target, `${preset}: ${observed(ds)} interactions, target ${target}`);
    const tax = ds.taxonomy!;
    assert.equal(tax.depth, spec.depth);
    assert.equal(tax.branching, spec.branching);
    assert.equal(tax.paths.length, spec.nItems * spec.depth);
    const leaves = new Map<string, number>();
    for (let i = 0; i < ds.nItems; i++) {
      const path = Array.from(tax.paths.subarray(i * tax.depth, (i + 1) * tax.depth));
      assert.ok(path.every((c) => c >= 0 && c < tax.branching));
      assert.equal(tax.topGroup[i], path[0]);
      leaves.set(path.join('-'), (leaves.get(path.join('-')) ?? 0) + 1);
    }
    assert.equal(leaves.size, spec.branching ** spec.depth, 'every leaf holds items');
    const sizes = [...leaves.values()];
    assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, 'items are spread evenly over the leaves');
  }
  const custom = generateSynthetic({ nUsers: 300, nItems: 500, meanInteractions: 12, branching: 3, depth: 2, tasteLevel: 2 });
  assert.equal(custom.name, 'synthetic:custom');
  assert.equal(custom.nItems, 500);
});

test('synthetic: the gowalla-size preset (1M interactions) generates in seconds', () => {
  const start = performance.now();
  const ds = generateSynthetic({ preset: 'gowalla-size' });
  const ms = performance.now() - start;
  assert.equal(ds.nUsers, 29858);
  assert.equal(ds.nItems, 40981);
  assert.ok(Math.abs(observed(ds) - 1_027_000) < 100_000, `${observed(ds)} interactions`);
  assert.ok(ms < 5000, `took ${ms.toFixed(0)} ms`);
});

test('synthetic: planted top-level groups dominate item co-occurrence, and popularity is skewed', () => {
  const ds = generateSynthetic({ preset: 'small' });
  const top = ds.taxonomy!.topGroup;
  let within = 0;
  let total = 0;
  for (let u = 0; u < ds.nUsers; u++) {
    const row = csrRow(ds.train, u);
    for (let a = 0; a < row.length; a++) {
      for (let b = a + 1; b < row.length; b++) {
        total++;
        if (top[row[a]] === top[row[b]]) within++;
      }
    }
  }
  // Four equal groups would give 25% by chance.
  assert.ok(within / total > 0.75, `within-group co-occurrence share ${(within / total).toFixed(3)}`);
  const degree = new Uint32Array(ds.nItems);
  for (const i of ds.train.indices) degree[i]++;
  const sorted = Array.from(degree).sort((x, y) => y - x);
  const headShare = sorted.slice(0, ds.nItems / 10).reduce((s, d) => s + d, 0) / csrNnz(ds.train);
  assert.ok(headShare > 0.15 && headShare < 0.6, `top-10% items hold ${(headShare * 100).toFixed(1)}% of the interactions`);
});

test('BAD CALL - synthetic options name the field', () => {
  assert.throws(() => generateSynthetic({ preset: 'huge' as 'tiny' }), (e: Error) => e instanceof RangeError && /options\.preset/.test(e.message));
  assert.throws(() => generateSynthetic({ nItems: 10, branching: 4, depth: 3 }), (e: Error) => e instanceof RangeError && /options\.nItems/.test(e.message));
  assert.throws(() => generateSynthetic({ nUsers: 0 }), (e: Error) => e instanceof RangeError && /options\.nUsers/.test(e.message));
  assert.throws(() => generateSynthetic({ tasteLevel: 9 }), (e: Error) => e instanceof RangeError && /options\.tasteLevel/.test(e.message));
  assert.throws(() => generateSynthetic({ noise: 0.5, groupAffinity: 0.6 }), (e: Error) => e instanceof RangeError && /options\.noise/.test(e.message));
  assert.throws(() => generateSynthetic({ seed: 'x' as unknown as number }), (e: Error) => e instanceof TypeError && /options\.seed/.test(e.message));
});

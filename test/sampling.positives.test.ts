import { test } from 'node:test';
import assert from 'node:assert/strict';
import { native } from '../src/native.js';
import { graphFromRows } from './support/training.js';

// One heavy user (60 items) and 20 light users (1 item each): 80 interactions over 21 users.
const rows = [Array.from({ length: 60 }, (_, i) => i), ...Array.from({ length: 20 }, (_, u) => [60 + u])];
const graph = graphFromRows(rows, 100);

async function heavyShare(positives: 'interactions' | 'user-uniform'): Promise<number> {
  let heavy = 0, total = 0;
  for (let seed = 1; seed <= 40; seed++) {
    const t = await native.sampleNegatives({ ...graph, sampler: 'rns', positives, seed, batch: 16, threads: 1 });
    for (let k = 0; k < t.users.length; k++) {
      const u = t.users[k];
      assert.ok(rows[u].includes(t.pos[k]), `sample ${k}: item ${t.pos[k]} is a positive of user ${u}`);
      if (u === 0) heavy++;
    }
    total += t.users.length;
    assert.equal(t.users.length, 80, 'an epoch has n_train samples either way');
  }
  return heavy / total;
}

test('positives: an epoch visits every interaction once, or draws users uniformly as LightGCN-PyTorch', async () => {
  assert.equal(await heavyShare('interactions'), 60 / 80);
  const share = await heavyShare('user-uniform');
  // 3200 draws with p = 1/21: mean 152, std 12.
  assert.ok(Math.abs(share - 1 / 21) < 0.015, `heavy user's share ${share} near 1/21`);
});

test('positives: the user-uniform draws are fixed by the seed', async () => {
  const a = await native.sampleNegatives({ ...graph, sampler: 'rns', positives: 'user-uniform', seed: 9, batch: 16, threads: 1 });
  const b = await native.sampleNegatives({ ...graph, sampler: 'rns', positives: 'user-uniform', seed: 9, batch: 16, threads: 2 });
  assert.deepEqual([a.users, a.pos, a.neg], [b.users, b.pos, b.neg]);
});

test('BAD CALL - positives other than interactions / user-uniform is a RangeError naming positives', () => {
  assert.throws(
    () => native.sampleNegatives({ ...graph, sampler: 'rns', positives: 'users' as never, seed: 1, batch: 16, threads: 1 }),
    (e: Error) => e instanceof RangeError && /positives/.test(e.message),
  );
});

test('positives: train() takes the option, names it in its sampler summary only when not the default', async () => {
  const { generateSynthetic } = await import('../src/data/synthetic.js');
  const { train } = await import('../src/train/train.js');
  const data = generateSynthetic({ preset: 'tiny', seed: 3 });
  const uniform = await train(data, { model: 'mf', epochs: 2, threads: 1, positives: 'user-uniform' });
  assert.equal(uniform.sampler.positives, 'user-uniform');
  const plain = await train(data, { model: 'mf', epochs: 2, threads: 1 });
  assert.equal(plain.sampler.positives, undefined);
  assert.notDeepEqual(uniform.userEmb, plain.userEmb);
  await assert.rejects(train(data, { model: 'mf', epochs: 1, positives: 'users' as never }), (e: Error) => e instanceof RangeError && /positives/.test(e.message));
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readNpy } from '../src/model/npy.js';
import { generateSynthetic } from '../src/data/synthetic.js';
import { train } from '../src/train/train.js';
import { cli, lastJson } from './support/cli.js';


test('cli: train --json prints the metrics object as the last stdout line and writes the run folder', async () => {
  const out = mkdtempSync(join(tmpdir(), 'dtlns-cli-'));
  try {
    const r = cli(['train', '--data', 'synthetic:tiny', '--model', 'lightgcn', '--layers', '2', '--epochs', '4', '--eval-every', '2', '--out', out, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const j = lastJson(r.stdout);
    // The library's train() on the same data and options: the same figures, to the last digit (any thread count).
    const library = await train(generateSynthetic({ preset: 'tiny' }), { model: 'lightgcn', layers: 2, epochs: 4, evalEvery: 2 });
    assert.deepEqual(j.valid, library.valid);
    assert.deepEqual(j.test, library.test);
    assert.equal(j.bestEpoch, library.bestEpoch);
    assert.equal(j.epochs, 4);
    assert.ok(j.secondsPerEpoch > 0);
    assert.equal(j.evalMask, 'original');
    const users = readNpy(join(out, 'user-embeddings.npy'));
    assert.deepEqual(users.shape, [200, 64]);
    assert.ok(existsSync(join(out, 'checkpoint', 'state.json')));
    assert.deepEqual(JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')).test, j.test);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('cli: an interrupted training resumes from its checkpoint and gives the same model as an uninterrupted one', () => {
  const a = mkdtempSync(join(tmpdir(), 'dtlns-resume-a-'));
  const b = mkdtempSync(join(tmpdir(), 'dtlns-resume-b-'));
  try {
    const common = ['train', '--data', 'synthetic:tiny', '--model', 'mf', '--eval-every', '2', '--patience', '100', '--threads', '1', '--json', '--quiet'];
    // "Interrupted" after 4 of 6 epochs: the same command with a larger --epochs continues it.
    assert.equal(cli([...common, '--epochs', '6', '--out', a]).status, 0);
    const first = cli([...common, '--epochs', '4', '--out', b]);
    assert.equal(first.status, 0, first.stderr);
    const refused = cli([...common, '--epochs', '6', '--lr', '0.01', '--out', b]);
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /different configuration/);
    const state = JSON.parse(readFileSync(join(b, 'checkpoint', 'state.json'), 'utf8'));
    assert.equal(state.epoch, 4);
    // Resuming needs the same options: epochs is the one that differs, so it is excluded from the fingerprint.
    const resumed = cli([...common, '--epochs', '6', '--out', b]);
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.deepEqual(readNpy(join(b, 'user-embeddings.npy')).data, readNpy(join(a, 'user-embeddings.npy')).data);
    assert.deepEqual(lastJson(resumed.stdout).test, lastJson(cli([...common, '--epochs', '6', '--out', a]).stdout).test);
  } finally {
    rmSync(a, { recursive: true, force: true });
    rmSync(b, { recursive: true, force: true });
  }
});

test('cli: bad input gives one clear error line and a non-zero exit, never a crash', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dtlns-bad-'));
  try {
    const file = join(dir, 'pairs.txt');
    writeFileSync(file, '1 2\n1 x\n');
    const cases: Array<[string[], RegExp]> = [
      [['train', '--data', join(dir, 'missing')], /missing.*(ENOENT|no such)/],
      [['train', '--data', file], /pairs\.txt.*line 2/],
      [['train', '--data', 'synthetic:tiny', '--dim', '0'], /dim/],
      [['train', '--data', 'synthetic:tiny', '--model', 'svd'], /model/],
      [['train', '--data', 'synthetic:tiny', '--lr', 'fast'], /lr/],
      [['frobnicate'], /Unknown|frobnicate/],
    ];
    for (const [args, pattern] of cases) {
      const r = cli(args);
      assert.notEqual(r.status, 0, args.join(' '));
      assert.match(r.stderr, pattern, args.join(' '));
      assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace for user errors');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('cli: run executes the whole pipeline and prints the metrics under both masks', () => {
  const out = mkdtempSync(join(tmpdir(), 'dtlns-run-'));
  try {
    const r = cli(['run', '--data', 'synthetic:tiny', '--model', 'mf', '--epochs', '2', '--eval-every', '1', '--out', out, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const j = lastJson(r.stdout);
    assert.equal(j.evalMask, 'original');
    assert.ok(j.test['recall@20'] >= 0 && j.augmentedMask.test['recall@20'] >= 0);
    assert.equal(j.sampler.sampler, 'dtlns');
    assert.match(r.stderr, /stage labels done/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('cli: every command has --help', () => {
  for (const command of ['run', 'train', 'eval', 'datasets', 'bench', 'trees', 'candidates', 'label', 'export', 'recommend']) {
    const r = cli([command, '--help']);
    assert.equal(r.status, 0, command);
    assert.match(r.stdout, /--json/, command);
  }
});

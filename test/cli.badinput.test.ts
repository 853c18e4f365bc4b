/**
 * BAD INPUT cases of the command line found by the hardening probe (issue 12): each used to fail
 * late, with a raw or misleading error, or not at all. Each now stops early with a message naming
 * the option or file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from './support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'dtlns-cli-bad-'));
const pairs = join(dir, 'pairs.txt');
writeFileSync(pairs, Array.from({ length: 60 * 8 }, (_, k) => `${k >> 3} ${((k >> 3) * 7 + (k & 7) * 13) % 50}`).join('\n') + '\n');
const run = join(dir, 'run');
const fails = (r: { status: number | null; stderr: string }, pattern: RegExp) => {
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
};

test('an option given twice is refused naming it, not passed on as an array', () => {
  fails(cli(['train', '--data', 'synthetic:tiny', '--epochs', '3', '--epochs', '5', '--out', join(dir, 'twice')]), /--epochs was given 2 times \(3, 5\)/);
});

test('--shard -1/4 and 4/4 are refused before any data is read', () => {
  for (const shard of ['-1/4', '4/4']) {
    const r = cli(['label', '--candidates', join(dir, 'none.txt'), '--shard', shard, '--out', join(dir, 'l.jsonl')]);
    fails(r, new RegExp(`shard but received "${shard}"`));
    assert.doesNotMatch(r.stderr, /^data /m);
  }
});

test('--ks without 20 is refused before training, nothing is lost', () => {
  const out = join(dir, 'ks');
  fails(cli(['train', '--data', 'synthetic:tiny', '--ks', '5,10', '--epochs', '1', '--out', out]), /RangeError: Expected ks to include 20 .* received 5,10/);
  assert.ok(!existsSync(out), 'no run folder made');
});

test('eval on a single file split with no valid/test part says so; eval no longer mistakes its split for --split', () => {
  assert.equal(cli(['train', '--data', pairs, '--epochs', '1', '--out', run, '--quiet']).status, 0);
  fails(cli(['eval', '--run', run, '--data', pairs, '--split-ratio', '1,0,0', '--quiet']), /RangeError: Expected --data with a valid or test split to evaluate but pairs\.txt has none/);
  const ok = cli(['eval', '--run', run, '--data', pairs, '--eval-split', 'test', '--quiet']);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /^test /m);
});

test('recommend on a model exported without --mask-training refuses to return training items silently', () => {
  const onnx = join(dir, 'plain.onnx');
  assert.equal(cli(['export', '--run', run, '--data', pairs, '--onnx', onnx, '--k', '5', '--quiet']).status, 0);
  fails(cli(['recommend', '--onnx', onnx, '--data', pairs, '--users', '0', '--quiet']), /without --mask-training.*--no-exclude-training/);
  assert.equal(cli(['recommend', '--onnx', onnx, '--data', pairs, '--users', '0', '--no-exclude-training', '--quiet']).status, 0);
});

test('export --onnx DIR and train --out FILE name the path instead of a raw filesystem error', () => {
  const folder = join(dir, 'a-folder');
  mkdirSync(folder);
  fails(cli(['export', '--run', run, '--data', pairs, '--onnx', folder, '--quiet']), new RegExp(`OutputFileError: Cannot write ${folder}: it is a folder`));
  fails(cli(['train', '--data', 'synthetic:tiny', '--epochs', '1', '--out', pairs, '--quiet']), new RegExp(`TypeError: Expected a folder path for out but ${pairs} is a file`));
});

test('run checks every stage\'s inputs before the first stage', () => {
  fails(cli(['run', '--labeler', 'openai', '--out', join(dir, 'r1')]), /--labeler openai needs --llm-url and --llm-model-name/);
  fails(cli(['run', '--labeler', 'llama', '--out', join(dir, 'r2')]), /--labeler llama needs --llm-model/);
  fails(cli(['run', '--llm-model', join(dir, 'missing.gguf'), '--out', join(dir, 'r3')]), /--llm-model .*missing\.gguf: no such file/);
  fails(cli(['run', '--paths-struct', pairs, '--out', join(dir, 'r4')]), /Give both --paths-struct and --paths-semantic/);
  assert.ok(!existsSync(join(dir, 'r1')) && !existsSync(join(dir, 'r4')), 'no stage ran');
});

test('a cold test user names --drop-cold-users, which train accepts', () => {
  const data = join(dir, 'cold');
  mkdirSync(data);
  writeFileSync(join(data, 'train.txt'), '0 1 2 3\n1 2 3 4\n2 0 4\n');
  writeFileSync(join(data, 'test.txt'), '0 4\n1 0\n3 1\n');
  fails(cli(['train', '--data', data, '--epochs', '1', '--out', join(dir, 'c1'), '--quiet']), /test\.txt, line 3: user 3 has no training interaction .*--drop-cold-users/);
  const ok = cli(['train', '--data', data, '--epochs', '1', '--out', join(dir, 'c2'), '--quiet', '--drop-cold-users']);
  assert.equal(ok.status, 0, ok.stderr);
});

test('a file of binary bytes is reported as not text, not as a CSV header problem', () => {
  const binary = join(dir, 'binary.txt');
  writeFileSync(binary, Buffer.from([0xff, 0xfe, 0x00, 0x31, 0x20, 0x32, 0x0a, 0x31, 0x20, 0x33, 0x0a]));
  fails(cli(['train', '--data', binary, '--epochs', '1', '--out', join(dir, 'b'), '--quiet']), /binary\.txt, line 1: is not a text file of interactions/);
});

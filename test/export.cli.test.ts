import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDataset } from '../src/data/load.js';
import { readNpy } from '../src/model/npy.js';
import { maskedTopK } from '../src/eval/topk.js';
import { cli, lastJson } from './support/cli.js';


const dir = mkdtempSync(join(tmpdir(), 'dtlns-export-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const run = join(dir, 'run');
const onnx = join(dir, 'model.onnx');
const data = ['--data', 'synthetic:tiny'];

test('train -> export -> recommend returns the native masked top-K in original ids', async () => {
  const trained = cli(['train', ...data, '--epochs', '2', '--out', run, '--quiet', '--json']);
  assert.equal(trained.status, 0, trained.stderr);
  const exported = cli(['export', '--run', run, ...data, '--onnx', onnx, '--k', '7', '--mask-training', '--json', '--quiet']);
  assert.equal(exported.status, 0, exported.stderr);
  assert.equal(lastJson(exported.stdout).k, 7);

  const dataset = await loadDataset('synthetic:tiny');
  const picked = [0, 5, dataset.nUsers - 1];
  const ids = picked.map((u) => dataset.userIds[u]);
  const out = cli(['recommend', '--onnx', onnx, ...data, '--users', ids.join(','), '--k', '5', '--json', '--quiet']);
  assert.equal(out.status, 0, out.stderr);
  const recs = lastJson(out.stdout).recommendations as { user: number; items: number[]; scores: number[] }[];

  const users = readNpy(join(run, 'user-embeddings.npy'));
  const items = readNpy(join(run, 'item-embeddings.npy'));
  const native = await maskedTopK(users.data, items.data, users.shape[1], Uint32Array.from(picked), 5, { mask: dataset.train, threads: 1 });
  assert.deepEqual(recs.map((r) => r.user), ids);
  recs.forEach((r, i) => {
    assert.deepEqual(r.items, Array.from(native.items.subarray(i * 5, i * 5 + 5), (item) => dataset.itemIds[item]));
  });

  const fromFile = join(dir, 'users.txt');
  writeFileSync(fromFile, `${ids[0]}\n${ids[1]}\n`);
  const text = cli(['recommend', '--onnx', onnx, ...data, '--users-file', fromFile, '--quiet']);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, new RegExp(`^user ${ids[0]}: ${recs[0].items[0]} \\(`));
  assert.equal(text.stdout.trim().split('\n').length, 2);
});

test('bad input: missing run folder, unknown user id, k beyond the items, corrupt model', () => {
  const missing = cli(['export', '--run', join(dir, 'nope'), ...data, '--onnx', join(dir, 'x.onnx'), '--quiet']);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /nope: no such run folder/);

  const unknown = cli(['recommend', '--onnx', onnx, ...data, '--users', '0,987654', '--quiet']);
  assert.equal(unknown.status, 1);
  assert.match(unknown.stderr, /Unknown user id 987654/);

  const bigK = cli(['export', '--run', run, ...data, '--onnx', join(dir, 'x.onnx'), '--k', '1000', '--quiet']);
  assert.equal(bigK.status, 1);
  assert.match(bigK.stderr, /k between 1 and 100 \(the item count\)/);

  const corrupt = join(dir, 'corrupt.onnx');
  writeFileSync(corrupt, 'this is not a protobuf model');
  const bad = cli(['recommend', '--onnx', corrupt, ...data, '--users', '0', '--quiet']);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /corrupt\.onnx: not a readable ONNX model/);

  const noUsers = cli(['recommend', '--onnx', onnx, ...data]);
  assert.equal(noUsers.status, 1);
  assert.match(noUsers.stderr, /exactly one of --users and --users-file/);
});

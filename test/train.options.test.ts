/**
 * train()'s own layer, exactly: each option's bounds (accepted at the edge, refused one step past
 * it with the whole message), what a run folder holds, resuming from a checkpoint (same model as
 * an uninterrupted run; a changed configuration refused; --fresh starts over), evaluation
 * scheduling and the summary.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSynthetic } from '../src/data/synthetic.js';
import { readRunMetrics, summarize, train, type TrainOptions } from '../src/train/train.js';
import { readNpy } from '../src/model/npy.js';
import { csrUnion } from '../src/data/csr.js';
import { evaluateEmbeddings } from '../src/eval/evaluate.js';
import type { Csr, Dataset } from '../src/data/types.js';

const dataset = () => generateSynthetic({ preset: 'tiny', seed: 5 });
const quick: TrainOptions = { model: 'mf', dim: 4, epochs: 1, threads: 1, evalEvery: 1 };

async function failure(data: Dataset, options: TrainOptions): Promise<string> {
  try {
    await train(data, options);
  } catch (error) {
    return `${(error as Error).constructor.name}: ${(error as Error).message}`;
  }
  return 'no error';
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'dtlns-train-options-'));
}

test('train: every option refused one step past its bound, with the whole message', async () => {
  const data = dataset();
  const cases: [TrainOptions, string][] = [
    [{ model: 'lightgcn', layers: 5 }, 'RangeError: Expected layers in [0, 4] but received 5'],
    [{ model: 'lightgcn', layers: -1 }, 'RangeError: Expected layers in [0, 4] but received -1'],
    [{ dim: 0 }, 'RangeError: Expected dim in [1, 4096] but received 0'],
    [{ dim: 4097 }, 'RangeError: Expected dim in [1, 4096] but received 4097'],
    [{ batch: 0 }, 'RangeError: Expected batch in [1, 16777216] but received 0'],
    [{ batch: 2 ** 24 + 1 }, 'RangeError: Expected batch in [1, 16777216] but received 16777217'],
    [{ epochs: 0 }, 'RangeError: Expected epochs in [1, 10000000] but received 0'],
    [{ epochs: 1e7 + 1 }, 'RangeError: Expected epochs in [1, 10000000] but received 10000001'],
    [{ evalEvery: 0 }, 'RangeError: Expected evalEvery in [1, 10000000] but received 0'],
    [{ evalEvery: 1e7 + 1 }, 'RangeError: Expected evalEvery in [1, 10000000] but received 10000001'],
    [{ patience: 0 }, 'RangeError: Expected patience in [1, 10000000] but received 0'],
    [{ patience: 1e7 + 1 }, 'RangeError: Expected patience in [1, 10000000] but received 10000001'],
    [{ threads: 0 }, 'RangeError: Expected threads in [1, 1024] but received 0'],
    [{ threads: 1025 }, 'RangeError: Expected threads in [1, 1024] but received 1025'],
    [{ seed: -1 }, 'RangeError: Expected seed in [0, 4294967295] but received -1'],
    [{ seed: 2 ** 32 }, 'RangeError: Expected seed in [0, 4294967295] but received 4294967296'],
    [{ dim: 2.5 }, 'TypeError: Expected an integer for dim but received 2.5'],
    [{ seed: '1' as never }, 'TypeError: Expected an integer for seed but received "1"'],
    [{ lr: -0.1 }, 'RangeError: Expected a finite positive number for lr but received -0.1'],
    [{ lr: 0 }, 'RangeError: Expected a finite positive number for lr but received 0'],
    [{ l2: -1e-9 }, 'RangeError: Expected a finite non-negative number for l2 but received -1e-9'],
    [{ l2: Infinity }, 'RangeError: Expected a finite non-negative number for l2 but received Infinity'],
    [{ initStd: '0.1' as never }, 'RangeError: Expected a finite positive number for initStd but received 0.1'],
    [{ initStd: 0 }, 'RangeError: Expected a finite positive number for initStd but received 0'],
    [{ timeBudget: 0 }, 'RangeError: Expected a positive number of seconds for timeBudget but received 0'],
    [{ timeBudget: '5' as never }, 'RangeError: Expected a positive number of seconds for timeBudget but received 5'],
    [{ model: 'gcn' as never }, "RangeError: Expected 'mf' or 'lightgcn' for model but received gcn"],
    [{ optimizer: 'rmsprop' as never }, 'RangeError: Expected one of adam, lazy-adam, sgd for optimizer but received "rmsprop"'],
    [{ evalMask: 'none' as never }, "RangeError: Expected 'original' or 'augmented' for evalMask but received none"],
    [{ ks: [5, 10] }, 'RangeError: Expected ks to include 20 (early stopping selects on recall@20) but received 5,10'],
    [{ labelUse: 'exclude' }, 'TypeError: Expected labels (extraPositives) for labelUse to act on but received none'],
    [{ labelWeight: 0.5 }, 'TypeError: Expected labels (extraPositives) for labelWeight to act on but received none'],
    [{ extraPositives: { rows: data.nUsers, cols: data.nItems + 1, indptr: data.train.indptr, indices: data.train.indices } },
      `RangeError: Expected extraPositives of shape ${data.nUsers} x ${data.nItems} but received ${data.nUsers} x ${data.nItems + 1}`],
    [{ extraPositives: { rows: data.nUsers + 1, cols: data.nItems, indptr: data.train.indptr, indices: data.train.indices } },
      `RangeError: Expected extraPositives of shape ${data.nUsers} x ${data.nItems} but received ${data.nUsers + 1} x ${data.nItems}`],
    [{ extraPositives: data.train, extraConfidence: new Float32Array(data.train.indices.length - 1) },
      `TypeError: Expected extraConfidence to be a Float32Array of ${data.train.indices.length} values (one per labelled pair) but received ${new Float32Array(data.train.indices.length - 1)}`],
    [{ extraPositives: data.train, extraConfidence: Array(data.train.indices.length).fill(1) as never },
      `TypeError: Expected extraConfidence to be a Float32Array of ${data.train.indices.length} values (one per labelled pair) but received ${Array(data.train.indices.length).fill(1)}`],
  ];
  for (const [options, expected] of cases) assert.equal(await failure(data, { ...quick, ...options }), expected, JSON.stringify(options));
  assert.equal(await failure(null as never, quick), 'TypeError: Expected a Dataset (from loadDataset) for dataset but received null');
  assert.equal(await failure(data, 5 as never), 'TypeError: Expected an options object for options but received 5');
  // Bad options fail before the run folder is made.
  const out = join(tempDir(), 'run');
  assert.equal(await failure(data, { ...quick, dim: 0, out }), 'RangeError: Expected dim in [1, 4096] but received 0');
  assert.throws(() => readdirSync(out), /ENOENT/);
});

test('train: the bounds themselves are accepted; mf has no layers; the defaults', async () => {
  const data = dataset();
  // Each edge value: one epoch that trains.
  for (const options of [{ layers: 4, model: 'lightgcn' }, { layers: 0, model: 'lightgcn' }, { dim: 1 }, { batch: 1 }, { threads: 1024 }, { seed: 0 }, { seed: 2 ** 32 - 1 },
    { l2: 0 }, { timeBudget: 1e9 }, { evalMask: 'augmented' }, { optimizer: 'sgd' }, { optimizer: 'lazy-adam' }] as TrainOptions[]) {
    const result = await train(data, { ...quick, ...options });
    assert.equal(result.epochs, 1, JSON.stringify(options));
  }
  // mf ignores layers, so an mf run with layers 3 is the same run (same fingerprint and model) as with 0.
  const a = await train(data, { ...quick, epochs: 2, layers: 3 });
  const b = await train(data, { ...quick, epochs: 2, layers: 0 });
  assert.deepEqual(a.userEmb, b.userEmb);
  const out = tempDir();
  try {
    await train(data, { model: 'mf', epochs: 1, threads: 1, out });
    const metrics = readRunMetrics(out)!;
    assert.deepEqual(metrics.options, {
      model: 'mf', layers: 0, dim: 64, lr: 1e-3, batch: 2048, l2: 1e-4, epochs: 1, evalEvery: 5, patience: 10, optimizer: 'adam', initStd: 0.1, threads: 1,
      seed: 2026, ks: [5, 10, 20, 50], evalMask: 'original',
    });
    await train(data, { model: 'lightgcn', epochs: 1, threads: 1, out, fresh: true });
    assert.equal((readRunMetrics(out)!.options as { layers: number }).layers, 3);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('train: evaluations every evalEvery epochs and at the last; the run folder and its metrics.json', async () => {
  const data = dataset();
  const out = tempDir();
  try {
    const reports: number[] = [];
    const result = await train(data, { ...quick, epochs: 5, evalEvery: 2, patience: 100, out, onEpoch: (r) => reports.push(r.epoch) });
    assert.deepEqual(reports, [1, 2, 3, 4, 5]);
    assert.deepEqual(result.history.map((r) => [r.epoch, r.epochs, r.eval?.split]), [[1, 5, undefined], [2, 5, 'valid'], [3, 5, undefined], [4, 5, 'valid'], [5, 5, 'valid']]);
    for (const r of result.history) {
      assert.equal(r.samples, data.train.indices.length);
      assert.equal(r.samplesPerSecond, r.samples / Math.max(r.seconds, 1e-9));
    }
    assert.equal(result.secondsPerEpoch, result.history.reduce((a, r) => a + r.seconds, 0) / 5);
    assert.deepEqual(readdirSync(out).sort(), ['best', 'checkpoint', 'item-embeddings.npy', 'metrics.json', 'user-embeddings.npy']);
    const users = readNpy(join(out, 'user-embeddings.npy'));
    assert.deepEqual(users.shape, [data.nUsers, 4]);
    assert.deepEqual(users.data, result.userEmb);
    assert.deepEqual(readNpy(join(out, 'item-embeddings.npy')).shape, [data.nItems, 4]);
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    assert.deepEqual(readRunMetrics(out), metrics);
    assert.deepEqual(Object.keys(metrics), ['valid', 'test', 'epochs', 'bestEpoch', 'secondsPerEpoch', 'stoppedEarly', 'stoppedBy', 'evalMask', 'sampler', 'options']);
    assert.deepEqual(metrics, JSON.parse(JSON.stringify(summarize(result, metrics.options))));
    assert.equal(metrics.epochs, 5);
    assert.equal(metrics.stoppedBy, 'epochs');
    assert.deepEqual(metrics.sampler, { sampler: 'rns', k: 1 });
    assert.equal(metrics.evalMask, 'original');
    const checkpoint = JSON.parse(readFileSync(join(out, 'checkpoint', 'state.json'), 'utf8'));
    assert.equal(checkpoint.epoch, 5);
    assert.equal(checkpoint.bestEpoch, result.bestEpoch);
    assert.equal(checkpoint.history.length, 5);
    assert.equal(JSON.parse(readFileSync(join(out, 'best', 'state.json'), 'utf8')).epoch, result.bestEpoch);
    assert.equal(readRunMetrics(join(out, 'checkpoint')), undefined);
    // summarize without options, and with labels.
    const bare = summarize(result);
    assert.equal('options' in bare, false);
    assert.equal('labels' in bare, false);
    assert.deepEqual(summarize({ ...result, labels: { pairs: 3, added: 2, labelUse: 'positive' } }).labels, { pairs: 3, added: 2, labelUse: 'positive' });
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('train: without a validation split, test is evaluated and reported but never stops the run; without either, nothing is evaluated', async () => {
  const data = dataset();
  // As in train.best's setting, where test Recall@20 also falls from one epoch to the next: patience 1 would stop the run.
  const noValid: Dataset = { ...generateSynthetic({ preset: 'tiny', seed: 7 }), valid: undefined };
  const result = await train(noValid, { model: 'mf', dim: 16, lr: 0.2, l2: 0, evalEvery: 1, threads: 1, epochs: 20, patience: 1 });
  const recalls = result.history.map((r) => r.eval!.metrics['recall@20']);
  assert.ok(recalls.some((v, e) => e > 0 && v <= recalls[e - 1]), `test recall must fail to improve once (${recalls.join(' ')})`);
  assert.equal(result.epochs, 20);
  assert.equal(result.stoppedBy, 'epochs');
  assert.deepEqual(result.history.map((r) => r.eval?.split), Array(20).fill('test'));
  assert.deepEqual(result.history.map((r) => r.eval?.best), Array(20).fill(true));
  // The model returned is the last one: its test figures are the last evaluation's.
  assert.equal(result.bestEpoch, 20);
  assert.deepEqual(result.test, result.history[19].eval!.metrics);
  assert.equal(result.valid, undefined);
  const bare = await train({ ...data, valid: undefined, test: undefined }, { ...quick, epochs: 2 });
  assert.deepEqual(bare.history.map((r) => r.eval), [undefined, undefined]);
  assert.equal(bare.bestEpoch, 2);
  assert.equal(bare.test, undefined);
});

test('train: a run resumed from its checkpoint ends with the same model as an uninterrupted one; a changed configuration is refused; fresh starts over', async () => {
  const data = dataset();
  const a = tempDir(), b = tempDir();
  try {
    const common: TrainOptions = { model: 'lightgcn', layers: 1, dim: 4, evalEvery: 2, patience: 100, threads: 1, sampler: 'dns', negs: 3 };
    const whole = await train(data, { ...common, epochs: 6, out: a });
    const first = await train(data, { ...common, epochs: 4, out: b });
    assert.equal(first.epochs, 4);
    const refused = await failure(data, { ...common, epochs: 6, lr: 0.01, out: b });
    assert.equal(refused, `Error: ${join(b, 'checkpoint')} holds a checkpoint of a different configuration (data or options changed). Use --fresh to start over or another --out folder.`);
    for (const changed of [{ sampler: 'mixgcf' }, { k: 2 }, { positives: 'user-uniform' }, { seed: 1 }, { evalMask: 'augmented' }] as TrainOptions[]) {
      assert.match(await failure(data, { ...common, ...changed, epochs: 6, out: b }), /different configuration/, JSON.stringify(changed));
    }
    assert.match(await failure({ ...data, test: undefined }, { ...common, epochs: 6, out: b }), /different configuration/);
    assert.match(await failure(data, { ...common, epochs: 6, out: b, extraPositives: data.train }), /different configuration/);
    // epochs, patience and threads are left out of the fingerprint.
    const resumed = await train(data, { ...common, epochs: 6, patience: 50, threads: 2, out: b });
    assert.equal(resumed.epochs, 6);
    assert.deepEqual(resumed.history.map((r) => r.epoch), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(resumed.history.map((r) => r.loss), whole.history.map((r) => r.loss));
    assert.equal(resumed.bestEpoch, whole.bestEpoch);
    assert.deepEqual(resumed.userEmb, whole.userEmb);
    assert.deepEqual(resumed.test, whole.test);
    // Nothing left to do: the same call again returns the same model without training.
    const again = await train(data, { ...common, epochs: 6, out: b });
    assert.deepEqual(again.userEmb, whole.userEmb);
    assert.equal(again.history.length, 6);
    // fresh ignores the checkpoint, even one of another configuration.
    const fresh = await train(data, { ...common, epochs: 2, lr: 0.01, out: b, fresh: true });
    assert.deepEqual(fresh.history.map((r) => r.epoch), [1, 2]);
  } finally {
    rmSync(a, { recursive: true, force: true });
    rmSync(b, { recursive: true, force: true });
  }
});

test('train: the default sampler adds nothing to the fingerprint, a checkpoint of rns resumes under an explicit rns', async () => {
  const data = dataset();
  const out = tempDir();
  try {
    await train(data, { ...quick, epochs: 2, out });
    const resumed = await train(data, { ...quick, epochs: 3, sampler: 'rns', k: 1, positives: 'interactions', negs: 5, out });
    assert.deepEqual(resumed.history.map((r) => r.epoch), [1, 2, 3]);
    assert.match(await failure(data, { ...quick, epochs: 4, sampler: 'pop', out }), /different configuration/);
    assert.match(await failure(data, { ...quick, epochs: 4, labelUse: 'exclude', extraPositives: data.train, out }), /different configuration/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('train: each epoch draws with its own seed, fixed by the run seed', async () => {
  const data = dataset();
  const run = (seed: number) => train(data, { ...quick, epochs: 3, seed });
  const [a, b, c] = [await run(3), await run(3), await run(4)];
  assert.deepEqual(a.userEmb, b.userEmb);
  assert.notDeepEqual(a.userEmb, c.userEmb);
  assert.deepEqual(a.history.map((r) => r.loss), b.history.map((r) => r.loss));
  // With lr 1e-30 the float32 model never moves, so a different loss in each epoch comes from different draws.
  const still = await train(data, { ...quick, epochs: 3, lr: 1e-30, l2: 0 });
  assert.deepEqual(still.userEmb, (await train(data, { ...quick, epochs: 1, lr: 1e-30, l2: 0 })).userEmb);
  const losses = still.history.map((r) => r.loss);
  assert.equal(new Set(losses).size, 3, losses.join(' '));
});

test('train: checkpoints at the last epoch without evaluations and at a time stop; fresh never reads an old best model', async () => {
  const data = dataset();
  const bare: Dataset = { ...data, valid: undefined, test: undefined };
  const out = tempDir();
  try {
    // No split: no evaluation, yet the last epoch is checkpointed.
    await train(bare, { ...quick, epochs: 2, out });
    assert.equal(JSON.parse(readFileSync(join(out, 'checkpoint', 'state.json'), 'utf8')).epoch, 2);
    assert.deepEqual(readdirSync(out).sort(), ['checkpoint', 'item-embeddings.npy', 'metrics.json', 'user-embeddings.npy']);
    // A time stop between evaluations is checkpointed, and the run resumes from it.
    const timed = await train(data, { ...quick, epochs: 50, evalEvery: 100, timeBudget: 1e-9, out, fresh: true });
    assert.equal(timed.stoppedBy, 'time');
    assert.equal(JSON.parse(readFileSync(join(out, 'checkpoint', 'state.json'), 'utf8')).epoch, 1);
    const resumed = await train(data, { ...quick, epochs: 2, evalEvery: 100, out });
    assert.deepEqual(resumed.history.map((r) => r.epoch), [1, 2]);
    // The checkpoint had no evaluation yet (best score -Infinity): the first one after the resume is the best.
    assert.deepEqual(resumed.history.map((r) => r.eval?.best), [undefined, true]);
    assert.equal(resumed.bestEpoch, 2);
    // A fresh run without a split starts from nothing, whatever best model the folder holds.
    await train(data, { ...quick, epochs: 3, out, fresh: true });
    const fresh = await train(bare, { ...quick, epochs: 2, out, fresh: true });
    const plain = await train(bare, { ...quick, epochs: 2 });
    assert.deepEqual(fresh.userEmb, plain.userEmb);
    assert.equal(fresh.bestEpoch, 2);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('train: patience spent at the last epoch is reported as patience; other confidences are another configuration', async () => {
  // As in train.best: at lr 0.2 validation Recall@20 peaks at epoch 14, so patience 3 is spent at epoch 17.
  const data = generateSynthetic({ preset: 'tiny', seed: 7 });
  const options: TrainOptions = { model: 'mf', dim: 16, lr: 0.2, l2: 0, evalEvery: 1, threads: 1, patience: 3 };
  const exact = await train(data, { ...options, epochs: 17 });
  assert.equal(exact.epochs, 17);
  assert.equal(exact.bestEpoch, 14);
  assert.equal(exact.stoppedBy, 'patience');
  assert.equal(exact.stoppedEarly, true);
  const short = await train(data, { ...options, epochs: 16 });
  assert.equal(short.stoppedBy, 'epochs');
  const out = tempDir();
  try {
    const pairs = data.hidden!;
    const confident = (value: number): TrainOptions => ({
      ...quick, epochs: 2, out, extraPositives: pairs, labelUse: 'weighted', labelWeight: 'confidence', extraConfidence: new Float32Array(pairs.indices.length).fill(value),
    });
    const first = await train(data, confident(0.5));
    // The planted hidden positives are never training pairs, so every one is added.
    assert.deepEqual(first.labels, { pairs: pairs.indices.length, added: pairs.indices.length, labelUse: 'weighted', labelWeight: 'confidence' });
    assert.match(await failure(data, { ...confident(0.25), epochs: 3 }), /different configuration/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('train: a resumed run keeps the best score and model of its checkpoint; ties are no improvement', async () => {
  // As in train.best: at lr 0.2 validation Recall@20 peaks at epoch 14, and epochs 15-17 are lower.
  const data = generateSynthetic({ preset: 'tiny', seed: 7 });
  const options: TrainOptions = { model: 'mf', dim: 16, lr: 0.2, l2: 0, evalEvery: 1, threads: 1, patience: 100 };
  const out = tempDir();
  try {
    const whole = await train(data, { ...options, epochs: 17 });
    assert.equal(whole.bestEpoch, 14);
    await train(data, { ...options, epochs: 15, out });
    const resumed = await train(data, { ...options, epochs: 17, out });
    assert.equal(resumed.bestEpoch, 14);
    assert.deepEqual(resumed.history.map((r) => r.eval!.best), whole.history.map((r) => r.eval!.best));
    assert.deepEqual(resumed.userEmb, whole.userEmb);
    assert.deepEqual(resumed.valid, whole.valid);
    // A folder whose best model was removed by hand still resumes: the last model is returned as the best.
    rmSync(join(out, 'best'), { recursive: true });
    const bestless = await train(data, { ...options, epochs: 17, out });
    assert.equal(bestless.bestEpoch, 17);
    assert.deepEqual(bestless.valid, whole.history[16].eval!.metrics);
    // A checkpoint without a history (as before histories were kept) resumes with an empty one.
    const stateFile = join(out, 'checkpoint', 'state.json');
    const { history: _history, ...meta } = JSON.parse(readFileSync(stateFile, 'utf8'));
    writeFileSync(stateFile, JSON.stringify(meta));
    assert.deepEqual((await train(data, { ...options, epochs: 18, out })).history.map((r) => r.epoch), [18]);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  // With lr 1e-30 the float32 model never moves, so every evaluation ties the first: only that one is the best.
  const still = await train(dataset(), { ...quick, epochs: 10, lr: 1e-30, l2: 0, patience: 2 });
  assert.deepEqual(still.history.map((r) => r.eval!.best), [true, false, false]);
  assert.equal(still.bestEpoch, 1);
  assert.equal(still.stoppedBy, 'patience');
});

test('train: the checkpoint is written after each evaluation and the last epoch, not after the others', async () => {
  const data = dataset();
  const out = tempDir();
  try {
    const seen: (number | undefined)[] = [];
    const onEpoch = () => {
      try {
        seen.push(JSON.parse(readFileSync(join(out, 'checkpoint', 'state.json'), 'utf8')).epoch);
      } catch {
        seen.push(undefined);
      }
    };
    // Each report comes before that epoch's checkpoint: it sees the previous one.
    await train(data, { ...quick, epochs: 6, evalEvery: 3, out, onEpoch });
    assert.deepEqual(seen, [undefined, undefined, undefined, 3, 3, 3]);
    assert.equal(JSON.parse(readFileSync(join(out, 'checkpoint', 'state.json'), 'utf8')).epoch, 6);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('train: the fingerprint is the first 16 hex digits of sha256 over the options, a non-default sampler or label use, the dataset and the labels', async () => {
  const data = dataset();
  const hidden = data.hidden!;
  // The resolved options less threads, epochs and patience, in this order (the order is part of the fingerprint).
  const resolved = { model: 'mf', layers: 0, dim: 4, lr: 0.001, batch: 2048, l2: 0.0001, evalEvery: 1, optimizer: 'adam', initStd: 0.1, seed: 2026, ks: [5, 10, 20, 50], evalMask: 'original' };
  const expected = (sampler: object | undefined, labels: Csr | undefined, use: object | undefined): string => {
    const h = createHash('sha256');
    h.update(JSON.stringify(resolved));
    if (sampler) h.update(JSON.stringify(sampler));
    h.update(`${data.name}:${data.nUsers}x${data.nItems}`);
    for (const csr of [data.train, data.valid!, data.test!, ...(labels ? [labels] : [])]) {
      h.update(new Uint8Array(csr.indptr.buffer, csr.indptr.byteOffset, csr.indptr.byteLength));
      h.update(new Uint8Array(csr.indices.buffer, csr.indices.byteOffset, csr.indices.byteLength));
    }
    if (use) h.update(JSON.stringify(use));
    return h.digest('hex').slice(0, 16);
  };
  const fingerprint = async (options: TrainOptions): Promise<{ hash: string; result: Awaited<ReturnType<typeof train>> }> => {
    const out = tempDir();
    try {
      const result = await train(data, { ...quick, ...options, out });
      return { hash: JSON.parse(readFileSync(join(out, 'checkpoint', 'state.json'), 'utf8')).configHash, result };
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  };
  // mf's layers are 0 whatever was asked.
  assert.equal((await fingerprint({ layers: 3 })).hash, expected(undefined, undefined, undefined));
  assert.equal((await fingerprint({ sampler: 'rns', k: 2 })).hash, expected({ sampler: 'rns', k: 2 }, undefined, undefined));
  assert.equal((await fingerprint({ positives: 'user-uniform' })).hash, expected({ sampler: 'rns', k: 1, positives: 'user-uniform' }, undefined, undefined));
  const positive = await fingerprint({ extraPositives: hidden });
  assert.equal(positive.hash, expected(undefined, hidden, undefined));
  // Every planted hidden pair is new to the training set; labelWeight is reported only for 'weighted'.
  assert.deepEqual(positive.result.labels, { pairs: hidden.indices.length, added: hidden.indices.length, labelUse: 'positive' });
  const exclude = await fingerprint({ extraPositives: hidden, labelUse: 'exclude' });
  assert.equal(exclude.hash, expected(undefined, hidden, { labelUse: 'exclude', labelWeight: 0.5 }));
  assert.deepEqual(exclude.result.labels, { pairs: hidden.indices.length, added: hidden.indices.length, labelUse: 'exclude' });
});

test('train: the label use reaches the epochs, and evalMask picks the mask of the evaluations', async () => {
  const data = dataset();
  const hidden = data.hidden!;
  const options: TrainOptions = { ...quick, epochs: 3, lr: 0.05 };
  const plain = await train(data, options);
  const positive = await train(data, { ...options, extraPositives: hidden });
  const exclude = await train(data, { ...options, extraPositives: hidden, labelUse: 'exclude' });
  const weighted = await train(data, { ...options, extraPositives: hidden, labelUse: 'weighted', labelWeight: 0.5 });
  const whole = await train(data, { ...options, extraPositives: hidden, labelUse: 'weighted', labelWeight: 1 });
  // Excluded pairs are never drawn as negatives, so the draws (and the model) differ from a run without labels;
  // weight 1 is 'positive' exactly, and weight 1/2 is not.
  assert.notDeepEqual(exclude.userEmb, plain.userEmb);
  assert.deepEqual(whole.userEmb, positive.userEmb);
  assert.notDeepEqual(weighted.userEmb, positive.userEmb);
  // The evaluations mask the training set ('original') or the training set and the labels ('augmented').
  const augmented = await train(data, { ...options, extraPositives: hidden, evalMask: 'augmented' });
  assert.equal(augmented.evalMask, 'augmented');
  assert.deepEqual(augmented.userEmb, positive.userEmb);
  const evaluate = (mask: Csr) => evaluateEmbeddings(positive.userEmb, positive.itemEmb, 4, data.test!, { ks: [5, 10, 20, 50], threads: 1, mask });
  const [original, both] = [await evaluate(data.train), await evaluate(csrUnion(data.train, hidden))];
  assert.notDeepEqual(original, both);
  assert.deepEqual(positive.test, original);
  assert.deepEqual(augmented.test, both);
  assert.deepEqual(augmented.history[2].eval!.metrics, await evaluateEmbeddings(positive.userEmb, positive.itemEmb, 4, data.valid!, { ks: [5, 10, 20, 50], threads: 1, mask: csrUnion(data.train, hidden) }));
});

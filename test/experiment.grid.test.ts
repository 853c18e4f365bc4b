import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expandCells, ExperimentConfigError, parseExperimentConfig, readExperimentConfig } from '../src/experiment/grid.js';

const base = {
  datasets: ['synthetic:tiny'],
  models: [{ model: 'mf' }],
  methods: [
    { name: 'rns', sampler: 'rns' },
    { name: 'dtlns-rule', sampler: 'dtlns', labeler: 'rule' },
  ],
  seeds: [1, 2],
};

function expectFieldError(config: unknown, field: string, message?: RegExp): void {
  assert.throws(
    () => parseExperimentConfig(config, '/configs/grid.json'),
    (error: unknown) => {
      assert.ok(error instanceof ExperimentConfigError, String(error));
      assert.equal(error.field, field);
      assert.equal(error.file, '/configs/grid.json');
      assert.ok(error.message.startsWith(`/configs/grid.json: ${field}: `), error.message);
      if (message) assert.match(error.message, message);
      return true;
    },
  );
}

test('experiment grid: a valid config gets its defaults, relative paths and cells in run order', () => {
  const config = parseExperimentConfig({ ...base, train: { epochs: 50, negs: 4 } }, '/configs/grid.json', { epochs: 3, timeBudget: 9 });
  assert.equal(config.name, 'grid');
  assert.equal(config.out, '/configs/grid-runs');
  assert.deepEqual(config.datasets, [{ name: 'synthetic-tiny', data: 'synthetic:tiny', source: 'synthetic:tiny' }]);
  assert.deepEqual(config.models, [{ name: 'mf', model: 'mf' }]);
  // A labelled dtlns method reads our paths and candidates unless it says otherwise; rns reads neither.
  assert.deepEqual(config.methods[1], { name: 'dtlns-rule', sampler: 'dtlns', labeler: 'rule', paths: 'ours', candidates: 'ours' });
  assert.deepEqual(config.methods[0], { name: 'rns', sampler: 'rns', labeler: 'none' });
  assert.deepEqual(config.baselines, ['rns'], 'default baselines: the methods without labels or trees');
  // Overrides reach the training and the pre-training; sampler settings stay out of the pre-training.
  assert.deepEqual(config.train, { epochs: 3, negs: 4, timeBudget: 9 });
  assert.deepEqual(config.pretrain, { epochs: 3, timeBudget: 9 });
  const cells = expandCells(config);
  assert.deepEqual(cells.map((c) => c.id), ['synthetic-tiny-mf-rns-s1', 'synthetic-tiny-mf-dtlns-rule-s1', 'synthetic-tiny-mf-rns-s2', 'synthetic-tiny-mf-dtlns-rule-s2']);
  assert.equal(cells[0].dir, '/configs/grid-runs/cells/synthetic-tiny-mf-rns-s1');
});

test('experiment grid: the samplers x labelers axes expand into named methods; folders resolve next to the config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dtlns-grid-'));
  try {
    mkdirSync(join(dir, 'data', 'mini'), { recursive: true });
    for (const f of ['train.txt', 'test.txt', 'paths-struct.txt', 'paths-semantic.txt', 'candidates.txt']) writeFileSync(join(dir, 'data', 'mini', f), '');
    mkdirSync(join(dir, 'configs'));
    const file = join(dir, 'configs', 'axes.json');
    writeFileSync(file, JSON.stringify({
      datasets: ['../data/mini'], models: [{ model: 'lightgcn', layers: 2 }], samplers: ['rns', 'dtlns'], labelers: ['none', 'topn'],
      paths: 'authors', candidates: 'authors', seeds: [7], out: 'out',
    }));
    const config = readExperimentConfig(file, { seeds: [1, 2] });
    assert.deepEqual(config.datasets, [{ name: 'mini', data: '../data/mini', source: join(dir, 'data', 'mini'), folder: join(dir, 'data', 'mini') }]);
    assert.deepEqual(config.methods.map((m) => [m.name, m.paths, m.candidates]), [
      ['rns', undefined, undefined], ['rns+topn', 'authors', 'authors'], ['dtlns', 'authors', undefined], ['dtlns+topn', 'authors', 'authors'],
    ]);
    assert.deepEqual(config.seeds, [1, 2]);
    assert.equal(config.out, join(dir, 'configs', 'out'));
    assert.equal(expandCells(config).length, 8);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('experiment grid: every bad field is named with the file', () => {
  expectFieldError([], '(config)', /expected an object/);
  expectFieldError({ ...base, seeds: undefined }, 'seeds', /required/);
  expectFieldError({ ...base, methods: [{ name: 'x', sampler: 'bpr' }] }, 'methods[0].sampler', /rns, pop, dns, ahns, mixgcf, dtlns.*"bpr"/);
  expectFieldError({ ...base, methods: [{ name: 'x', sampler: 'rns', labeler: 'llm' }] }, 'methods[0].labeler', /none, rule, topn, random-codes/);
  expectFieldError({ ...base, methods: [{ sampler: 'rns' }] }, 'methods[0].name', /required/);
  expectFieldError({ ...base, methods: [{ name: 'a b', sampler: 'rns' }] }, 'methods[0].name', /folders/);
  expectFieldError({ ...base, methods: [{ name: 'x', sampler: 'rns', paths: 'ours' }] }, 'methods[0].paths', /only the dtlns sampler/);
  expectFieldError({ ...base, methods: [{ name: 'x', sampler: 'dtlns', candidates: 'ours' }] }, 'methods[0].candidates', /labeler/);
  expectFieldError({ ...base, methods: [{ name: 'x', sampler: 'dtlns', paths: 'authors' }] }, 'methods[0].paths', /synthetic-tiny\) is not a folder/);
  expectFieldError({ ...base, methods: [base.methods[0], base.methods[0]] }, 'methods[1].name', /used twice/);
  expectFieldError({ ...base, samplers: ['rns'] }, 'samplers', /either methods, or the samplers/);
  expectFieldError({ ...base, methods: undefined }, 'methods', /required/);
  expectFieldError({ ...base, methods: undefined, samplers: ['rns'], labelers: ['gpt'] }, 'labelers[0]');
  expectFieldError({ ...base, models: [{ model: 'mf', layer: 3 }] }, 'models[0].layer', /unknown field/);
  expectFieldError({ ...base, models: [{ model: 'svd' }] }, 'models[0].model');
  expectFieldError({ ...base, models: [{ model: 'mf', layers: 2 }] }, 'models[0].layers', /mf has no/);
  expectFieldError({ ...base, models: [{ model: 'mf' }, { model: 'mf', dim: 32 }] }, 'models', /"mf" is used twice/);
  expectFieldError({ ...base, seeds: [1, 1.5] }, 'seeds[1]', /integer/);
  expectFieldError({ ...base, seeds: [3, 3] }, 'seeds', /each seed once/);
  expectFieldError({ ...base, seeds: [] }, 'seeds', /non-empty array/);
  expectFieldError({ ...base, train: { epochs: 0 } }, 'train.epochs', /\[1, 10000000\]/);
  expectFieldError({ ...base, train: { timeBudget: -5 } }, 'train.timeBudget', /above 0/);
  expectFieldError({ ...base, train: { sampler: 'dns' } }, 'train.sampler', /unknown field/);
  expectFieldError({ ...base, pretrain: { negs: 3 } }, 'pretrain.negs', /unknown field/);
  expectFieldError({ ...base, trees: { scaling: 'log' } }, 'trees.scaling', /none, eigenvalue/);
  expectFieldError({ ...base, baselines: ['dns'] }, 'baselines[0]', /rns, dtlns-rule/);
  expectFieldError({ ...base, datasets: ['synthetic:huge'] }, 'datasets[0] (synthetic:<preset>)', /tiny, small/);
  expectFieldError({ ...base, datasets: [{ name: 'x' }] }, 'datasets[0].data', /required/);
  expectFieldError({ ...base, datasets: ['../nowhere/at/all'] }, 'datasets[0]', /resolves to \/nowhere\/at\/all, which does not exist \(\/nowhere is missing\)/);
  expectFieldError({ ...base, wat: 1 }, 'wat', /unknown field/);
  expectFieldError({ ...base, train: { toString: 1 } }, 'train.toString', /unknown field/);
});

test('experiment grid: bad overrides name the override', () => {
  const parse = (overrides: object) => () => parseExperimentConfig(base, '/configs/grid.json', overrides);
  assert.throws(parse({ epochs: 0 }), (e: unknown) => e instanceof RangeError && /overrides\.epochs/.test(e.message));
  assert.throws(parse({ epochs: 2.5 }), (e: unknown) => e instanceof TypeError && /overrides\.epochs/.test(e.message));
  assert.throws(parse({ timeBudget: 0 }), (e: unknown) => e instanceof RangeError && /overrides\.timeBudget/.test(e.message));
  assert.throws(parse({ seeds: [1, -1] }), (e: unknown) => e instanceof RangeError && /overrides\.seeds\[1\]/.test(e.message));
  assert.throws(parse({ seeds: [2, 2] }), (e: unknown) => e instanceof RangeError && /overrides\.seeds/.test(e.message));
  assert.throws(parse({ out: '' }), (e: unknown) => e instanceof TypeError && /overrides\.out/.test(e.message));
});

test('experiment grid: an unreadable or malformed file is named', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dtlns-grid-bad-'));
  try {
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{"datasets": [');
    assert.throws(() => readExperimentConfig(file), (e: unknown) => e instanceof ExperimentConfigError && e.field === '(file)' && /broken\.json.*not valid JSON/.test(e.message));
    assert.throws(() => readExperimentConfig(join(dir, 'absent.json')), (e: unknown) => e instanceof ExperimentConfigError && /absent\.json.*cannot be read/.test(e.message));
    assert.throws(() => readExperimentConfig(42 as unknown as string), (e: unknown) => e instanceof TypeError && /for file/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

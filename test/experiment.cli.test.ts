import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bin, cli as runCli } from './support/cli.js';

const cli = (args: string[]) => runCli(args, {});

function writeConfig(dir: string, grid: Record<string, unknown>): string {
  const file = join(dir, 'grid.json');
  writeFileSync(file, JSON.stringify({ datasets: ['synthetic:tiny'], models: [{ model: 'mf' }], out: 'out', ...grid }));
  return file;
}

/** result.json of every finished cell: id -> [mtime, contents]. */
function finishedCells(out: string): Map<string, [number, string]> {
  const cells = join(out, 'cells');
  const found = new Map<string, [number, string]>();
  if (!existsSync(cells)) return found;
  for (const id of readdirSync(cells)) {
    const file = join(cells, id, 'result.json');
    if (existsSync(file)) found.set(id, [statSync(file).mtimeMs, readFileSync(file, 'utf8')]);
  }
  return found;
}

test('experiment cli: killed after its first finished cell, a restart skips the finished cells, resumes the rest and summarises all', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dtlns-experiment-'));
  try {
    const config = writeConfig(dir, {
      methods: [
        { name: 'rns', sampler: 'rns' },
        { name: 'dtlns-rule', sampler: 'dtlns', labeler: 'rule' },
        { name: 'dtlns-nolabels', sampler: 'dtlns' },
      ],
      seeds: [1, 2, 3],
      train: { epochs: 30, evalEvery: 5, patience: 100 },
    });
    const out = join(dir, 'out');
    const args = [bin, 'experiment', '--config', config, '--threads', '1'];
    const child = spawn(process.execPath, args, { stdio: 'ignore' });
    const exited = new Promise<void>((done) => child.on('exit', () => done()));
    const started = Date.now();
    while (finishedCells(out).size === 0) {
      assert.ok(Date.now() - started < 20_000, 'the first cell finishes');
      await new Promise((r) => setTimeout(r, 5));
    }
    child.kill('SIGKILL');
    await exited;
    const before = finishedCells(out);
    assert.ok(before.size >= 1 && before.size < 9, `killed part-way (${before.size} of 9 cells finished)`);
    assert.ok(!existsSync(join(out, 'summary.json')), 'killed before the summary');

    const rerun = cli([...args.slice(1), '--json']);
    assert.equal(rerun.status, 0, rerun.stderr);
    const after = finishedCells(out);
    assert.equal(after.size, 9);
    for (const [id, [mtime, contents]] of before) {
      assert.match(rerun.stderr, new RegExp(`\\] ${id}: finished earlier, skipped`));
      assert.deepEqual(after.get(id), [mtime, contents], `${id} was not redone`);
    }
    assert.equal((rerun.stderr.match(/: done in /g) ?? []).length, 9 - before.size, 'only the unfinished cells ran');
    const summary = JSON.parse(rerun.stdout.trim().split('\n').pop()!);
    assert.deepEqual(summary.cells, { expected: 9, finished: 9 });
    const rows = summary.groups[0].rows;
    assert.deepEqual(rows.map((r: { method: string; seeds: number[] }) => [r.method, r.seeds]), [
      ['rns', [1, 2, 3]], ['dtlns-rule', [1, 2, 3]], ['dtlns-nolabels', [1, 2, 3]],
    ]);
    assert.ok(rows[1].augmented, 'the labelled method reports the augmented mask too');
    const labelled = JSON.parse(readFileSync(join(out, 'cells', 'synthetic-tiny-mf-dtlns-rule-s2', 'result.json'), 'utf8'));
    assert.ok(labelled.test.original['recall@20'] >= 0 && labelled.test.augmented['recall@20'] >= 0);
    assert.deepEqual(labelled.history.map((h: { epoch: number }) => h.epoch), [5, 10, 15, 20, 25, 30]);
    assert.equal(labelled.epochs, 30);
    assert.ok(!existsSync(join(out, 'cells', 'synthetic-tiny-mf-dtlns-rule-s2', 'pretrain')), 'the cell used the shared prep');
    assert.ok(existsSync(join(out, 'prep', 'synthetic-tiny-mf', 'pretrain', 'item-embeddings.npy')));
    for (const f of ['summary.md', 'summary.csv', 'plots/synthetic-tiny-mf-valid-recall.svg', 'plots/synthetic-tiny-mf-test-recall.svg']) {
      assert.ok(existsSync(join(out, f)), f);
    }
    assert.match(readFileSync(join(out, 'summary.md'), 'utf8'), /\]\(plots\/synthetic-tiny-mf-test-recall\.svg\)/);

    // The report from the finished cells, without running anything.
    const report = join(dir, 'docs', 'repro.md');
    const r = cli(['experiment', '--config', config, '--summary-only', '--report', report, '--quiet']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(readFileSync(report, 'utf8'), /# Reproduction report: grid[\s\S]*not a git checkout[\s\S]*9 of 9 finished/);
    assert.ok(existsSync(join(dir, 'docs', 'repro', 'synthetic-tiny-mf-valid-recall.svg')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('experiment cli: --jobs runs cells in child processes with the same results as one job', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dtlns-experiment-jobs-'));
  try {
    const config = writeConfig(dir, { methods: [{ name: 'rns', sampler: 'rns' }, { name: 'dns', sampler: 'dns' }], seeds: [1, 2], train: { epochs: 4, evalEvery: 2 } });
    const one = cli(['experiment', '--config', config, '--threads', '1', '--out', join(dir, 'one'), '--json']);
    assert.equal(one.status, 0, one.stderr);
    const two = cli(['experiment', '--config', config, '--jobs', '2', '--out', join(dir, 'two'), '--json']);
    assert.equal(two.status, 0, two.stderr);
    for (const id of ['synthetic-tiny-mf-rns-s1', 'synthetic-tiny-mf-dns-s2']) {
      const a = JSON.parse(readFileSync(join(dir, 'one', 'cells', id, 'result.json'), 'utf8'));
      const b = JSON.parse(readFileSync(join(dir, 'two', 'cells', id, 'result.json'), 'utf8'));
      assert.equal(b.threads, 1);
      assert.deepEqual(b.test, a.test, id);
    }
    const last = (s: string) => JSON.parse(s.trim().split('\n').pop()!);
    assert.deepEqual(last(two.stdout).groups[0].rows.map((r: { original: unknown }) => r.original), last(one.stdout).groups[0].rows.map((r: { original: unknown }) => r.original));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('experiment cli: a bad config is one error line naming the file and the field', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dtlns-experiment-bad-'));
  try {
    const bad = writeConfig(dir, { methods: [{ name: 'x', sampler: 'bpr' }], seeds: [1] });
    const r = cli(['experiment', '--config', bad]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^Error: ExperimentConfigError: .*grid\.json: methods\[0\]\.sampler: expected one of rns/);
    const missing = writeConfig(dir, { datasets: ['../shared-elsewhere/datasets/dtlns-sports'], methods: [{ name: 'rns', sampler: 'rns' }], seeds: [1] });
    const m = cli(['experiment', '--config', missing]);
    assert.equal(m.status, 1);
    assert.match(m.stderr, /datasets\[0\]: .*which does not exist \(.*shared-elsewhere is missing\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * bench/gpu-labelling: the script's and the driver's argument errors are clear and stop before any
 * work; without a GPU (or without nvcc) the gpu mode says so and stops; the runtime file list holds
 * what the driver imports and no prebuilt binaries.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const script = join(repo, 'bench', 'gpu-labelling', 'run.sh');
const driver = join(repo, 'dist', 'bench', 'gpu-labelling', 'driver.js');
const dir = mkdtempSync(join(tmpdir(), 'dtlns-gpu-labelling-'));

function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(command, args, { encoding: 'utf8', env, cwd: repo });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

test('BAD ARGS - run.sh names the bad mode, option or value and exits 2 before doing anything', () => {
  const cases: [string[], RegExp][] = [
    [[], /give a mode: pack, gpu or cpu/],
    [['train'], /unknown mode "train": choose pack, gpu or cpu/],
    [['cpu', '--shape', '9b'], /--shape must be one of: 8b 3b 1b 0\.5b tiny \(got "9b"\)/],
    [['cpu', '--seconds', '-3'], /unknown option -3|--seconds must be a positive number/],
    [['cpu', '--seconds', 'ten'], /--seconds must be a positive number \(got "ten"\)/],
    [['cpu', '--seconds', '0'], /--seconds must be a positive number \(got "0"\)/],
    [['gpu', '--sequences', '1,0'], /--sequences must be positive integers separated by commas \(got "1,0"\)/],
    [['cpu', '--schemes', 'reuse,fast'], /--schemes must be reuse, full or reuse,full \(got "reuse,fast"\)/],
    [['cpu', '--max-users', '2.5'], /--max-users must be a positive integer \(got "2\.5"\)/],
    [['cpu', '--full-candidates-per-user', '0'], /--full-candidates-per-user must be a positive integer \(got "0"\)/],
    [['cpu', '--shape'], /--shape needs a value/],
    [['cpu', '--bogus'], /unknown option --bogus/],
    [['cpu', 'extra'], /unexpected argument "extra"/],
    [['pack', '--shape', '8b'], /pack takes only a folder, not --shape/],
  ];
  for (const [args, message] of cases) {
    const r = run('bash', [script, ...args]);
    assert.equal(r.status, 2, `${args.join(' ')}: exit status (stderr: ${r.stderr})`);
    assert.match(r.stderr, message, args.join(' '));
  }
  const help = run('bash', [script, '--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /usage: run\.sh pack \[DIR\]/);
});

test('run.sh gpu stops with a clear message without a GPU, without nvcc, and outside a bundle', (t) => {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  const basePath = ['/usr/bin', '/bin'].join(':');
  if (!existsSync('/usr/bin/nvidia-smi') && !existsSync('/bin/nvidia-smi')) {
    const noGpu = run('bash', [script, 'gpu'], { ...process.env, PATH: `${dirname(process.execPath)}:${basePath}` });
    assert.equal(noGpu.status, 2);
    assert.match(noGpu.stderr, /no working nvidia-smi: this mode needs an NVIDIA GPU/);
  }
  // A stand-in nvidia-smi that reports an H200's compute capability.
  writeFileSync(join(bin, 'nvidia-smi'), '#!/bin/sh\ncase "$*" in *compute_cap*) echo 9.0 ;; *) echo "NVIDIA H200, 143771, 580" ;; esac\n');
  chmodSync(join(bin, 'nvidia-smi'), 0o755);
  const env = { ...process.env, PATH: `${bin}:${dirname(process.execPath)}:${basePath}` };
  const cudaNvcc = existsSync('/usr/local') && readdirSync('/usr/local').some((d) => d.startsWith('cuda') && existsSync(join('/usr/local', d, 'bin', 'nvcc')));
  if (cudaNvcc || existsSync('/usr/bin/nvcc')) {
    t.diagnostic('an nvcc is installed here: the no-nvcc case is not reachable');
  } else {
    const noNvcc = run('bash', [script, 'gpu'], env);
    assert.equal(noNvcc.status, 2);
    assert.match(noNvcc.stderr, /no nvcc \(CUDA toolkit\) on PATH or in \/usr\/local\/cuda\*: the CUDA backend cannot be built here; stopping/);
  }
  writeFileSync(join(bin, 'nvcc'), '#!/bin/sh\necho "Cuda compilation tools, release 13.0"\n');
  writeFileSync(join(bin, 'cmake'), '#!/bin/sh\necho "cmake version 4.4.0"\n');
  chmodSync(join(bin, 'nvcc'), 0o755);
  chmodSync(join(bin, 'cmake'), 0o755);
  const notBundle = run('bash', [script, 'gpu', '--work', join(dir, 'work')], env);
  assert.equal(notBundle.status, 2);
  assert.match(notBundle.stderr, /gpu runs from a bundle made by `run\.sh pack`/);
});

test('BAD ARGS - the driver names the argument', () => {
  const cases: [string[], RegExp][] = [
    [[], /Give a command: model, label or check-gpu/],
    [['check-gpu', '--expect', 'tpu'], /Argument: expect, Given: "tpu"/],
    [['model', '--shape', '9b', '--out', 'x.gguf'], /Argument: shape, Given: "9b"/],
    [['model', '--shape', '8b'], /Missing required argument: out/],
    [['label', '--model', 'm.gguf'], /Missing required argument: data/],
    [['label', '--model', 'm.gguf', '--data', 'd', '--sequences', '2,x'], /Expected a comma list of positive integers for --sequences but received "2,x"/],
    [['label', '--model', 'm.gguf', '--data', 'd', '--schemes', 'both'], /Expected a comma list of reuse, full for --schemes but received "both"/],
    [['label', '--model', 'm.gguf', '--data', 'd', '--gpu-layers', 'all'], /Expected "auto" or a non-negative integer for --gpu-layers but received "all"/],
    [['label', '--model', 'm.gguf', '--data', 'd', '--seconds', '0'], /Expected a positive number of seconds for --seconds but received 0/],
    [['label', '--model', 'm.gguf', '--data', 'd', '--max-users', '0'], /Expected a positive integer for --max-users but received 0/],
    [['label', '--model', 'm.gguf', '--data', 'd', '--full-candidates-per-user', '1.5'], /Expected a positive integer for --full-candidates-per-user but received 1\.5/],
    [['label', '--model', 'm.gguf', '--data', 'd', '--bogus', '1'], /Unknown argument: bogus/],
  ];
  for (const [args, message] of cases) {
    const r = run(process.execPath, [driver, ...args]);
    assert.equal(r.status, 1, `${args.join(' ')}: exit status (stderr: ${r.stderr})`);
    assert.match(r.stderr, message, args.join(' '));
  }
});

test('the runtime file list holds the driver\'s modules, node-llama-cpp and its build tools, and no prebuilt binaries', () => {
  const r = run(process.execPath, [join(repo, 'dist', 'bench', 'gpu-labelling', 'runtime-files.js'), 'dist/bench/gpu-labelling/driver.js']);
  assert.equal(r.status, 0, r.stderr);
  const files = r.stdout.trim().split('\n');
  for (const needed of ['dist/src/labels/llama.js', 'dist/src/labels/gguf-writer.js', 'node_modules/node-llama-cpp/dist/cli/cli.js', 'node_modules/node-llama-cpp/llama/CMakeLists.txt', 'node_modules/cmake-js/package.json', 'node_modules/node-api-headers/package.json', 'node_modules/yargs/package.json']) {
    assert.ok(files.includes(needed), needed);
  }
  assert.ok(!files.some((f) => f.includes('@node-llama-cpp/')), 'no prebuilt binaries');
  assert.ok(!files.some((f) => f.includes('node_modules/onnxruntime-')), 'no onnxruntime (the labeller never loads it)');
  assert.ok(!files.some((f) => f.endsWith('gitRelease.bundle') || f.endsWith('.map')), 'no git bundle, no source maps');
  assert.ok(!files.some((f) => f.startsWith('dist/src/cli/')), 'only what the driver imports');
});

/**
 * The vector kernels keep one code path per instruction set (AVX-512, AVX2 with FMA, none), and
 * the addon is built for the host's, so a test run checks only that one. Here the addon is built
 * again for the other paths this CPU can run, into build-isa-<name>/ (incremental across runs):
 * `-march=haswell` (AVX2 and FMA, no AVX-512) where the host has AVX-512, and a portable build
 * (DTLNS_PORTABLE: no -march). Each runs the test files that hold the vector kernels' results to
 * their TS references (prefix similarity, top-K, propagation and the sampler steps), in a child
 * with DTLNS_NATIVE_ADDON naming that build.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageRoot } from '../src/native.js';

const cpuFlags = (() => {
  if (!existsSync('/proc/cpuinfo')) return undefined;
  const line = /^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
  return line ? new Set(line[1].trim().split(/\s+/)) : undefined;
})();
const haswell = ['avx2', 'fma', 'bmi1', 'bmi2', 'abm', 'movbe', 'f16c'];

const variants = [
  {
    name: 'avx2',
    define: '--CDDTLNS_ARCH=haswell',
    // Without AVX-512 the host's own build already takes the AVX2 paths.
    skip: !cpuFlags ? 'no /proc/cpuinfo to read the CPU flags from'
      : !haswell.every((f) => cpuFlags.has(f)) ? 'this CPU cannot run a haswell build'
        : !cpuFlags.has('avx512f') ? 'the host build is this build (no AVX-512 here)' : false,
  },
  { name: 'portable', define: '--CDDTLNS_PORTABLE=ON', skip: false as const },
];

const files = ['trees.prefix', 'eval.topk', 'train.known', 'train.step', 'sampling.step', 'sampling.mine']
  .map((name) => fileURLToPath(new URL(`./${name}.test.js`, import.meta.url)));
const cmakeJs = join(packageRoot, 'node_modules', 'cmake-js', 'bin', 'cmake-js');

for (const variant of variants) {
  test(`the ${variant.name} build of the addon passes the vector kernels' tests`, { skip: variant.skip }, () => {
    const out = join(packageRoot, `build-isa-${variant.name}`);
    const build = spawnSync(process.execPath, [cmakeJs, 'compile', '-O', out, variant.define, '--log-level', 'warn'],
      { cwd: packageRoot, encoding: 'utf8', timeout: 600_000 });
    assert.equal(build.status, 0, `cmake-js compile ${variant.define} failed:\n${build.stdout}\n${build.stderr}`);
    const addon = join(out, 'Release', 'dtlns_native.node');
    // NODE_TEST_CONTEXT would make the child report to this runner instead of its stdout.
    const { NODE_TEST_CONTEXT: _, ...parentEnv } = process.env;
    const env = { ...parentEnv, DTLNS_NATIVE_ADDON: addon };
    // The child must load this build, not fall back to build/Release.
    const probe = spawnSync(process.execPath, ['--input-type=module', '-e',
      `console.log((await import(${JSON.stringify(new URL('../src/native.js', import.meta.url).href)})).addonPath)`],
    { env, encoding: 'utf8' });
    assert.equal(probe.stdout.trim(), addon, probe.stderr);
    const run = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...files], { env, encoding: 'utf8', timeout: 600_000 });
    const summary = run.stdout.split('\n').filter((line) => /^# (pass|fail)|^not ok/.test(line)).join('\n');
    assert.equal(run.status, 0, `${variant.name} build:\n${summary}\n${run.stdout.slice(-4000)}\n${run.stderr}`);
    assert.match(summary, /^# fail 0$/m);
  });
}

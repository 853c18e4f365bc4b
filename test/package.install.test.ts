/**
 * The package as a consumer gets it. `npm pack`, then:
 * - statically: the tarball holds no test or bench file, every module it ships imports only shipped
 *   files, Node built-ins and declared dependencies, and what its install script and CMakeLists.txt
 *   run comes from declared dependencies;
 * - installed offline into a clean temporary app: `npm ci --offline` from the npm cache, at the
 *   versions of this repository's package-lock.json, without optional dependencies but with this
 *   platform's llama.cpp CPU binary (the small install the README describes). The install must build
 *   the addon; then `npx dtlns-native --help` prints no npm warning, `bench --quick` runs (its export
 *   suite says how to install the missing onnxruntime-node), and an ESM and a strict TypeScript
 *   consumer import `{ train, loadDataset }`.
 * The install compiles the addon: about a minute on two quiet cores, several on a loaded machine.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join, posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { lastJson } from './support/cli.js';

const exec = promisify(execFile);
const root = resolve(fileURLToPath(import.meta.url), '..', '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
const declared = new Set([...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.optionalDependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})]);

/** This environment without npm's per-run variables: under `npm test` they would point a child npm at this repository. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_/i.test(key) && !/^npm_config_(cache|registry)$/i.test(key)) continue;
    if (key === 'INIT_CWD') continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

function run(command: string, args: string[], cwd: string, env: Record<string, string> = {}) {
  return exec(command, args, { cwd, env: cleanEnv(env), maxBuffer: 64 << 20 });
}

const packDir = mkdtempSync(join(tmpdir(), 'dtlns-pack-'));
process.on('exit', () => rmSync(packDir, { recursive: true, force: true }));

/** `npm pack` of the built tree (pretest built dist/): the tarball and its file list. */
const packed = (async () => {
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', packDir], root);
  const [info] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
  return { tarball: join(packDir, info.filename), files: info.files.map((f) => f.path) };
})();

/** Module specifiers of a compiled module or declaration file: static imports and re-exports, `import('x')`. */
function specifiers(code: string): string[] {
  const found: string[] = [];
  for (const m of code.matchAll(/^\s*(?:import|export)\s[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/gm)) found.push(m[1]);
  for (const m of code.matchAll(/^\s*import\s*['"]([^'"]+)['"]/gm)) found.push(m[1]);
  for (const m of code.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push(m[1]);
  return found;
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** Each import of a shipped module that a consumer's install would not satisfy. */
function unsatisfiedImports(files: string[], read: (path: string) => string): string[] {
  const shipped = new Set(files);
  const problems: string[] = [];
  for (const file of files.filter((f) => f.endsWith('.js') || f.endsWith('.d.ts'))) {
    for (const spec of specifiers(read(file))) {
      if (spec.startsWith('.')) {
        const target = posix.normalize(posix.join(posix.dirname(file), spec));
        const wanted = file.endsWith('.d.ts') ? target.replace(/\.js$/, '.d.ts') : target;
        if (!shipped.has(wanted)) problems.push(`${file} imports ${spec}: ${wanted} is not in the tarball`);
      } else if (!spec.startsWith('node:') && !builtinModules.includes(spec)) {
        if (!declared.has(packageName(spec))) problems.push(`${file} imports ${spec}: not a declared dependency`);
      }
    }
  }
  return problems;
}

test('the tarball: no test or bench file; shipped modules import only shipped files and declared dependencies', async () => {
  const { files } = await packed;
  assert.deepEqual(files.filter((f) => /^(test|bench|dist\/test|dist\/bench|build)\//.test(f) || f.endsWith('.node')), []);
  for (const needed of ['bin/dtlns-native.js', 'CMakeLists.txt', 'native/addon.cpp', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/cli/cli.js', 'dist/src/benchmarks/index.js']) {
    assert.ok(files.includes(needed), `${needed} is shipped`);
  }
  assert.deepEqual(unsatisfiedImports(files, (f) => readFileSync(join(root, f), 'utf8')), []);
  // The install script's command and what CMakeLists.txt requires come from declared dependencies.
  const command = pkg.scripts.install.split(' ')[0];
  const provider = [...declared].find((dep) => {
    const manifest = join(root, 'node_modules', dep, 'package.json');
    const bin = existsSync(manifest) ? JSON.parse(readFileSync(manifest, 'utf8')).bin : undefined;
    return typeof bin === 'string' ? dep === command : bin !== undefined && command in bin;
  });
  assert.ok(provider, `the install script's ${command} comes from a declared dependency`);
  for (const m of readFileSync(join(root, 'CMakeLists.txt'), 'utf8').matchAll(/require\('([^']+)'\)/g)) {
    assert.ok(declared.has(m[1]), `CMakeLists.txt requires ${m[1]}, a declared dependency`);
  }
});

test('the static check finds an import of an unshipped file and of an undeclared package', () => {
  const files = ['dist/src/cli/bench.js', 'dist/src/cli/bench.d.ts', 'dist/src/x.js'];
  const code: Record<string, string> = {
    'dist/src/cli/bench.js': "import { runBenchmarks } from '../../bench/index.js';\nexport { a } from '../x.js';\nconst m = await import('left-pad');",
    'dist/src/cli/bench.d.ts': "import type { Suite } from '../bench/index.js';",
    'dist/src/x.js': "import {\n  b,\n} from 'node:fs';\nimport 'yargs';",
  };
  assert.deepEqual(unsatisfiedImports(files, (f) => code[f]), [
    'dist/src/cli/bench.js imports ../../bench/index.js: dist/bench/index.js is not in the tarball',
    'dist/src/cli/bench.js imports left-pad: not a declared dependency',
    'dist/src/cli/bench.d.ts imports ../bench/index.js: dist/src/bench/index.d.ts is not in the tarball',
  ]);
});

/** A clean app depending on the tarball, locked to this repository's versions (no dev dependencies). */
function writeConsumer(app: string, tarball: string, extra: Record<string, string>): void {
  const name = tarball.split('/').pop()!;
  copyFileSync(tarball, join(app, name));
  const dependencies = { 'dtlns-native': `file:${name}`, ...extra };
  const self = lock.packages[''];
  const packages: Record<string, unknown> = {
    '': { name: 'consumer', dependencies },
    'node_modules/dtlns-native': {
      version: self.version, resolved: `file:${name}`, integrity: `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`,
      hasInstallScript: true, license: self.license, dependencies: self.dependencies, optionalDependencies: self.optionalDependencies, bin: self.bin, engines: self.engines,
    },
  };
  for (const [path, entry] of Object.entries(lock.packages as Record<string, Record<string, unknown>>)) {
    if (path === '' || entry.dev) continue;
    // devOptional: needed by an optional dependency (and by a dev one here): optional for the app.
    const { devOptional, ...rest } = entry;
    const kept = devOptional ? { ...rest, optional: true } : entry;
    // A direct dependency of the app is not optional there.
    packages[path] = path.slice('node_modules/'.length) in extra ? { ...kept, optional: undefined } : kept;
  }
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies }, null, 2));
  writeFileSync(join(app, 'package-lock.json'), JSON.stringify({ name: 'consumer', lockfileVersion: 3, requires: true, packages }, null, 2));
}

/** This platform's prebuilt llama.cpp CPU binary package in the lock (e.g. @node-llama-cpp/linux-x64), if any. */
function llamaCpuBinary(): [string, string] | undefined {
  const os = process.platform === 'darwin' ? 'mac' : process.platform === 'win32' ? 'win' : process.platform;
  const name = `@node-llama-cpp/${os}-${process.arch}${os === 'mac' && process.arch === 'arm64' ? '-metal' : ''}`;
  const entry = lock.packages[`node_modules/${name}`] as { version: string } | undefined;
  return entry ? [name, entry.version] : undefined;
}

const esmConsumer = `import { train, loadDataset } from 'dtlns-native';
const dataset = await loadDataset('synthetic:tiny');
const result = await train(dataset, { model: 'mf', epochs: 1, threads: 1 });
console.log(JSON.stringify({ users: dataset.nUsers, epochs: result.epochs }));
`;

const tsConsumer = `import { train, loadDataset, type Dataset, type TrainResult } from 'dtlns-native';
const dataset: Dataset = await loadDataset('synthetic:tiny');
const result: TrainResult = await train(dataset, { model: 'mf', epochs: 1, threads: 1 });
const users: number = dataset.nUsers;
console.log(users, result.epochs);
`;

test('installed offline from the tarball into a clean app: the install builds the addon; npx, ESM and strict TypeScript consumers work', { timeout: 15 * 60_000 }, async (t) => {
  const { tarball } = await packed;
  const app = mkdtempSync(join(tmpdir(), 'dtlns-consumer-'));
  t.after(() => rmSync(app, { recursive: true, force: true }));
  const binary = llamaCpuBinary();
  writeConsumer(app, tarball, binary ? { [binary[0]]: binary[1] } : {});
  const started = Date.now();
  try {
    // No prebuilt llama.cpp for this platform in the lock: node-llama-cpp's postinstall would build one from source.
    await run('npm', ['ci', '--offline', '--omit=optional', '--no-audit', '--no-fund'], app, binary ? {} : { NODE_LLAMA_CPP_SKIP_DOWNLOAD: 'true' });
  } catch (error) {
    const e = error as { stderr?: string };
    assert.fail(`npm ci --offline of the tarball failed (the npm cache must hold package-lock.json's packages: run npm ci first):\n${e.stderr ?? error}`);
  }
  t.diagnostic(`npm ci of the tarball, addon build included: ${((Date.now() - started) / 1000).toFixed(0)} s`);
  assert.ok(existsSync(join(app, 'node_modules', 'dtlns-native', 'build', 'Release', 'dtlns_native.node')), 'the install script built the addon');

  const help = await run('npx', ['--no', '--', 'dtlns-native', '--help'], app);
  for (const command of ['run', 'train', 'bench', 'label', 'export']) assert.match(help.stdout, new RegExp(`^  dtlns-native ${command} `, 'm'));
  assert.doesNotMatch(help.stderr, /npm warn/i);

  const bench = await run('npx', ['--no', '--', 'dtlns-native', 'bench', '--quick', '--suite', 'eval', '--suite', 'export', '--json'], app, { DTLNS_THREADS: '2' });
  assert.ok(lastJson(bench.stdout).rows.some((r: { suite: string; name: string }) => r.suite === 'eval' && r.name.startsWith('native-1t')));
  assert.match(bench.stderr, /export: skipped: onnxruntime-node is not installed[^\n]*npm install onnxruntime-node/);
  assert.doesNotMatch(bench.stderr, /npm warn/i);

  writeFileSync(join(app, 'esm.mjs'), esmConsumer);
  assert.deepEqual(JSON.parse((await run(process.execPath, ['esm.mjs'], app)).stdout), { users: 200, epochs: 1 });

  writeFileSync(join(app, 'app.ts'), tsConsumer);
  writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', noEmit: true, skipLibCheck: false,
      types: ['node'], typeRoots: [join(root, 'node_modules', '@types')],
    },
    files: ['app.ts'],
  }));
  await run(join(root, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json'], app).catch((error: { stdout?: string }) => assert.fail(`tsc --strict on a TypeScript consumer:\n${error.stdout ?? error}`));
});

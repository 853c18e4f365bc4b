/**
 * The files a machine without network needs to run one compiled entry point: the dist files it
 * imports (followed through relative imports, static and dynamic), and the npm packages they import
 * with their dependency closure (package.json dependencies and installed optional ones). Prebuilt
 * binaries (`@node-llama-cpp/*`), the lazily loaded onnxruntime, llama.cpp's git bundle, source maps and type declarations stay
 * behind: run.sh builds the binary from the source it packs separately.
 *
 *   node dist/bench/gpu-labelling/runtime-files.js ENTRY.js [PACKAGE ...]
 *
 * prints one path per line, relative to the repository root (extra PACKAGEs are added as roots).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * Packages that never travel: prebuilt binaries (hundreds of MB; the CUDA backend is built there), and
 * onnxruntime, which src/util/optional.ts imports lazily for ONNX scoring only (the labeller never scores
 * an ONNX model; its binaries for every platform weigh 300 MB).
 */
const excludedPackage = (name: string): boolean => name.startsWith('@node-llama-cpp/') || name.startsWith('onnxruntime-');
/** Files inside packages that are not needed to run or build. */
const excludedFile = (path: string): boolean =>
  /\.(map|d\.ts|md)$/.test(path) || path.endsWith('node-llama-cpp/llama/gitRelease.bundle') || /node-llama-cpp\/llama\/(localBuilds|llama\.cpp)\//.test(path);

const importPattern = /(?:^|[\s;}])(?:import|export)\s[^'"`]*?from\s*['"]([^'"]+)['"]|(?:^|[\s;}(=])import\s*\(\s*['"]([^'"]+)['"]\s*\)|^import\s+['"]([^'"]+)['"]/gm;

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** Relative dist files reachable from `entry`, and the bare packages they import. */
export function reachableModules(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const builtins = new Set(builtinModules);
  const visit = (file: string): void => {
    if (files.has(file)) return;
    if (!existsSync(file)) throw new Error(`${file}: imported but missing (run npm run build first)`);
    files.add(file);
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(importPattern)) {
      const specifier = match[1] ?? match[2] ?? match[3];
      if (specifier.startsWith('.')) visit(resolve(dirname(file), specifier));
      else if (!specifier.startsWith('node:') && !builtins.has(packageName(specifier))) packages.add(packageName(specifier));
    }
  };
  visit(resolve(entry));
  return { files, packages };
}

/** Where Node would find package `name` from directory `from` (nearest node_modules upwards). */
function resolvePackage(name: string, from: string, root: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === root || dir === dirname(dir)) return undefined;
  }
}

/** Package folders of `roots` and everything they depend on. */
export function packageClosure(roots: Iterable<string>, root: string): Set<string> {
  const found = new Set<string>();
  const visit = (name: string, from: string, optional: boolean): void => {
    if (excludedPackage(name)) return;
    const dir = resolvePackage(name, from, root);
    if (!dir) {
      if (optional) return;
      throw new Error(`package ${name} (needed from ${relative(root, from) || '.'}) is not installed`);
    }
    if (found.has(dir)) return;
    found.add(dir);
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
    for (const dep of Object.keys(manifest.dependencies ?? {})) visit(dep, dir, false);
    for (const dep of Object.keys(manifest.optionalDependencies ?? {})) visit(dep, dir, true);
  };
  for (const name of roots) visit(name, root, false);
  return found;
}

function filesUnder(dir: string, out: string[]): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      // Nested packages travel only when the closure reaches them.
      if (entry.name !== 'node_modules') filesUnder(path, out);
    } else if (!excludedFile(path)) out.push(path);
  }
}

export function runtimeFiles(entry: string, extraPackages: string[], root: string): string[] {
  const { files, packages } = reachableModules(entry);
  const out = [...files];
  for (const dir of packageClosure([...packages, ...extraPackages], root)) filesUnder(dir, out);
  return out.map((path) => relative(root, path)).filter((path) => statSync(join(root, path)).isFile()).sort();
}

const [entry, ...extra] = process.argv.slice(2);
if (!entry) {
  process.stderr.write('usage: runtime-files.js ENTRY.js [PACKAGE ...]\n');
  process.exit(2);
}
process.stdout.write(runtimeFiles(entry, extra, process.cwd()).join('\n') + '\n');

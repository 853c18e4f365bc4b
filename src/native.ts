/**
 * The only module that loads the C++ addon (dtlns_native.node) and the full
 * type of what it exports. Every other module imports `native` from here.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Typed arrays that may be pinned and read by a kernel without a copy. */
export interface TopKResult {
  /** nQuery x k item indices, row-major; 0xFFFFFFFF pads rows with fewer than k unmasked items. */
  items: Uint32Array;
  /** nQuery x k scores, -Infinity on padding. */
  scores: Float32Array;
}

export interface MaskedTopKOptions {
  userEmb: Float32Array;
  itemEmb: Float32Array;
  dim: number;
  users: Uint32Array;
  k: number;
  threads: number;
  maskIndptr?: Uint32Array;
  maskIndices?: Uint32Array;
}

/** What dtlns_native.node exports, typed by hand. */
export interface NativeBinding {
  abiVersion: number;
  maskedTopK(options: MaskedTopKOptions): Promise<TopKResult>;
}

const here = dirname(fileURLToPath(import.meta.url));
/** The package root: this file is dist/src/native.js. */
export const packageRoot = resolve(here, '..', '..');

function candidatePaths(): string[] {
  const paths: string[] = [];
  if (process.env.DTLNS_NATIVE_ADDON) paths.push(resolve(process.env.DTLNS_NATIVE_ADDON));
  paths.push(join(packageRoot, 'build', 'Release', 'dtlns_native.node'));
  paths.push(join(packageRoot, 'build', 'Debug', 'dtlns_native.node'));
  return paths;
}

function loadAddon(): NativeBinding {
  const require = createRequire(import.meta.url);
  const failures: string[] = [];
  for (const path of candidatePaths()) {
    if (!existsSync(path)) {
      failures.push(`  ${path}: not found`);
      continue;
    }
    try {
      return require(path) as NativeBinding;
    } catch (error) {
      failures.push(`  ${path}: ${(error as Error).message}`);
    }
  }
  throw new Error(
    'Could not load the dtlns-native addon. Build it with `npm run build:native` ' +
      '(cmake and a C++17 compiler are needed). Paths tried:\n' + failures.join('\n'),
  );
}

export const native: NativeBinding = loadAddon();

/**
 * Awaits a native promise so that a rejection carries the caller's stack
 * (captured before the call) rather than an empty native one.
 */
export async function callNative<T>(call: () => Promise<T>): Promise<T> {
  const site = new Error();
  try {
    return await call();
  } catch (error) {
    if (error instanceof Error && site.stack) {
      error.stack = `${error.name}: ${error.message}\n${site.stack.split('\n').slice(1).join('\n')}`;
    }
    throw error;
  }
}

/** Model parameters and optimizer state: flat Float32Arrays owned by TS and updated in place by the kernels. */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { readNpy, writeNpy } from './npy.js';
import { writeJsonAtomic } from '../util/atomic.js';
import type { ModelState } from '../native.js';
import { mulberry32 } from '../util/random.js';

/** The tables the kernels read and update; the type is declared beside the binding. */
export type { ModelState };

/** Seeded normal initialisation (mulberry32 + Box-Muller), as LightGCN-PyTorch's normal_(std=0.1). */
export function initModel(nUsers: number, nItems: number, dim: number, seed: number, std: number): ModelState {
  for (const [name, v] of [['nUsers', nUsers], ['nItems', nItems], ['dim', dim]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`Expected a positive integer for ${name} but received ${v}`);
  }
  if (!(std > 0) || !Number.isFinite(std)) throw new RangeError(`Expected a positive finite number for initStd but received ${std}`);
  const next = mulberry32(seed);
  // Shifted by half a step into (0, 1): log(0) never happens.
  const uniform = (): number => next() + 0.5 / 4294967296;
  const normal = (n: number): Float32Array => {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i += 2) {
      const r = Math.sqrt(-2 * Math.log(uniform())) * std;
      const a = 2 * Math.PI * uniform();
      out[i] = r * Math.cos(a);
      if (i + 1 < n) out[i + 1] = r * Math.sin(a);
    }
    return out;
  };
  return {
    nUsers, nItems, dim,
    userEmb: normal(nUsers * dim),
    itemEmb: normal(nItems * dim),
    userM: new Float32Array(nUsers * dim),
    userV: new Float32Array(nUsers * dim),
    itemM: new Float32Array(nItems * dim),
    itemV: new Float32Array(nItems * dim),
    step: 0,
  };
}

const TABLES = ['userEmb', 'itemEmb', 'userM', 'userV', 'itemM', 'itemV'] as const;

/**
 * Saves the whole state into `dir` so that a crash at any moment leaves either
 * the previous or the new complete copy: files go to `dir.new`, then the folders swap.
 */
export function saveState(dir: string, state: ModelState, meta: Record<string, unknown>): void {
  const fresh = `${dir}.new`, old = `${dir}.old`;
  rmSync(fresh, { recursive: true, force: true });
  mkdirSync(fresh, { recursive: true });
  for (const name of TABLES) {
    const rows = name.startsWith('user') ? state.nUsers : state.nItems;
    writeNpy(join(fresh, `${name}.npy`), state[name], [rows, state.dim]);
  }
  writeJsonAtomic(join(fresh, 'state.json'), { ...meta, nUsers: state.nUsers, nItems: state.nItems, dim: state.dim, step: state.step });
  rmSync(old, { recursive: true, force: true });
  if (existsSync(dir)) renameSync(dir, old);
  renameSync(fresh, dir);
  rmSync(old, { recursive: true, force: true });
}

/** Loads what saveState wrote (falling back to the previous copy if a swap was interrupted). */
export function loadState(dir: string): { state: ModelState; meta: Record<string, unknown> } | undefined {
  const from = existsSync(join(dir, 'state.json')) ? dir : existsSync(join(`${dir}.old`, 'state.json')) ? `${dir}.old` : undefined;
  if (!from) return undefined;
  const meta = JSON.parse(readFileSync(join(from, 'state.json'), 'utf8')) as Record<string, unknown>;
  const tables = Object.fromEntries(TABLES.map((name) => [name, readNpy(join(from, `${name}.npy`)).data])) as Record<
    (typeof TABLES)[number], Float32Array>;
  const state: ModelState = {
    nUsers: Number(meta.nUsers), nItems: Number(meta.nItems), dim: Number(meta.dim), step: Number(meta.step), ...tables,
  };
  if (state.userEmb.length !== state.nUsers * state.dim || state.itemEmb.length !== state.nItems * state.dim) {
    throw new Error(`${from}: checkpoint tables do not match nUsers/nItems/dim in state.json`);
  }
  return { state, meta };
}

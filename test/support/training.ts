/** Small deterministic inputs for the training-kernel tests. */
import assert from 'node:assert/strict';
import type { ModelState } from '../../src/native.js';
import { mulberry32 } from '../../src/util/random.js';

export const seededRandom = mulberry32;

export interface Graph {
  nUsers: number;
  nItems: number;
  trainIndptr: Uint32Array;
  trainIndices: Uint32Array;
}

/** A random users x items CSR, rows ascending, every user with 1..maxPerUser items. */
export function randomGraph(nUsers: number, nItems: number, maxPerUser: number, seed: number): Graph {
  const random = seededRandom(seed);
  const rows: number[][] = [];
  for (let u = 0; u < nUsers; u++) {
    const count = 1 + Math.floor(random() * Math.min(maxPerUser, nItems - 1));
    const items = new Set<number>();
    while (items.size < count) items.add(Math.floor(random() * nItems));
    rows.push([...items].sort((a, b) => a - b));
  }
  return graphFromRows(rows, nItems);
}

export function graphFromRows(rows: number[][], nItems: number): Graph {
  const trainIndptr = new Uint32Array(rows.length + 1);
  rows.forEach((row, u) => (trainIndptr[u + 1] = trainIndptr[u] + row.length));
  return { nUsers: rows.length, nItems, trainIndptr, trainIndices: Uint32Array.from(rows.flat()) };
}

/** Random parameters (std 0.1) and, with `warm`, nonzero moments and a step count. */
export function randomState(graph: Graph, dim: number, seed: number, warm = false): ModelState {
  const random = seededRandom(seed);
  const normal = (n: number, scale: number) => Float32Array.from({ length: n }, () => (random() - 0.5) * 2 * scale);
  const moments = (n: number, positive: boolean) =>
    warm ? Float32Array.from({ length: n }, () => (positive ? random() * 1e-3 : (random() - 0.5) * 1e-2)) : new Float32Array(n);
  const nu = graph.nUsers * dim, ni = graph.nItems * dim;
  return {
    nUsers: graph.nUsers,
    nItems: graph.nItems,
    dim,
    userEmb: normal(nu, 0.17),
    itemEmb: normal(ni, 0.17),
    userM: moments(nu, false),
    userV: moments(nu, true),
    itemM: moments(ni, false),
    itemV: moments(ni, true),
    step: warm ? 7 : 0,
  };
}

export function cloneState(s: ModelState): ModelState {
  return {
    ...s,
    userEmb: s.userEmb.slice(), itemEmb: s.itemEmb.slice(), userM: s.userM.slice(), userV: s.userV.slice(),
    itemM: s.itemM.slice(), itemV: s.itemV.slice(),
  };
}

/** n triples (u, positive i, non-positive j), users drawn uniformly. */
export function randomTriples(graph: Graph, n: number, seed: number): { users: Uint32Array; pos: Uint32Array; neg: Uint32Array } {
  const random = seededRandom(seed);
  const users = new Uint32Array(n), pos = new Uint32Array(n), neg = new Uint32Array(n);
  for (let k = 0; k < n; k++) {
    const u = Math.floor(random() * graph.nUsers);
    const row = graph.trainIndices.subarray(graph.trainIndptr[u], graph.trainIndptr[u + 1]);
    let j: number;
    do j = Math.floor(random() * graph.nItems);
    while (row.includes(j));
    users[k] = u;
    pos[k] = row[Math.floor(random() * row.length)];
    neg[k] = j;
  }
  return { users, pos, neg };
}

/** |a - b| <= atol + rtol |b| elementwise, naming the first offender. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, label: string, rtol = 1e-5, atol = 1e-6): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  for (let k = 0; k < expected.length; k++) {
    const a = actual[k], b = expected[k];
    if (!(Math.abs(a - b) <= atol + rtol * Math.abs(b))) {
      assert.fail(`${label}[${k}]: native ${a} vs reference ${b}`);
    }
  }
}

export const TABLES = ['userEmb', 'itemEmb', 'userM', 'userV', 'itemM', 'itemV'] as const;

export function assertStatesEqual(a: ModelState, b: ModelState, label: string): void {
  for (const name of TABLES) assert.deepEqual(a[name], b[name], `${label}: ${name}`);
}

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  csrColumnCounts, csrDifference, csrEmpty, csrFromPairs, csrHas, csrNnz, csrRow, csrRowLengths, csrTranspose, csrUnion,
} from '../src/data/csr.js';
import type { Csr } from '../src/data/types.js';

/** Plain reference: row -> sorted distinct columns. */
function referenceRows(rows: number, r: number[], c: number[]): number[][] {
  const sets = Array.from({ length: rows }, () => new Set<number>());
  r.forEach((row, k) => sets[row].add(c[k]));
  return sets.map((s) => [...s].sort((a, b) => a - b));
}

function rowsOf(csr: Csr): number[][] {
  return Array.from({ length: csr.rows }, (_, r) => Array.from(csrRow(csr, r)));
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
}

function randomPairs(rows: number, cols: number, n: number, seed: number): { r: number[]; c: number[] } {
  const rand = lcg(seed);
  const r: number[] = [];
  const c: number[] = [];
  for (let k = 0; k < n; k++) {
    r.push(Math.floor(rand() * rows));
    c.push(Math.floor(rand() * cols));
  }
  return { r, c };
}

test('csrFromPairs sorts each row, drops and counts duplicates (against a Set reference)', () => {
  const { r, c } = randomPairs(37, 23, 600, 1);
  const { csr, duplicates } = csrFromPairs(37, 23, Uint32Array.from(r), Uint32Array.from(c));
  const ref = referenceRows(37, r, c);
  assert.deepEqual(rowsOf(csr), ref);
  const distinct = ref.reduce((s, row) => s + row.length, 0);
  assert.equal(duplicates, 600 - distinct);
  assert.equal(csrNnz(csr), distinct);
  assert.equal(csr.indices.length, distinct);
});

test('csrFromPairs known answer, empty rows and empty input', () => {
  const { csr, duplicates } = csrFromPairs(4, 5, Uint32Array.from([2, 0, 2, 2, 0]), Uint32Array.from([4, 3, 1, 4, 0]));
  assert.deepEqual(Array.from(csr.indptr), [0, 2, 2, 4, 4]);
  assert.deepEqual(Array.from(csr.indices), [0, 3, 1, 4]);
  assert.equal(duplicates, 1);
  const empty = csrFromPairs(3, 2, new Uint32Array(0), new Uint32Array(0));
  assert.deepEqual(Array.from(empty.csr.indptr), [0, 0, 0, 0]);
  assert.deepEqual(csrEmpty(3, 2), empty.csr);
});

test('csrFromPairs handles a million pairs quickly', () => {
  const n = 1_000_000;
  const rows = new Uint32Array(n);
  const cols = new Uint32Array(n);
  for (let k = 0; k < n; k++) {
    rows[k] = (k * 7919) % 30000;
    cols[k] = (k * 104729) % 40000;
  }
  const start = performance.now();
  const { csr, duplicates } = csrFromPairs(30000, 40000, rows, cols);
  const ms = performance.now() - start;
  assert.equal(csrNnz(csr) + duplicates, n);
  for (let r = 0; r < 30000; r++) {
    for (let p = csr.indptr[r] + 1; p < csr.indptr[r + 1]; p++) assert.ok(csr.indices[p - 1] < csr.indices[p]);
  }
  assert.ok(ms < 2000, `1M pairs took ${ms.toFixed(0)} ms`);
});

test('csrRow is a view and csrHas finds exactly the stored entries', () => {
  const { r, c } = randomPairs(10, 30, 80, 2);
  const { csr } = csrFromPairs(10, 30, Uint32Array.from(r), Uint32Array.from(c));
  assert.equal(csrRow(csr, 3).buffer, csr.indices.buffer);
  const ref = referenceRows(10, r, c);
  for (let row = 0; row < 10; row++) {
    for (let col = 0; col < 30; col++) assert.equal(csrHas(csr, row, col), ref[row].includes(col));
  }
  assert.equal(csrHas(csr, 0, 1_000_000), false);
});

test('csrUnion, csrDifference and csrTranspose agree with set operations', () => {
  const a = randomPairs(12, 9, 50, 3);
  const b = randomPairs(12, 9, 50, 4);
  const A = csrFromPairs(12, 9, Uint32Array.from(a.r), Uint32Array.from(a.c)).csr;
  const B = csrFromPairs(12, 9, Uint32Array.from(b.r), Uint32Array.from(b.c)).csr;
  const refA = referenceRows(12, a.r, a.c);
  const refB = referenceRows(12, b.r, b.c);
  assert.deepEqual(rowsOf(csrUnion(A, B)), refA.map((row, k) => [...new Set([...row, ...refB[k]])].sort((x, y) => x - y)));
  const diff = csrDifference(A, B);
  const refDiff = refA.map((row, k) => row.filter((x) => !refB[k].includes(x)));
  assert.deepEqual(rowsOf(diff.csr), refDiff);
  assert.equal(diff.removed, csrNnz(A) - csrNnz(diff.csr));
  const T = csrTranspose(A);
  assert.equal(T.rows, 9);
  assert.equal(T.cols, 12);
  for (let i = 0; i < 9; i++) assert.deepEqual(Array.from(csrRow(T, i)), refA.flatMap((row, u) => (row.includes(i) ? [u] : [])));
  assert.deepEqual(csrTranspose(T), A);
  assert.deepEqual(Array.from(csrRowLengths(A)), refA.map((row) => row.length));
  assert.deepEqual(Array.from(csrColumnCounts(A)), Array.from(csrRowLengths(T)));
});

test('BAD CALL - csr functions name the argument', () => {
  const ok = csrFromPairs(2, 2, Uint32Array.from([0]), Uint32Array.from([1])).csr;
  assert.throws(() => csrFromPairs(2, 2, [0] as unknown as Uint32Array, Uint32Array.from([1])), (e: Error) => e instanceof TypeError && /rowIdx/.test(e.message));
  assert.throws(() => csrFromPairs(2, 2, Uint32Array.from([0]), Int32Array.from([1]) as unknown as Uint32Array), (e: Error) => e instanceof TypeError && /colIdx/.test(e.message));
  assert.throws(() => csrFromPairs(2, 2, Uint32Array.from([0, 1]), Uint32Array.from([1])), (e: Error) => e instanceof RangeError && /colIdx/.test(e.message));
  assert.throws(() => csrFromPairs(2, 2, Uint32Array.from([2]), Uint32Array.from([1])), (e: Error) => e instanceof RangeError && /rowIdx\[0\] is 2/.test(e.message));
  assert.throws(() => csrFromPairs(2, 2, Uint32Array.from([0]), Uint32Array.from([5])), (e: Error) => e instanceof RangeError && /colIdx\[0\] is 5/.test(e.message));
  assert.throws(() => csrFromPairs(1.5, 2, new Uint32Array(0), new Uint32Array(0)), (e: Error) => e instanceof TypeError && /rows/.test(e.message));
  assert.throws(() => csrFromPairs(2, -1, new Uint32Array(0), new Uint32Array(0)), (e: Error) => e instanceof RangeError && /cols/.test(e.message));
  assert.throws(() => csrRow(ok, 2), (e: Error) => e instanceof RangeError && /\br\b/.test(e.message));
  assert.throws(() => csrHas(ok, 0, -1), (e: Error) => e instanceof RangeError && /\bc\b/.test(e.message));
  assert.throws(() => csrUnion(ok, csrEmpty(3, 2)), (e: Error) => e instanceof RangeError && /\bb\b/.test(e.message));
  assert.throws(() => csrTranspose({ ...ok, indptr: new Uint32Array(2) }), (e: Error) => e instanceof RangeError && /csr\.indptr/.test(e.message));
  assert.throws(() => csrDifference({} as Csr, ok), (e: Error) => e instanceof TypeError && /\ba\b/.test(e.message));
});

/** Compressed sparse rows over typed arrays: building from pairs, lookups and set operations. */
import type { Csr } from './types.js';
import { expectInteger, expectUint32Array } from './validate.js';

function expectCsr(value: unknown, name: string): Csr {
  const c = value as Csr;
  if (c === null || typeof c !== 'object' || !(c.indptr instanceof Uint32Array) || !(c.indices instanceof Uint32Array)) {
    throw new TypeError(`Expected a Csr {rows, cols, indptr: Uint32Array, indices: Uint32Array} for ${name} but received ${String(value)}`);
  }
  expectInteger(c.rows, `${name}.rows`);
  expectInteger(c.cols, `${name}.cols`);
  if (c.indptr.length !== c.rows + 1) {
    throw new RangeError(`Expected ${name}.indptr of length rows + 1 = ${c.rows + 1} but received length ${c.indptr.length}`);
  }
  if (c.indptr[c.rows] > c.indices.length) {
    throw new RangeError(`Expected ${name}.indices to hold indptr[rows] = ${c.indptr[c.rows]} entries but received length ${c.indices.length}`);
  }
  return c;
}

/**
 * Builds a rows x cols CSR from (row, col) pairs with two stable counting sorts (by column, then
 * by row), so each row's indices come out ascending in O(n + rows + cols). Repeated pairs are
 * kept once and counted in `duplicates`.
 */
export function csrFromPairs(rows: number, cols: number, rowIdx: Uint32Array, colIdx: Uint32Array): { csr: Csr; duplicates: number } {
  expectInteger(rows, 'rows');
  expectInteger(cols, 'cols');
  expectUint32Array(rowIdx, 'rowIdx');
  expectUint32Array(colIdx, 'colIdx', rowIdx.length);
  const n = rowIdx.length;
  const colPtr = new Uint32Array(cols + 1);
  const indptr = new Uint32Array(rows + 1);
  for (let k = 0; k < n; k++) {
    const r = rowIdx[k];
    const c = colIdx[k];
    if (r >= rows) throw new RangeError(`Expected rowIdx values below rows = ${rows} but rowIdx[${k}] is ${r}`);
    if (c >= cols) throw new RangeError(`Expected colIdx values below cols = ${cols} but colIdx[${k}] is ${c}`);
    colPtr[c + 1]++;
    indptr[r + 1]++;
  }
  for (let c = 0; c < cols; c++) colPtr[c + 1] += colPtr[c];
  for (let r = 0; r < rows; r++) indptr[r + 1] += indptr[r];
  // Rows grouped by column.
  const rowsByCol = new Uint32Array(n);
  const colNext = colPtr.slice(0, cols);
  for (let k = 0; k < n; k++) rowsByCol[colNext[colIdx[k]]++] = rowIdx[k];
  // Walking columns in order appends each row's columns ascending.
  const indices = new Uint32Array(n);
  const rowNext = indptr.slice(0, rows);
  for (let c = 0; c < cols; c++) {
    for (let p = colPtr[c], end = colPtr[c + 1]; p < end; p++) indices[rowNext[rowsByCol[p]]++] = c;
  }
  // Drop repeats in place (equal columns are adjacent within a row).
  let write = 0;
  let start = 0;
  for (let r = 0; r < rows; r++) {
    const end = indptr[r + 1];
    let prev = -1;
    for (let p = start; p < end; p++) {
      const c = indices[p];
      if (c !== prev) {
        indices[write++] = c;
        prev = c;
      }
    }
    start = end;
    indptr[r + 1] = write;
  }
  return { csr: { rows, cols, indptr, indices: write === n ? indices : indices.slice(0, write) }, duplicates: n - write };
}

/** An empty rows x cols matrix. */
export function csrEmpty(rows: number, cols: number): Csr {
  expectInteger(rows, 'rows');
  expectInteger(cols, 'cols');
  return { rows, cols, indptr: new Uint32Array(rows + 1), indices: new Uint32Array(0) };
}

/** Row r's column indices, ascending (a view into csr.indices, not a copy). */
export function csrRow(csr: Csr, r: number): Uint32Array {
  expectInteger(r, 'r', 0, csr.rows - 1);
  return csr.indices.subarray(csr.indptr[r], csr.indptr[r + 1]);
}

/** Whether (r, c) is stored, by binary search in row r. */
export function csrHas(csr: Csr, r: number, c: number): boolean {
  expectInteger(r, 'r', 0, csr.rows - 1);
  expectInteger(c, 'c');
  return csrFind(csr, r, c) >= 0;
}

/** The position of (r, c) in csr.indices, or -1; unchecked (hot loops pass valid rows). */
export function csrFind(csr: Csr, r: number, c: number): number {
  let lo = csr.indptr[r], hi = csr.indptr[r + 1];
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const v = csr.indices[mid];
    if (v === c) return mid;
    if (v < c) lo = mid + 1;
    else hi = mid;
  }
  return -1;
}

/** Number of stored entries. */
export function csrNnz(csr: Csr): number {
  return csr.indptr[csr.rows];
}

/** Number of entries of each row. */
export function csrRowLengths(csr: Csr): Uint32Array {
  const out = new Uint32Array(csr.rows);
  for (let r = 0; r < csr.rows; r++) out[r] = csr.indptr[r + 1] - csr.indptr[r];
  return out;
}

/** Number of entries of each column. */
export function csrColumnCounts(csr: Csr): Uint32Array {
  const out = new Uint32Array(csr.cols);
  const nnz = csr.indptr[csr.rows];
  for (let p = 0; p < nnz; p++) out[csr.indices[p]]++;
  return out;
}

/** The cols x rows transpose; its rows come out sorted because rows are visited in order. */
export function csrTranspose(csr: Csr): Csr {
  expectCsr(csr, 'csr');
  const { rows, cols } = csr;
  const nnz = csr.indptr[rows];
  const indptr = new Uint32Array(cols + 1);
  for (let p = 0; p < nnz; p++) indptr[csr.indices[p] + 1]++;
  for (let c = 0; c < cols; c++) indptr[c + 1] += indptr[c];
  const next = indptr.slice(0, cols);
  const indices = new Uint32Array(nnz);
  for (let r = 0; r < rows; r++) {
    for (let p = csr.indptr[r], end = csr.indptr[r + 1]; p < end; p++) indices[next[csr.indices[p]]++] = r;
  }
  return { rows: cols, cols: rows, indptr, indices };
}

function expectSameShape(a: Csr, b: Csr): void {
  expectCsr(a, 'a');
  expectCsr(b, 'b');
  if (a.rows !== b.rows || a.cols !== b.cols) {
    throw new RangeError(`Expected b to have the shape of a (${a.rows} x ${a.cols}) but received ${b.rows} x ${b.cols}`);
  }
}

/** Entries in a or b (row-wise merge of sorted rows). */
export function csrUnion(a: Csr, b: Csr): Csr {
  expectSameShape(a, b);
  const rows = a.rows;
  const indptr = new Uint32Array(rows + 1);
  const indices = new Uint32Array(a.indptr[rows] + b.indptr[rows]);
  const ai = a.indices;
  const bi = b.indices;
  let w = 0;
  for (let r = 0; r < rows; r++) {
    let p = a.indptr[r];
    let q = b.indptr[r];
    const pe = a.indptr[r + 1];
    const qe = b.indptr[r + 1];
    while (p < pe && q < qe) {
      const x = ai[p];
      const y = bi[q];
      if (x < y) { indices[w++] = x; p++; }
      else if (y < x) { indices[w++] = y; q++; }
      else { indices[w++] = x; p++; q++; }
    }
    while (p < pe) indices[w++] = ai[p++];
    while (q < qe) indices[w++] = bi[q++];
    indptr[r + 1] = w;
  }
  return { rows, cols: a.cols, indptr, indices: w === indices.length ? indices : indices.slice(0, w) };
}

/** Entries of a that are not in b, and how many were removed. */
export function csrDifference(a: Csr, b: Csr): { csr: Csr; removed: number } {
  expectSameShape(a, b);
  const rows = a.rows;
  const indptr = new Uint32Array(rows + 1);
  const indices = new Uint32Array(a.indptr[rows]);
  const ai = a.indices;
  const bi = b.indices;
  let w = 0;
  for (let r = 0; r < rows; r++) {
    let q = b.indptr[r];
    const qe = b.indptr[r + 1];
    for (let p = a.indptr[r], pe = a.indptr[r + 1]; p < pe; p++) {
      const x = ai[p];
      while (q < qe && bi[q] < x) q++;
      if (q < qe && bi[q] === x) continue;
      indices[w++] = x;
    }
    indptr[r + 1] = w;
  }
  return { csr: { rows, cols: a.cols, indptr, indices: w === indices.length ? indices : indices.slice(0, w) }, removed: indices.length - w };
}

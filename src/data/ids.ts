/** Original integer ids -> contiguous indices, in ascending order of id (so the mapping is deterministic). */
import { expectUint32Array } from './validate.js';

export interface IdIndex {
  /** Sorted distinct original ids; index k stands for ids[k]. */
  ids: Uint32Array;
  /** Indices of `values`, every one of which must be in `ids`. */
  map(values: Uint32Array): Uint32Array;
}

/**
 * Builds the index of the distinct values of some id columns. A lookup table is used when the
 * largest id is small (at most 4M or twice the number of values), else a sort and binary search.
 */
export function buildIdIndex(columns: Uint32Array[]): IdIndex {
  if (!Array.isArray(columns)) throw new TypeError(`Expected an array of Uint32Array for columns but received ${String(columns)}`);
  columns.forEach((c, k) => expectUint32Array(c, `columns[${k}]`));
  let total = 0;
  let maxId = -1;
  for (const column of columns) {
    total += column.length;
    for (let k = 0; k < column.length; k++) if (column[k] > maxId) maxId = column[k];
  }
  if (maxId < Math.max(1 << 22, 2 * total)) return denseIndex(columns, maxId);
  return sortedIndex(columns, total);
}

function denseIndex(columns: Uint32Array[], maxId: number): IdIndex {
  const table = new Uint32Array(maxId + 1);
  for (const column of columns) for (let k = 0; k < column.length; k++) table[column[k]] = 1;
  let count = 0;
  for (let v = 0; v <= maxId; v++) if (table[v] !== 0) count++;
  const ids = new Uint32Array(count);
  let next = 0;
  for (let v = 0; v <= maxId; v++) {
    if (table[v] !== 0) {
      ids[next] = v;
      table[v] = next++;
    }
  }
  return {
    ids,
    map(values) {
      const out = new Uint32Array(values.length);
      for (let k = 0; k < values.length; k++) out[k] = table[values[k]];
      return out;
    },
  };
}

function sortedIndex(columns: Uint32Array[], total: number): IdIndex {
  const all = new Uint32Array(total);
  let offset = 0;
  for (const column of columns) {
    all.set(column, offset);
    offset += column.length;
  }
  all.sort();
  let count = 0;
  for (let k = 0; k < total; k++) if (k === 0 || all[k] !== all[k - 1]) all[count++] = all[k];
  const ids = all.slice(0, count);
  return {
    ids,
    map(values) {
      const out = new Uint32Array(values.length);
      for (let k = 0; k < values.length; k++) {
        const v = values[k];
        let lo = 0;
        let hi = count - 1;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (ids[mid] < v) lo = mid + 1;
          else hi = mid;
        }
        out[k] = lo;
      }
      return out;
    },
  };
}

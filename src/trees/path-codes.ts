/** Path codes: each item's child index per level, root to leaf, packed for the kernels. */

export interface PathCodes {
  nItems: number;
  /** Width of `paths`: the longest path. */
  maxDepth: number;
  /** nItems x maxDepth child indices, row-major, padded with -1. */
  paths: Int32Array;
  /** Path length of each item. */
  lengths: Int32Array;
}

/** Checks the shape of `value` as PathCodes (the kernels re-check lengths against maxDepth). */
export function expectPathCodes(value: unknown, name: string): PathCodes {
  const c = value as PathCodes;
  if (c === null || typeof c !== 'object' || !(c.paths instanceof Int32Array) || !(c.lengths instanceof Int32Array)) {
    throw new TypeError(`Expected path codes {nItems, maxDepth, paths: Int32Array, lengths: Int32Array} for ${name} but received ${String(value)}`);
  }
  if (!Number.isInteger(c.nItems) || c.nItems < 0 || c.lengths.length !== c.nItems) {
    throw new RangeError(`Expected ${name}.lengths to hold nItems = ${c.nItems} entries but received length ${c.lengths.length}`);
  }
  if (!Number.isInteger(c.maxDepth) || c.maxDepth < 0 || c.maxDepth > 65536) {
    throw new RangeError(`Expected an integer in [0, 65536] for ${name}.maxDepth but received ${c.maxDepth}`);
  }
  if (c.paths.length !== c.nItems * c.maxDepth) {
    throw new RangeError(`Expected ${name}.paths of length nItems x maxDepth = ${c.nItems * c.maxDepth} but received length ${c.paths.length}`);
  }
  return c;
}

/** Item i's path as an array of child indices. */
export function pathOf(codes: PathCodes, item: number): number[] {
  const start = item * codes.maxDepth;
  return Array.from(codes.paths.subarray(start, start + codes.lengths[item]));
}

/** Packs per-item paths into PathCodes. */
export function packPaths(paths: readonly (readonly number[])[]): PathCodes {
  if (!Array.isArray(paths)) throw new TypeError(`Expected an array of paths for paths but received ${paths === null ? 'null' : typeof paths}`);
  paths.forEach((p, i) => {
    if (!Array.isArray(p)) throw new TypeError(`Expected an array of child indices for paths[${i}] but received ${p === null ? 'null' : typeof p}`);
    p.forEach((c, d) => {
      // A child index is what the codes compare; -1 is the padding, so it cannot be a code.
      if (!Number.isInteger(c) || c < 0 || c > 0x7fffffff) throw new RangeError(`Expected a child index (an integer >= 0) for paths[${i}][${d}] but received ${c}`);
    });
  });
  const maxDepth = paths.reduce((m, p) => Math.max(m, p.length), 0);
  const packed = new Int32Array(paths.length * maxDepth).fill(-1);
  const lengths = new Int32Array(paths.length);
  paths.forEach((p, i) => {
    packed.set(p, i * maxDepth);
    lengths[i] = p.length;
  });
  return { nItems: paths.length, maxDepth, paths: packed, lengths };
}

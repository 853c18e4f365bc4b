/**
 * Path codes as the labelers use them (the shape of src/trees/: packed `paths`, nItems x maxDepth,
 * -1 padded, with per-item `lengths`): their `0-1-3-2` text, a shape check against a dataset,
 * and the meaningless codes of the code controls (random-codes, shuffled-codes).
 */
import { Xoshiro128ss } from '../data/rng.js';
import { expectPathCodes, pathOf, type PathCodes } from '../trees/path-codes.js';

export type { PathCodes };

/** Checks that `codes` are path codes for exactly `nItems` items. */
export function checkPathCodes(codes: PathCodes, nItems: number, name: string): PathCodes {
  expectPathCodes(codes, name);
  if (codes.nItems !== nItems) throw new RangeError(`Expected ${name} for ${nItems} items but received ${codes.nItems}`);
  return codes;
}

/** Item `item`'s path as `0-1-3-2` (empty for an item with no path). */
export function pathText(codes: PathCodes, item: number): string {
  return pathOf(codes, item).join('-');
}

/**
 * The shuffled-codes control: every item gets the path of another item drawn by a seeded random
 * permutation. The multiset of paths is kept, so depths, branching and cluster sizes (hence the
 * base rate of prefix overlaps) are exactly those of the real tree; only the link between an
 * item and its place in the tree is destroyed.
 */
export function permutePaths(codes: PathCodes, seed: number): PathCodes {
  expectPathCodes(codes, 'codes');
  const { nItems, maxDepth } = codes;
  const order = new Uint32Array(nItems);
  for (let i = 0; i < nItems; i++) order[i] = i;
  const rng = new Xoshiro128ss(seed);
  for (let i = nItems - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  const paths = new Int32Array(codes.paths.length);
  const lengths = new Int32Array(nItems);
  for (let i = 0; i < nItems; i++) {
    const from = order[i];
    paths.set(codes.paths.subarray(from * maxDepth, (from + 1) * maxDepth), i * maxDepth);
    lengths[i] = codes.lengths[from];
  }
  return { nItems, maxDepth, paths, lengths };
}

/**
 * The random-codes control: every item gets a fresh random path of its own depth, each level's
 * child index uniform over that level's branching in the real tree (largest index + 1). Unlike
 * permutePaths, the tree's shape is lost too: cluster sizes are whatever the draws give.
 */
export function randomPaths(codes: PathCodes, seed: number): PathCodes {
  expectPathCodes(codes, 'codes');
  const { nItems, maxDepth } = codes;
  const branching = new Int32Array(maxDepth);
  for (let i = 0; i < nItems; i++) {
    for (let d = 0; d < codes.lengths[i]; d++) branching[d] = Math.max(branching[d], codes.paths[i * maxDepth + d] + 1);
  }
  const rng = new Xoshiro128ss(seed);
  const paths = new Int32Array(codes.paths.length).fill(-1);
  for (let i = 0; i < nItems; i++) {
    for (let d = 0; d < codes.lengths[i]; d++) paths[i * maxDepth + d] = rng.below(branching[d]);
  }
  return { nItems, maxDepth, paths, lengths: Int32Array.from(codes.lengths) };
}

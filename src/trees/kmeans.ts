/** Balanced hierarchical k-means trees (native, multi-threaded, deterministic per seed). */
import { callNative, native, type NativeTreeNodes } from '../native.js';
import { expectInteger } from '../data/validate.js';
import type { PathCodes } from './path-codes.js';
import { resolveTreeOptions, type TreeOptions } from './options.js';

export type TreeNodes = NativeTreeNodes;

export interface BalancedTree extends PathCodes {
  /** Leaf node of each item. */
  leaf: Int32Array;
  /** The tree itself, nodes in breadth-first order (node 0 is the root). */
  nodes: TreeNodes;
}

/** Checks points (n x dim, row-major, finite) and returns them. */
export function expectPoints(points: unknown, n: unknown, dim: unknown, name = 'points'): Float32Array {
  if (!(points instanceof Float32Array)) {
    throw new TypeError(`Expected a Float32Array for ${name} but received ${points === null ? 'null' : typeof points === 'object' ? (points as object).constructor.name : typeof points}`);
  }
  const rows = expectInteger(n, 'n', 1, 0x7fffffff);
  const width = expectInteger(dim, 'dim', 1, 65536);
  if (points.length !== rows * width) {
    throw new RangeError(`Expected ${name} of length n x dim = ${rows * width} but received length ${points.length}`);
  }
  for (let k = 0; k < points.length; k++) {
    if (!Number.isFinite(points[k])) {
      throw new RangeError(`Expected finite values in ${name} but ${name}[${k}] (row ${Math.floor(k / width)}) is ${points[k]}`);
    }
  }
  return points;
}

/**
 * Splits the n points (rows of `points`, n x dim) recursively by k-means into at most
 * `branching` children until a node holds at most `leafSize` items; a child larger than
 * 1.6x the average gives its members farthest from its centroid to the smallest child.
 */
export async function buildBalancedTree(points: Float32Array, n: number, dim: number, options?: TreeOptions): Promise<BalancedTree> {
  expectPoints(points, n, dim);
  const o = resolveTreeOptions(options);
  const tree = await callNative(() => native.buildBalancedTree({ points, n, dim, ...o }));
  return { nItems: n, maxDepth: tree.maxDepth, paths: tree.paths, lengths: tree.lengths, leaf: tree.leaf, nodes: tree.nodes };
}

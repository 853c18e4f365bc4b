/** Shape statistics of a tree, from its path codes alone (so the authors' path files get them too). */
import { expectPathCodes, type PathCodes } from './path-codes.js';

export interface LeafSizeStats {
  min: number;
  max: number;
  mean: number;
  median: number;
  /** histogram[s] = leaves holding s items. */
  histogram: number[];
}

export interface TreeStats {
  items: number;
  /** Distinct paths: the leaves that hold items. */
  leaves: number;
  maxDepth: number;
  /** depthHistogram[d] = items whose path has length d. */
  depthHistogram: number[];
  meanDepth: number;
  leafSizes: LeafSizeStats;
}

export function treeStats(codes: PathCodes): TreeStats {
  const c = expectPathCodes(codes, 'codes');
  const depthHistogram = new Array<number>(c.maxDepth + 1).fill(0);
  const leafSize = new Map<string, number>();
  let depthSum = 0;
  for (let i = 0; i < c.nItems; i++) {
    const length = c.lengths[i];
    depthHistogram[length]++;
    depthSum += length;
    const key = c.paths.subarray(i * c.maxDepth, i * c.maxDepth + length).join('-');
    leafSize.set(key, (leafSize.get(key) ?? 0) + 1);
  }
  const sizes = [...leafSize.values()].sort((a, b) => a - b);
  const histogram = new Array<number>((sizes.at(-1) ?? 0) + 1).fill(0);
  for (const s of sizes) histogram[s]++;
  const middle = sizes.length >> 1;
  return {
    items: c.nItems,
    leaves: sizes.length,
    maxDepth: c.maxDepth,
    depthHistogram,
    meanDepth: c.nItems > 0 ? depthSum / c.nItems : 0,
    leafSizes: {
      min: sizes[0] ?? 0,
      max: sizes.at(-1) ?? 0,
      mean: sizes.length > 0 ? c.nItems / sizes.length : 0,
      median: sizes.length === 0 ? 0 : sizes.length % 2 ? sizes[middle] : (sizes[middle - 1] + sizes[middle]) / 2,
      histogram,
    },
  };
}

/** The benchmark dataset: synthetic with Gowalla's shape (29,858 users, 40,981 items, ~1M interactions); `medium` for --quick. */
import { loadDataset } from '../data/load.js';
import type { Dataset } from '../data/types.js';

const cache = new Map<string, Promise<Dataset>>();

export function benchDataset(quick: boolean): Promise<Dataset> {
  const source = quick ? 'synthetic:medium' : 'synthetic:gowalla-size';
  if (!cache.has(source)) cache.set(source, loadDataset(source, { seed: 1 }));
  return cache.get(source)!;
}

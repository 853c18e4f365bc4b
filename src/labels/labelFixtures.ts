/**
 * Fixtures for the labelling tests: a synthetic dataset with planted hidden positives, path codes
 * derived from its taxonomy (structural = the planted taxonomy itself, semantic = the taxonomy
 * with the last level scrambled for a third of the items), and candidate lists that mix each
 * user's hidden positives with random unobserved items, so the truth of every candidate is known.
 */
import { generateSynthetic } from '../data/synthetic.js';
import type { Dataset } from '../data/types.js';
import type { PathCodes } from '../trees/path-codes.js';
import type { PromptItems } from './prompt.js';
import type { Candidates } from './types.js';
import { mulberry32 } from '../util/random.js';

export interface LabelFixture {
  dataset: Dataset;
  items: PromptItems;
  candidates: Candidates;
}


export function taxonomyPaths(dataset: Dataset, scramble: number, seed: number): PathCodes {
  const tax = dataset.taxonomy!;
  const rand = mulberry32(seed);
  const paths = Int32Array.from(tax.paths);
  for (let i = 0; i < dataset.nItems; i++) {
    if (rand() < scramble) paths[i * tax.depth + tax.depth - 1] = Math.floor(rand() * tax.branching);
  }
  return { nItems: dataset.nItems, paths, lengths: new Int32Array(dataset.nItems).fill(tax.depth), maxDepth: tax.depth };
}

/** `users` users (the first ones with training items), `perUser` candidates each. */
export function labelFixture(options: { preset?: 'tiny' | 'small'; users?: number; perUser?: number; seed?: number } = {}): LabelFixture {
  const dataset = generateSynthetic({ preset: options.preset ?? 'small' });
  const perUser = options.perUser ?? 20;
  const rand = mulberry32(options.seed ?? 7);
  const users: number[] = [];
  const indptr: number[] = [0];
  const items: number[] = [];
  const { train, hidden } = dataset;
  for (let u = 0; u < dataset.nUsers && users.length < (options.users ?? 50); u++) {
    if (train.indptr[u + 1] === train.indptr[u]) continue;
    const taken = new Set<number>(train.indices.subarray(train.indptr[u], train.indptr[u + 1]));
    const row: number[] = [];
    for (const h of hidden!.indices.subarray(hidden!.indptr[u], hidden!.indptr[u + 1])) {
      if (row.length < perUser / 2) {
        row.push(h);
        taken.add(h);
      }
    }
    const isHidden = new Set(hidden!.indices.subarray(hidden!.indptr[u], hidden!.indptr[u + 1]));
    while (row.length < perUser) {
      const item = Math.floor(rand() * dataset.nItems);
      if (taken.has(item) || isHidden.has(item)) continue;
      taken.add(item);
      row.push(item);
    }
    for (let k = row.length - 1; k > 0; k--) {
      const j = Math.floor(rand() * (k + 1));
      [row[k], row[j]] = [row[j], row[k]];
    }
    users.push(u);
    items.push(...row);
    indptr.push(items.length);
  }
  return {
    dataset,
    items: { itemIds: dataset.itemIds, structural: taxonomyPaths(dataset, 0, 1), semantic: taxonomyPaths(dataset, 0.33, 2) },
    candidates: { users: Uint32Array.from(users), indptr: Uint32Array.from(indptr), items: Uint32Array.from(items) },
  };
}

/** Words of the DTL-NS prompt, added to the tiny model's vocabulary so prompts take fewer tokens. */
export function promptWords(text: string): string[] {
  return [...new Set(text.split(/[^A-Za-z_']+/).filter((w) => w.length > 1))];
}

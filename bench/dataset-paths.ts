/**
 * The path-code options of the bench scripts' epochs: a dataset folder's own paths-struct.txt and
 * paths-semantic.txt, or a synthetic dataset's planted taxonomy for both trees; none otherwise,
 * which only samplers other than dtlns accept.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Dataset } from '../src/data/types.js';
import { readPaths } from '../src/trees/path-file.js';

export interface PathOptions {
  pathsCo?: Int32Array;
  pathsCoLengths?: Int32Array;
  pathsSe?: Int32Array;
  pathsSeLengths?: Int32Array;
}

export async function benchPathOptions(data: string, dataset: Dataset, samplers: readonly string[]): Promise<PathOptions> {
  const struct = join(data, 'paths-struct.txt'), semantic = join(data, 'paths-semantic.txt');
  if (existsSync(struct) && existsSync(semantic)) {
    const co = await readPaths(struct, dataset), se = await readPaths(semantic, dataset);
    return { pathsCo: co.paths, pathsCoLengths: co.lengths, pathsSe: se.paths, pathsSeLengths: se.lengths };
  }
  const taxonomy = dataset.taxonomy;
  if (!taxonomy) {
    if (samplers.includes('dtlns')) throw new Error(`--data ${data}: dtlns needs paths-struct.txt and paths-semantic.txt in the folder, or a synthetic dataset's taxonomy`);
    return {};
  }
  const lengths = new Int32Array(dataset.nItems).fill(taxonomy.depth);
  return { pathsCo: taxonomy.paths, pathsCoLengths: lengths, pathsSe: taxonomy.paths, pathsSeLengths: lengths };
}

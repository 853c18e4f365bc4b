/**
 * The path-code options of the bench scripts' epochs: a dataset folder's own paths-struct.txt and
 * paths-semantic.txt, or a synthetic dataset's planted taxonomy for both trees; none otherwise,
 * which only samplers other than dtlns accept.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Dataset } from '../src/data/types.js';
import type { SamplerFields } from '../src/native.js';
import type { PathCodes } from '../src/trees/path-codes.js';
import { readPaths } from '../src/trees/path-file.js';
import { semanticPathsFile, structuralPathsFile } from '../src/trees/build.js';
import { taxonomyPaths } from '../src/benchmarks/sampling.js';

export type PathOptions = Pick<SamplerFields, 'pathsCo' | 'pathsCoLengths' | 'pathsSe' | 'pathsSeLengths'>;

const bothTrees = (co: PathCodes, se: PathCodes): PathOptions => ({ pathsCo: co.paths, pathsCoLengths: co.lengths, pathsSe: se.paths, pathsSeLengths: se.lengths });

export async function benchPathOptions(data: string, dataset: Dataset, samplers: readonly string[]): Promise<PathOptions> {
  const struct = join(data, structuralPathsFile), semantic = join(data, semanticPathsFile);
  if (existsSync(struct) && existsSync(semantic)) return bothTrees(await readPaths(struct, dataset), await readPaths(semantic, dataset));
  if (!dataset.taxonomy) {
    if (samplers.includes('dtlns')) throw new Error(`--data ${data}: dtlns needs ${structuralPathsFile} and ${semanticPathsFile} in the folder, or a synthetic dataset's taxonomy`);
    return {};
  }
  const codes = taxonomyPaths(dataset);
  return bothTrees(codes, codes);
}

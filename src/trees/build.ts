/**
 * Both DTL-NS index trees of a dataset: the structural tree over the spectral embedding of the
 * item-item Jaccard graph of the training data, and the semantic tree over a trained model's
 * item embeddings; optionally written as path files into a folder.
 */
import { join } from 'node:path';
import type { Dataset } from '../data/types.js';
import { readNpy, type NpyArray } from '../model/npy.js';
import { expectBoolean, expectOptions } from '../data/validate.js';
import { buildBalancedTree, type BalancedTree } from './kmeans.js';
import { resolveSpectralOptions, resolveTreeOptions, type SpectralOptions, type TreeOptions } from './options.js';
import { writePaths } from './path-file.js';
import { expectCsr, structuralFeatures } from './spectral.js';
import { treeStats, type TreeStats } from './stats.js';

export const structuralPathsFile = 'paths-struct.txt';
export const semanticPathsFile = 'paths-semantic.txt';

export type TreeStage = 'jaccard' | 'spectral' | 'structuralTree' | 'semanticTree' | 'write';

export interface BuildTreesOptions extends TreeOptions {
  dataset: Pick<Dataset, 'nItems' | 'itemIds' | 'train'>;
  /** The semantic tree's points: a .npy file or an array with shape [nItems, dim]. */
  embeddings?: string | NpyArray;
  /** Build the structural tree (default true). */
  structural?: boolean;
  /** Options of the structural features (seed and threads default to the tree's). */
  spectral?: Omit<SpectralOptions, 'seed' | 'threads'>;
  /** Folder to write paths-struct.txt / paths-semantic.txt into. */
  out?: string;
  /** Called as each stage ends. */
  onStage?: (stage: TreeStage, seconds: number) => void;
}

export interface BuiltTree {
  tree: BalancedTree;
  stats: TreeStats;
  /** The path file written, with --out. */
  file?: string;
}

export interface StructuralTree extends BuiltTree {
  spectral: {
    dims: number;
    graphNnz: number;
    eigenvalues: number[];
    maxResidual: number;
    converged: boolean;
    restarts: number;
    products: number;
  };
}

export interface BuildTreesResult {
  structural?: StructuralTree;
  semantic?: BuiltTree & { dim: number };
  /** Seconds per stage, and in all. */
  seconds: Partial<Record<TreeStage, number>> & { total: number };
}

/** The semantic tree's points: one finite float32 row per item. */
export function semanticPoints(embeddings: string | NpyArray, nItems: number): { data: Float32Array; dim: number } {
  const array = typeof embeddings === 'string' ? readNpy(embeddings) : embeddings;
  if (array === null || typeof array !== 'object' || !(array.data instanceof Float32Array) || !Array.isArray(array.shape)) {
    throw new TypeError(`Expected a .npy path or {data: Float32Array, shape} for embeddings but received ${String(embeddings)}`);
  }
  const { data, shape } = array;
  if (shape.length !== 2 || !shape.every((s) => Number.isInteger(s) && s > 0) || shape[0] * shape[1] !== data.length) {
    throw new RangeError(`Expected embeddings of shape [nItems, dim] matching its data but received shape [${shape.join(', ')}] with ${data.length} values`);
  }
  if (shape[0] !== nItems) {
    throw new RangeError(`Expected embeddings with one row per item (${nItems}) but received ${shape[0]} rows`);
  }
  const dim = shape[1];
  for (let k = 0; k < data.length; k++) {
    if (!Number.isFinite(data[k])) {
      throw new RangeError(`Expected finite values in embeddings but row ${Math.floor(k / dim)}, column ${k % dim} is ${data[k]}`);
    }
  }
  return { data, dim };
}

function expectDataset(value: unknown, structural: boolean): BuildTreesOptions['dataset'] {
  const d = value as BuildTreesOptions['dataset'];
  if (d === null || typeof d !== 'object' || !Number.isInteger(d.nItems) || !Array.isArray(d.itemIds) || d.itemIds.length !== d.nItems) {
    throw new TypeError(`Expected a dataset {nItems, itemIds, train} for options.dataset but received ${String(value)}`);
  }
  if (structural) expectCsr(d.train, 'options.dataset.train');
  return d;
}

export async function buildTrees(options: BuildTreesOptions): Promise<BuildTreesResult> {
  const o = expectOptions<BuildTreesOptions>(options, 'options');
  const structural = o.structural === undefined ? true : expectBoolean(o.structural, 'options.structural');
  if (!structural && o.embeddings === undefined) {
    throw new RangeError('Expected options.embeddings or options.structural !== false: there is no tree to build');
  }
  const dataset = expectDataset(o.dataset, structural);
  const treeOptions = resolveTreeOptions({
    branching: o.branching, leafSize: o.leafSize, maxIter: o.maxIter, nInit: o.nInit, tolerance: o.tolerance, seed: o.seed, threads: o.threads,
  });
  const spectralOptions = resolveSpectralOptions({ ...expectOptions(o.spectral, 'options.spectral'), seed: treeOptions.seed, threads: treeOptions.threads }, 'options.spectral');
  if (structural && spectralOptions.dims >= dataset.nItems) {
    throw new RangeError(`Expected options.spectral.dims below the number of items (${dataset.nItems}) but received ${spectralOptions.dims}`);
  }
  if (o.out !== undefined && (typeof o.out !== 'string' || o.out.length === 0)) throw new TypeError(`Expected a folder for options.out but received ${String(o.out)}`);
  const semantic = o.embeddings === undefined ? undefined : semanticPoints(o.embeddings, dataset.nItems);

  const seconds: BuildTreesResult['seconds'] = { total: 0 };
  const began = performance.now();
  const stage = async <T>(name: TreeStage, work: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    const value = await work();
    seconds[name] = (seconds[name] ?? 0) + (performance.now() - started) / 1000;
    o.onStage?.(name, seconds[name]!);
    return value;
  };
  const result: BuildTreesResult = { seconds };

  if (structural) {
    const features = await structuralFeatures(dataset.train, spectralOptions);
    seconds.jaccard = features.seconds.jaccard;
    o.onStage?.('jaccard', features.seconds.jaccard);
    seconds.spectral = features.seconds.spectral;
    o.onStage?.('spectral', features.seconds.spectral);
    const tree = await stage('structuralTree', () => buildBalancedTree(features.features, dataset.nItems, features.dims, treeOptions));
    result.structural = {
      tree,
      stats: treeStats(tree),
      spectral: {
        dims: features.dims,
        graphNnz: features.graphNnz,
        eigenvalues: Array.from(features.eigenvalues),
        maxResidual: Math.max(...features.residuals),
        converged: features.converged,
        restarts: features.restarts,
        products: features.products,
      },
    };
  }
  if (semantic) {
    const tree = await stage('semanticTree', () => buildBalancedTree(semantic.data, dataset.nItems, semantic.dim, treeOptions));
    result.semantic = { tree, stats: treeStats(tree), dim: semantic.dim };
  }
  if (o.out !== undefined) {
    const out = o.out;
    await stage('write', async () => {
      if (result.structural) await writePaths((result.structural.file = join(out, structuralPathsFile)), result.structural.tree, dataset);
      if (result.semantic) await writePaths((result.semantic.file = join(out, semanticPathsFile)), result.semantic.tree, dataset);
    });
  }
  seconds.total = (performance.now() - began) / 1000;
  return result;
}

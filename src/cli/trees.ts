/** `dtlns-native trees`: the structural and semantic index trees of a dataset, written as path files, with their shape and timings. */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { readNpy } from '../model/npy.js';
import type { Dataset } from '../data/types.js';
import { spectralDefaults, spectralScalings, treeDefaults, type SpectralScaling } from '../trees/options.js';
import { buildTrees, type BuildTreesResult, type BuiltTree } from '../trees/build.js';
import type { TreeStats } from '../trees/stats.js';
import { commonOptions, dataOptions } from './options.js';
import { loadDatasetFromArgs, type DataArgs } from './shared.js';
import { formatNumber } from './progress.js';

interface TreesArgs extends Omit<DataArgs, 'data'> {
  data?: string;
  embeddings?: string;
  structural: boolean;
  branching: number;
  leafSize: number;
  maxIter: number;
  nInit: number;
  seed: number;
  spectralDims: number;
  topK: number;
  scaling: SpectralScaling;
  rowNormalize: boolean;
  threads: number;
  out?: string;
  json: boolean;
  quiet: boolean;
}

export const treesCommand: CommandModule<object, TreesArgs> = {
  command: 'trees',
  describe: 'Build the structural (Jaccard + spectral) and semantic (item embeddings) index trees and write their path files',
  builder: (y: Argv) =>
    commonOptions(dataOptions(y))
      .option('data', {
        type: 'string',
        describe: 'As for train (default synthetic); leave it out with --embeddings alone to name items by embedding row',
      })
      .default('data', undefined)
      .option('out', { type: 'string', describe: 'Folder to write paths-struct.txt and paths-semantic.txt into' })
      .option('embeddings', { type: 'string', describe: 'Item embeddings .npy (float32, items x dim) for the semantic tree, e.g. RUN/item-embeddings.npy' })
      .option('structural', { type: 'boolean', default: true, describe: 'Build the structural tree (--no-structural for the semantic tree alone)' })
      .option('branching', { type: 'number', default: treeDefaults.branching, describe: 'Children per node' })
      .option('leaf-size', { type: 'number', default: treeDefaults.leafSize, describe: 'A node with at most this many items is a leaf' })
      .option('max-iter', { type: 'number', default: treeDefaults.maxIter, describe: 'Lloyd iterations per node at most' })
      .option('n-init', { type: 'number', default: treeDefaults.nInit, describe: 'k-means++ runs per node (the lowest inertia is kept)' })
      .option('seed', { type: 'number', default: treeDefaults.seed, describe: 'Random seed (k-means++, spectral start)' })
      .option('spectral-dims', { type: 'number', default: spectralDefaults.dims, describe: 'Eigenvectors of the Jaccard graph kept after the trivial one' })
      .option('top-k', { type: 'number', default: spectralDefaults.topK, describe: "Keep each item's top-k Jaccard neighbours (0: all; bounds memory on large catalogues)" })
      .option('scaling', {
        type: 'string', choices: spectralScalings, default: spectralDefaults.scaling,
        describe: "Spectral features: unit eigenvectors (none, as the authors) or eigenvectors times eigenvalues",
      })
      .option('row-normalize', { type: 'boolean', default: spectralDefaults.rowNormalize, describe: "Scale each item's spectral feature row to unit length" })
      .example('$0 trees --data ../shared/datasets/dtlns-sports --embeddings runs/mf/item-embeddings.npy --out runs/mf', 'Both trees of a trained model')
      .example('$0 trees --data synthetic:small --out runs/trees', 'The structural tree of the built-in synthetic dataset') as unknown as Argv<TreesArgs>,
  handler: async (args: ArgumentsCamelCase<TreesArgs>) => {
    const embeddings = args.embeddings === undefined ? undefined : readNpy(args.embeddings);
    const dataset = await datasetFor(args, embeddings?.shape[0]);
    const log = (line: string) => {
      if (!args.quiet) process.stderr.write(line + '\n');
    };
    const result = await buildTrees({
      dataset,
      ...(embeddings !== undefined ? { embeddings } : {}),
      structural: args.structural,
      branching: args.branching,
      leafSize: args.leafSize,
      maxIter: args.maxIter,
      nInit: args.nInit,
      seed: args.seed,
      threads: args.threads,
      spectral: { dims: args.spectralDims, topK: args.topK, scaling: args.scaling, rowNormalize: args.rowNormalize },
      ...(args.out !== undefined ? { out: args.out } : {}),
      onStage: (stage, seconds) => log(`${stage}: ${seconds.toFixed(2)} s`),
    });
    if (args.json) process.stdout.write(JSON.stringify(summary(result, dataset.nItems)) + '\n');
    else process.stdout.write(describe(result, dataset.nItems, args.out));
  },
};

/** The dataset, or (embeddings alone, no --data) items named by embedding row. */
async function datasetFor(args: TreesArgs, rows: number | undefined): Promise<Pick<Dataset, 'nItems' | 'itemIds' | 'train'>> {
  if (args.data === undefined && rows !== undefined) {
    if (args.structural) throw new RangeError('The structural tree needs interactions: give --data, or --no-structural for the semantic tree alone');
    return { nItems: rows, itemIds: Array.from({ length: rows }, (_, i) => i), train: { rows: 0, cols: rows, indptr: new Uint32Array(1), indices: new Uint32Array(0) } };
  }
  return loadDatasetFromArgs({ ...args, data: args.data ?? 'synthetic' });
}

function treeSummary(built: BuiltTree): Record<string, unknown> {
  const { stats } = built;
  return {
    leaves: stats.leaves, maxDepth: stats.maxDepth, meanDepth: stats.meanDepth, depthHistogram: stats.depthHistogram,
    leafSizes: stats.leafSizes, nodes: built.tree.nodes.count, ...(built.file ? { file: built.file } : {}),
  };
}

function summary(result: BuildTreesResult, items: number): Record<string, unknown> {
  return {
    items,
    ...(result.structural ? { structural: { ...treeSummary(result.structural), spectral: result.structural.spectral } } : {}),
    ...(result.semantic ? { semantic: { ...treeSummary(result.semantic), dim: result.semantic.dim } } : {}),
    seconds: result.seconds,
  };
}

function shape(stats: TreeStats): string {
  const depths = stats.depthHistogram.map((count, depth) => (count > 0 ? `${depth}:${count}` : '')).filter(Boolean).join(' ');
  const l = stats.leafSizes;
  return `${formatNumber(stats.leaves)} leaves, depth ${stats.meanDepth.toFixed(2)} on average (items by depth ${depths}), ` +
    `leaf sizes ${l.min}-${l.max} (median ${l.median}, mean ${l.mean.toFixed(1)})`;
}

function describe(result: BuildTreesResult, items: number, out: string | undefined): string {
  const lines = [`${formatNumber(items)} items`];
  if (result.structural) {
    const s = result.structural.spectral;
    lines.push(`structural tree: ${shape(result.structural.stats)}`);
    lines.push(
      `  Jaccard graph ${formatNumber(s.graphNnz)} entries; ${s.dims} eigenvectors, eigenvalues ${s.eigenvalues[0].toFixed(4)}..${s.eigenvalues.at(-1)!.toFixed(4)}, ` +
        `max residual ${s.maxResidual.toExponential(1)}${s.converged ? '' : ' (NOT converged)'}`,
    );
  }
  if (result.semantic) lines.push(`semantic tree (${result.semantic.dim}-d embeddings): ${shape(result.semantic.stats)}`);
  const t = result.seconds;
  lines.push(`seconds: ${Object.entries(t).map(([stage, s]) => `${stage} ${s!.toFixed(2)}`).join(', ')}`);
  const files = [result.structural?.file, result.semantic?.file].filter(Boolean);
  lines.push(files.length > 0 ? `written: ${files.join(', ')}` : 'no --out: path files not written');
  return lines.join('\n') + '\n';
}

/** The index trees' public surface. */
export { treeDefaults, spectralDefaults, type TreeOptions, type SpectralOptions } from './options.js';
export { packPaths, pathOf, type PathCodes } from './path-codes.js';
export { buildBalancedTree, type BalancedTree, type TreeNodes } from './kmeans.js';
export { jaccardGraph, spectralEmbedding, structuralFeatures, type SparseGraph, type SpectralEmbedding, type StructuralFeatures } from './spectral.js';
export { prefixSimilarity, prefixSimilarityOneToMany, type PrefixSimilarityOptions } from './prefix.js';
export { readPaths, writePaths, parsePaths, formatPaths, type ItemIdSource } from './path-file.js';
export { treeStats, type TreeStats, type LeafSizeStats } from './stats.js';
export { adjustedMutualInformation } from './ami.js';
export { compareTrees, spearman, type TreeAgreement, type CompareOptions } from './compare.js';
export {
  buildTrees, semanticPoints, structuralPathsFile, semanticPathsFile,
  type BuildTreesOptions, type BuildTreesResult, type BuiltTree, type StructuralTree, type TreeStage,
} from './build.js';

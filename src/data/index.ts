/** The data layer's public surface. */
export type { Csr, Dataset, LoadReport } from './types.js';
export { DataFileError } from './errors.js';
export { csrFromPairs, csrEmpty, csrRow, csrHas, csrNnz, csrRowLengths, csrColumnCounts, csrTranspose, csrUnion, csrDifference } from './csr.js';
export { readInteractions, parseInteractions, detectFormat, interactionFormats, type InteractionFormat, type InteractionRecords, type ReadOptions } from './readers.js';
export { splitInteractions, splitCounts, splitModes, splitDefaults, type SplitMode, type SplitOptions, type SplitResult } from './split.js';
export { generateSynthetic, resolveSyntheticOptions, syntheticPresets, syntheticPresetNames, type SyntheticOptions, type SyntheticPreset, type SyntheticRequest } from './synthetic.js';
export { loadDataset, loadDefaults, type LoadOptions } from './load.js';
export { readManifest, manifestSuffix, type DatasetManifest } from './manifest.js';
export { datasetStats, summarizeCounts, type DatasetStats, type CountSummary } from './stats.js';
export { buildIdIndex, type IdIndex } from './ids.js';

/** The public API of dtlns-native. */
export * from './data/index.js';
export { train, summarize, type TrainOptions, type TrainResult, type EpochReport } from './train/train.js';
export { ModelFitError } from './train/errors.js';
export { LockedError } from './util/lock.js';
export { OutputFileError } from './util/atomic.js';
export { evaluateEmbeddings as evaluate, usersWithItems, type EvaluateOptions } from './eval/evaluate.js';
export { rankingMetrics, type Metrics } from './eval/metrics.js';
export { maskedTopK, type TopKOptions } from './eval/topk.js';
export { initModel, saveState, loadState, type ModelState } from './model/state.js';
export { readNpy, writeNpy, type NpyArray } from './model/npy.js';
export { trainDefaults, evalDefaults, labelUseDefaults, defaultThreads } from './defaults.js';
export { MissingDependencyError } from './util/optional.js';
export * from './trees/index.js';
export * from './labels/index.js';
export * from './export/index.js';
export * from './sampling/index.js';
export { runPipeline, type PipelineOptions, type PipelineResult, type StageName } from './pipeline/pipeline.js';
export * from './experiment/index.js';

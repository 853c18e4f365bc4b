/** ONNX export of final embeddings and top-K serving with onnxruntime-node. */
export { exportOnnx, onnxNames, type ExportOptions } from './onnx.js';
export { OnnxRecommender, recommendOnnx, readOnnxModel, NO_ITEM, scoreDefaults, type OnnxModelInfo, type RecommendOptions, type Recommendations } from './score.js';
export { exportRun, type ExportRunOptions } from './export-run.js';

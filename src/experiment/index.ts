/** Experiments: a grid of datasets x models x methods x seeds, run resumably, summarised, plotted and reported. */
export {
  readExperimentConfig, parseExperimentConfig, expandCells, ExperimentConfigError, experimentLabelers, inputSources,
  type ExperimentConfig, type ConfigOverrides, type Cell, type DatasetSpec, type ModelSpec, type MethodSpec, type TrainSettings,
} from './grid.js';
export { runExperiment, runExperimentCell, type ExperimentRunOptions, type ExperimentOutcome } from './run-grid.js';
export { runCell, readCellResult, cellState, type CellResult, type CurvePoint } from './cells.js';
export { mean, sampleStd, pairedTTest, type PairedTTest } from './stats.js';
export {
  summarizeResults, summaryMarkdown, summaryCsv, type ExperimentSummary, type SummaryGroup, type SummaryRow, type SummaryInput,
} from './summary.js';
export { writePlots, validationCurveSvg, testBarSvg } from './plots.js';
export { writeReport, reportMarkdown, gitState, machineInfo, type ReportInput } from './report.js';

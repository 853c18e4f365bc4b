/** False-negative identification: candidates, the DTL-NS prompt, labelers and the label store. */
export type { Candidates, Label, LabelRecord, LabelResult, Labeler, LabelerDevice, LabelerStats } from './types.js';
export { labelValues, formatDevice } from './types.js';
export { generateCandidates, writeCandidates, readCandidates, candidateUsers, type CandidateOptions } from './candidates.js';
export { labelCandidates, labelFingerprint, labelMetaFile, parseShard, type LabelJobOptions, type LabelJobSummary, type LabelProgress, type Shard } from './label.js';
export { labelerCatalogue, labelerFieldSpecs, type LabelerEntry, type LabelerFieldSpec, type LabelerCapabilities } from './labeler-catalogue.js';
export { createLabeler, labelerKinds, codeControlInnerKinds, type LabelerKind, type LabelerSpec, type CodeControlInner } from './labelers.js';
export {
  createRuleLabeler, createTopNLabeler, createNoneLabeler, createCodeControlLabeler, ruleEvidence, resolveRuleOptions, codeControls, ruleViews,
  type RuleOptions, type RuleEvidence, type RuleView, type CodeControl,
} from './rule.js';
export { createLlamaLabeler, llamaGpuChoices, type LlamaGpu, type LlamaLabeler, type LlamaLabelerOptions, type LlamaMode } from './llama.js';
export { createOpenAiLabeler, EndpointError, type OpenAiLabelerOptions } from './openai.js';
export { LabelStore, readLabelStore, latestLabels, mergeLabelStores, labelsToPositives, type StoreFingerprint } from './store.js';
export { labelQuality, labelHeldOut, type LabelQuality, type HeldOutShare } from './quality.js';
export { systemPrompt, userMessage, parseAnswer, type PromptItems } from './prompt.js';
export { permutePaths, randomPaths, pathText, type PathCodes } from './labeler-paths.js';
export { validateGguf, type GgufSummary } from './gguf.js';
export { importLabels, createFileLabeler, type ImportedLabels } from './import.js';
export { applyLabelUse, resolveLabelUse, labelUses, type LabelUse, type LabelUseOptions, type LabelledPairs, type LabelledTraining } from './use.js';
export { applyHeldOutPolicy, heldOutPolicies, type HeldOutPolicy, type HeldOutReport } from './heldout.js';

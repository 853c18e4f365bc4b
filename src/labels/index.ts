/** False-negative identification: candidates, the DTL-NS prompt, labelers and the label store. */
export type { Candidates, Label, LabelRecord, LabelResult, Labeler, LabelerStats } from './types.js';
export { labelValues } from './types.js';
export { generateCandidates, writeCandidates, readCandidates, candidateUsers, type CandidateOptions } from './candidates.js';
export { labelCandidates, labelFingerprint, parseShard, type LabelJobOptions, type LabelJobSummary, type LabelProgress, type Shard } from './label.js';
export { createLabeler, labelerKinds, type LabelerKind, type LabelerSpec } from './labelers.js';
export { createRuleLabeler, createTopNLabeler, createNoneLabeler, createRandomCodesLabeler, ruleScore } from './rule.js';
export { createLlamaLabeler, type LlamaLabeler, type LlamaLabelerOptions, type LlamaMode } from './llama.js';
export { createOpenAiLabeler, EndpointError, type OpenAiLabelerOptions } from './openai.js';
export { LabelStore, readLabelStore, latestLabels, mergeLabelStores, labelsToPositives, type StoreFingerprint } from './store.js';
export { labelQuality, type LabelQuality } from './quality.js';
export { systemPrompt, userMessage, parseAnswer, type PromptItems } from './prompt.js';
export { permutePaths, pathText, type PathCodes } from './paths.js';
export { validateGguf, type GgufSummary } from './gguf.js';

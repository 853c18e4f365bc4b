/** Negative samplers: options and their validation, the plain-TS selection formulas, augmented positives. */
export { samplerNames, resolveSampler, samplerFields, describeSampler, type SamplerName, type SamplerOptions, type ResolvedSampler } from './options.js';
export {
  referenceMineNegatives, referenceSamplerStep, type ReferenceMineOptions, type ReferenceMined, type ReferenceSamplerSettings,
  type ReferenceDraws, type ScoringSampler,
} from './reference.js';

/** Negative samplers: options and their validation (the plain-TS references stay internal: tests and bench import them directly). */
export { samplerNames, resolveSampler, samplerFields, describeSampler, type SamplerName, type SamplerOptions, type ResolvedSampler } from './options.js';
export { samplerCatalogue, samplerFieldSpecs, type SamplerEntry, type SamplerFieldSpec, type SamplerCapabilities, type SamplerFieldValues } from './catalogue.js';

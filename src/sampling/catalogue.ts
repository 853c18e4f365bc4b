/**
 * The negative samplers, one entry each: what it does, the fields it reads (default, range,
 * doc, CLI flag) and its capabilities. Everything else is derived from this file: the types
 * (SamplerName, the native SamplerFields), samplerDefaults, the CLI options, validation
 * (API and experiment configs), the fingerprint of a run and the fields handed to the
 * binding (which reads them by name). Adding a sampler: one entry here, and its kernel.
 */

export interface SamplerFieldSpec {
  kind: 'integer' | 'number' | 'choice';
  default: number | string;
  /** Inclusive bounds; `max` may name another field (dnsTopK <= negs). Absent: any finite number. */
  min?: number;
  max?: number | string;
  choices?: readonly string[];
  /** The CLI help text. */
  doc: string;
  /** The CLI flag, when not the field's name in kebab case. */
  flag?: string;
}

export interface SamplerCapabilities {
  /** Draws `negs` candidates per negative and scores them with the model (so `negs` applies). */
  scoresCandidates: boolean;
  /** Mixes positive and negative embeddings per layer (draws `alphas`). */
  mixes: boolean;
  /** Reads the path codes of both item trees (pathsCo, pathsSe). */
  readsPaths: boolean;
}

export interface SamplerEntry {
  /** One line for the CLI's --sampler help. */
  doc: string;
  /** The fields this sampler reads beyond the common ones; they enter its fingerprint in this order. */
  fields: Readonly<Record<string, SamplerFieldSpec>>;
  capabilities: SamplerCapabilities;
}

/** Fields every sampler reads. */
export const commonSamplerFields = {
  positives: {
    kind: 'choice', default: 'interactions', choices: ['interactions', 'user-uniform'],
    doc: "Positives of an epoch: every training interaction once, or LightGCN-PyTorch's n_train draws of a uniform user and one of its items",
  },
  k: { kind: 'integer', default: 1, min: 1, max: 256, doc: 'Negatives per positive (K-pair loss when > 1)' },
} as const satisfies Record<string, SamplerFieldSpec>;

/** The candidate pool of the samplers that score candidates (dns's M, n_negs of MixGCF and the DTL-NS release). */
const candidateFields = {
  negs: { kind: 'integer', default: 10, min: 1, max: 4096, doc: 'Candidates per negative for dns, ahns, mixgcf, dtlns' },
} as const satisfies Record<string, SamplerFieldSpec>;

export const samplerCatalogue = {
  rns: { doc: 'rns (uniform)', fields: {}, capabilities: { scoresCandidates: false, mixes: false, readsPaths: false } },
  pop: {
    doc: 'pop (popularity^--pop-alpha)',
    fields: { popAlpha: { kind: 'number', default: 1, min: 0, max: 10, doc: 'pop: exponent on item popularity' } },
    capabilities: { scoresCandidates: false, mixes: false, readsPaths: false },
  },
  dns: {
    doc: 'dns (best-scored of --negs)',
    fields: {
      ...candidateFields,
      // 1: the best; the DTL-NS release's dns_mn uses 5.
      dnsTopK: { kind: 'integer', default: 1, min: 1, max: 'negs', doc: 'dns: choose at random among this many best candidates' },
    },
    capabilities: { scoresCandidates: true, mixes: false, readsPaths: false },
  },
  ahns: {
    doc: 'ahns (nearest the hardness target of --ahns-*)',
    fields: {
      ...candidateFields,
      // The hardness target beta (s_ui + alpha)^(p + 1); defaults of the AHNS release's --alpha, --beta, --p.
      ahnsAlpha: { kind: 'number', default: 1, doc: 'ahns: alpha of the hardness target beta (s_ui + alpha)^(p + 1)' },
      ahnsBeta: { kind: 'number', default: 0.1, min: 0, doc: 'ahns: beta of the hardness target (>= 0)' },
      ahnsP: { kind: 'integer', default: -2, min: -8, max: 8, doc: 'ahns: p of the hardness target (an integer in [-8, 8])' },
    },
    capabilities: { scoresCandidates: true, mixes: false, readsPaths: false },
  },
  mixgcf: { doc: 'mixgcf', fields: { ...candidateFields }, capabilities: { scoresCandidates: true, mixes: true, readsPaths: false } },
  dtlns: {
    doc: 'dtlns (MixGCF + tree similarities)',
    fields: {
      ...candidateFields,
      // alpha_co, alpha_se of the DTL-NS release.
      alphaCo: { kind: 'number', default: 0.1, doc: 'dtlns: weight of the structural-tree path similarity' },
      alphaSe: { kind: 'number', default: 0.3, doc: 'dtlns: weight of the semantic-tree path similarity' },
    },
    capabilities: { scoresCandidates: true, mixes: true, readsPaths: true },
  },
} as const satisfies Record<string, SamplerEntry>;

export type SamplerName = keyof typeof samplerCatalogue;
export const samplerNames = Object.keys(samplerCatalogue) as SamplerName[];
export const defaultSampler: SamplerName = 'rns';

type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;
type AllFieldSpecs = typeof commonSamplerFields & UnionToIntersection<(typeof samplerCatalogue)[SamplerName]['fields']>;
type FieldValue<F> = F extends { kind: 'choice'; choices: readonly (infer C)[] } ? C : number;

/** Every sampler field by name (the common ones first), each declared once. */
export type SamplerFieldName = keyof AllFieldSpecs & string;
/** The values of the sampler fields, each optional (documented in the catalogue). */
export type SamplerFieldValues = { [K in SamplerFieldName]?: FieldValue<AllFieldSpecs[K]> };

export const samplerFieldSpecs: Readonly<Record<SamplerFieldName, SamplerFieldSpec>> = Object.assign(
  {},
  commonSamplerFields,
  ...Object.values(samplerCatalogue).map((entry) => entry.fields),
);
export const samplerFieldNames = Object.keys(samplerFieldSpecs) as SamplerFieldName[];

/** The sampler and each field's default. */
export const samplerCatalogueDefaults = {
  sampler: defaultSampler,
  ...(Object.fromEntries(samplerFieldNames.map((name) => [name, samplerFieldSpecs[name].default])) as Required<SamplerFieldValues>),
};

/** The fields that apply to `sampler`, in fingerprint order: k, then the entry's own. */
export function samplerFieldsOf(sampler: SamplerName): string[] {
  return Object.keys(samplerCatalogue[sampler].fields);
}

/** The CLI flag of a field. */
export function samplerFlag(name: SamplerFieldName): string {
  return samplerFieldSpecs[name].flag ?? name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

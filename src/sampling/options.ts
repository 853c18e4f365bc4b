/**
 * Negative-sampler options of the training API: types, validation (each error names the
 * option), the fields the native kernels read, and a path-free summary for outputs and
 * checkpoint fingerprints. What each sampler does: native/kernels/sampler.hpp.
 */
import { createHash } from 'node:crypto';
import type { SamplerFields } from '../native.js';
import { expectInteger, expectNumber, expectOneOf } from '../data/validate.js';
import { expectPathCodes, type PathCodes } from '../trees/path-codes.js';
import {
  samplerCatalogue, samplerCatalogueDefaults, samplerFieldNames, samplerFieldSpecs, samplerFieldsOf, samplerNames, type SamplerFieldName,
} from './catalogue.js';

export { samplerNames, type SamplerName } from './catalogue.js';
export const positiveOrders = samplerFieldSpecs.positives.choices as readonly PositiveOrder[];
type PositiveOrder = NonNullable<SamplerFields['positives']>;

type PathFields = 'pathsCo' | 'pathsCoLengths' | 'pathsSe' | 'pathsSeLengths';

/** The native sampler fields (documented in SamplerFields), with each tree's path codes as one PathCodes. */
export interface SamplerOptions extends Omit<SamplerFields, PathFields> {
  /** dtlns: path codes of the structural (co-occurrence) tree and of the semantic tree, one per item. */
  pathsCo?: PathCodes;
  pathsSe?: PathCodes;
}

/** Every option filled in; the path codes are present for 'dtlns' only. */
export type ResolvedSampler = Required<Omit<SamplerOptions, 'pathsCo' | 'pathsSe'>> & Pick<SamplerOptions, 'pathsCo' | 'pathsSe'>;

/** One field checked against its catalogue entry (`max` may name a field checked before it). */
function checkField(name: SamplerFieldName, value: unknown, resolved: Record<string, unknown>): number | string {
  const spec = samplerFieldSpecs[name];
  if (spec.kind === 'choice') return expectOneOf(value, name, spec.choices!);
  const max = typeof spec.max === 'string' ? (resolved[spec.max] as number) : spec.max;
  if (spec.kind === 'integer') return expectInteger(value, name, spec.min, max);
  return expectNumber(value, name, spec.min, max);
}

/** The options with defaults filled in, checked against a catalogue of nItems items. */
export function resolveSampler(options: SamplerOptions, nItems: number): ResolvedSampler {
  const sampler = expectOneOf(options.sampler ?? samplerCatalogueDefaults.sampler, 'sampler', samplerNames);
  const resolved: Record<string, unknown> = { sampler };
  for (const name of samplerFieldNames) resolved[name] = checkField(name, options[name] ?? samplerCatalogueDefaults[name], resolved);
  if (samplerCatalogue[sampler].capabilities.readsPaths) {
    for (const name of ['pathsCo', 'pathsSe'] as const) {
      if (options[name] === undefined) {
        throw new TypeError(
          `Expected path codes for ${name} with sampler '${sampler}' (build them with \`dtlns-native trees\`, read them with readPaths) but received undefined`,
        );
      }
      const codes = expectPathCodes(options[name], name);
      if (codes.nItems !== nItems) {
        throw new RangeError(`Expected ${name} to cover every one of the ${nItems} items but it holds ${codes.nItems}`);
      }
      resolved[name] = codes;
    }
  }
  return resolved as ResolvedSampler;
}

/** The sampler fields of a native trainEpoch / trainStep / mineNegatives call. */
export function samplerFields(s: ResolvedSampler): SamplerFields {
  const fields = { sampler: s.sampler, ...Object.fromEntries(samplerFieldNames.map((name) => [name, s[name]])) } as SamplerFields;
  if (s.pathsCo && s.pathsSe) {
    fields.pathsCo = s.pathsCo.paths;
    fields.pathsCoLengths = s.pathsCo.lengths;
    fields.pathsSe = s.pathsSe.paths;
    fields.pathsSeLengths = s.pathsSe.lengths;
  }
  return fields;
}

function digest(codes: PathCodes): string {
  const h = createHash('sha256');
  for (const a of [codes.paths, codes.lengths]) h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  return h.digest('hex').slice(0, 16);
}

/**
 * The settings that change what a sampler does, JSON-ready: the options that apply to it,
 * and for dtlns a digest of each path table in place of the codes.
 */
export function describeSampler(s: ResolvedSampler): Record<string, string | number> {
  const out: Record<string, string | number> = { sampler: s.sampler, k: s.k };
  // Only when not the default, so fingerprints of runs from before the option stay valid.
  if (s.positives !== samplerCatalogueDefaults.positives) out.positives = s.positives;
  for (const name of samplerFieldsOf(s.sampler)) out[name] = s[name as SamplerFieldName];
  if (samplerCatalogue[s.sampler].capabilities.readsPaths && s.pathsCo && s.pathsSe) Object.assign(out, { pathsCo: digest(s.pathsCo), pathsSe: digest(s.pathsSe) });
  return out;
}

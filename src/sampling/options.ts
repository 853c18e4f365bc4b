/**
 * Negative-sampler options of the training API: types, validation (each error names the
 * option), the fields the native kernels read, and a path-free summary for outputs and
 * checkpoint fingerprints. What each sampler does: native/kernels/sampler.hpp.
 */
import { createHash } from 'node:crypto';
import type { PositiveOrder, SamplerFields, SamplerName } from '../native.js';
import { samplerDefaults } from '../defaults.js';
import { expectInteger, expectNumber, expectOneOf } from '../data/args.js';
import { expectPathCodes, type PathCodes } from '../trees/paths.js';

export type { SamplerName } from '../native.js';

export const samplerNames: readonly SamplerName[] = ['rns', 'pop', 'dns', 'ahns', 'mixgcf', 'dtlns'];
export const positiveOrders: readonly PositiveOrder[] = ['interactions', 'user-uniform'];

type PathFields = 'pathsCo' | 'pathsCoLengths' | 'pathsSe' | 'pathsSeLengths';

/** The native sampler fields (documented in SamplerFields), with each tree's path codes as one PathCodes. */
export interface SamplerOptions extends Omit<SamplerFields, PathFields> {
  /** dtlns: path codes of the structural (co-occurrence) tree and of the semantic tree, one per item. */
  pathsCo?: PathCodes;
  pathsSe?: PathCodes;
}

/** Every option filled in; the path codes are present for 'dtlns' only. */
export type ResolvedSampler = Required<Omit<SamplerOptions, 'pathsCo' | 'pathsSe'>> & Pick<SamplerOptions, 'pathsCo' | 'pathsSe'>;

/** The options with defaults filled in, checked against a catalogue of nItems items. */
export function resolveSampler(options: SamplerOptions, nItems: number): ResolvedSampler {
  const sampler = expectOneOf(options.sampler ?? samplerDefaults.sampler, 'sampler', samplerNames);
  const negs = expectInteger(options.negs ?? samplerDefaults.negs, 'negs', 1, 4096);
  const resolved: ResolvedSampler = {
    sampler,
    negs,
    k: expectInteger(options.k ?? samplerDefaults.k, 'k', 1, 256),
    positives: expectOneOf(options.positives ?? samplerDefaults.positives, 'positives', positiveOrders),
    popAlpha: expectNumber(options.popAlpha ?? samplerDefaults.popAlpha, 'popAlpha', 0, 10),
    dnsTopK: expectInteger(options.dnsTopK ?? samplerDefaults.dnsTopK, 'dnsTopK', 1, negs),
    alphaCo: expectNumber(options.alphaCo ?? samplerDefaults.alphaCo, 'alphaCo'),
    alphaSe: expectNumber(options.alphaSe ?? samplerDefaults.alphaSe, 'alphaSe'),
    ahnsAlpha: expectNumber(options.ahnsAlpha ?? samplerDefaults.ahnsAlpha, 'ahnsAlpha'),
    ahnsBeta: expectNumber(options.ahnsBeta ?? samplerDefaults.ahnsBeta, 'ahnsBeta', 0),
    ahnsP: expectInteger(options.ahnsP ?? samplerDefaults.ahnsP, 'ahnsP', -8, 8),
  };
  if (sampler === 'dtlns') {
    for (const name of ['pathsCo', 'pathsSe'] as const) {
      if (options[name] === undefined) {
        throw new TypeError(
          `Expected path codes for ${name} with sampler 'dtlns' (build them with \`dtlns-native trees\`, read them with readPaths) but received undefined`,
        );
      }
      const codes = expectPathCodes(options[name], name);
      if (codes.nItems !== nItems) {
        throw new RangeError(`Expected ${name} to cover every one of the ${nItems} items but it holds ${codes.nItems}`);
      }
      resolved[name] = codes;
    }
  }
  return resolved;
}

/** The sampler fields of a native trainEpoch / trainStep / mineNegatives call. */
export function samplerFields(s: ResolvedSampler): SamplerFields {
  const fields: SamplerFields = {
    sampler: s.sampler, negs: s.negs, k: s.k, positives: s.positives, popAlpha: s.popAlpha, dnsTopK: s.dnsTopK, alphaCo: s.alphaCo, alphaSe: s.alphaSe,
    ahnsAlpha: s.ahnsAlpha, ahnsBeta: s.ahnsBeta, ahnsP: s.ahnsP,
  };
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
  if (s.positives !== samplerDefaults.positives) out.positives = s.positives;
  if (s.sampler === 'pop') out.popAlpha = s.popAlpha;
  if (s.sampler === 'dns' || s.sampler === 'ahns' || s.sampler === 'mixgcf' || s.sampler === 'dtlns') out.negs = s.negs;
  if (s.sampler === 'dns') out.dnsTopK = s.dnsTopK;
  if (s.sampler === 'ahns') Object.assign(out, { ahnsAlpha: s.ahnsAlpha, ahnsBeta: s.ahnsBeta, ahnsP: s.ahnsP });
  if (s.sampler === 'dtlns' && s.pathsCo && s.pathsSe) {
    Object.assign(out, { alphaCo: s.alphaCo, alphaSe: s.alphaSe, pathsCo: digest(s.pathsCo), pathsSe: digest(s.pathsSe) });
  }
  return out;
}

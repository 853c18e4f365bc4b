/**
 * The sampler options of the TS API, exactly: the defaults filled in, each bound accepted at its
 * edge and refused one step past it (with the whole message), the native fields, and the
 * fingerprint summary of every sampler (the dtlns digests recomputed here from their definition).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describeSampler, resolveSampler, samplerFields, samplerNames, type ResolvedSampler } from '../src/sampling/options.js';
import { packPaths, type PathCodes } from '../src/trees/path-codes.js';
import { samplerFieldNames, samplerFlag } from '../src/sampling/catalogue.js';

const co = packPaths([[0], [1, 0], [1, 1]]);
const se = packPaths([[2, 0], [0], [1]]);
const defaults = { sampler: 'rns', negs: 10, k: 1, positives: 'interactions', popAlpha: 1, dnsTopK: 1, alphaCo: 0.1, alphaSe: 0.3, ahnsAlpha: 1, ahnsBeta: 0.1, ahnsP: -2 };

function message(f: () => unknown): string {
  try {
    f();
  } catch (error) {
    return `${(error as Error).constructor.name}: ${(error as Error).message}`;
  }
  return 'no error';
}

test('resolveSampler fills in every default and keeps what is given', () => {
  assert.deepEqual(resolveSampler({}, 3), defaults);
  assert.deepEqual(samplerNames, ['rns', 'pop', 'dns', 'ahns', 'mixgcf', 'dtlns']);
  const given = { sampler: 'dns', negs: 4, k: 3, positives: 'user-uniform', popAlpha: 0.5, dnsTopK: 4, alphaCo: -2, alphaSe: 7, ahnsAlpha: 0.5, ahnsBeta: 2, ahnsP: 1 } as const;
  assert.deepEqual(resolveSampler(given, 3), given);
  // Path codes given to another sampler are not kept.
  assert.deepEqual(resolveSampler({ sampler: 'mixgcf', pathsCo: co, pathsSe: se }, 3), { ...defaults, sampler: 'mixgcf' });
});

test('resolveSampler accepts each bound and refuses one step past it, naming the option', () => {
  const edges: [object, string][] = [
    [{ negs: 1 }, 'negs'], [{ negs: 4096 }, 'negs'], [{ k: 1 }, 'k'], [{ k: 256 }, 'k'],
    [{ popAlpha: 0 }, 'popAlpha'], [{ popAlpha: 10 }, 'popAlpha'], [{ negs: 3, dnsTopK: 3 }, 'dnsTopK'], [{ positives: 'user-uniform' }, 'positives'],
  ];
  for (const [options] of edges) assert.deepEqual(resolveSampler(options, 3), { ...defaults, ...options });
  const past: [object, string][] = [
    [{ negs: 0 }, 'RangeError: Expected an integer in [1, 4096] for negs but received 0'],
    [{ negs: 4097 }, 'RangeError: Expected an integer in [1, 4096] for negs but received 4097'],
    [{ k: 0 }, 'RangeError: Expected an integer in [1, 256] for k but received 0'],
    [{ k: 257 }, 'RangeError: Expected an integer in [1, 256] for k but received 257'],
    [{ popAlpha: -0.5 }, 'RangeError: Expected a number in [0, 10] for popAlpha but received -0.5'],
    [{ popAlpha: 10.5 }, 'RangeError: Expected a number in [0, 10] for popAlpha but received 10.5'],
    [{ negs: 3, dnsTopK: 4 }, 'RangeError: Expected an integer in [1, 3] for dnsTopK but received 4'],
    [{ dnsTopK: 0 }, 'RangeError: Expected an integer in [1, 10] for dnsTopK but received 0'],
    [{ positives: 'uniform' }, 'RangeError: Expected one of interactions, user-uniform for positives but received "uniform"'],
    [{ sampler: 'hard' }, 'RangeError: Expected one of rns, pop, dns, ahns, mixgcf, dtlns for sampler but received "hard"'],
    [{ alphaCo: Infinity }, 'RangeError: Expected a number in [-Infinity, Infinity] for alphaCo but received Infinity'],
    [{ alphaSe: NaN }, 'TypeError: Expected a number for alphaSe but received NaN'],
  ];
  for (const [options, expected] of past) assert.equal(message(() => resolveSampler(options, 3)), expected, JSON.stringify(options));
});

test('resolveSampler with dtlns keeps both path tables, each covering every item', () => {
  const resolved = resolveSampler({ sampler: 'dtlns', pathsCo: co, pathsSe: se }, 3);
  assert.deepEqual(resolved, { ...defaults, sampler: 'dtlns', pathsCo: co, pathsSe: se });
  assert.equal(resolved.pathsCo, co);
  assert.equal(resolved.pathsSe, se);
  const missing = (name: string) =>
    `TypeError: Expected path codes for ${name} with sampler 'dtlns' (build them with \`dtlns-native trees\`, read them with readPaths) but received undefined`;
  assert.equal(message(() => resolveSampler({ sampler: 'dtlns', pathsSe: se }, 3)), missing('pathsCo'));
  assert.equal(message(() => resolveSampler({ sampler: 'dtlns', pathsCo: co }, 3)), missing('pathsSe'));
  assert.equal(message(() => resolveSampler({ sampler: 'dtlns', pathsCo: co, pathsSe: se }, 4)), 'RangeError: Expected pathsCo to cover every one of the 4 items but it holds 3');
  assert.equal(
    message(() => resolveSampler({ sampler: 'dtlns', pathsCo: co, pathsSe: packPaths([[0], [1]]) }, 3)),
    'RangeError: Expected pathsSe to cover every one of the 3 items but it holds 2',
  );
  assert.match(message(() => resolveSampler({ sampler: 'dtlns', pathsCo: co, pathsSe: { nItems: 3 } as PathCodes }, 3)), /^TypeError: Expected path codes .* for pathsSe/);
});

test('samplerFields: the native fields, with the path arrays only when both tables are present', () => {
  const rns = resolveSampler({}, 3);
  assert.deepEqual(samplerFields(rns), defaults);
  const dtlns = resolveSampler({ sampler: 'dtlns', pathsCo: co, pathsSe: se }, 3);
  const fields = samplerFields(dtlns);
  assert.deepEqual(fields, { ...defaults, sampler: 'dtlns', pathsCo: co.paths, pathsCoLengths: co.lengths, pathsSe: se.paths, pathsSeLengths: se.lengths });
  assert.equal(fields.pathsCo, co.paths);
  assert.equal(fields.pathsSeLengths, se.lengths);
  // One table alone (not something resolveSampler returns) gives no path fields.
  assert.deepEqual(samplerFields({ ...dtlns, pathsSe: undefined }), { ...defaults, sampler: 'dtlns' });
  assert.deepEqual(samplerFields({ ...dtlns, pathsCo: undefined }), { ...defaults, sampler: 'dtlns' });
});

/** sha256 of the paths' bytes then the lengths' bytes (little-endian int32), first 16 hex digits. */
function digestOf(codes: PathCodes): string {
  const bytes = (a: Int32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  return createHash('sha256').update(Buffer.concat([bytes(codes.paths), bytes(codes.lengths)])).digest('hex').slice(0, 16);
}

test('describeSampler: only the settings each sampler uses, the path tables as digests', () => {
  const describe = (options: object) => describeSampler(resolveSampler(options, 3));
  assert.deepEqual(describe({}), { sampler: 'rns', k: 1 });
  assert.deepEqual(describe({ k: 2, positives: 'user-uniform' }), { sampler: 'rns', k: 2, positives: 'user-uniform' });
  assert.deepEqual(describe({ sampler: 'pop', popAlpha: 0.75 }), { sampler: 'pop', k: 1, popAlpha: 0.75 });
  assert.deepEqual(describe({ sampler: 'dns', negs: 4, dnsTopK: 2 }), { sampler: 'dns', k: 1, negs: 4, dnsTopK: 2 });
  assert.deepEqual(describe({ sampler: 'mixgcf', negs: 5 }), { sampler: 'mixgcf', k: 1, negs: 5 });
  // Hand-built table: paths [0,-1, 1,0, 1,1], lengths [1,2,2].
  assert.deepEqual(Array.from(co.paths), [0, -1, 1, 0, 1, 1]);
  const dtlns = describe({ sampler: 'dtlns', negs: 6, alphaCo: 0.2, alphaSe: 0.4, pathsCo: co, pathsSe: se });
  assert.deepEqual(dtlns, { sampler: 'dtlns', k: 1, negs: 6, alphaCo: 0.2, alphaSe: 0.4, pathsCo: digestOf(co), pathsSe: digestOf(se) });
  assert.match(String(dtlns.pathsCo), /^[0-9a-f]{16}$/);
  assert.notEqual(dtlns.pathsCo, dtlns.pathsSe);
  // The digest reads a view's own bytes, not its whole buffer.
  const wide = new Int32Array(20).fill(7);
  wide.set(co.paths, 4);
  const view: PathCodes = { ...co, paths: wide.subarray(4, 4 + co.paths.length) };
  assert.equal(describeSampler({ ...resolveSampler({ sampler: 'dtlns', pathsCo: co, pathsSe: se }, 3), pathsCo: view }).pathsCo, digestOf(co));
  // Path tables on another sampler (not something resolveSampler returns) are not described.
  assert.deepEqual(describeSampler({ ...resolveSampler({ sampler: 'mixgcf' }, 3), pathsCo: co, pathsSe: se }), { sampler: 'mixgcf', k: 1, negs: 10 });
  // Without both tables (not something resolveSampler returns) dtlns lists no path settings.
  const resolved = resolveSampler({ sampler: 'dtlns', pathsCo: co, pathsSe: se }, 3);
  assert.deepEqual(describeSampler({ ...resolved, pathsSe: undefined } as ResolvedSampler), { sampler: 'dtlns', k: 1, negs: 10, alphaCo: 0.1, alphaSe: 0.3 });
  assert.deepEqual(describeSampler({ ...resolved, pathsCo: undefined } as ResolvedSampler), { sampler: 'dtlns', k: 1, negs: 10, alphaCo: 0.1, alphaSe: 0.3 });
});

test('samplerFlag: each field\'s CLI flag is its name in kebab case, in catalogue order (common fields first)', () => {
  assert.deepEqual(samplerFieldNames.map((name) => `--${samplerFlag(name)}`), [
    '--positives', '--k', '--pop-alpha', '--negs', '--dns-top-k', '--ahns-alpha', '--ahns-beta', '--ahns-p', '--alpha-co', '--alpha-se',
  ]);
});

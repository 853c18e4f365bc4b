/**
 * loadDataset: a data folder, a single interaction file, or the built-in synthetic generator,
 * into a Dataset (CSR matrices over contiguous indices, original ids kept).
 *
 * Handling of imperfect input (recorded per file in `Dataset.reports`):
 * - a repeated (user, item) pair is kept once; repeats within a file and pairs of valid/test
 *   already in an earlier split (train, then valid) are dropped and counted in duplicatesDropped;
 * - rows below `minRating` are dropped and counted in belowMinRating;
 * - a valid/test user with no training item is an error naming the file and line, unless
 *   `dropColdUsers` is set: then the user's valid/test rows are dropped and counted. A temporal
 *   split makes such users by design (first seen after the cut), so there it defaults to true.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Csr, Dataset, LoadReport } from './types.js';
import { DataFileError } from './errors.js';
import { csrDifference, csrFromPairs, csrUnion } from './csr.js';
import { buildIdIndex } from './ids.js';
import { isManifestPath, readManifest } from './manifest.js';
import { interactionFormats, readInteractions, type InteractionFormat, type InteractionRecords } from './readers.js';
import { PART_TEST, PART_TRAIN, PART_VALID, resolveSplitOptions, splitInteractions, type SplitMode, type SplitOptions } from './split.js';
import { generateSynthetic, syntheticPresetNames, type SyntheticPreset, type SyntheticRequest } from './synthetic.js';
import { expectBoolean, expectInteger, expectNumber, expectOneOf, expectOptions } from './validate.js';

export interface LoadOptions {
  /** Format of the input files; 'auto' (default) decides by name and content (readers.ts, detectFormat). */
  format?: InteractionFormat | 'auto';
  /** Keep only rows rated at least this (rated formats only). */
  minRating?: number;
  /** How a single file is split (default: per-user random 0.8/0.1/0.1, seed 2026). Ignored for folders. */
  split?: SplitMode | SplitOptions;
  /** Seed of the split and of the synthetic generator (default 2026). */
  seed?: number;
  /** Drop valid/test users that have no training item instead of failing (default false; true for a temporal split). */
  dropColdUsers?: boolean;
  /** Overrides of the synthetic preset (sizes, taxonomy, ...) for `synthetic[:preset]` sources. */
  synthetic?: SyntheticRequest;
}

export const loadDefaults = { seed: 2026, dropColdUsers: false };

/**
 * Loads `source`: the string `synthetic` or `synthetic:<preset>` (tiny, small, medium,
 * gowalla-size, large); a folder with train.txt[.gz], an optional valid.txt[.gz] and test.txt[.gz]
 * (counts from stats.json n_users/n_items when present, else from the union of the files); a
 * `NAME.dataset.json` manifest (manifest.ts: one file and its split); or one interaction file,
 * split by `options.split`.
 */
export async function loadDataset(source: string, options?: LoadOptions): Promise<Dataset> {
  if (typeof source !== 'string' || source.length === 0) {
    throw new TypeError(`Expected a folder, a file or "synthetic[:preset]" for source but received ${String(source)}`);
  }
  const opts = checkLoadOptions(options);
  if (source === 'synthetic' || source.startsWith('synthetic:')) return loadSynthetic(source, opts);
  let isFolder: boolean;
  try {
    isFolder = (await stat(source)).isDirectory();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new DataFileError(source, undefined, 'no such file or folder (ENOENT)');
    throw new DataFileError(source, undefined, `cannot be read: ${(error as Error).message}`);
  }
  if (isFolder) return loadFolder(source, opts);
  if (isManifestPath(source)) return loadManifest(source, opts);
  return loadFile(source, opts);
}

/** A `.dataset.json` manifest: its file, read and split as it says (its settings win over `opts`). */
async function loadManifest(path: string, opts: LoadOptions): Promise<Dataset> {
  const { name, file, ...settings } = await readManifest(path);
  try {
    if (!(await stat(file)).isFile()) throw new DataFileError(path, undefined, `"file" must be an interaction file, but ${file} is not a file`);
  } catch (error) {
    if (error instanceof DataFileError) throw error;
    throw new DataFileError(path, undefined, `"file" resolves to ${file}, which cannot be read: ${(error as Error).message}`);
  }
  const dataset = await loadFile(file, checkLoadOptions({ ...opts, ...settings }));
  return { ...dataset, name };
}

function checkLoadOptions(options: unknown): LoadOptions {
  const opts = expectOptions<LoadOptions>(options, 'options');
  if (opts.format !== undefined) expectOneOf(opts.format, 'options.format', ['auto', ...interactionFormats]);
  if (opts.minRating !== undefined) expectNumber(opts.minRating, 'options.minRating');
  if (opts.seed !== undefined) expectInteger(opts.seed, 'options.seed', 0, Number.MAX_SAFE_INTEGER);
  if (opts.dropColdUsers !== undefined) expectBoolean(opts.dropColdUsers, 'options.dropColdUsers');
  if (opts.synthetic !== undefined) expectOptions(opts.synthetic, 'options.synthetic');
  if (typeof opts.split === 'string') expectOneOf(opts.split, 'options.split', ['random', 'leave-last-out', 'temporal']);
  else if (opts.split !== undefined) expectOptions(opts.split, 'options.split');
  return opts;
}

function loadSynthetic(source: string, opts: LoadOptions): Dataset {
  const preset = source === 'synthetic' ? opts.synthetic?.preset ?? 'small' : source.slice('synthetic:'.length);
  expectOneOf(preset, 'source preset (synthetic:<preset>)', syntheticPresetNames);
  const request: SyntheticRequest = { ...opts.synthetic, preset: preset as SyntheticPreset };
  if (request.seed === undefined && opts.seed !== undefined) request.seed = opts.seed;
  return generateSynthetic(request);
}

async function existingFile(folder: string, split: string): Promise<string | undefined> {
  for (const name of [`${split}.txt`, `${split}.txt.gz`]) {
    const path = join(folder, name);
    try {
      if ((await stat(path)).isFile()) return path;
    } catch {
      // absent: try the next name
    }
  }
  return undefined;
}

/** n_users / n_items of a folder's stats.json, when the file exists. */
async function readStatsCounts(folder: string): Promise<{ path: string; nUsers?: number; nItems?: number } | undefined> {
  const path = join(folder, 'stats.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new DataFileError(path, undefined, `cannot be read: ${(error as Error).message}`);
  }
  let stats: Record<string, unknown>;
  try {
    stats = JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    throw new DataFileError(path, undefined, `is not valid JSON: ${(error as Error).message}`);
  }
  const count = (key: string): number | undefined => {
    const v = stats?.[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) {
      throw new DataFileError(path, undefined, `${key} must be a non-negative integer but is ${JSON.stringify(v)}`);
    }
    return v;
  };
  return { path, nUsers: count('n_users'), nItems: count('n_items') };
}

/** Ids as indices, checked against a declared count (the shared datasets' ids are 0..n-1). */
function identityIds(all: InteractionRecords[], column: 'users' | 'items', count: number, statsPath: string): void {
  const key = column === 'users' ? 'n_users' : 'n_items';
  for (const records of all) {
    const ids = records[column];
    for (let k = 0; k < records.count; k++) {
      if (ids[k] >= count) {
        throw new DataFileError(records.file, records.lines[k], `${column === 'users' ? 'user' : 'item'} id ${ids[k]} is not below ${key} = ${count} given in ${statsPath}`);
      }
    }
  }
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, k) => k);
}

function report(records: InteractionRecords, interactions: number, duplicatesDropped: number): LoadReport {
  return { file: records.file, lines: records.lineCount, interactions, duplicatesDropped, belowMinRating: records.belowMinRating };
}

async function loadFolder(folder: string, opts: LoadOptions): Promise<Dataset> {
  const [trainPath, validPath, testPath] = await Promise.all(['train', 'valid', 'test'].map((s) => existingFile(folder, s)));
  if (trainPath === undefined || testPath === undefined) {
    throw new DataFileError(folder, undefined, `a data folder needs train.txt and test.txt (or .txt.gz); ${trainPath === undefined ? 'train' : 'test'} is missing`);
  }
  const readOpts = { format: opts.format, minRating: opts.minRating };
  const [train, valid, test, stats] = await Promise.all([
    readInteractions(trainPath, readOpts),
    validPath === undefined ? undefined : readInteractions(validPath, readOpts),
    readInteractions(testPath, readOpts),
    readStatsCounts(folder),
  ]);
  const all = [train, ...(valid ? [valid] : []), test];
  let userIds: number[];
  let itemIds: number[];
  let mapUsers: (r: InteractionRecords) => Uint32Array;
  let mapItems: (r: InteractionRecords) => Uint32Array;
  if (stats?.nUsers !== undefined) {
    identityIds(all, 'users', stats.nUsers, stats.path);
    userIds = range(stats.nUsers);
    mapUsers = (r) => r.users;
  } else {
    const index = buildIdIndex(all.map((r) => r.users));
    userIds = Array.from(index.ids);
    mapUsers = (r) => index.map(r.users);
  }
  if (stats?.nItems !== undefined) {
    identityIds(all, 'items', stats.nItems, stats.path);
    itemIds = range(stats.nItems);
    mapItems = (r) => r.items;
  } else {
    const index = buildIdIndex(all.map((r) => r.items));
    itemIds = Array.from(index.ids);
    mapItems = (r) => index.map(r.items);
  }
  const nUsers = userIds.length;
  const nItems = itemIds.length;
  const built = csrFromPairs(nUsers, nItems, mapUsers(train), mapItems(train));
  const trainCsr = built.csr;
  const reports = [report(train, trainCsr.indices.length, built.duplicates)];
  const dropCold = opts.dropColdUsers ?? loadDefaults.dropColdUsers;
  let validCsr: Csr | undefined;
  if (valid) {
    const v = evaluationSplit(valid, mapUsers(valid), mapItems(valid), trainCsr, trainCsr, dropCold, new Set());
    validCsr = v.csr;
    reports.push(v.report);
  }
  const t = evaluationSplit(test, mapUsers(test), mapItems(test), trainCsr, validCsr ? csrUnion(trainCsr, validCsr) : trainCsr, dropCold, new Set());
  reports.push(t.report);
  const dataset: Dataset = { name: basename(folder), nUsers, nItems, userIds, itemIds, train: trainCsr, test: t.csr, reports };
  if (validCsr) dataset.valid = validCsr;
  return dataset;
}

/**
 * A valid/test file as a matrix: its users must have training items (else an error, or dropped
 * with dropCold); repeats and pairs already in `earlier` are dropped and counted.
 */
function evaluationSplit(
  records: InteractionRecords, users: Uint32Array, items: Uint32Array, train: Csr, earlier: Csr, dropCold: boolean,
  coldUsers: Set<number>, select?: { part: Uint8Array; which: number },
): { csr: Csr; report: LoadReport } {
  const keep = new Uint8Array(records.count);
  let kept = 0;
  let coldInteractions = 0;
  for (let k = 0; k < records.count; k++) {
    if (select && select.part[k] !== select.which) continue;
    const u = users[k];
    if (train.indptr[u + 1] === train.indptr[u]) {
      if (!dropCold) {
        throw new DataFileError(records.file, records.lines[k], `user ${records.users[k]} has no training interaction (pass dropColdUsers: true, or --drop-cold-users, to drop such users)`);
      }
      coldUsers.add(u);
      coldInteractions++;
      continue;
    }
    keep[k] = 1;
    kept++;
  }
  const ku = new Uint32Array(kept);
  const ki = new Uint32Array(kept);
  for (let k = 0, w = 0; k < records.count; k++) {
    if (keep[k]) {
      ku[w] = users[k];
      ki[w++] = items[k];
    }
  }
  const built = csrFromPairs(train.rows, train.cols, ku, ki);
  const diff = csrDifference(built.csr, earlier);
  const r = report(records, diff.csr.indices.length, built.duplicates + diff.removed);
  if (dropCold) {
    r.coldUsersDropped = coldUsers.size;
    r.coldInteractionsDropped = coldInteractions;
  }
  return { csr: diff.csr, report: r };
}

async function loadFile(file: string, opts: LoadOptions): Promise<Dataset> {
  const records = await readInteractions(file, { format: opts.format, minRating: opts.minRating });
  const splitRequest: SplitOptions = typeof opts.split === 'string' ? { mode: opts.split } : { ...opts.split };
  if (splitRequest.seed === undefined && opts.seed !== undefined) splitRequest.seed = opts.seed;
  const split = resolveSplitOptions(splitRequest);
  if (split.mode === 'temporal' && records.timestamps === undefined) {
    throw new DataFileError(file, undefined, `the temporal split needs a timestamp column, and this ${records.format} file has none`);
  }
  const userIndex = buildIdIndex([records.users]);
  const itemIndex = buildIdIndex([records.items]);
  const nUsers = userIndex.ids.length;
  const nItems = itemIndex.ids.length;
  const users = userIndex.map(records.users);
  const items = itemIndex.map(records.items);
  const input = { nUsers, nItems, users, items, ...(records.timestamps ? { timestamps: records.timestamps } : {}) };
  const { part, duplicates } = splitInteractions(input, split);
  const trainSelect = select(part, PART_TRAIN, users, items);
  const train = csrFromPairs(nUsers, nItems, trainSelect.users, trainSelect.items).csr;
  const dropCold = opts.dropColdUsers ?? split.mode === 'temporal';
  const dataset: Dataset = {
    name: basename(file), nUsers, nItems, userIds: Array.from(userIndex.ids), itemIds: Array.from(itemIndex.ids), train, reports: [],
  };
  const fileReport = report(records, train.indices.length, duplicates);
  let earlier = train;
  const coldUsers = new Set<number>();
  for (const [which, ratio, key] of [[PART_VALID, split.validRatio, 'valid'], [PART_TEST, split.testRatio, 'test']] as const) {
    if (ratio === 0) continue;
    const e = evaluationSplit(records, users, items, train, earlier, dropCold, coldUsers, { part, which });
    dataset[key] = e.csr;
    earlier = csrUnion(earlier, e.csr);
    fileReport.interactions += e.report.interactions;
    if (dropCold) {
      fileReport.coldUsersDropped = coldUsers.size;
      fileReport.coldInteractionsDropped = (fileReport.coldInteractionsDropped ?? 0) + (e.report.coldInteractionsDropped ?? 0);
    }
  }
  dataset.reports.push(fileReport);
  return dataset;
}

function select(part: Uint8Array, which: number, users: Uint32Array, items: Uint32Array): { users: Uint32Array; items: Uint32Array } {
  let n = 0;
  for (let k = 0; k < part.length; k++) if (part[k] === which) n++;
  const su = new Uint32Array(n);
  const si = new Uint32Array(n);
  for (let k = 0, w = 0; k < part.length; k++) {
    if (part[k] === which) {
      su[w] = users[k];
      si[w++] = items[k];
    }
  }
  return { users: su, items: si };
}

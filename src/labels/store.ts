/**
 * The label store: JSON Lines, one record per (user, candidate) with ORIGINAL ids:
 * `{"user":..,"item":..,"label":"positive"|"negative"|"unparsed","labeler":..,"model":..,"score":..}`.
 *
 * - Appends are durable: each batch (one user's records, or several users' when writes queue up)
 *   is one write followed by fsync, so a killed job loses at most the batch being written.
 * - Resumable: opening an existing store reads it, drops a torn last line (no final newline, as a
 *   kill in the middle of a write leaves) by truncating the file to the last complete record, and
 *   reports which (user, item) pairs are done, so a restarted job labels only the rest.
 * - Any other unreadable line is an error naming the file and line; a record of another labeler or
 *   model is an error too (one store, one labeler).
 * - Fingerprinted: a job's store starts with a header line `{"fingerprint":{...}}` holding a hash of
 *   each input (dataset, candidates, labeler with its prompt, path codes and options). Resuming with
 *   any input changed is refused, naming what changed, unless the job starts over (`fresh`).
 * - A pair whose label is `unparsed` is tried again by the next run, at most `unparsedTries` times in
 *   all; a parsed label written later supersedes it, and readers see one record per pair.
 * - Shards write separate stores; `mergeLabelStores` joins them, dropping exact repeats and
 *   refusing conflicting labels for the same pair.
 */
import { open, readFile, type FileHandle } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { DataFileError } from '../data/errors.js';
import { csrFind, csrFromPairs } from '../data/csr.js';
import type { Csr, Dataset } from '../data/types.js';
import { writeFileAtomic } from '../util/atomic.js';
import { labelValues, type Label, type LabelRecord } from './types.js';
import { idLookup } from './ids.js';

export function pairKey(user: number, item: number): string {
  return `${user} ${item}`;
}

export function formatRecord(r: LabelRecord): string {
  const base = { user: r.user, item: r.item, label: r.label, labeler: r.labeler, model: r.model };
  return JSON.stringify(r.score === undefined ? base : { ...base, score: r.score });
}

function parseRecord(line: string, file: string, lineNo: number): LabelRecord {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new DataFileError(file, lineNo, `not a JSON label record: ${line.slice(0, 80)}`);
  }
  const r = value as Record<string, unknown>;
  const bad = (why: string): never => {
    throw new DataFileError(file, lineNo, `invalid label record (${why}): ${line.slice(0, 80)}`);
  };
  if (r === null || typeof r !== 'object' || Array.isArray(r)) bad('not an object');
  for (const key of ['user', 'item'] as const) {
    if (typeof r[key] !== 'number' || !Number.isInteger(r[key]) || (r[key] as number) < 0) bad(`${key} must be a non-negative integer id`);
  }
  if (!labelValues.includes(r.label as Label)) bad(`label must be one of ${labelValues.join(', ')}`);
  if (typeof r.labeler !== 'string' || typeof r.model !== 'string') bad('labeler and model must be strings');
  if (r.score !== undefined && (typeof r.score !== 'number' || !Number.isFinite(r.score))) bad('score must be a finite number');
  const record: LabelRecord = { user: r.user as number, item: r.item as number, label: r.label as Label, labeler: r.labeler as string, model: r.model as string };
  if (r.score !== undefined) record.score = r.score as number;
  return record;
}

/** A hash per input of a labelling job; equal fingerprints mean the stored labels still apply. */
export type StoreFingerprint = Record<string, string>;

export interface StoreContents {
  /** The header's fingerprint, when the store has one. */
  fingerprint?: StoreFingerprint;
  records: LabelRecord[];
  /** Bytes up to the end of the last complete line. */
  completeBytes: number;
  /** Bytes of a torn last line (0 when the file ends with a newline). */
  tornBytes: number;
}

function parseHeader(line: string, file: string): StoreFingerprint | undefined {
  if (!line.startsWith('{"fingerprint":')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(line).fingerprint;
  } catch {
    throw new DataFileError(file, 1, `not a JSON store header: ${line.slice(0, 80)}`);
  }
  if (value === null || typeof value !== 'object' || Object.values(value).some((v) => typeof v !== 'string')) {
    throw new DataFileError(file, 1, 'invalid store header (fingerprint must map input names to hashes)');
  }
  return value as StoreFingerprint;
}

/** Parses a store's text; a last line without its newline is torn and not returned. */
export function parseLabelStore(text: string, file: string): StoreContents {
  const records: LabelRecord[] = [];
  const end = text.lastIndexOf('\n') + 1;
  const complete = text.slice(0, end);
  let lineNo = 0;
  let fingerprint: StoreFingerprint | undefined;
  for (const line of complete.split('\n')) {
    lineNo++;
    if (line.trim() === '') continue;
    if (lineNo === 1 && (fingerprint = parseHeader(line, file))) continue;
    records.push(parseRecord(line, file, lineNo));
  }
  return { ...(fingerprint ? { fingerprint } : {}), records, completeBytes: Buffer.byteLength(complete), tornBytes: Buffer.byteLength(text) - Buffer.byteLength(complete) };
}

/**
 * One record per (user, item): a parsed label supersedes an `unparsed` one written before it
 * (a retry), and exact repeats (a store appended twice) count once.
 */
export function latestLabels(records: LabelRecord[]): LabelRecord[] {
  const byPair = new Map<string, LabelRecord>();
  for (const r of records) {
    const key = pairKey(r.user, r.item);
    const before = byPair.get(key);
    if (!before || before.label === 'unparsed') byPair.set(key, r);
  }
  return [...byPair.values()];
}

/** The labels of a store file, one record per pair (see latestLabels; a torn last line is ignored). */
export async function readLabelStore(file: string): Promise<LabelRecord[]> {
  return latestLabels(parseLabelStore(await readFile(file, 'utf8'), file).records);
}

/** The inputs whose hashes differ between two fingerprints (or appear in only one). */
function changedInputs(stored: StoreFingerprint, current: StoreFingerprint): string[] {
  const names = new Set([...Object.keys(stored), ...Object.keys(current)]);
  return [...names].filter((name) => stored[name] !== current[name]);
}

export interface OpenStoreOptions {
  /** The job's inputs; a store written for other inputs is refused (or emptied with `fresh`). */
  fingerprint?: StoreFingerprint;
  /** Start over: drop every record of an existing store. */
  fresh?: boolean;
  /** Runs that may try a pair still `unparsed` (default 3, counting the first). */
  unparsedTries?: number;
}

/** An append-only store opened for a labelling job. */
export class LabelStore {
  private readonly done = new Set<string>();
  private queue: string[] = [];
  private flushing: Promise<void> | undefined;
  private failure: Error | undefined;

  private constructor(
    readonly file: string,
    private readonly handle: FileHandle,
    /** Records already in the file when it was opened. */
    readonly existing: LabelRecord[],
    /** Bytes of a torn last line that opening removed. */
    readonly repairedBytes: number,
    unparsedTries: number,
  ) {
    const unparsed = new Map<string, number>();
    for (const r of existing) {
      const key = pairKey(r.user, r.item);
      if (r.label === 'unparsed') unparsed.set(key, (unparsed.get(key) ?? 0) + 1);
      else this.done.add(key);
    }
    for (const [key, tries] of unparsed) if (tries >= unparsedTries) this.done.add(key);
  }

  /**
   * Opens (or creates) a store for `labeler`/`model`; a torn last line is cut off. Records of
   * another labeler or model are refused: one store holds one labeling.
   */
  static async open(file: string, labeler: string, model: string, options: OpenStoreOptions = {}): Promise<LabelStore> {
    const unparsedTries = options.unparsedTries ?? 3;
    if (!Number.isInteger(unparsedTries) || unparsedTries < 1) throw new RangeError(`Expected a positive integer for unparsedTries but received ${String(unparsedTries)}`);
    const text = existsSync(file) && !options.fresh ? readFileSync(file, 'utf8') : '';
    const contents = parseLabelStore(text, file);
    const { fingerprint } = options;
    if (fingerprint && contents.records.length > 0) {
      if (!contents.fingerprint) {
        throw new DataFileError(file, undefined, 'has labels but no fingerprint of the inputs they were made from (an older store); start over with --fresh (fresh: true) or write to another file');
      }
      const changed = changedInputs(contents.fingerprint, fingerprint);
      if (changed.length > 0) {
        throw new DataFileError(file, undefined, `holds labels made from other inputs (changed: ${changed.join(', ')}); start over with --fresh (fresh: true) or write to another file`);
      }
    }
    const other = contents.records.find((r) => r.labeler !== labeler || r.model !== model);
    if (other) {
      throw new DataFileError(file, undefined, `holds labels of labeler "${other.labeler}" with model "${other.model}", not "${labeler}" with "${model}"; write to another file`);
    }
    checkConflicts(contents.records, file);
    const handle = await open(file, options.fresh ? 'w+' : 'a+');
    if (contents.tornBytes > 0) {
      await handle.truncate(contents.completeBytes);
      await handle.sync();
    }
    if (fingerprint && contents.records.length === 0) {
      // A new (or emptied) store: the header first, before any record.
      await handle.truncate(0);
      await handle.write(JSON.stringify({ fingerprint }) + '\n');
      await handle.sync();
    }
    return new LabelStore(file, handle, contents.records, contents.tornBytes, unparsedTries);
  }

  has(user: number, item: number): boolean {
    return this.done.has(pairKey(user, item));
  }

  /** Queues records; they are written (one write + fsync per flush) and durable when the promise resolves. */
  append(records: LabelRecord[]): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (records.length === 0) return this.flushing ?? Promise.resolve();
    for (const r of records) this.done.add(pairKey(r.user, r.item));
    this.queue.push(records.map((r) => formatRecord(r) + '\n').join(''));
    this.flushing ??= this.flushLoop();
    return this.flushing;
  }

  /** Whether a write failed (flush() then throws the error). */
  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** Bytes queued and not yet written. */
  get pendingBytes(): number {
    return this.queue.reduce((sum, s) => sum + s.length, 0);
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const text = this.queue.join('');
        this.queue = [];
        await this.handle.write(text);
        await this.handle.sync();
      }
    } catch (error) {
      this.failure = new Error(`Could not write labels to ${this.file}: ${(error as Error).message}`);
      throw this.failure;
    } finally {
      this.flushing = undefined;
    }
  }

  /** Waits for queued records to be durable. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.failure) throw this.failure;
  }

  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      await this.handle.close();
    }
  }
}

/** Throws when one (user, item) pair has two different labels (exact repeats are harmless). */
function checkConflicts(records: LabelRecord[], where: string): void {
  const seen = new Map<string, LabelRecord>();
  for (const r of records) {
    const key = pairKey(r.user, r.item);
    const before = seen.get(key);
    if (!before || before.label === 'unparsed') seen.set(key, r);
    else if (before.label !== r.label && r.label !== 'unparsed') {
      throw new DataFileError(where, undefined, `conflicting labels for user ${r.user} item ${r.item}: ${before.label} (${before.labeler}) and ${r.label} (${r.labeler})`);
    }
  }
}

/**
 * Merges shard stores into `out` (written atomically): pairs labelled in several files are kept
 * once; different labels for the same pair are an error naming both files.
 */
export async function mergeLabelStores(files: string[], out: string): Promise<{ records: number; duplicates: number }> {
  if (!Array.isArray(files) || files.length === 0 || files.some((f) => typeof f !== 'string')) {
    throw new TypeError(`Expected a non-empty array of file paths for files but received ${String(files)}`);
  }
  const seen = new Map<string, { record: LabelRecord; file: string; at: number }>();
  const merged: LabelRecord[] = [];
  let duplicates = 0;
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw new DataFileError(file, undefined, `cannot read the label store (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    for (const record of parseLabelStore(text, file).records) {
      const key = pairKey(record.user, record.item);
      const before = seen.get(key);
      if (!before) {
        seen.set(key, { record, file, at: merged.length });
        merged.push(record);
      } else if (before.record.label === 'unparsed' && record.label !== 'unparsed') {
        merged[before.at] = record;
        seen.set(key, { record, file, at: before.at });
        duplicates++;
      } else if (before.record.label !== record.label && record.label !== 'unparsed') {
        throw new DataFileError(file, undefined, `conflicting labels for user ${record.user} item ${record.item}: ${before.record.label} in ${before.file}, ${record.label} here`);
      } else {
        duplicates++;
      }
    }
  }
  merged.sort((a, b) => a.user - b.user || a.item - b.item);
  writeFileAtomic(out, merged.map((r) => formatRecord(r) + '\n').join(''));
  return { records: merged.length, duplicates };
}

/**
 * The positive records as a users x items Csr of indices (for training with augmented positives).
 * A record naming a user or item the dataset does not have is an error.
 */
export function labelsToPositives(records: LabelRecord[], dataset: Dataset): Csr {
  if (!Array.isArray(records)) throw new TypeError(`Expected an array of label records for records but received ${String(records)}`);
  const users = idLookup(dataset.userIds);
  const items = idLookup(dataset.itemIds);
  const rows: number[] = [];
  const cols: number[] = [];
  for (const r of records) {
    if (r.label !== 'positive') continue;
    const u = users.get(r.user);
    const i = items.get(r.item);
    if (u === undefined) throw new RangeError(`Expected label records of users in dataset ${dataset.name} but user ${r.user} is not one`);
    if (i === undefined) throw new RangeError(`Expected label records of items in dataset ${dataset.name} but item ${r.item} is not one`);
    rows.push(u);
    cols.push(i);
  }
  return csrFromPairs(dataset.nUsers, dataset.nItems, Uint32Array.from(rows), Uint32Array.from(cols)).csr;
}

/**
 * Each pair of `positives` (indices) with the score of its positive record, aligned with
 * positives.indices (the last record of a pair wins); undefined unless every pair has one.
 */
export function labelConfidence(records: LabelRecord[], positives: Csr, dataset: Dataset): Float32Array | undefined {
  const users = idLookup(dataset.userIds), items = idLookup(dataset.itemIds);
  const scores = new Float32Array(positives.indices.length).fill(NaN);
  for (const r of records) {
    if (r.label !== 'positive' || typeof r.score !== 'number') continue;
    const u = users.get(r.user), i = items.get(r.item);
    if (u === undefined || i === undefined) continue;
    const at = csrFind(positives, u, i);
    if (at >= 0) scores[at] = r.score;
  }
  return scores.length > 0 && scores.every((x) => !Number.isNaN(x)) ? scores : undefined;
}

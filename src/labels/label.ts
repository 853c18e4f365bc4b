/**
 * A labelling job: every (user, candidate) pair of the shard, labelled once into a resumable
 * label store. Users already complete in the store are skipped; a partly labelled user gets only
 * its missing candidates. Several users can be in flight at once (the labeler bounds its own
 * parallelism: llama sequences, openai requests). The run's summary (labeler, model, device, counts,
 * tokens, time) is written next to the store as its metadata file (labelMetaFile).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Csr, Dataset } from '../data/types.js';
import { writeJsonAtomic } from '../util/atomic.js';
import { acquireLock } from '../util/lock.js';
import { checkCandidates } from './candidates.js';
import { LabelStore, type StoreFingerprint } from './store.js';
import { emptyStats, type Candidates, type Label, type Labeler, type LabelerDevice, type LabelerStats, type LabelRecord } from './types.js';

/** The store's metadata file: the summary of the last labelling run into `store`. */
export function labelMetaFile(store: string): string {
  return `${store}.meta.json`;
}

export interface Shard {
  index: number;
  count: number;
}

/** Parses `i/n` (0 <= i < n): the users with index % n == i. */
export function parseShard(text: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(String(text).trim());
  const index = match ? Number(match[1]) : NaN;
  const count = match ? Number(match[2]) : NaN;
  if (!match || !(count >= 1) || !(index < count)) throw new RangeError(`Expected a shard "i/n" with 0 <= i < n for shard but received "${text}"`);
  return { index, count };
}

export interface LabelProgress {
  usersDone: number;
  usersTotal: number;
  pairsDone: number;
  pairsTotal: number;
  counts: Record<Label, number>;
  seconds: number;
}

export interface LabelJobOptions {
  labeler: Labeler;
  /** The label store (JSON Lines); resumed when it exists. */
  out: string;
  /** Only users with index % count == index (see parseShard). */
  shard?: Shard;
  /** Start over: an existing store's records are dropped (else it is resumed, if made from the same inputs). */
  fresh?: boolean;
  /** Runs that may try a pair still labelled `unparsed` (default 3, counting the first). */
  unparsedTries?: number;
  /** Users labelled at once (default: the labeler's parallelUsers, else 1). */
  concurrency?: number;
  /** The items shown as each user's history (default: the training interactions). */
  histories?: Csr;
  onProgress?: (progress: LabelProgress) => void;
}

export interface LabelJobSummary extends LabelerStats {
  labeler: string;
  model: string;
  /** The backend and GPU layers of a labeler that runs a model in-process (llama). */
  device?: LabelerDevice;
  out: string;
  /** Users of the shard with candidates. */
  users: number;
  /** Users labelled by this run (others were already complete). */
  usersLabelled: number;
  pairs: number;
  /** Pairs already in the store when the job started. */
  pairsResumed: number;
  /** Labels written by this run. */
  counts: Record<Label, number>;
  /** A torn last line removed from the store on opening (bytes). */
  repairedBytes: number;
  seconds: number;
  usersPerSecond: number;
  pairsPerSecond: number;
}

function hashOf(...parts: unknown[]): string {
  const h = createHash('sha256');
  for (const part of parts) {
    if (ArrayBuffer.isView(part)) h.update(new Uint8Array(part.buffer, part.byteOffset, part.byteLength));
    else h.update(JSON.stringify(part) ?? 'undefined');
    h.update('\0');
  }
  return h.digest('hex').slice(0, 16);
}

/** What the labels of a job depend on, one hash per input (the store refuses to resume when one changes). */
export function labelFingerprint(dataset: Dataset, candidates: Candidates, histories: Csr, labeler: Labeler): StoreFingerprint {
  return {
    dataset: hashOf(dataset.nUsers, dataset.nItems, dataset.userIds, dataset.itemIds),
    histories: hashOf(histories.indptr, histories.indices),
    candidates: hashOf(candidates.users, candidates.indptr, candidates.items),
    labeler: hashOf(labeler.name, labeler.model, labeler.settings ?? null),
  };
}

/** Labels the candidates of `dataset` into `options.out` with `options.labeler`; see the module comment. */
export async function labelCandidates(dataset: Dataset, candidates: Candidates, options: LabelJobOptions): Promise<LabelJobSummary> {
  checkCandidates(candidates, dataset);
  const { labeler } = options;
  if (!labeler || typeof labeler.labelUser !== 'function') throw new TypeError(`Expected a Labeler for labeler but received ${String(labeler)}`);
  if (typeof options.out !== 'string' || options.out.length === 0) throw new TypeError(`Expected a file path for out but received ${String(options.out)}`);
  const shard = options.shard ?? { index: 0, count: 1 };
  if (!Number.isInteger(shard.index) || !Number.isInteger(shard.count) || shard.count < 1 || shard.index < 0 || shard.index >= shard.count) {
    throw new RangeError(`Expected a shard with 0 <= index < count but received ${shard.index}/${shard.count}`);
  }
  const concurrency = options.concurrency ?? labeler.parallelUsers ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`Expected a positive integer for concurrency but received ${concurrency}`);
  const histories = options.histories ?? dataset.train;
  if (histories.rows !== dataset.nUsers) throw new RangeError(`Expected histories with ${dataset.nUsers} rows but received ${histories.rows}`);

  if (statSync(options.out, { throwIfNoEntry: false })?.isDirectory()) throw new TypeError(`Expected a file path for out but ${options.out} is a directory`);
  mkdirSync(dirname(options.out), { recursive: true });
  const release = await acquireLock(options.out);
  let store: LabelStore;
  try {
    store = await LabelStore.open(options.out, labeler.name, labeler.model, {
      fingerprint: labelFingerprint(dataset, candidates, histories, labeler),
      ...(options.fresh ? { fresh: true } : {}), ...(options.unparsedTries !== undefined ? { unparsedTries: options.unparsedTries } : {}),
    });
  } catch (error) {
    await release();
    throw error;
  }
  const started = Date.now();
  const counts: Record<Label, number> = { positive: 0, negative: 0, unparsed: 0 };
  const statsBefore = labeler.stats?.() ?? emptyStats();
  const { users, indptr, items } = candidates;
  const todo: { row: number; missing: Uint32Array }[] = [];
  let pairs = 0;
  let pairsResumed = 0;
  let usersInShard = 0;
  for (let r = 0; r < users.length; r++) {
    if (users[r] % shard.count !== shard.index || indptr[r + 1] === indptr[r]) continue;
    usersInShard++;
    const row = items.subarray(indptr[r], indptr[r + 1]);
    const userId = dataset.userIds[users[r]];
    const missing = row.filter((item) => !store.has(userId, dataset.itemIds[item]));
    pairs += row.length;
    pairsResumed += row.length - missing.length;
    if (missing.length > 0) todo.push({ row: r, missing });
  }
  const pairsTodo = todo.reduce((sum, t) => sum + t.missing.length, 0);
  let usersDone = 0;
  let pairsDone = 0;
  let next = 0;
  const report = (): void =>
    options.onProgress?.({ usersDone, usersTotal: todo.length, pairsDone, pairsTotal: pairsTodo, counts: { ...counts }, seconds: (Date.now() - started) / 1000 });

  let stopped = false;
  const worker = async (): Promise<void> => {
    while (!stopped && next < todo.length) {
      const { row, missing } = todo[next++];
      const user = users[row];
      const history = histories.indices.subarray(histories.indptr[user], histories.indptr[user + 1]);
      const results = await labeler.labelUser(user, history, missing);
      if (results.length !== missing.length) throw new Error(`Labeler ${labeler.name} returned ${results.length} labels for ${missing.length} candidates of user ${dataset.userIds[user]}`);
      const records: LabelRecord[] = results.map((r) => {
        counts[r.label]++;
        const record: LabelRecord = { user: dataset.userIds[user], item: dataset.itemIds[r.item], label: r.label, labeler: labeler.name, model: labeler.model };
        if (r.score !== undefined) record.score = r.score;
        return record;
      });
      // Not awaited per user: queued batches share one write + fsync; back-pressure past 4 MiB.
      store.append(records).catch(() => undefined);
      if (store.failed || store.pendingBytes > 4 << 20) await store.flush();
      usersDone++;
      pairsDone += missing.length;
      report();
    }
  };
  try {
    const guarded = (): Promise<void> => worker().catch((error) => {
      stopped = true;
      throw error;
    });
    // Every worker is waited for, so nothing appends after the store closes; the first error wins.
    const settled = await Promise.allSettled(Array.from({ length: Math.min(concurrency, Math.max(1, todo.length)) }, guarded));
    const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failure) throw failure.reason;
    await store.flush();
  } finally {
    await store.close().catch(() => undefined);
    await release();
  }
  const seconds = (Date.now() - started) / 1000;
  const statsAfter = labeler.stats?.() ?? emptyStats();
  const delta = (key: keyof LabelerStats): number => statsAfter[key] - statsBefore[key];
  const summary: LabelJobSummary = {
    labeler: labeler.name, model: labeler.model, ...(labeler.device ? { device: labeler.device } : {}), out: options.out,
    users: usersInShard, usersLabelled: todo.length, pairs, pairsResumed, counts,
    promptTokens: delta('promptTokens'), fullPromptTokens: delta('fullPromptTokens'), generatedTokens: delta('generatedTokens'),
    retries: delta('retries'), historiesCut: delta('historiesCut'), repairedBytes: store.repairedBytes,
    seconds, usersPerSecond: seconds > 0 ? todo.length / seconds : 0, pairsPerSecond: seconds > 0 ? pairsTodo / seconds : 0,
  };
  writeJsonAtomic(labelMetaFile(options.out), summary);
  return summary;
}

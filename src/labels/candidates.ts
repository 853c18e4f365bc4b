/**
 * Candidates: per user, the top-N items of a trained model that are not among the user's training
 * items (the native masked top-K). Files hold `user c1 ... cN` lines with ORIGINAL ids (the format
 * of the DTL-NS release's candidate_items.txt, as in ../shared/datasets/dtlns-*\/candidates.txt).
 */
import { readFile } from 'node:fs/promises';
import { maskedTopK, describe } from '../eval/topk.js';
import { DataFileError } from '../data/errors.js';
import type { Csr, Dataset } from '../data/types.js';
import { defaultThreads, labelDefaults } from '../defaults.js';
import { writeFileAtomic } from '../util/atomic.js';
import { idLookup } from './ids.js';
import type { Candidates } from './types.js';

export interface CandidateOptions {
  /** Candidates per user (default 20). */
  n?: number;
  /** 'all' users, or only those with test items. */
  users?: 'all' | 'test';
  threads?: number;
}

/** The users who get candidates: every user with a training item, or (for 'test') with a test item too. */
export function candidateUsers(dataset: Dataset, which: 'all' | 'test'): Uint32Array {
  if (which !== 'all' && which !== 'test') throw new RangeError(`Expected 'all' or 'test' for users but received ${String(which)}`);
  if (which === 'test' && !dataset.test) throw new RangeError(`Expected a dataset with a test split for users 'test' but ${dataset.name} has none`);
  const out: number[] = [];
  for (let u = 0; u < dataset.nUsers; u++) {
    if (dataset.train.indptr[u + 1] === dataset.train.indptr[u]) continue;
    if (which === 'test' && dataset.test!.indptr[u + 1] === dataset.test!.indptr[u]) continue;
    out.push(u);
  }
  return Uint32Array.from(out);
}

/** Top-N unobserved items per user by inner product of the given embeddings (row-major, `dim` wide). */
export async function generateCandidates(
  dataset: Dataset, userEmb: Float32Array, itemEmb: Float32Array, dim: number, options: CandidateOptions = {},
): Promise<Candidates> {
  const n = options.n ?? labelDefaults.candidates;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`Expected a positive integer for n but received ${String(n)}`);
  if (!(userEmb instanceof Float32Array)) throw new TypeError(`Expected Float32Array for userEmb but received ${describe(userEmb)}`);
  if (!(itemEmb instanceof Float32Array)) throw new TypeError(`Expected Float32Array for itemEmb but received ${describe(itemEmb)}`);
  if (userEmb.length !== dataset.nUsers * dim) throw new RangeError(`Expected userEmb of ${dataset.nUsers} x ${dim} values but received ${userEmb.length}`);
  if (itemEmb.length !== dataset.nItems * dim) throw new RangeError(`Expected itemEmb of ${dataset.nItems} x ${dim} values but received ${itemEmb.length}`);
  const users = candidateUsers(dataset, options.users ?? labelDefaults.candidateUsers);
  const { items } = await maskedTopK(userEmb, itemEmb, dim, users, n, { mask: dataset.train, threads: options.threads ?? defaultThreads() });
  // Rows with fewer than n unmasked items are padded with 0xFFFFFFFF: drop the padding.
  const indptr = new Uint32Array(users.length + 1);
  const kept = new Uint32Array(items.length);
  let w = 0;
  for (let r = 0; r < users.length; r++) {
    for (let k = r * n; k < (r + 1) * n; k++) if (items[k] !== 0xffffffff) kept[w++] = items[k];
    indptr[r + 1] = w;
  }
  return { users, indptr, items: kept.slice(0, w) };
}

export function checkCandidates(candidates: Candidates, dataset: Dataset, name = 'candidates'): Candidates {
  const c = candidates;
  if (c === null || typeof c !== 'object' || !(c.users instanceof Uint32Array) || !(c.indptr instanceof Uint32Array) || !(c.items instanceof Uint32Array)) {
    throw new TypeError(`Expected {users, indptr, items} Uint32Arrays for ${name} but received ${String(c)}`);
  }
  if (c.indptr.length !== c.users.length + 1 || c.indptr[c.users.length] !== c.items.length) {
    throw new RangeError(`Expected ${name}.indptr of length users + 1 ending at items.length but received length ${c.indptr.length}`);
  }
  for (const u of c.users) if (u >= dataset.nUsers) throw new RangeError(`Expected ${name}.users below ${dataset.nUsers} but received ${u}`);
  for (const i of c.items) if (i >= dataset.nItems) throw new RangeError(`Expected ${name}.items below ${dataset.nItems} but received ${i}`);
  return c;
}

/** Writes `user c1 ... cN` lines with original ids, atomically. */
export function writeCandidates(file: string, candidates: Candidates, dataset: Dataset): void {
  checkCandidates(candidates, dataset);
  const { users, indptr, items } = candidates;
  const lines: string[] = [];
  for (let r = 0; r < users.length; r++) {
    const row = [dataset.userIds[users[r]]];
    for (let k = indptr[r]; k < indptr[r + 1]; k++) row.push(dataset.itemIds[items[k]]);
    lines.push(row.join(' '));
  }
  writeFileAtomic(file, lines.length ? lines.join('\n') + '\n' : '');
}

/**
 * Reads `user c1 ... cN` lines (original ids) against a dataset. A user or item the dataset does
 * not know, a repeated user line, a repeated candidate or a non-integer token is an error naming
 * the file and line.
 */
export async function readCandidates(file: string, dataset: Dataset): Promise<Candidates> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new DataFileError(file, undefined, code === 'ENOENT' ? 'candidate file not found' : `cannot read the candidate file (${code ?? (error as Error).message})`);
  }
  const userIndex = idLookup(dataset.userIds);
  const itemIndex = idLookup(dataset.itemIds);
  const users: number[] = [];
  const indptr: number[] = [0];
  const items: number[] = [];
  const seenUsers = new Set<number>();
  const lines = text.split('\n');
  for (let l = 0; l < lines.length; l++) {
    const tokens = lines[l].trim().split(/\s+/).filter((t) => t.length > 0);
    if (tokens.length === 0) continue;
    const ids = tokens.map((t) => (/^\d+$/.test(t) ? Number(t) : NaN));
    const badToken = ids.findIndex((v) => !Number.isSafeInteger(v));
    if (badToken >= 0) throw new DataFileError(file, l + 1, `expected integer ids but found "${tokens[badToken]}"`);
    const user = userIndex.get(ids[0]);
    if (user === undefined) throw new DataFileError(file, l + 1, `unknown user ${ids[0]} (not in dataset ${dataset.name})`);
    if (seenUsers.has(user)) throw new DataFileError(file, l + 1, `user ${ids[0]} has a second candidate line`);
    seenUsers.add(user);
    const row = new Set<number>();
    for (let k = 1; k < ids.length; k++) {
      const item = itemIndex.get(ids[k]);
      if (item === undefined) throw new DataFileError(file, l + 1, `unknown item ${ids[k]} (not in dataset ${dataset.name})`);
      if (row.has(item)) throw new DataFileError(file, l + 1, `item ${ids[k]} is listed twice`);
      row.add(item);
      items.push(item);
    }
    users.push(user);
    indptr.push(items.length);
  }
  return { users: Uint32Array.from(users), indptr: Uint32Array.from(indptr), items: Uint32Array.from(items) };
}

/** Each user's items of a users x items Csr as candidates (users without items left out). */
export function candidatesFromCsr(csr: Csr): Candidates {
  const users: number[] = [], indptr = [0], items: number[] = [];
  for (let u = 0; u < csr.rows; u++) {
    if (csr.indptr[u + 1] === csr.indptr[u]) continue;
    users.push(u);
    for (let p = csr.indptr[u]; p < csr.indptr[u + 1]; p++) items.push(csr.indices[p]);
    indptr.push(items.length);
  }
  return { users: Uint32Array.from(users), indptr: Uint32Array.from(indptr), items: Uint32Array.from(items) };
}

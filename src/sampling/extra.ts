/**
 * Augmented positives from a file: a label store (JSON Lines from `dtlns-native label`; its
 * 'positive' records count) or plain `user item` pairs, both with ORIGINAL ids. They are
 * trained as positives and never drawn as negatives (train's `extraPositives`).
 */
import { readFile } from 'node:fs/promises';
import type { Csr, Dataset } from '../data/types.js';
import { csrFromPairs } from '../data/csr.js';
import { DataFileError } from '../data/errors.js';
import { parseInteractions } from '../data/readers.js';
import { idLookup } from '../labels/ids.js';
import { labelsToPositives, parseLabelStore } from '../labels/store.js';

export interface ExtraPositives {
  positives: Csr;
  /** 'labels' (a label store) or 'pairs'. */
  format: 'labels' | 'pairs';
  /** Positive pairs read (before duplicates and existing training pairs are merged). */
  pairs: number;
}

/** Reads a label store or `user item` file into a users x items Csr of the dataset's indices. */
export async function readExtraPositives(file: string, dataset: Dataset): Promise<ExtraPositives> {
  if (typeof file !== 'string' || file.length === 0) throw new TypeError(`Expected a file path for file but received ${String(file)}`);
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw new DataFileError(file, undefined, `cannot be read: ${(error as Error).message}`);
  }
  const text = bytes.toString('utf8');
  if (text.trimStart().startsWith('{')) {
    const records = parseLabelStore(text, file).records.filter((r) => r.label === 'positive');
    return { positives: labelsToPositives(records, dataset), format: 'labels', pairs: records.length };
  }
  const records = parseInteractions(bytes, file, { format: 'pairs' });
  const users = idLookup(dataset.userIds), items = idLookup(dataset.itemIds);
  const rows = new Uint32Array(records.count), cols = new Uint32Array(records.count);
  for (let r = 0; r < records.count; r++) {
    const u = users.get(records.users[r]), i = items.get(records.items[r]);
    if (u === undefined) throw new DataFileError(file, records.lines[r], `user ${records.users[r]} is not a user of dataset ${dataset.name}`);
    if (i === undefined) throw new DataFileError(file, records.lines[r], `item ${records.items[r]} is not an item of dataset ${dataset.name}`);
    rows[r] = u;
    cols[r] = i;
  }
  return { positives: csrFromPairs(dataset.nUsers, dataset.nItems, rows, cols).csr, format: 'pairs', pairs: records.count };
}

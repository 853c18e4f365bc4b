/**
 * Labels as data: labelled false negatives read from a file, with where they came from.
 * Formats (original ids): a label store (JSON Lines from `dtlns-native label`; its positive
 * records, with their scores when every one has one), `user item` pairs, or an augmented
 * training file as the DTL-NS release ships it (`user item item ...` lines: the training set
 * plus the labels). Pairs that are training interactions already are dropped, so the
 * release's augmented file and its label pairs import the same.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Csr, Dataset } from '../data/types.js';
import { csrDifference, csrFind, csrFromPairs } from '../data/csr.js';
import { DataFileError } from '../data/errors.js';
import { parseInteractions } from '../data/readers.js';
import { idLookup } from './ids.js';
import { labelConfidence, labelsToPositives, parseLabelStore } from './store.js';
import type { Labeler, LabelResult } from './types.js';

export interface ImportedLabels {
  /** users x items: the labelled pairs that are not training interactions. */
  positives: Csr;
  /** 'labels' (a label store), or the interactions format the file was read as ('pairs', 'lines', ...). */
  format: string;
  /** Positive pairs read (before duplicates and training pairs are dropped). */
  pairs: number;
  /** Each kept pair's score, aligned with positives.indices, when the store scored every positive. */
  confidence?: Float32Array;
  /** The file's name and content digest, for label stores and fingerprints. */
  provenance: { file: string; sha256: string };
}

/** Reads a label store, a pairs file or an augmented training file into the dataset's indices. */
export async function importLabels(file: string, dataset: Dataset): Promise<ImportedLabels> {
  if (typeof file !== 'string' || file.length === 0) throw new TypeError(`Expected a file path for file but received ${String(file)}`);
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw new DataFileError(file, undefined, `cannot be read: ${(error as Error).message}`);
  }
  const provenance = { file: basename(file), sha256: createHash('sha256').update(bytes).digest('hex') };
  const text = bytes.toString('utf8');
  if (text.trimStart().startsWith('{')) {
    const records = parseLabelStore(text, file).records.filter((r) => r.label === 'positive');
    const positives = csrDifference(labelsToPositives(records, dataset), dataset.train).csr;
    const confidence = labelConfidence(records, positives, dataset);
    return { positives, format: 'labels', pairs: records.length, provenance, ...(confidence ? { confidence } : {}) };
  }
  const records = parseInteractions(bytes, file);
  const users = idLookup(dataset.userIds), items = idLookup(dataset.itemIds);
  const rows = new Uint32Array(records.count), cols = new Uint32Array(records.count);
  for (let r = 0; r < records.count; r++) {
    const u = users.get(records.users[r]), i = items.get(records.items[r]);
    if (u === undefined) throw new DataFileError(file, records.lines[r], `user ${records.users[r]} is not a user of dataset ${dataset.name}`);
    if (i === undefined) throw new DataFileError(file, records.lines[r], `item ${records.items[r]} is not an item of dataset ${dataset.name}`);
    rows[r] = u;
    cols[r] = i;
  }
  const positives = csrDifference(csrFromPairs(dataset.nUsers, dataset.nItems, rows, cols).csr, dataset.train).csr;
  return { positives, format: records.format, pairs: records.count, provenance };
}

/**
 * A labeler that answers from imported labels: a candidate is positive when the file labels
 * it (with its score, when the file has scores), negative otherwise. It lets any label file
 * run through the pipeline and the grid like a labeler, with the file named in every record.
 */
export function createFileLabeler(imported: ImportedLabels): Labeler {
  const { positives, confidence } = imported;
  return {
    name: 'file',
    model: `${imported.provenance.file}@${imported.provenance.sha256.slice(0, 16)}`,
    labelUser: async (user, _history, candidates) =>
      Array.from(candidates, (item): LabelResult => {
        const at = csrFind(positives, user, item);
        return { item, label: at >= 0 ? 'positive' : 'negative', ...(at >= 0 && confidence ? { score: confidence[at] } : {}) };
      }),
  };
}

/**
 * A dataset manifest (`NAME.dataset.json`): one interaction file and how to read and split it,
 * so that a split that is not shipped as train/valid/test files (e.g. per-user leave-last-out of
 * the chronological Amazon sequences in ../shared/datasets/raw/iclrec/) is loadable wherever a
 * data path is: `--data`, `datasets`, an experiment grid's `datasets`.
 *
 * ```json
 * {"name": "amazon-sports-llo", "file": "../raw/iclrec/Sports_and_Outdoors.txt", "format": "lines", "split": "leave-last-out"}
 * ```
 * `file` is relative to the manifest. Its settings take precedence over the caller's load options.
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { DataFileError } from './errors.js';
import { interactionFormats, type InteractionFormat } from './readers.js';
import { splitModes, type SplitMode, type SplitOptions } from './split.js';

export const manifestSuffix = '.dataset.json';

export interface DatasetManifest {
  /** The dataset's name (default: the manifest's file name without .dataset.json). */
  name: string;
  /** Absolute path of the interaction file. */
  file: string;
  format?: InteractionFormat | 'auto';
  split?: SplitMode | SplitOptions;
  minRating?: number;
  dropColdUsers?: boolean;
}

const manifestKeys = ['name', 'file', 'format', 'split', 'minRating', 'dropColdUsers'] as const;
const splitKeys = ['mode', 'validRatio', 'testRatio', 'seed'] as const;

export function isManifestPath(path: string): boolean {
  return path.endsWith(manifestSuffix);
}

/** Reads and checks a manifest; every problem is a DataFileError naming the manifest and the key. */
export async function readManifest(path: string): Promise<DatasetManifest> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new DataFileError(path, undefined, `cannot be read: ${(error as Error).message}`);
  }
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new DataFileError(path, undefined, `is not valid JSON: ${(error as Error).message}`);
  }
  const fail = (key: string, what: string): never => {
    throw new DataFileError(path, undefined, `"${key}" ${what}`);
  };
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail('(top level)', 'must be a JSON object');
  for (const key of Object.keys(raw)) if (!(manifestKeys as readonly string[]).includes(key)) fail(key, `is not a manifest key (${manifestKeys.join(', ')})`);
  if (typeof raw.file !== 'string' || raw.file.length === 0) fail('file', 'must be the path of an interaction file, relative to the manifest');
  if (raw.name !== undefined && (typeof raw.name !== 'string' || raw.name.length === 0)) fail('name', 'must be a non-empty string');
  if (raw.format !== undefined && !(['auto', ...interactionFormats] as unknown[]).includes(raw.format)) fail('format', `must be one of auto, ${interactionFormats.join(', ')}`);
  if (raw.minRating !== undefined && typeof raw.minRating !== 'number') fail('minRating', 'must be a number');
  if (raw.dropColdUsers !== undefined && typeof raw.dropColdUsers !== 'boolean') fail('dropColdUsers', 'must be true or false');
  const split = raw.split;
  if (typeof split === 'string') {
    if (!(splitModes as readonly string[]).includes(split)) fail('split', `must be one of ${splitModes.join(', ')} or split options`);
  } else if (split !== undefined) {
    if (split === null || typeof split !== 'object' || Array.isArray(split)) fail('split', 'must be a split mode or an object of split options');
    for (const key of Object.keys(split as object)) if (!(splitKeys as readonly string[]).includes(key)) fail(`split.${key}`, `is not a split option (${splitKeys.join(', ')})`);
  }
  return {
    ...(raw as Partial<DatasetManifest>),
    name: (raw.name as string | undefined) ?? basename(path).slice(0, -manifestSuffix.length),
    file: resolve(dirname(path), raw.file as string),
  };
}

/**
 * Path files: one `item 0-1-3-2` line per item, with the dataset's ORIGINAL item ids (the
 * format of the DTL-NS release, whose `item: 0-1-3-2` variant is read too). A line with an id
 * and no path is an item at the root (a tree that is a single leaf).
 */
import { readFile } from 'node:fs/promises';
import type { Dataset } from '../data/types.js';
import { DataFileError } from '../data/errors.js';
import { writeFileAtomic } from '../util/atomic.js';
import { expectPathCodes, packPaths, type PathCodes } from './path-codes.js';

/** What a path file needs from a dataset: index -> original item id. */
export type ItemIdSource = Pick<Dataset, 'nItems' | 'itemIds'>;

const LINE = /^\s*(\d+)\s*:?\s*(\d+(?:-\d+)*)?\s*$/;
const MAX_DEPTH = 65536;

function expectItems(dataset: unknown, name: string): ItemIdSource {
  const d = dataset as ItemIdSource;
  if (d === null || typeof d !== 'object' || !Array.isArray(d.itemIds) || d.itemIds.length !== d.nItems) {
    throw new TypeError(`Expected a dataset {nItems, itemIds: number[nItems]} for ${name} but received ${String(dataset)}`);
  }
  return d;
}

function show(line: string): string {
  return JSON.stringify(line.length > 60 ? `${line.slice(0, 60)}...` : line);
}

/** Parses path-file text; `file` names the source in errors. */
export function parsePaths(text: string, file: string, dataset: ItemIdSource): PathCodes {
  const items = expectItems(dataset, 'dataset');
  const indexOf = new Map<number, number>();
  items.itemIds.forEach((id, i) => indexOf.set(id, i));
  const paths: (number[] | undefined)[] = new Array(items.nItems);
  const seenOn = new Int32Array(items.nItems);
  const lines = text.split('\n');
  for (let l = 0; l < lines.length; l++) {
    const line = lines[l].replace(/\r$/, '');
    if (line.trim() === '') continue;
    const match = LINE.exec(line);
    if (!match) throw new DataFileError(file, l + 1, `expected "item 0-1-3-2" (an item id and its path) but found ${show(line)}`);
    const id = Number(match[1]);
    const index = indexOf.get(id);
    if (index === undefined) throw new DataFileError(file, l + 1, `item ${match[1]} is not an item of the dataset`);
    if (seenOn[index] !== 0) throw new DataFileError(file, l + 1, `item ${id} appears again (first on line ${seenOn[index]})`);
    const path = match[2] === undefined ? [] : match[2].split('-').map(Number);
    if (path.length > MAX_DEPTH) throw new DataFileError(file, l + 1, `path of item ${id} is longer than ${MAX_DEPTH}`);
    if (path.some((c) => c > 0x7fffffff)) throw new DataFileError(file, l + 1, `child index out of range in ${show(line)}`);
    seenOn[index] = l + 1;
    paths[index] = path;
  }
  const missing: number[] = [];
  for (let i = 0; i < items.nItems; i++) if (paths[i] === undefined) missing.push(items.itemIds[i]);
  if (missing.length > 0) {
    const first = missing.slice(0, 5).join(', ');
    throw new DataFileError(file, undefined, `${missing.length} of ${items.nItems} items have no path (first: ${first}${missing.length > 5 ? ', ...' : ''})`);
  }
  return packPaths(paths as number[][]);
}

/** Reads a path file and maps its original item ids to the dataset's indices. */
export async function readPaths(file: string, dataset: ItemIdSource): Promise<PathCodes> {
  if (typeof file !== 'string' || file.length === 0) throw new TypeError(`Expected a file path for file but received ${String(file)}`);
  expectItems(dataset, 'dataset');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new DataFileError(file, undefined, `cannot be read: ${(error as Error).message}`);
  }
  return parsePaths(text, file, dataset);
}

/** The text of a path file: items in index order, original ids. */
export function formatPaths(codes: PathCodes, dataset: ItemIdSource): string {
  const c = expectPathCodes(codes, 'codes');
  const items = expectItems(dataset, 'dataset');
  if (c.nItems !== items.nItems) throw new RangeError(`Expected codes for the dataset's ${items.nItems} items but received ${c.nItems}`);
  const lines: string[] = new Array(c.nItems);
  for (let i = 0; i < c.nItems; i++) {
    const start = i * c.maxDepth;
    const path = c.paths.subarray(start, start + c.lengths[i]).join('-');
    lines[i] = path.length > 0 ? `${items.itemIds[i]} ${path}` : `${items.itemIds[i]}`;
  }
  return lines.join('\n') + '\n';
}

/** Writes a path file atomically (a temporary sibling renamed over `file`). */
export async function writePaths(file: string, codes: PathCodes, dataset: ItemIdSource): Promise<void> {
  if (typeof file !== 'string' || file.length === 0) throw new TypeError(`Expected a file path for file but received ${String(file)}`);
  writeFileAtomic(file, formatPaths(codes, dataset));
}

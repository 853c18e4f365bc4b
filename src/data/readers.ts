/**
 * Readers of interaction files. Each returns raw records with the ORIGINAL integer ids and the
 * 1-based line each record came from; mapping ids to indices, removing duplicates and splitting
 * happen later (split.ts, load.ts). Files are read whole and parsed byte by byte (no per-token
 * regexes or strings), which keeps a million-line file well under a second.
 *
 * Formats:
 * - `lines`: `user item item ...` (the ../shared/datasets format); a line with only a user adds nothing.
 * - `pairs`: `user item [rating [timestamp]]`, whitespace separated, the same column count on every line.
 * - `csv`:   a header line, then rows; the delimiter (tab, comma, semicolon, else whitespace) is
 *            taken from the header. Columns are found by name, case-insensitively, ignoring `_`,
 *            `-` and spaces: user|userid|uid, item|itemid|iid|movieid|movie|productid,
 *            rating|ratings|score|stars, timestamp|time|ts|unixtime|unixreviewtime. Other columns
 *            are ignored. Fields may be double-quoted (without line breaks inside).
 * - `udata`: MovieLens `u.data`: `user item rating timestamp`, tab separated, no header.
 * Files starting with the gzip magic bytes are gunzipped first, whatever their name.
 * Ids must be integers in [0, 2^32 - 1]; ratings and timestamps are decimal numbers.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { DataFileError } from './errors.js';
import { expectNumber, expectOneOf, expectOptions } from './validate.js';

const gunzipAsync = promisify(gunzip);

export const interactionFormats = ['lines', 'pairs', 'csv', 'udata'] as const;
export type InteractionFormat = (typeof interactionFormats)[number];

export interface ReadOptions {
  /** Input format; 'auto' (the default) decides by file name, then by content (see detectFormat). */
  format?: InteractionFormat | 'auto';
  /** Keep only rows whose rating is at least this; needs a rating column. Dropped rows are counted. */
  minRating?: number;
}

/** Raw records of one file, parallel arrays of length `count`. */
export interface InteractionRecords {
  file: string;
  format: InteractionFormat;
  count: number;
  /** Original user and item ids. */
  users: Uint32Array;
  items: Uint32Array;
  /** 1-based line of each record. */
  lines: Uint32Array;
  ratings?: Float64Array;
  timestamps?: Float64Array;
  /** Data lines read (blank lines and a header excluded). */
  lineCount: number;
  /** Rows dropped by minRating. */
  belowMinRating: number;
}

const NL = 10;
const CR = 13;
const SPACE = 32;
const TAB = 9;
const QUOTE = 34;
const COMMA = 44;
const SEMICOLON = 59;
/** Stands for "any run of spaces and tabs" where a delimiter is expected. */
const WHITESPACE = -1;
const MAX_ID = 0xffffffff;

/** Reads a whole file, gunzipping it when it starts with the gzip magic bytes. */
export async function readFileBytes(file: string): Promise<Buffer> {
  let data: Buffer;
  try {
    data = await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new DataFileError(file, undefined, 'no such file (ENOENT)');
    if (code === 'EISDIR') throw new DataFileError(file, undefined, 'is a folder, expected a file');
    throw new DataFileError(file, undefined, `cannot be read: ${(error as Error).message}`);
  }
  if (data.length >= 2 && data[0] === 0x1f && data[1] === 0x8b) {
    try {
      data = await gunzipAsync(data);
    } catch (error) {
      throw new DataFileError(file, undefined, `is not a valid gzip file: ${(error as Error).message}`);
    }
  }
  return data;
}

/** Reads and parses one interaction file. */
export async function readInteractions(file: string, options?: ReadOptions): Promise<InteractionRecords> {
  if (typeof file !== 'string' || file.length === 0) throw new TypeError(`Expected a file path for file but received ${String(file)}`);
  const opts = checkReadOptions(options);
  const bytes = await readFileBytes(file);
  return parseInteractions(bytes, file, opts);
}

function checkReadOptions(options: unknown): ReadOptions {
  const opts = expectOptions<ReadOptions>(options, 'options');
  if (opts.format !== undefined) expectOneOf(opts.format, 'options.format', ['auto', ...interactionFormats]);
  if (opts.minRating !== undefined) expectNumber(opts.minRating, 'options.minRating');
  return opts;
}

/** Parses the bytes of one file; `file` is used for format detection by name and in error messages. */
export function parseInteractions(bytes: Uint8Array, file: string, options?: ReadOptions): InteractionRecords {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`Expected a Uint8Array for bytes but received ${String(bytes)}`);
  const opts = checkReadOptions(options);
  const format = opts.format === undefined || opts.format === 'auto' ? detectFormat(file, bytes) : opts.format;
  if (firstDataLine(bytes, skipBom(bytes)) < 0) throw new DataFileError(file, 1, 'the file is empty (no interactions)');
  if (format !== 'lines') return parseDelimited(bytes, file, format, opts.minRating);
  if (opts.minRating !== undefined) {
    throw new DataFileError(file, undefined, 'minRating needs a rating column, but a `user item item ...` file has none');
  }
  return parseLines(bytes, file);
}

/**
 * The format of a file: by name first (`*.csv`/`*.tsv` -> csv, `u.data` -> udata,
 * `train|valid|test.txt` -> lines; a `.gz` suffix is ignored), then by content: a first line
 * with a non-numeric field is a CSV header; the same 2, 3 or 4 fields on every sampled line
 * (at least two lines) is `pairs`; anything else is `lines`. Pass `format` to override.
 */
export function detectFormat(file: string, bytes: Uint8Array): InteractionFormat {
  if (typeof file !== 'string') throw new TypeError(`Expected a file name for file but received ${String(file)}`);
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`Expected a Uint8Array for bytes but received ${String(bytes)}`);
  const name = basename(file).toLowerCase().replace(/\.gz$/, '');
  if (name.endsWith('.csv') || name.endsWith('.tsv')) return 'csv';
  if (name === 'u.data') return 'udata';
  if (/^(train|valid|test)\.txt$/.test(name)) return 'lines';
  let pos = skipBom(bytes);
  let fieldCount = -1;
  let sameCount = true;
  let sampled = 0;
  while (pos < bytes.length && sampled < 200) {
    const end = lineEnd(bytes, pos);
    const fields = lineFields(bytes, pos, end);
    if (fields.length > 0) {
      if (sampled === 0 && fields.some((f) => !/^[-+]?[0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?$/.test(f))) {
        checkText(bytes, pos, end, file);
        return 'csv';
      }
      if (fieldCount < 0) fieldCount = fields.length;
      else if (fields.length !== fieldCount) sameCount = false;
      sampled++;
    }
    pos = end + 1;
  }
  if (sameCount && sampled >= 2 && fieldCount >= 2 && fieldCount <= 4) return 'pairs';
  if (sameCount && sampled === 1 && fieldCount === 2) return 'pairs';
  return 'lines';
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A line that is not text (control bytes, invalid UTF-8: a binary or UTF-16 file) is no CSV header: say what it is. */
function checkText(bytes: Uint8Array, pos: number, end: number, file: string): void {
  for (let i = pos; i < end; i++) {
    const b = bytes[i];
    if (b < 0x20 && b !== 0x09 && b !== 0x0d) {
      throw new DataFileError(file, 1, `is not a text file of interactions: byte ${i - pos + 1} of the line is 0x${b.toString(16).padStart(2, '0')} (a binary or UTF-16 file?)`);
    }
  }
  try {
    utf8.decode(bytes.subarray(pos, end));
  } catch {
    throw new DataFileError(file, 1, 'is not a text file of interactions: the line is not valid UTF-8 (a binary or UTF-16 file?)');
  }
}

function skipBom(bytes: Uint8Array): number {
  return bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
}

function lineEnd(bytes: Uint8Array, pos: number): number {
  const i = bytes.indexOf(NL, pos);
  return i < 0 ? bytes.length : i;
}

/** Whitespace-separated fields of one line, as strings (detection and headers only). */
function lineFields(bytes: Uint8Array, start: number, end: number): string[] {
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1').trim().split(/[ \t\r]+/).filter((f) => f.length > 0);
}

/** Offset of the first line that is not blank, or -1. */
function firstDataLine(bytes: Uint8Array, pos: number): number {
  for (let i = pos; i < bytes.length; i++) {
    const c = bytes[i];
    if (c !== SPACE && c !== TAB && c !== CR && c !== NL) return i;
  }
  return -1;
}

function tokenText(bytes: Uint8Array, start: number, end: number): string {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset + start, Math.min(end, start + 40) - start).toString('latin1');
  return JSON.stringify(end - start > 40 ? `${text}...` : text);
}

/** Grow-by-doubling record columns. */
class RecordBuffer {
  users: Uint32Array;
  items: Uint32Array;
  lines: Uint32Array;
  ratings: Float64Array | undefined;
  timestamps: Float64Array | undefined;
  count = 0;

  constructor(capacity: number, withRatings: boolean, withTimestamps: boolean) {
    this.users = new Uint32Array(capacity);
    this.items = new Uint32Array(capacity);
    this.lines = new Uint32Array(capacity);
    this.ratings = withRatings ? new Float64Array(capacity) : undefined;
    this.timestamps = withTimestamps ? new Float64Array(capacity) : undefined;
  }

  grow(): void {
    const capacity = this.users.length * 2;
    const grown = <T extends Uint32Array | Float64Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(capacity);
      b.set(a);
      return b;
    };
    this.users = grown(this.users);
    this.items = grown(this.items);
    this.lines = grown(this.lines);
    if (this.ratings) this.ratings = grown(this.ratings);
    if (this.timestamps) this.timestamps = grown(this.timestamps);
  }

  finish(file: string, format: InteractionFormat, lineCount: number, belowMinRating: number): InteractionRecords {
    const n = this.count;
    const out: InteractionRecords = {
      file, format, count: n, lineCount, belowMinRating,
      users: this.users.slice(0, n), items: this.items.slice(0, n), lines: this.lines.slice(0, n),
    };
    if (this.ratings) out.ratings = this.ratings.slice(0, n);
    if (this.timestamps) out.timestamps = this.timestamps.slice(0, n);
    return out;
  }
}

/** `user item item ...` lines. */
function parseLines(bytes: Uint8Array, file: string): InteractionRecords {
  const n = bytes.length;
  const buf = new RecordBuffer(Math.max(1024, n >>> 3), false, false);
  let i = skipBom(bytes);
  let line = 1;
  let field = 0;
  let user = 0;
  let lineCount = 0;
  while (i < n) {
    let c = bytes[i];
    if (c === NL) {
      if (field > 0) lineCount++;
      field = 0;
      line++;
      i++;
      continue;
    }
    if (c === SPACE || c === TAB || c === CR) {
      i++;
      continue;
    }
    const start = i;
    let v = 0;
    while (i < n) {
      c = bytes[i];
      const d = c - 48;
      if (d < 0 || d > 9) break;
      v = v * 10 + d;
      i++;
    }
    if (i < n && c !== SPACE && c !== TAB && c !== CR && c !== NL) {
      while (i < n && bytes[i] !== SPACE && bytes[i] !== TAB && bytes[i] !== CR && bytes[i] !== NL) i++;
      throw new DataFileError(file, line, `expected a non-negative integer ${field === 0 ? 'user' : 'item'} id but found ${tokenText(bytes, start, i)}`);
    }
    if (v > MAX_ID) throw new DataFileError(file, line, `${field === 0 ? 'user' : 'item'} id ${tokenText(bytes, start, i)} is above ${MAX_ID}`);
    if (field === 0) {
      user = v;
    } else {
      if (buf.count === buf.users.length) buf.grow();
      const k = buf.count++;
      buf.users[k] = user;
      buf.items[k] = v;
      buf.lines[k] = line;
    }
    field++;
  }
  if (field > 0) lineCount++;
  return buf.finish(file, 'lines', lineCount, 0);
}

interface Columns {
  delimiter: number;
  count: number;
  user: number;
  item: number;
  rating: number;
  timestamp: number;
}

const COLUMN_NAMES = {
  user: ['user', 'userid', 'uid'],
  item: ['item', 'itemid', 'iid', 'movieid', 'movie', 'productid'],
  rating: ['rating', 'ratings', 'score', 'stars'],
  timestamp: ['timestamp', 'time', 'ts', 'unixtime', 'unixreviewtime'],
};

function headerColumns(bytes: Uint8Array, start: number, end: number, file: string, line: number): Columns {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1').replace(/\r$/, '');
  const delimiter = text.includes('\t') ? TAB : text.includes(',') ? COMMA : text.includes(';') ? SEMICOLON : WHITESPACE;
  const names = (delimiter === WHITESPACE ? text.trim().split(/[ \t]+/) : text.split(String.fromCharCode(delimiter)))
    .map((f) => f.trim().replace(/^"(.*)"$/, '$1').toLowerCase().replace(/[_\- ]/g, ''));
  const find = (kind: keyof typeof COLUMN_NAMES): number => names.findIndex((f) => COLUMN_NAMES[kind].includes(f));
  const cols: Columns = { delimiter, count: names.length, user: find('user'), item: find('item'), rating: find('rating'), timestamp: find('timestamp') };
  for (const kind of ['user', 'item'] as const) {
    if (cols[kind] < 0) {
      throw new DataFileError(file, line, `the CSV header has no ${kind} column (expected one of ${COLUMN_NAMES[kind].join(', ')}, any case, "_" allowed); header: ${JSON.stringify(text)}`);
    }
  }
  return cols;
}

/** Field boundaries of one line, written into starts/ends; returns the field count. */
function splitFields(bytes: Uint8Array, start: number, end: number, delimiter: number, starts: number[], ends: number[], file: string, line: number): number {
  let count = 0;
  let i = start;
  if (delimiter === WHITESPACE) {
    for (;;) {
      while (i < end && (bytes[i] === SPACE || bytes[i] === TAB || bytes[i] === CR)) i++;
      if (i >= end) return count;
      const s = i;
      while (i < end && bytes[i] !== SPACE && bytes[i] !== TAB && bytes[i] !== CR) i++;
      starts[count] = s;
      ends[count] = i;
      count++;
    }
  }
  for (;;) {
    while (i < end && (bytes[i] === SPACE || (bytes[i] === TAB && delimiter !== TAB))) i++;
    let s = i;
    let e: number;
    if (i < end && bytes[i] === QUOTE) {
      s = ++i;
      while (i < end && !(bytes[i] === QUOTE && bytes[i + 1] !== QUOTE)) i += bytes[i] === QUOTE ? 2 : 1;
      if (i >= end) throw new DataFileError(file, line, 'unterminated double quote');
      e = i++;
      while (i < end && bytes[i] !== delimiter) i++;
    } else {
      while (i < end && bytes[i] !== delimiter) i++;
      e = i;
      while (e > s && (bytes[e - 1] === SPACE || bytes[e - 1] === CR || (bytes[e - 1] === TAB && delimiter !== TAB))) e--;
    }
    starts[count] = s;
    ends[count] = e;
    count++;
    if (i >= end) return count;
    i++;
  }
}

/** A non-negative integer id, or -1 when the field is not one (-2 when too large). */
function parseId(bytes: Uint8Array, start: number, end: number): number {
  if (start >= end) return -1;
  let v = 0;
  for (let i = start; i < end; i++) {
    const d = bytes[i] - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v > MAX_ID ? -2 : v;
}

/** A decimal number (fast path for [-]digits[.digits]), NaN when the field is not a number. */
function parseNumber(bytes: Uint8Array, start: number, end: number): number {
  if (start >= end) return NaN;
  let i = start;
  const negative = bytes[i] === 45;
  if (negative || bytes[i] === 43) i++;
  let v = 0;
  let digits = 0;
  while (i < end) {
    const d = bytes[i] - 48;
    if (d < 0 || d > 9) break;
    v = v * 10 + d;
    digits++;
    i++;
  }
  if (i < end && bytes[i] === 46) {
    i++;
    let scale = 1;
    while (i < end) {
      const d = bytes[i] - 48;
      if (d < 0 || d > 9) break;
      scale /= 10;
      v += d * scale;
      digits++;
      i++;
    }
  }
  if (i === end && digits > 0 && digits <= 15) return negative ? -v : v;
  const text = Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');
  const parsed = /^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$/.test(text) ? Number(text) : NaN;
  return Number.isFinite(parsed) ? parsed : NaN;
}

/** pairs, csv and udata: one record per line, columns found by position or header. */
function parseDelimited(bytes: Uint8Array, file: string, format: InteractionFormat, minRating: number | undefined): InteractionRecords {
  const n = bytes.length;
  let pos = skipBom(bytes);
  let line = 1;
  // Skip leading blank lines to find the first line that fixes the layout.
  for (;;) {
    const first = firstDataLine(bytes, pos);
    const end = lineEnd(bytes, pos);
    if (first >= 0 && first < end) break;
    pos = end + 1;
    line++;
  }
  const starts: number[] = [];
  const ends: number[] = [];
  let cols: Columns;
  if (format === 'csv') {
    const end = lineEnd(bytes, pos);
    cols = headerColumns(bytes, pos, end, file, line);
    pos = end + 1;
    line++;
    if (firstDataLine(bytes, Math.min(pos, n)) < 0) throw new DataFileError(file, line, 'the CSV file has a header but no data rows');
  } else {
    const end = lineEnd(bytes, pos);
    const count = splitFields(bytes, pos, end, WHITESPACE, starts, ends, file, line);
    if (format === 'udata' && count !== 4) {
      throw new DataFileError(file, line, `expected 4 columns (user item rating timestamp) but found ${count}`);
    }
    if (count < 2 || count > 4) {
      throw new DataFileError(file, line, `expected 2 to 4 columns (user item [rating [timestamp]]) but found ${count}`);
    }
    cols = { delimiter: WHITESPACE, count, user: 0, item: 1, rating: count >= 3 ? 2 : -1, timestamp: count >= 4 ? 3 : -1 };
  }
  if (minRating !== undefined && cols.rating < 0) {
    throw new DataFileError(file, undefined, `minRating needs a rating column, but this ${format} file has none`);
  }
  const buf = new RecordBuffer(Math.max(1024, n >>> 4), cols.rating >= 0, cols.timestamp >= 0);
  const ratingCol = cols.rating;
  const timeCol = cols.timestamp;
  let lineCount = 0;
  let belowMinRating = 0;
  while (pos < n) {
    const end = lineEnd(bytes, pos);
    const count = splitFields(bytes, pos, end, cols.delimiter, starts, ends, file, line);
    const blank = count === 0 || (count === 1 && starts[0] === ends[0]);
    if (!blank) {
      lineCount++;
      if (count !== cols.count) throw new DataFileError(file, line, `expected ${cols.count} columns but found ${count}`);
      const user = parseId(bytes, starts[cols.user], ends[cols.user]);
      const item = parseId(bytes, starts[cols.item], ends[cols.item]);
      if (user < 0) throw badId(file, line, 'user', bytes, starts[cols.user], ends[cols.user], user);
      if (item < 0) throw badId(file, line, 'item', bytes, starts[cols.item], ends[cols.item], item);
      let rating = 0;
      if (ratingCol >= 0) {
        rating = parseNumber(bytes, starts[ratingCol], ends[ratingCol]);
        if (Number.isNaN(rating)) throw new DataFileError(file, line, `expected a numeric rating but found ${tokenText(bytes, starts[ratingCol], ends[ratingCol])}`);
      }
      if (minRating !== undefined && rating < minRating) {
        belowMinRating++;
      } else {
        if (buf.count === buf.users.length) buf.grow();
        const k = buf.count++;
        buf.users[k] = user;
        buf.items[k] = item;
        buf.lines[k] = line;
        if (ratingCol >= 0) buf.ratings![k] = rating;
        if (timeCol >= 0) {
          const t = parseNumber(bytes, starts[timeCol], ends[timeCol]);
          if (Number.isNaN(t)) throw new DataFileError(file, line, `expected a numeric timestamp but found ${tokenText(bytes, starts[timeCol], ends[timeCol])}`);
          buf.timestamps![k] = t;
        }
      }
    }
    pos = end + 1;
    line++;
  }
  return buf.finish(file, format, lineCount, belowMinRating);
}

function badId(file: string, line: number, kind: string, bytes: Uint8Array, start: number, end: number, code: number): DataFileError {
  const text = tokenText(bytes, start, end);
  return new DataFileError(file, line, code === -2 ? `${kind} id ${text} is above ${MAX_ID}` : `expected a non-negative integer ${kind} id but found ${text}`);
}

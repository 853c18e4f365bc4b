/** Atomic file output: write to a temporary sibling, then rename over the target. */
import { mkdirSync, renameSync, writeFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join, basename } from 'node:path';

/** An output file that cannot be written: names the file and why, instead of a raw EISDIR / ENOTDIR / EACCES. */
export class OutputFileError extends Error {
  constructor(readonly path: string, reason: string) {
    super(`Cannot write ${path}: ${reason}`);
    this.name = 'OutputFileError';
  }
}

export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) throw new OutputFileError(path, 'it is a folder (give a file path)');
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (error) {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // The folder itself could not be made: there is no temporary file.
    }
    const e = error as NodeJS.ErrnoException;
    throw e.code ? new OutputFileError(path, `${e.code} (${e.message})`) : error;
  }
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

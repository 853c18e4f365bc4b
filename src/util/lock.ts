/**
 * One writer per run folder or label store: an advisory lock (proper-lockfile: a `<path>.lock`
 * directory whose mtime the holder refreshes; the holder's pid is kept beside it). A second writer
 * is refused at once with a LockedError naming the path and the holder. The lock of a holder that
 * died (kill -9) is taken over at once when its pid is gone from this machine (or it died before
 * writing one), else after `staleMs` without a refresh, so an interrupted job can always be resumed.
 */
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import lockfile from 'proper-lockfile';

const staleMs = 10_000;
/** A live holder writes its pid within milliseconds of taking the lock; a lock older than this without one was left by a process killed in between. */
const pidGraceMs = 2_000;

/** Another process holds the lock of `path`. */
export class LockedError extends Error {
  readonly code = 'ELOCKED';
  constructor(readonly path: string, holder: number | undefined) {
    super(
      `${path} is being written by another process${holder ? ` (pid ${holder})` : ''}; wait for it to finish or use ` +
        `another output. A lock left by a process that died is released at once (same machine) or ${staleMs / 1000} s after it stopped.`,
    );
    this.name = 'LockedError';
  }
}

const lockDir = (path: string): string => `${path}.lock`;
const pidFile = (path: string): string => `${path}.lock.pid`;

function holderOf(path: string): number | undefined {
  try {
    const pid = Number(readFileSync(pidFile(path), 'utf8'));
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The holder's pid, waiting out the moment between taking the lock and writing it; undefined: none after pidGraceMs. */
async function settledHolder(path: string): Promise<number | undefined> {
  for (;;) {
    const holder = holderOf(path);
    if (holder !== undefined) return holder;
    const refreshed = statSync(lockDir(path), { throwIfNoEntry: false })?.mtimeMs;
    if (refreshed === undefined || Date.now() - refreshed >= pidGraceMs) return undefined;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the lock of `path` (a file or folder, which need not exist yet; its parent must) and
 * returns its release. If the lock is lost while held (its folder removed), the release rejects.
 */
export async function acquireLock(path: string): Promise<() => Promise<void>> {
  let compromised: Error | undefined;
  const options = { realpath: false, stale: staleMs, retries: 0, onCompromised: (error: Error) => void (compromised = error) };
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(path, options);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
    const holder = await settledHolder(path);
    if (holder !== undefined && isAlive(holder)) throw new LockedError(path, holder);
    // The holder died without releasing: take its lock over.
    rmSync(lockDir(path), { recursive: true, force: true });
    rmSync(pidFile(path), { force: true });
    release = await lockfile.lock(path, options).catch((again: NodeJS.ErrnoException) => {
      throw again.code === 'ELOCKED' ? new LockedError(path, holderOf(path)) : again;
    });
  }
  writeFileSync(pidFile(path), String(process.pid));
  return async () => {
    rmSync(pidFile(path), { force: true });
    await release().catch((error: Error) => void (compromised ??= error));
    if (compromised) throw new Error(`The lock of ${path} was lost while writing: ${compromised.message}`);
  };
}

/**
 * Runs `work` holding the lock of output folder `folder` (argument `name`), creating the folder;
 * a path naming a file is a TypeError naming the argument.
 */
export async function withFolderLock<T>(folder: unknown, name: string, work: () => Promise<T>): Promise<T> {
  if (typeof folder !== 'string' || folder === '') throw new TypeError(`Expected a folder path for ${name} but received ${JSON.stringify(folder)}`);
  if (statSync(folder, { throwIfNoEntry: false })?.isFile()) throw new TypeError(`Expected a folder path for ${name} but ${folder} is a file`);
  mkdirSync(folder, { recursive: true });
  const release = await acquireLock(folder);
  try {
    return await work();
  } finally {
    await release();
  }
}

/** The built command line (bin/dtlns-native.js) run in a child process, for end-to-end tests. */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// dist/test/support/cli.js -> the package root.
export const bin = resolve(fileURLToPath(import.meta.url), '..', '..', '..', '..', 'bin', 'dtlns-native.js');

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI to completion; `env` adds to this process's environment (default: 2 native threads). */
export function cli(args: string[], env: Record<string, string> = { DTLNS_THREADS: '2' }): CliRun {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The JSON object a `--json` run prints as its last stdout line. */
export function lastJson(stdout: string): Record<string, any> {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}

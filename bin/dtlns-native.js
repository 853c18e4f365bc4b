#!/usr/bin/env node
// Entry point of the CLI: errors are printed as one clear line (no stack) unless DTLNS_DEBUG is set.
import { main } from '../dist/src/cli/cli.js';

main().catch((error) => {
  if (process.env.DTLNS_DEBUG) console.error(error);
  else console.error(`Error: ${error instanceof Error ? `${error.name === 'Error' ? '' : error.name + ': '}${error.message}` : String(error)}`);
  process.exitCode = 1;
});

#!/usr/bin/env node
/** The `nightshift` executable; see program.ts for the commands. */
import { ConfigError } from './config.js';
import { buildProgram } from './program.js';

buildProgram()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    process.stderr.write(`nightshift: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(err instanceof ConfigError ? 2 : 1);
  });

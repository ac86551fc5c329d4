#!/usr/bin/env node
import { runCli } from './cli/index.js';

// The bin entry: argv → cli. The only process.exit is here, and only after the command
// has finished its own orderly shutdown (open handles must not keep a CLI alive).
const code = await runCli(process.argv.slice(2));
process.exitCode = code;
process.exit(code);

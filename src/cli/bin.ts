#!/usr/bin/env node
import { setFlagsFromString } from 'node:v8';
import { main } from './main.js';

// Decoding allocates many short-lived objects per packet: a small young generation keeps them
// from being promoted, which holds peak memory down on big captures (scripts/bench/RESULTS.md).
setFlagsFromString('--max-semi-space-size=4');

const code = await main(process.argv.slice(2), {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  stderrIsTTY: process.stderr.isTTY === true,
  env: process.env,
  cwd: process.cwd(),
});
process.exitCode = code;

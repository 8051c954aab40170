#!/usr/bin/env node
// Runs the node:test suites under test/<suite> (unit) or test-interop/ (interop) with tsx.
// Node 20 has no glob support in --test, so the files are listed here.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const suite = process.argv[2] ?? 'test';
const root = suite === 'interop' ? 'test-interop' : 'test';
const files = [];
const walk = (d) => {
  for (const n of readdirSync(d).sort()) {
    const p = join(d, n);
    if (statSync(p).isDirectory()) walk(p);
    else if (n.endsWith('.test.ts')) files.push(p);
  }
};
walk(root);
if (files.length === 0) {
  console.error(`no test files under ${root}/`);
  process.exit(1);
}
const args = ['--import', 'tsx', '--test', '--test-concurrency=2', ...process.argv.slice(3), ...files];
const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
process.exit(r.status ?? 1);

'use strict';
/**
 * Started by ssh-hosts.ts in its own session, with a pipe from the test process on stdin: the
 * pipe closes when the test process ends, however it ends (a crash, SIGTERM from a test runner's
 * timeout, SIGKILL), which a process.on('exit') handler cannot all catch. Then, unless told
 * "disarm", it reaps what the fleet started (reap.cjs) and removes its temp dir.
 *
 * stdin: JSON lines {"pids": [..], "markers": [..], "dirs": [..]} (added up), {"forget": [pid]} (a
 * listener already killed: its id may be reused by an unrelated process) or {"disarm": true}.
 */
const fs = require('node:fs');
const { reap } = require('./reap.cjs');

const pids = new Set();
const markers = [];
const dirs = [];
let disarmed = false;
let buf = '';

function take(line) {
  if (!line.trim()) return;
  const m = JSON.parse(line);
  if (m.disarm) disarmed = true;
  for (const p of m.pids ?? []) pids.add(p);
  for (const p of m.forget ?? []) pids.delete(p);
  markers.push(...(m.markers ?? []));
  dirs.push(...(m.dirs ?? []));
}

process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  buf += chunk;
  const lines = buf.split('\n');
  buf = lines.pop();
  for (const l of lines) take(l);
});
process.stdin.on('close', () => {
  take(buf);
  if (disarmed) return;
  reap([...pids], markers);
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

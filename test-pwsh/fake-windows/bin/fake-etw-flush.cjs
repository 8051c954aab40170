#!/usr/bin/env node
'use strict';
/**
 * The flush timer of a fake ETW session (Update-EtwTraceSession -FlushTimer, windows-capture.md
 * 1.13): every <seconds> it writes the next tenth of the template capture's buffers into the
 * session's file, until the session no longer runs (the stop writes the rest) or the file is whole.
 * Writes are positioned (never appended): the stop writes the same bytes at the same offsets.
 *
 *   fake-etw-flush.cjs <state file> <netevent:<name> | pktmon> <template.etl> <file> <seconds>
 */
const fs = require('node:fs');

const [stateFile, session, template, file, seconds] = process.argv.slice(2);
const bytes = fs.readFileSync(template);
const ends = [];
for (let at = 0; at + 4 <= bytes.length; ) {
  const size = bytes.readUInt32LE(at);
  if (size === 0 || at + size > bytes.length) break;
  at += size;
  ends.push(at);
}
if (ends.length === 0 || ends[ends.length - 1] < bytes.length) ends.push(bytes.length);
const per = Math.max(1, Math.ceil(ends.length / 10));

function running() {
  try {
    const s = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
    if (session === 'pktmon') return s.pktmon?.running === true;
    const name = session.replace(/^netevent:/, '').toLowerCase();
    return (s.sessions ?? []).some((x) => x && x.name.toLowerCase() === name && x.status === 'Running');
  } catch {
    return true; // a state file being replaced: look again next time
  }
}

function flush() {
  if (!running()) process.exit(0);
  let size = 0;
  try { size = fs.statSync(file).size; } catch { /* not there yet */ }
  const next = ends.find((e) => e > size);
  if (next === undefined) process.exit(0);
  const to = ends[Math.min(ends.length - 1, ends.indexOf(next) + per - 1)];
  const fd = fs.openSync(file, fs.existsSync(file) ? 'r+' : 'w');
  try { fs.writeSync(fd, bytes, size, to - size, size); } finally { fs.closeSync(fd); }
}

setInterval(flush, Math.max(100, Number(seconds) * 1000));

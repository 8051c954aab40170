'use strict';
/**
 * Shared part of the fake native programs (pktmon.exe, netsh.exe, docker.exe): the state file
 * named by WNVCAP_FAKE_STATE (the same one FakeWindows.Core and fake-host.ts use, same lock
 * protocol: create "<state>.lock" exclusively, read, write a temp file and rename, delete the
 * lock), the executed list, per-command counts and injected faults.
 *
 * A fault's command is the program ("pktmon.exe") or the program and its first words
 * ("pktmon.exe start", "netsh.exe trace start"); nth counts calls with that prefix, across
 * processes. error: the message on stderr, exit code 1. die: exit code 255 at once. hang: sleeps
 * an hour.
 */
const fs = require('node:fs');
const path = require('node:path');

const CRLF = '\r\n';

function statePath() {
  const p = process.env.WNVCAP_FAKE_STATE;
  if (!p || !fs.existsSync(p)) {
    process.stderr.write(`fake-windows: WNVCAP_FAKE_STATE does not name a state file (${p ?? 'unset'})\n`);
    process.exit(2);
  }
  return p;
}

function sleepMs(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function withLock(file, fn) {
  const lock = `${file}.lock`;
  const deadline = Date.now() + 30000;
  for (;;) {
    try {
      fs.closeSync(fs.openSync(lock, 'wx'));
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      try {
        if (Date.now() - fs.statSync(lock).mtimeMs > 10000) {
          fs.unlinkSync(lock); // its holder died
          continue;
        }
      } catch {
        continue; // released meanwhile
      }
      if (Date.now() > deadline) throw new Error(`fake-windows: the state lock ${lock} was held for 30 s`, { cause: e });
      sleepMs(5);
    }
  }
  try {
    return fn();
  } finally {
    try {
      fs.unlinkSync(lock);
    } catch {
      // already gone
    }
  }
}

function writeState(file, s) {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(s));
  fs.renameSync(tmp, file);
}

/**
 * Runs a fake program: records the call, fires a matching fault, else calls
 * handler(state, args) -> { out?, err?, code?, hang? } with the state locked (changes are saved).
 */
function run(program, handler) {
  const args = process.argv.slice(2);
  const file = statePath();
  let result;
  let slowMs = 0;
  withLock(file, () => {
    const s = JSON.parse(fs.readFileSync(file, 'utf8'));
    slowMs = s.slowMs ?? 0;
    s.executed = [...(s.executed ?? []), { command: program, params: { args } }];
    s.counts = s.counts ?? {};
    const keys = [program, ...args.slice(0, 2).map((_, i) => [program, ...args.slice(0, i + 1)].join(' '))];
    const counts = keys.map((k) => (s.counts[k.toLowerCase()] = (s.counts[k.toLowerCase()] ?? 0) + 1));
    const fault = (s.faults ?? []).find((f) => keys.some((k, i) => String(f.command).toLowerCase() === k.toLowerCase() && (f.nth == null || f.nth === counts[i])));
    result = fault ? { fault, count: counts[keys.findIndex((k) => k.toLowerCase() === String(fault.command).toLowerCase())] } : handler(s, args);
    writeState(file, s);
  });
  if (slowMs > 0) setTimeout(() => finish(program, result), slowMs);
  else finish(program, result);
}

function finish(program, r) {
  if (r.fault) {
    if (r.fault.kind === 'die') process.exit(255);
    if (r.fault.kind === 'hang') return void setTimeout(() => {}, 3600 * 1000);
    process.stderr.write(`${r.fault.message ?? `Injected fault: ${program} failed (call ${r.count}).`}${CRLF}`);
    process.exitCode = 1;
    return;
  }
  if (r.out) process.stdout.write(r.out);
  if (r.err) process.stderr.write(r.err);
  process.exitCode = r.code ?? 0;
  if (r.hang) setTimeout(() => {}, 3600 * 1000);
}

/** Where a file path lands on this machine: relative to the current directory; Windows-only paths exist nowhere here. */
function hostPath(p) {
  if (/^[A-Za-z]:[\\/]/.test(p) || p.startsWith('\\\\')) return { path: p, windowsOnly: true };
  return { path: path.resolve(process.cwd(), p), windowsOnly: false };
}

function parentExists(p) {
  const h = hostPath(p);
  return !h.windowsOnly && fs.existsSync(path.dirname(h.path));
}

/** The whole capture at the stop. What a flush timer wrote is a prefix of it: the rest is written after it, never over it. */
function writeEtl(s, p) {
  const target = hostPath(p).path;
  const bytes = fs.readFileSync(s.etlTemplate);
  const have = fs.existsSync(target) ? fs.statSync(target).size : 0;
  if (have === 0 || have >= bytes.length) return fs.writeFileSync(target, bytes);
  const fd = fs.openSync(target, 'r+');
  try { fs.writeSync(fd, bytes, have, bytes.length - have, have); } finally { fs.closeSync(fd); }
}

function inventory(s) {
  return JSON.parse(fs.readFileSync(s.inventory, 'utf8'));
}

module.exports = { CRLF, run, hostPath, parentExists, writeEtl, inventory, withLock, writeState };

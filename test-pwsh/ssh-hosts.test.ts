/**
 * Smoke test of the SSH fleet (ssh/ssh-hosts.ts, ssh/README.md): real PowerShell remoting over SSH
 * from ONE controller pwsh (ssh/smoke.ps1) to three fake Windows hosts of different types, plus a
 * host that refuses the client key and an address where nothing listens. Each host answers with
 * its own identity and commands, a session keeps state between calls, a 100 MB file comes back
 * through Copy-Item -FromSession with the same SHA-256, and a host that dies mid-session breaks
 * only its own session. The figures (session open time, call latency, -ThrottleLimit, copy
 * throughput and CPU, the controller's peak RSS) and PowerShell's exact error texts go to the
 * test's diagnostics and test-output/ssh-smoke.json.
 * Without sshd or pwsh the test is skipped with one line; in CI (CI=true) that fails instead.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { findPwsh, type HostType } from './fake-windows/fake-host.js';
import { sshFleetUnavailable, startSshFleet, type SshFleet } from './ssh/ssh-hosts.js';

const WHY = sshFleetUnavailable();
if (WHY && process.env['CI'] === 'true') throw new Error(`CI: the SSH fleet smoke test cannot run: ${WHY}`);

const REPO = join(import.meta.dirname, '..');
const SMOKE = join(import.meta.dirname, 'ssh', 'smoke.ps1');
const COPY_MB = 100;

/** The three reachable hosts and the command set each type must show over SSH (fake-windows/README.md, Host types). */
const HOSTS: Array<{ name: string; type: HostType; docker: boolean; pktmon: boolean; hyperV: boolean; hns: boolean }> = [
  { name: 'ch2022', type: 'ws2022-docker', docker: true, pktmon: true, hyperV: true, hns: true },
  { name: 'aks1', type: 'aks-containerd', docker: false, pktmon: true, hyperV: false, hns: true },
  { name: 'ch2016', type: 'ws2016', docker: true, pktmon: false, hyperV: true, hns: false },
];
const DENIED = 'denied1';
const VICTIM = 'ch2016';

interface Spec {
  user: string;
  keyFile: string;
  hosts: Array<{ name: string; address: string; port: number }>;
  /** Attempts that must fail; keyFile instead of the spec's. */
  failures: Array<{ label: string; address: string; port: number; keyFile?: string }>;
  copyMB: number;
  copyDestination: string;
  /** The remote call on this host writes `request`; the test then kills the host. */
  kill: { name: string; request: string };
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
  /** Sizes the local copy had, seen every 25 ms while Copy-Item ran (its write steps). */
  copySizes: number[];
}

function specFor(fleet: SshFleet, work: string): Spec {
  const denied = fleet.host(DENIED);
  return {
    user: fleet.user,
    keyFile: fleet.keyFile,
    hosts: HOSTS.map((h) => ({ name: h.name, address: fleet.host(h.name).address, port: fleet.host(h.name).port })),
    failures: [
      { label: 'denied-key', address: denied.address, port: denied.port },
      { label: 'nothing-listening', ...fleet.noSshd },
      // Authorized, but BatchMode: ssh cannot ask for the passphrase, so it must fail at once, not prompt or hang.
      { label: 'passphrase-key', address: fleet.host(HOSTS[0]!.name).address, port: fleet.host(HOSTS[0]!.name).port, keyFile: fleet.passphraseKeyFile },
    ],
    copyMB: COPY_MB,
    copyDestination: join(work, 'copy.bin'),
    kill: { name: VICTIM, request: join(work, 'kill-request') },
  };
}

/** Runs smoke.ps1 in one pwsh; meanwhile kills the host the script asks for and watches the copy grow. */
async function runController(fleet: SshFleet, spec: Spec, specFile: string): Promise<Run> {
  const t0 = Date.now();
  // Its own process group: a timeout kills the dotnet-tool launcher, pwsh and its ssh children together.
  const child = spawn(findPwsh()!, ['-NoProfile', '-NonInteractive', '-File', SMOKE, '-SpecFile', specFile], { env: fleet.clientEnv, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  const copySizes: number[] = [];
  let killed = false;
  const watch = setInterval(() => {
    if (!killed && existsSync(spec.kill.request)) {
      fleet.kill(spec.kill.name);
      killed = true;
    }
    if (existsSync(spec.copyDestination)) {
      const n = statSync(spec.copyDestination).size;
      if (copySizes.at(-1) !== n) copySizes.push(n);
    }
  }, 25);
  const timeout = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 240_000);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearInterval(watch);
  clearTimeout(timeout);
  return { code, stdout, stderr, ms: Date.now() - t0, copySizes };
}

/** What ssh itself printed during one failing attempt: stdout lines between the script's markers, and matching stderr lines. */
function sshText(run: Run, label: string, pattern: RegExp): { stdout: string[]; stderr: string[] } {
  const lines = run.stdout.split(/\r?\n/);
  const from = lines.indexOf(`@@begin ${label}`);
  const to = lines.indexOf(`@@end ${label}`);
  return { stdout: lines.slice(from + 1, to).filter((l) => l.trim()), stderr: run.stderr.split(/\r?\n/).filter((l) => pattern.test(l)) };
}

/** Waits (bounded) until no remote session process of these hosts runs; returns how long that took. */
async function sessionsGone(fleet: SshFleet, names: string[], ms: number): Promise<{ ms: number; left: number[] }> {
  const t0 = Date.now();
  for (;;) {
    const left = names.flatMap((n) => fleet.remotePids(n));
    if (left.length === 0 || Date.now() - t0 > ms) return { ms: Date.now() - t0, left };
    await new Promise((r) => setTimeout(r, 100));
  }
}

// The controller's JSON: only the fields the assertions read are typed.
interface Failure { label: string; opened: boolean; message?: string; record?: string; errorId?: string; exceptionType?: string; ms?: number }
interface Identity {
  address: string; computerName: string; newNetEventSession: string | null; docker: string | null; pktmon: string | null;
  hyperV: boolean; hns: boolean; elevated: boolean; stateFile: string;
}
interface Result {
  error?: string;
  open: { oneCallSessions: number; [k: string]: unknown };
  failures: Failure[];
  identity: Identity[];
  state: { calls: number; sessions: string[] };
  copy: { size: number; localSize: number; remoteHash: string; localHash: string; wallSeconds: number; mbPerSecond: number; cpuMs: Record<string, number> };
  hostDies: { name: string; duringCall: Failure | string; nextCall: Failure | string; stateAfterCall: string; othersAnswer: string[] };
  sessionsLeft: number;
  [k: string]: unknown;
}

function parseResult(run: Run): Result {
  const line = run.stdout.split(/\r?\n/).find((l) => l.startsWith('@@result '));
  assert.ok(line, `the controller printed no result (exit ${run.code}); stdout: ${run.stdout.slice(-2000)} stderr: ${run.stderr.slice(-2000)}`);
  return JSON.parse(line.slice('@@result '.length)) as Result;
}

function checkIdentity(fleet: SshFleet, r: Result): void {
  assert.equal(r.identity.length, HOSTS.length, JSON.stringify(r.identity));
  for (const h of HOSTS) {
    const host = fleet.host(h.name);
    const id = r.identity.find((x) => x.address === host.address);
    assert.ok(id, `${h.name} answered`);
    assert.equal(id.computerName, h.name.toUpperCase(), `${h.name}: its own COMPUTERNAME`);
    assert.equal(id.stateFile, host.fake.stateFile, `${h.name}: its own state file`);
    assert.equal(id.newNetEventSession, 'New-NetEventSession');
    assert.equal(id.elevated, true, `${h.name}: the fake elevation types load in the remote pwsh (DOTNET_STARTUP_HOOKS)`);
    assert.deepEqual({ docker: !!id.docker, pktmon: !!id.pktmon, hyperV: id.hyperV, hns: id.hns }, { docker: h.docker, pktmon: h.pktmon, hyperV: h.hyperV, hns: h.hns }, `${h.name} (${h.type}): its command set`);
  }
}

function checkState(fleet: SshFleet, r: Result): void {
  assert.equal(r.state.calls, 2, 'the second call sees the first call\'s global variable');
  assert.deepEqual(r.state.sessions, ['wnvcap-ssh-smoke'], 'the second call sees the NetEventSession of the first');
  assert.deepEqual(fleet.host('ch2022').fake.state().sessions.map((s) => s.name), ['wnvcap-ssh-smoke']);
  for (const h of HOSTS.slice(1)) {
    const s = fleet.host(h.name).fake.state();
    assert.equal(s.sessions.length, 0, `${h.name} saw no other host's session`);
    assert.ok(!s.executed.some((c) => c.command === 'New-NetEventSession'), `${h.name} ran no New-NetEventSession`);
  }
}

function checkFailures(r: Result, run: Run): Record<string, unknown> {
  const texts: Record<string, unknown> = {};
  const patterns: Record<string, RegExp> = { 'denied-key': /Permission denied/, 'nothing-listening': /Connection refused/, 'passphrase-key': /Permission denied/, 'killed-host-new-session': /Connection refused/ };
  for (const [label, pattern] of Object.entries(patterns)) {
    const f = r.failures.find((x) => x.label === label);
    assert.ok(f && !f.opened && f.message, `${label}: New-PSSession failed with a message (${JSON.stringify(f)})`);
    const ssh = sshText(run, label, pattern);
    assert.ok([...ssh.stdout, ...ssh.stderr].some((l) => pattern.test(l)), `${label}: ssh said ${pattern} (${JSON.stringify(ssh)})`);
    texts[label] = { ...f, sshOnStdout: ssh.stdout, sshOnStderr: ssh.stderr };
  }
  return texts;
}

function checkCopy(r: Result, run: Run): void {
  assert.equal(r.copy.size, COPY_MB * 1024 * 1024);
  assert.equal(r.copy.localSize, r.copy.size);
  assert.equal(r.copy.localHash, r.copy.remoteHash, 'Copy-Item -FromSession: same SHA-256 on both sides');
  assert.ok(run.copySizes.length > 0, 'the copy was seen');
}

function checkHostDies(r: Result): void {
  assert.equal(r.hostDies.name, VICTIM);
  const failed = (x: Failure | string): boolean => typeof x === 'object' && !!x.message;
  assert.ok(failed(r.hostDies.duringCall), `the call running when its host died fails (${JSON.stringify(r.hostDies)})`);
  assert.ok(failed(r.hostDies.nextCall), `the next call on that session fails (${JSON.stringify(r.hostDies)})`);
  assert.deepEqual(r.hostDies.othersAnswer, HOSTS.filter((h) => h.name !== VICTIM).map((h) => h.name.toUpperCase()).sort(), 'the other sessions still answer');
}

const brief = (x: Failure | string): string => (typeof x === 'string' ? `answered ${x}` : `${JSON.stringify(x.message)} [${x.errorId}] ${x.ms} ms`);

/** The figures, one diagnostic line each, and everything in test-output/ssh-smoke.json. */
function report(t: { diagnostic(m: string): void }, figures: Record<string, number>, errors: Record<string, unknown>, r: Result, run: Run): void {
  const steps = run.copySizes.slice(1).map((n, i) => n - run.copySizes[i]!);
  const lines = [
    `fleet and controller: ${JSON.stringify(figures)}`,
    `open: ${JSON.stringify(r.open)}`,
    `latency: ${JSON.stringify(r['latency'])}`,
    `throttle: ${JSON.stringify(r['throttle'])}`,
    `copy ${COPY_MB} MB: ${r.copy.wallSeconds} s, ${r.copy.mbPerSecond} MB/s, cpu ms ${JSON.stringify(r.copy.cpuMs)}; the local file grew in ${run.copySizes.length} sizes seen, steps ${[...new Set(steps)].sort((a, b) => a - b).join('/')} B`,
    `controller rss: ${JSON.stringify(r['controllerRss'])}; remote peak rss: ${JSON.stringify(r['remotePeakRss'])}`,
    ...r.failures.map((f) => `${f.label}: ${brief(f)}`),
    `host dies during a call: ${brief(r.hostDies.duringCall)}; next call: ${brief(r.hostDies.nextCall)}`,
    `controller stderr: ${JSON.stringify(run.stderr.slice(0, 500))}`,
  ];
  for (const l of lines) t.diagnostic(l);
  mkdirSync(join(REPO, 'test-output'), { recursive: true });
  const stdout = run.stdout.split('\n').filter((l) => !l.startsWith('@@result'));
  writeFileSync(join(REPO, 'test-output', 'ssh-smoke.json'), `${JSON.stringify({ ...figures, errors, result: r, copySizes: run.copySizes, stdout, stderr: run.stderr }, null, 1)}\n`);
}

test('SSH fleet: one controller pwsh, real PowerShell remoting to 3 fake Windows hosts, a denied key, nothing listening, a host that dies', WHY ? { skip: WHY } : { timeout: 300_000 }, async (t) => {
  const t0 = Date.now();
  const fleet = await startSshFleet([...HOSTS.map((h) => ({ name: h.name, type: h.type })), { name: DENIED, type: 'ws2022-docker' }], { deniedNames: [DENIED] });
  const startMs = Date.now() - t0;
  const work = mkdtempSync(join(tmpdir(), 'wnvcap-ssh-smoke-'));
  try {
    const spec = specFor(fleet, work);
    writeFileSync(join(work, 'spec.json'), JSON.stringify(spec));
    const run = await runController(fleet, spec, join(work, 'spec.json'));
    const r = parseResult(run);
    assert.equal(r.error, undefined, r.error);
    assert.ok(!run.stdout.includes(fleet.passphrase) && !run.stderr.includes(fleet.passphrase), 'the passphrase appears nowhere');
    const gone = await sessionsGone(fleet, HOSTS.map((h) => h.name), 10_000);
    const errors = { ...checkFailures(r, run), 'host-dies': { ...r.hostDies, sshOnStdout: sshText(run, 'host-dies', /closed/).stdout } };
    report(t, { fleetStartMs: startMs, controllerMs: run.ms, remoteSessionsGoneMs: gone.ms }, errors, r, run);
    assert.equal(r.open.oneCallSessions, HOSTS.length, 'New-PSSession -SSHConnection ("address:port", ConnectingTimeout) opened every host');
    checkIdentity(fleet, r);
    checkState(fleet, r);
    checkCopy(r, run);
    checkHostDies(r);
    assert.equal(r.sessionsLeft, 0, 'Remove-PSSession removed every session');
    assert.deepEqual(gone.left, [], 'no remote pwsh outlives its removed session');
    assert.equal(run.code, 0);
  } finally {
    await fleet.dispose();
    rmSync(work, { recursive: true, force: true });
  }
});

/**
 * A simulated fleet of 24 hosts, some unreachable, some denying access, one with a foreign capture
 * session, one whose copy fails, some slow: one command finishes with the right envelope for every
 * host, never more than N at once, every good host's ETL pulled and hash-verified, no session left
 * on any host, a merged report with a section per good host; no credential anywhere.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import winston from 'winston';
import { resolveCaptureOptions } from '../../src/capture/options.js';
import { loadProfile } from '../../src/capture/profiles.js';
import { main } from '../../src/cli/main.js';
import { runFleet } from '../../src/fleet/fleet.js';
import { renderFleetText } from '../../src/fleet/render.js';
import { behaviourFromName, SimRemoteHost } from '../../src/sim/sim-fleet.js';
import { REPO } from '../helpers/fixtures.js';

const NAMES = [
  ...Array.from({ length: 14 }, (_, i) => `ch${String(i + 1).padStart(2, '0')}`),
  'slow-ch15', 'slow-ch16', 'slow-ch17', 'unreachable-ch18', 'unreachable-ch19', 'denied-ch20', 'denied-ch21', 'foreign-ch22', 'nocopy-ch23', 'ch24',
];
const SECRET = 'Pa$$w0rd-not-for-logs-7q';
// The remedies a user reads (remote/remote-runner.ts), written out.
const REMEDY_WINRM = 'WinRM is not enabled or not reachable: run Enable-PSRemoting -Force on the host, open TCP 5985/5986, check the name';
const REMEDY_ADMIN = 'the account is not an administrator on the host (or UAC remote restrictions apply): use --credential with an admin account';
const REMEDY_COPY = 'the capture is still on the host; copy it by hand (Copy-Item -FromSession) or run again';

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex').toUpperCase();
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

test('fleet of 24 simulated hosts: envelopes, throttle, verified copies, no session left, merged report, no secrets', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wnvcap-fleet-'));
  const lines: string[] = [];
  const sink = new Writable({ write(chunk, _enc, cb) { lines.push(String(chunk)); cb(); } });
  const logger = winston.createLogger({ level: 'debug', transports: [new winston.transports.Stream({ stream: sink })] });
  const hosts = NAMES.map((n) => new SimRemoteHost({ host: n, transport: 'winrm' }, behaviourFromName(n), join(dir, 'disks'), { user: 'CORP\\capture', password: SECRET }));
  const o = resolveCaptureOptions(await loadProfile('container'), { duration: '1s' }, { out: join(dir, 'out'), dryRun: false, force: false });
  const throttle = 5;
  const r = await runFleet(hosts, o, { throttle, logger, signal: new AbortController().signal, stateDir: join(dir, 'state'), application: 'test', pollMs: 200 });
  assert.equal(r.hosts.length, NAMES.length);
  assert.ok(r.maxConcurrent <= throttle, `at most ${throttle} at once, measured ${r.maxConcurrent}`);
  assert.equal(r.maxConcurrent, throttle, 'the throttle is used');
  const byName = Object.fromEntries(r.hosts.map((h) => [h.host, h]));
  for (const n of NAMES) {
    const h = byName[n]!;
    const b = behaviourFromName(n);
    if (b.unreachable || b.accessDenied) {
      assert.deepEqual([h.status, h.phase], ['failed', 'connect'], n);
      assert.equal(h.error!.remedy, b.unreachable ? REMEDY_WINRM : REMEDY_ADMIN, n);
    } else if (b.foreignSession) {
      assert.deepEqual([h.status, h.phase], ['failed', 'preflight'], n);
      assert.match(h.error!.message, /NetTrace-ops/);
    } else if (b.copyFails) {
      assert.deepEqual([h.status, h.phase], ['failed', 'fetch'], n);
      assert.equal(h.error!.remedy, REMEDY_COPY);
    } else {
      assert.equal(h.status, 'ok', `${n}: ${h.error?.message}`);
      assert.ok(h.packets! > 0);
      // The ETL that came back is the file the host hashed (Get-FileHash over the host's own copy,
      // before it was removed), and run.json records that hash.
      const host = hosts.find((x) => x.host === n)!;
      const remotePath = join(host.remoteDir, basename(h.runDir!), 'capture.etl');
      const rec = JSON.parse(readFileSync(join(h.runDir!, 'run.json'), 'utf8')) as { fetched: { sha256: string; bytes: number } };
      const etl = readFileSync(join(h.runDir!, 'capture.etl'));
      assert.match(host.hostHashes.get(remotePath) ?? '', /^[0-9A-F]{64}$/, `${n}: the host hashed ${remotePath}`);
      assert.equal(sha256(etl), host.hostHashes.get(remotePath));
      assert.equal(rec.fetched.sha256, host.hostHashes.get(remotePath));
      assert.equal(etl.length, rec.fetched.bytes);
      assert.ok(!existsSync(remotePath), `${n}: the verified remote copy was removed`);
    }
  }
  for (const host of hosts) assert.equal(host.sessionsLeft(), 0, `${host.host}: no capture session left`);
  assert.equal(r.exitCode, 5, 'some hosts failed');
  const good = r.hosts.filter((h) => h.status === 'ok').map((h) => h.host);
  assert.equal(good.length, 18);
  assert.deepEqual(r.report!.hosts.map((h) => h.host), good);
  const text = renderFleetText(r, 10);
  for (const g of good) assert.match(text, new RegExp(`^host ${g}$`, 'm'));
  assert.ok(r.report!.crossHostFlows.length > 0);
  // No credential in logs, run folders (run.json, wnvcap.log, reports, snapshots) or anywhere on disk we wrote.
  assert.ok(!lines.join('\n').includes(SECRET), 'not in the log');
  for (const f of walk(join(dir, 'out'))) assert.ok(!readFileSync(f).includes(SECRET), `not in ${f}`);
  assert.ok(!text.includes(SECRET));
  // Not even in the scripts sent to PowerShell: the controller builds the credential once from its
  // own environment (test-pwsh/controller.test.ts runs that in a real pwsh); the steps name it.
  assert.ok(hosts.every((h) => h.wrapperScripts.every((s) => !s.includes(SECRET))), 'in no script text');
  assert.ok(hosts[0]!.wrapperScripts.some((s) => s.includes('-Credential $WnvcapCredential')));
});

test('remoting failures as Windows words them: the remedy the user reads; a copy damaged in transit is caught and the host keeps its file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wnvcap-fleet-fail-'));
  const quiet = winston.createLogger({ silent: true, transports: [new winston.transports.Console()] });
  // Neutral names: the remedy must come from the error text, not from the host's name.
  const hosts = [
    new SimRemoteHost({ host: 'ch41', transport: 'winrm' }, { unreachable: true }, join(dir, 'disks')),
    new SimRemoteHost({ host: 'ch42', transport: 'winrm' }, { accessDenied: true }, join(dir, 'disks')),
    new SimRemoteHost({ host: 'ch43', transport: 'winrm' }, { copyFails: true }, join(dir, 'disks')),
    new SimRemoteHost({ host: 'ch44', transport: 'winrm' }, { corruptCopy: true }, join(dir, 'disks')),
    new SimRemoteHost({ host: 'ch45', transport: 'winrm' }, {}, join(dir, 'disks')),
  ];
  const o = resolveCaptureOptions(await loadProfile('container'), { duration: '1s' }, { out: join(dir, 'out'), dryRun: false, force: false });
  const r = await runFleet(hosts, o, { throttle: 5, logger: quiet, signal: new AbortController().signal, stateDir: join(dir, 'state'), application: 'test', pollMs: 200 });
  const [unreachable, denied, nocopy, corrupt, good] = r.hosts;
  assert.deepEqual([unreachable!.status, unreachable!.phase, unreachable!.error!.remedy], ['failed', 'connect', REMEDY_WINRM]);
  assert.match(unreachable!.error!.message, /Connecting to remote server ch41 failed with the following error message : WinRM cannot complete the operation/);
  assert.deepEqual([denied!.status, denied!.phase, denied!.error!.remedy], ['failed', 'connect', REMEDY_ADMIN]);
  assert.match(denied!.error!.message, /Connecting to remote server ch42 failed with the following error message : Access is denied\./);
  assert.deepEqual([nocopy!.status, nocopy!.phase, nocopy!.error!.remedy], ['failed', 'fetch', REMEDY_COPY]);
  assert.match(nocopy!.error!.message, /The network path was not found/);
  // One byte flipped in transit: the local hash is not the host's, the envelope fails at fetch,
  // and the remote file stays where it was, unchanged.
  assert.deepEqual([corrupt!.status, corrupt!.phase, corrupt!.error!.remedy], ['failed', 'fetch', REMEDY_COPY]);
  assert.match(corrupt!.error!.message, /does not match .*the remote file was kept/);
  const remote = join(hosts[3]!.remoteDir, basename(corrupt!.runDir!), 'capture.etl');
  assert.ok(existsSync(remote), 'the remote copy is kept');
  assert.equal(sha256(readFileSync(remote)), hosts[3]!.hostHashes.get(remote));
  // What arrived is kept apart and never decoded as the capture.
  assert.notEqual(sha256(readFileSync(join(corrupt!.runDir!, 'capture.etl.partial'))), hosts[3]!.hostHashes.get(remote));
  assert.ok(!existsSync(join(corrupt!.runDir!, 'capture.etl')) && !existsSync(join(corrupt!.runDir!, 'report.json')), 'no report of a damaged copy');
  const rec = JSON.parse(readFileSync(join(corrupt!.runDir!, 'run.json'), 'utf8')) as { fetched?: unknown; steps: Array<{ name: string; ok: boolean }> };
  assert.equal(rec.fetched, undefined, 'no verified copy is recorded');
  assert.deepEqual(rec.steps.filter((s) => s.name === 'fetch').map((s) => s.ok), [false]);
  // The same host without the damage: ok, and its remote copy removed after the check.
  assert.equal(good!.status, 'ok');
  assert.ok(!existsSync(join(hosts[4]!.remoteDir, basename(good!.runDir!), 'capture.etl')));
  assert.equal(r.exitCode, 5);
});

test('fleet CLI: --json envelope, exit code says some/none, credentials from the environment only', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wnvcap-fleetcli-'));
  let out = '';
  let err = '';
  const env = { WNVCAP_STATE_DIR: join(dir, 'state'), WNVCAP_PASSWORD: SECRET };
  const code = await main(['capture', '--simulate', '--duration', '1s', '--out', dir, '--computer', 'ch01,denied-ch02', '--credential', 'CORP\\capture', '--json', '--throttle', '2'],
    { stdout: (t) => { out += t; }, stderr: (t) => { err += t; }, stderrIsTTY: false, env, cwd: dir });
  assert.equal(code, 5, err);
  const j = JSON.parse(out) as { hosts: Array<{ host: string; status: string; phase: string; files: string[]; error: unknown }> };
  assert.deepEqual(j.hosts.map((h) => [h.host, h.status]), [['ch01', 'ok'], ['denied-ch02', 'failed']]);
  assert.ok(!out.includes(SECRET) && !err.includes(SECRET));
  for (const f of walk(dir)) assert.ok(!readFileSync(f).includes(SECRET), `not in ${f}`);
  let o2 = '';
  const none = await main(['capture', '--simulate', '--duration', '1s', '--out', dir, '--computer', 'unreachable-x', '--json'],
    { stdout: (t) => { o2 += t; }, stderr: () => {}, stderrIsTTY: false, env, cwd: dir });
  assert.equal(none, 4);
  assert.equal((JSON.parse(o2) as { hosts: Array<{ phase: string }> }).hosts[0]!.phase, 'connect');
  let e3 = '';
  assert.equal(await main(['capture', '--simulate', '--computer', 'bad host;rm'], { stdout: () => {}, stderr: (t) => { e3 += t; }, stderrIsTTY: false, env, cwd: dir }), 2);
  assert.match(e3, /--computer/);
});

/** The process and all its descendants (Linux /proc): pid -> command line (NUL-separated args joined by spaces). */
function processTree(root: number): Map<number, string> {
  const parent = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const tree = new Map<number, string>();
  const add = (pid: number): void => {
    try {
      tree.set(pid, readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' '));
    } catch {
      return;
    }
    for (const [c, p] of parent) if (p === pid) add(c);
  };
  add(root);
  return tree;
}

/** Runs a program and reads the command line of every process in its tree, every 25 ms, until it exits. */
interface Watched {
  code: number | null;
  out: string;
  err: string;
  cmdlines: Set<string>;
  samples: number;
}

async function watchTree(cmd: string, args: string[], opts: { env: NodeJS.ProcessEnv; cwd: string }): Promise<Watched> {
  const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (b: Buffer) => { out += String(b); });
  child.stderr.on('data', (b: Buffer) => { err += String(b); });
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  let done = false;
  void exited.then(() => { done = true; });
  const cmdlines = new Set<string>();
  let samples = 0;
  while (!done) {
    for (const c of processTree(child.pid!).values()) cmdlines.add(c);
    samples++;
    await new Promise((r) => setTimeout(r, 25));
  }
  const code = await exited;
  await new Promise((r) => setImmediate(r)); // the last output chunks
  return { code, out, err, cmdlines, samples };
}

test('fleet CLI in a child process: the password from WNVCAP_PASSWORD is on no command line of its process tree, in no file it wrote, not in its log', { skip: process.platform !== 'linux' && 'reads /proc' }, async () => {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  // The watcher sees a password on a grandchild's command line when there is one.
  const control = await watchTree(process.execPath, ['-e', `require('node:child_process').spawnSync(process.execPath, ['-e', 'setTimeout(() => {}, 600)', ${JSON.stringify(SECRET)}])`], { env: process.env, cwd: tmpdir() });
  assert.ok([...control.cmdlines].some((c) => c.includes(SECRET)), 'the watcher finds a password in argv of a grandchild');
  const dir = mkdtempSync(join(tmpdir(), 'wnvcap-fleet-child-'));
  const logFile = join(dir, 'wnvcap-log.jsonl');
  const r = await watchTree(process.execPath, ['--import', tsx, join(REPO, 'src', 'cli', 'bin.ts'), 'capture', '--simulate', '--duration', '2s', '--out', join(dir, 'out'),
    '--computer', 'ch01,slow-ch02,denied-ch03', '--credential', 'CORP\\capture', '--log-file', logFile, '--verbose'],
  { env: { ...process.env, WNVCAP_PASSWORD: SECRET, WNVCAP_STATE_DIR: join(dir, 'state') }, cwd: dir });
  assert.equal(r.code, 5, r.err);
  assert.ok(r.samples >= 10, `sampled ${r.samples} times`);
  assert.ok([...r.cmdlines].some((c) => c.includes('--credential CORP\\capture')), 'the watcher saw the CLI itself');
  for (const c of r.cmdlines) assert.ok(!c.includes(SECRET), `not on a command line: ${c}`);
  assert.ok(!r.out.includes(SECRET) && !r.err.includes(SECRET), 'not on stdout or stderr');
  const files = walk(dir);
  assert.ok(files.includes(logFile) && readFileSync(logFile, 'utf8').includes('"level":"debug"'), 'the debug log was written');
  assert.ok(files.some((f) => f.endsWith('run.json')) && files.some((f) => f.endsWith('capture.etl')));
  for (const f of files) assert.ok(!readFileSync(f).includes(SECRET), `not in ${f}`);
});

test('doctor, sessions and compartments with --computer: each host answers, failures do not stop the others', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wnvcap-multi-'));
  const env = { WNVCAP_STATE_DIR: join(dir, 'state') };
  const call = async (argv: string[]): Promise<{ code: number; out: string; err: string }> => {
    let out = '';
    let err = '';
    const code = await main(argv, { stdout: (t) => { out += t; }, stderr: (t) => { err += t; }, stderrIsTTY: false, env, cwd: dir });
    return { code, out, err };
  };
  const d = await call(['doctor', '--simulate', '--computer', 'ch01,unreachable-ch02,ch03']);
  assert.equal(d.code, 5);
  assert.match(d.out, /^simulated host ch01$/m);
  assert.match(d.out, /^simulated host ch03$/m);
  assert.match(d.err, /unreachable-ch02: .*WinRM cannot complete/);
  assert.match(d.err, /unreachable-ch02: hint: WinRM is not enabled/);
  const s = await call(['sessions', 'list', '--simulate', '--computer', 'foreign-ch04']);
  assert.equal(s.code, 0);
  assert.match(s.out, /NetTrace-ops {2}Running {2}not wnvcap/);
  const c = await call(['compartments', '--simulate', '--computer', 'ch05', '--json']);
  assert.equal(c.code, 0);
  assert.equal((JSON.parse(c.out) as { host: string; compartments: unknown[] }).compartments.length, 5);
});

test('Ctrl-C during a fleet capture: every host that started a session stops and removes it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wnvcap-fleet-int-'));
  const quiet = winston.createLogger({ silent: true, transports: [new winston.transports.Console()] });
  const hosts = ['ch01', 'ch02', 'slow-ch03', 'ch04', 'ch05', 'ch06'].map((n) => new SimRemoteHost({ host: n, transport: 'winrm' }, behaviourFromName(n), join(dir, 'disks')));
  const o = resolveCaptureOptions(await loadProfile('container'), { duration: '60s' }, { out: join(dir, 'out'), dryRun: false, force: false });
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 1500);
  const t0 = Date.now();
  const r = await runFleet(hosts, o, { throttle: 6, logger: quiet, signal: ac.signal, stateDir: join(dir, 'state'), application: 'test', pollMs: 200 });
  assert.ok(Date.now() - t0 < 30000, 'stops long before the 60 s window');
  for (const h of hosts) assert.equal(h.sessionsLeft(), 0, `${h.host}: session removed`);
  assert.ok(r.hosts.every((h) => h.status === 'ok'), 'an early stop still brings the captures back');
});

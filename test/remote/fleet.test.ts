/**
 * A simulated fleet of 24 hosts, some unreachable, some denying access, one with a foreign capture
 * session, one whose copy fails, some slow: one command finishes with the right envelope for every
 * host, never more than N at once, every good host's ETL pulled and hash-verified, no session left
 * on any host, a merged report with a section per good host; no credential anywhere.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import winston from 'winston';
import { resolveCaptureOptions } from '../../src/capture/options.js';
import { loadProfile } from '../../src/capture/profiles.js';
import { main } from '../../src/cli/main.js';
import { runFleet } from '../../src/remote/fleet.js';
import { renderFleetText } from '../../src/report/fleet.js';
import { behaviourFromName, SimRemoteHost } from '../../src/sim/sim-fleet.js';

const NAMES = [
  ...Array.from({ length: 14 }, (_, i) => `ch${String(i + 1).padStart(2, '0')}`),
  'slow-ch15', 'slow-ch16', 'slow-ch17', 'unreachable-ch18', 'unreachable-ch19', 'denied-ch20', 'denied-ch21', 'foreign-ch22', 'nocopy-ch23', 'ch24',
];
const SECRET = 'Pa$$w0rd-not-for-logs-7q';

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
  const o = resolveCaptureOptions(await loadProfile('container'), { duration: '1s' }, { out: join(dir, 'out'), dryRun: false, simulate: true, force: false });
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
      assert.match(h.error!.remedy!, b.unreachable ? /Enable-PSRemoting/ : /administrator/, n);
    } else if (b.foreignSession) {
      assert.deepEqual([h.status, h.phase], ['failed', 'preflight'], n);
      assert.match(h.error!.message, /NetTrace-ops/);
    } else if (b.copyFails) {
      assert.deepEqual([h.status, h.phase], ['failed', 'fetch'], n);
      assert.match(h.error!.remedy!, /still on the host/);
    } else {
      assert.equal(h.status, 'ok', `${n}: ${h.error?.message}`);
      assert.ok(h.packets! > 0);
      // The ETL came back and matches the hash recorded from the remote copy.
      const rec = JSON.parse(readFileSync(join(h.runDir!, 'run.json'), 'utf8')) as { fetched: { sha256: string; bytes: number } };
      const etl = readFileSync(join(h.runDir!, 'capture.etl'));
      assert.equal(createHash('sha256').update(etl).digest('hex').toUpperCase(), rec.fetched.sha256);
      assert.equal(etl.length, rec.fetched.bytes);
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
  assert.ok(!process.argv.join(' ').includes(SECRET));
  // It does reach the host: only inside the script text sent on standard input.
  assert.ok(hosts[0]!.wrapperScripts.some((s) => s.includes(`ConvertTo-SecureString -String '${SECRET.replace(/'/g, "''")}'`)));
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
  const o = resolveCaptureOptions(await loadProfile('container'), { duration: '60s' }, { out: join(dir, 'out'), dryRun: false, simulate: true, force: false });
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 1500);
  const t0 = Date.now();
  const r = await runFleet(hosts, o, { throttle: 6, logger: quiet, signal: ac.signal, stateDir: join(dir, 'state'), application: 'test', pollMs: 200 });
  assert.ok(Date.now() - t0 < 30000, 'stops long before the 60 s window');
  for (const h of hosts) assert.equal(h.sessionsLeft(), 0, `${h.host}: session removed`);
  assert.ok(r.hosts.every((h) => h.status === 'ok'), 'an early stop still brings the captures back');
});

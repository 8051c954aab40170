/** CLI: capture on the simulated host, dry run, usage errors, profiles, doctor, and cleanup after a killed agent. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readPcapng } from '../../src/pcapng/pcapng-reader.js';
import { runCli } from '../helpers/cli.js';
import { parsePowerShell } from '../helpers/ps-parse.js';
import { REPO } from '../helpers/fixtures.js';

const run = runCli;

test('capture --simulate: a run folder with everything, a report with several compartments', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wnvcap-cap-'));
  const r = await run(['capture', '--simulate', '--duration', '1s', '--out', dir], { WNVCAP_STATE_DIR: join(dir, 'state') });
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /simulated host SIM-CH01: completed \(duration reached\)/);
  assert.match(r.out, /SIMULATED host/);
  const runDir = join(dir, readdirSync(dir).find((n) => n.startsWith('run-'))!);
  for (const f of ['capture.etl', 'snapshot.json', 'run.json', 'wnvcap.log', 'capture.pcapng', 'report.txt', 'report.html']) assert.ok(existsSync(join(runDir, f)), f);
  const comps = [...r.out.matchAll(/^ +(\d) (web|api|db|cache) /gm)];
  assert.ok(comps.length >= 2, 'at least two compartments in the report');
  const rec = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as { simulated: boolean; steps: Array<{ name: string }>; cleanup: { sessionRemoved: boolean }; decode: unknown };
  assert.equal(rec.simulated, true);
  assert.deepEqual(rec.steps.map((s) => s.name), ['preflight', 'inventory', 'start', 'stop']);
  assert.equal(rec.cleanup.sessionRemoved, true);
  // One decode feeds the pcapng and the report. The simulated host's capture holds PktMon packets:
  // the one-read attempt, then the summary and packet passes (two decodes would open it 6 times).
  assert.deepEqual(rec.decode, { passes: 2, fileOpens: 3 });
  // The run folder's pcapng names interfaces by the snapshot beside it, and comments packets with their compartment.
  const pcap = readPcapng(readFileSync(join(runDir, 'capture.pcapng')));
  assert.ok(pcap.interfaces.some((i) => i.name === 'web (compartment 2) vNIC ifIndex 23'), pcap.interfaces.map((i) => i.name).join(' | '));
  assert.ok(pcap.packets.length > 0 && pcap.packets.every((p) => /compartment=\d/.test(p.comments.join(' '))), 'every packet of the simulated host has its compartment');
});

test('capture --simulate --backend pktmon: a PktMon capture is read twice (its component names are logged last), once per pass, for pcapng and report together', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wnvcap-cap-pktmon-'));
  const r = await run(['capture', '--simulate', '--backend', 'pktmon', '--duration', '1s', '--out', dir], { WNVCAP_STATE_DIR: join(dir, 'state') });
  assert.equal(r.code, 0, r.err);
  const runDir = join(dir, readdirSync(dir).find((n) => n.startsWith('run-'))!);
  const rec = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as { decode: unknown; packets: number };
  assert.ok(rec.packets > 0);
  // Opens: the one-pass attempt, then the summary pass and the packet pass.
  assert.deepEqual(rec.decode, { passes: 2, fileOpens: 3 });
  // The run folder's pcapng names interfaces by the snapshot beside it, and comments packets with their compartment.
  const pcap = readPcapng(readFileSync(join(runDir, 'capture.pcapng')));
  assert.ok(pcap.interfaces.some((i) => i.name === 'web (compartment 2) vNIC ifIndex 23'), pcap.interfaces.map((i) => i.name).join(' | '));
  assert.ok(pcap.packets.length > 0 && pcap.packets.every((p) => /compartment=\d/.test(p.comments.join(' '))), 'every packet of the simulated host has its compartment');
});

test('capture --dry-run prints every script in order, each introduced by a # line, and they parse', async () => {
  const r = await run(['capture', '--dry-run', '--ip', '10.0.0.1', '--protocol', 'tcp', '--out', 'C:\\captures']);
  assert.equal(r.code, 0, r.err);
  const steps = [...r.out.matchAll(/^# ---- step (\S+):/gm)].map((m) => m[1]);
  assert.deepEqual(steps, ['preflight', 'inventory', 'cleanup-own', 'start', 'status', 'stop']);
  assert.equal(parsePowerShell(r.out).hasError, false);
  assert.match(r.out, /Add-NetEventPacketCaptureProvider -SessionName 'wnvcap-[^']+' -Level 5 -CaptureType 'BothPhysicalAndSwitch' -TruncationLength 256 -MultiLayer \$false -IpAddresses @\('10\.0\.0\.1'\) -IpProtocols @\(6\)/);
});

test('capture: bad flag values exit 2 naming the flag; no Windows and no --simulate is a clear error', async () => {
  for (const [argv, re] of [[['--ip', '300.1.1.1'], /--ip/], [['--max-size', 'huge'], /--max-size/], [['--mac', 'xx'], /--mac/], [['--profile', 'nope'], /no profile named "nope"/]] as const) {
    const r = await run(['capture', '--dry-run', ...argv]);
    assert.equal(r.code, 2, argv.join(' '));
    assert.match(r.err, re);
  }
  if (process.platform !== 'win32') {
    const r = await run(['capture', '--duration', '1s']);
    assert.equal(r.code, 4);
    assert.match(r.err, /needs a Windows host/);
    assert.match(r.err, /--simulate/);
  }
});

test('profiles list/show and doctor on the simulated host', async () => {
  const l = await run(['profiles', 'list']);
  for (const n of ['container', 'hyperv', 'lbfo', 'sdn', 'drops', 'minimal']) assert.match(l.out, new RegExp(`^${n} `, 'm'));
  const lj = JSON.parse((await run(['profiles', 'list', '--json'])).out) as Array<{ name: string; description: string }>;
  assert.deepEqual(lj.map((p) => p.name).sort(), ['container', 'drops', 'hyperv', 'lbfo', 'minimal', 'sdn']);
  assert.ok(lj.every((p) => p.description.length > 0));
  const s = JSON.parse((await run(['profiles', 'show', 'drops'])).out) as { resolved: { backend: string; pktmonType: string } };
  assert.deepEqual([s.resolved.backend, s.resolved.pktmonType], ['pktmon', 'drop']);
  const dir = mkdtempSync(join(tmpdir(), 'wnvcap-doc-'));
  const d = await run(['doctor', '--simulate'], { WNVCAP_STATE_DIR: dir });
  assert.equal(d.code, 0);
  assert.match(d.out, /ok {3}elevated/);
});

test('sessions cleanup removes the session a killed agent left', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wnvcap-kill-'));
  const env = { ...process.env, WNVCAP_STATE_DIR: join(dir, 'state') };
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'src', 'cli', 'bin.ts'), 'capture', '--simulate', '--duration', '120s', '--out', dir], { env, stdio: 'ignore', cwd: REPO });
  const leases = join(dir, 'state', 'leases');
  const t0 = Date.now();
  while (!(existsSync(leases) && readdirSync(leases).length > 0)) {
    if (Date.now() - t0 > 30000) throw new Error('the agent never started its session');
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 300));
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  const list = await run(['sessions', 'list', '--simulate'], { WNVCAP_STATE_DIR: join(dir, 'state') });
  assert.match(list.out, /ORPHANED/);
  const c = await run(['sessions', 'cleanup', '--simulate'], { WNVCAP_STATE_DIR: join(dir, 'state') });
  assert.equal(c.code, 0, c.err);
  assert.match(c.out, /removed session wnvcap-/);
  const after = await run(['sessions', 'list', '--simulate', '--json'], { WNVCAP_STATE_DIR: join(dir, 'state') });
  const j = JSON.parse(after.out) as { sessions: unknown[]; leases: unknown[] };
  assert.deepEqual(j.sessions, []);
  assert.deepEqual(j.leases, []);
});

test('defect 9: doctor --computer checks that the agent computer account (what a SYSTEM task uses) administers each host', async () => {
  const state = mkdtempSync(join(tmpdir(), 'wnvcap-doc-'));
  const agent = { WNVCAP_STATE_DIR: state, USERDOMAIN: 'SIMCORP' };
  const ok = await run(['doctor', '--simulate', '--computer', 'ch01', '--json'], { ...agent, COMPUTERNAME: 'SIM-AGENT' });
  assert.equal(ok.code, 0, ok.err);
  const row = (out: string): { check: string; ok: boolean; remedy: string } | undefined => (JSON.parse(out) as { checks: Array<{ check: string; ok: boolean; remedy: string }> }).checks.find((c) => /computer|SYSTEM/.test(c.check));
  assert.deepEqual(row(ok.out)?.ok, true);
  assert.match(row(ok.out)!.check, /reach this host as SIMCORP\\SIM-AGENT\$/);
  const other = await run(['doctor', '--simulate', '--computer', 'ch01', '--json'], { ...agent, COMPUTERNAME: 'OTHER-AGENT' });
  assert.equal(row(other.out)?.ok, false);
  assert.match(row(other.out)!.remedy, /SIMCORP\\OTHER-AGENT\$ is not a direct member of the Administrators group on ch01/);
  const local = await run(['doctor', '--simulate', '--json'], { ...agent, COMPUTERNAME: 'SIM-AGENT' });
  assert.equal(row(local.out), undefined, 'no such row without --computer');
});

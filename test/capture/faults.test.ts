/**
 * Faults injected at every command of a capture on the simulated host, and SIGINT/SIGTERM at
 * every phase: the capture session is removed and the run folder and log say what happened, in
 * every case (the test enumerates them from a fault-free run).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import winston from 'winston';
import type { CaptureContext, RunRecord } from '../../src/capture/lifecycle.js';
import { captureRun as runCapture } from '../../src/run/capture-run.js';
import { resolveCaptureOptions } from '../../src/capture/options.js';
import { loadProfile } from '../../src/capture/profiles.js';
import { readLeases } from '../../src/capture/lease.js';
import { preflightStep } from '../../src/capture/steps.js';
import { SimHost, type SimFault } from '../../src/sim/sim-host.js';

/** The runner's timeout for steps in the fault loop: a "hang" waits this long, then times out. */
const HANG_TIMEOUT_MS = 20;
const quiet = winston.createLogger({ silent: true, transports: [new winston.transports.Console()] });
/** Every capture's folder goes in here, removed at the end (some 240 captures, 100 MB a run). */
const root = mkdtempSync(join(tmpdir(), 'wnvcap-fault-'));
after(() => rmSync(root, { recursive: true, force: true }));

async function capture(backend: string, host: SimHost, extra: Partial<CaptureContext> = {}): Promise<{ record: RunRecord; runDir: string; exitCode: number; stateDir: string }> {
  const out = mkdtempSync(join(root, 'run-'));
  const stateDir = join(out, 'state');
  const o = resolveCaptureOptions(await loadProfile('container'), { backend, duration: '3s' }, { out, dryRun: false, force: false });
  let clock = 0;
  const r = await runCapture(o, {
    runner: host, logger: quiet, signal: new AbortController().signal, stateDir, application: 'test', pollMs: 1000,
    now: () => clock, sleep: async (ms) => { clock += ms; }, ...extra,
  });
  return { ...r, stateDir };
}

function assertClean(host: SimHost, what: string): void {
  const s = host.snapshotState();
  assert.deepEqual(s.sessions, [], `${what}: a NetEventSession was left`);
  assert.equal(s.pktmon.running, false, `${what}: pktmon left running`);
  assert.equal(s.netsh.running, false, `${what}: netsh trace left running`);
}

for (const backend of ['netevent', 'pktmon', 'netsh']) {
  test(`faults at every command (${backend}): no session left, run.json and wnvcap.log say what happened`, async () => {
    const base = new SimHost({});
    const ok = await capture(backend, base);
    assert.equal(ok.record.outcome, 'completed');
    assert.equal(ok.exitCode, 0);
    assertClean(base, 'fault-free run');
    // Every (command, occurrence) the capture executed.
    const seen = new Map<string, number>();
    const points: Array<{ command: string; nth: number }> = [];
    for (const c of base.executed) {
      const n = (seen.get(c.name.toLowerCase()) ?? 0) + 1;
      seen.set(c.name.toLowerCase(), n);
      points.push({ command: c.name, nth: n });
    }
    assert.ok(points.length >= 10, `${points.length} fault points`);
    let cases = 0;
    for (const pt of points) {
      for (const kind of ['error', 'die', 'hang'] as const) {
        // error: the cmdlet fails; die: PowerShell itself dies; hang: the invocation times out.
        const fault: SimFault = kind === 'error' ? { kind, command: pt.command, nth: pt.nth, message: `injected failure at ${pt.command}` } : { kind, command: pt.command, nth: pt.nth };
        const host = new SimHost({ faults: [fault], defaultTimeoutMs: HANG_TIMEOUT_MS });
        const r = await capture(backend, host);
        const what = `${backend} ${kind} at ${pt.command}#${pt.nth}`;
        assertClean(host, what);
        const rec = JSON.parse(readFileSync(join(r.runDir, 'run.json'), 'utf8')) as RunRecord;
        // The step that met the fault says which fault it was; a hung one waited for the timeout.
        const hit = rec.steps.filter((s) => /simulated host: (PowerShell died|step \S+ timed out)/.test(s.error ?? ''));
        if (kind === 'die') assert.ok(hit.length === 1 && /PowerShell died while running/.test(hit[0]!.error!), `${what}: ${JSON.stringify(rec.steps)}`);
        if (kind === 'hang') {
          assert.ok(hit.length === 1 && new RegExp(`timed out after ${HANG_TIMEOUT_MS} ms`).test(hit[0]!.error!), `${what}: ${JSON.stringify(rec.steps)}`);
          assert.ok(hit[0]!.durationMs >= HANG_TIMEOUT_MS - 1, `${what}: hung for ${hit[0]!.durationMs} ms`);
        }
        assert.ok(['completed', 'failed'].includes(rec.outcome), `${what}: outcome ${rec.outcome}`);
        assert.ok(rec.steps.length > 0, `${what}: steps recorded`);
        if (rec.outcome === 'failed') {
          assert.ok(rec.error?.message, `${what}: the error is recorded`);
          assert.notEqual(r.exitCode, 0, `${what}: non-zero exit`);
          assert.match(readFileSync(join(r.runDir, 'wnvcap.log'), 'utf8'), /"level":"error"/, `${what}: logged`);
        }
        if (rec.session) assert.equal(rec.cleanup?.sessionRemoved, true, `${what}: cleanup recorded`);
        assert.deepEqual(await readLeases(r.stateDir), [], `${what}: lease removed`);
        cases++;
      }
    }
    assert.equal(cases, points.length * 3);
  });
}

test('a hang waits for the runner\'s timeout and fails as a timeout; a death fails at once', async () => {
  const step = preflightStep();
  const hang = new SimHost({ faults: [{ kind: 'hang', command: 'Get-CimInstance' }] });
  let t0 = Date.now();
  await assert.rejects(hang.run(step, { timeoutMs: 300 }), /^RemoteError: simulated host: step preflight timed out after 300 ms \(Get-CimInstance did not return\)$/);
  assert.ok(Date.now() - t0 >= 299, `waited ${Date.now() - t0} ms for opts.timeoutMs 300`);
  // Without opts.timeoutMs: the host's default.
  const hang2 = new SimHost({ faults: [{ kind: 'hang', command: 'Get-CimInstance' }], defaultTimeoutMs: 150 });
  t0 = Date.now();
  await assert.rejects(hang2.run(step), /timed out after 150 ms/);
  assert.ok(Date.now() - t0 >= 149);
  const die = new SimHost({ faults: [{ kind: 'die', command: 'Get-CimInstance' }], defaultTimeoutMs: 5000 });
  t0 = Date.now();
  await assert.rejects(die.run(step, { timeoutMs: 5000 }), /^RemoteError: simulated host: PowerShell died while running Get-CimInstance$/);
  assert.ok(Date.now() - t0 < 2000, 'a death does not wait for the timeout');
});

test('SIGINT/SIGTERM at every phase: the session is removed; during the window it is an early stop', async () => {
  // cleanup-own (the fifth phase) only runs when a leftover session exists: tested below with one.
  const phases = ['preflight', 'inventory', 'start', 'status', 'stop'];
  for (const phase of phases) {
    const host = new SimHost({});
    const ac = new AbortController();
    const r = await capture('netevent', host, { signal: ac.signal, beforeStep: (name) => { if (name === phase) ac.abort(); } });
    assertClean(host, `abort at ${phase}`);
    const rec = r.record;
    if (phase === 'preflight' || phase === 'inventory' || phase === 'start') {
      assert.equal(rec.outcome, 'cancelled', phase);
      assert.equal(r.exitCode, 130, phase);
    } else assert.ok(['stopped-by-signal', 'completed'].includes(rec.outcome), `${phase}: ${rec.outcome}`);
  }
  // cleanup-own runs only when an own session from an earlier (killed) run is on the host: with
  // one there, the abort comes before it is removed and before this run creates anything. The
  // run is cancelled, the leftover is left as it was (sessions cleanup removes it), no session or
  // lease of this run exists.
  {
    const leftover = { name: 'wnvcap-20250101T000000Z-dead', status: 'Running' as const, localFilePath: 'C:\\x.etl', maxFileSizeMB: 250, packetProvider: true, providers: [] };
    const host = new SimHost({ state: { sessions: [leftover] } });
    const ac = new AbortController();
    const seen: string[] = [];
    const r = await capture('netevent', host, { signal: ac.signal, beforeStep: (name) => { seen.push(name); if (name === 'cleanup-own') ac.abort(); } });
    assert.deepEqual(seen, ['preflight', 'cleanup-own'], 'the abort happened at cleanup-own');
    assert.equal(r.record.outcome, 'cancelled');
    assert.equal(r.exitCode, 130);
    assert.equal(r.record.session, undefined, 'no session of this run was started');
    assert.deepEqual(r.record.steps.map((s) => s.name), ['preflight']);
    assert.deepEqual(host.snapshotState().sessions.map((s) => s.name), ['wnvcap-20250101T000000Z-dead'], 'only the leftover, untouched');
    assert.ok(!host.executed.some((c) => /^(New|Remove|Stop)-NetEventSession$/i.test(c.name)), 'nothing was created, stopped or removed');
    assert.deepEqual(await readLeases(r.stateDir), []);
  }
  // Abort while waiting: stop early, still decode and report.
  const host = new SimHost({});
  const ac = new AbortController();
  let clock = 0;
  const out = mkdtempSync(join(tmpdir(), 'wnvcap-sig-'));
  const o = resolveCaptureOptions(await loadProfile('container'), { duration: '60s' }, { out, dryRun: false, force: false });
  const r = await runCapture(o, {
    runner: host, logger: quiet, signal: ac.signal, stateDir: join(out, 'state'), application: 'test', now: () => clock,
    sleep: async (ms) => { clock += ms; if (clock >= 5000) ac.abort(); },
  });
  assertClean(host, 'abort during the window');
  assert.equal(r.record.outcome, 'stopped-by-signal');
  assert.equal(r.exitCode, 0);
  assert.ok(existsSync(join(r.runDir, 'capture.pcapng')) && existsSync(join(r.runDir, 'report.html')));
});

test('refusals: not elevated, a foreign session, NetEventPacketCapture missing; an own leftover is removed', async () => {
  const notAdmin = await capture('auto', new SimHost({ state: { elevated: false } }));
  assert.equal(notAdmin.record.outcome, 'failed');
  assert.match(notAdmin.record.error!.hint ?? '', /Administrator/);
  const foreign = new SimHost({ state: { sessions: [{ name: 'NetTrace', status: 'Running', localFilePath: 'C:\\t.etl', maxFileSizeMB: 250, packetProvider: true, providers: [] }] } });
  const f = await capture('auto', foreign);
  assert.equal(f.record.outcome, 'failed');
  assert.match(f.record.error!.message, /already has a capture session "NetTrace"/);
  assert.match(f.record.error!.hint ?? '', /Get-NetEventSession \| Format-List/);
  assert.equal(foreign.snapshotState().sessions.length, 1, 'a foreign session is never touched');
  const old = await capture('auto', new SimHost({ state: { osBuild: 9200 } }));
  assert.equal(old.record.backend, 'netsh', 'no NetEventPacketCapture and no pktmon on build 9200: netsh');
  // The leftover's file: the simulated host writes it where the session says when it stops it.
  const leftFile = join(mkdtempSync(join(tmpdir(), 'wnvcap-leftover-')), 'x.etl');
  const left = new SimHost({ state: { sessions: [{ name: 'wnvcap-20250101T000000Z-dead', status: 'Running', localFilePath: leftFile, maxFileSizeMB: 250, packetProvider: true, providers: [] }] } });
  const l = await capture('auto', left);
  assert.equal(l.record.outcome, 'completed');
  assert.ok(l.record.warnings.some((w) => /removed leftover session wnvcap-20250101T000000Z-dead/.test(w)));
  assertClean(left, 'leftover');
});

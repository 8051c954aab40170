/**
 * Ctrl-C and SIGTERM with a real pwsh: at every phase through the lifecycle, and for real, sent to
 * the process group of a wnvcap CLI process as a terminal does (the pwsh child must not die with
 * it: defect 15); then an agent killed with SIGKILL and `wnvcap sessions cleanup` in a second
 * process removing what it left.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { RunRecord } from '../src/capture/lifecycle.js';
import { HOST_TYPES, type FakeHost } from './fake-windows/fake-host.js';
import { captureLeft, captureOn, cliOn, fakeHost, NEEDS_PWSH, PWSH } from './helpers.js';

const REPO = join(import.meta.dirname, '..');

for (const type of HOST_TYPES) {
  test(`${type}: an abort at every phase: nothing is left; once the window is open it is an early stop, before that a cancel`, NEEDS_PWSH, async () => {
    for (const phase of ['preflight', 'inventory', 'cleanup-own', 'start', 'status', 'stop']) {
      const fake = await fakeHost(type, phase === 'cleanup-own' ? { foreignSession: { name: 'wnvcap-20250101T000000Z-dead', status: 'Running', localFilePath: '/tmp/dead.etl' } } : {});
      const ac = new AbortController();
      let fired = false;
      const r = await captureOn(fake, { duration: '3s' }, { signal: ac.signal, beforeStep: (n) => { if (n === phase && !fired) { fired = true; ac.abort(); } } });
      assert.ok(fired, `${phase}: the abort fired`);
      if (phase === 'cleanup-own') assert.deepEqual(fake.state().sessions.map((s) => s.name), ['wnvcap-20250101T000000Z-dead'], 'only the leftover, untouched');
      else assert.equal(captureLeft(fake), undefined, `abort at ${phase}`);
      if (['preflight', 'inventory', 'cleanup-own', 'start'].includes(phase)) {
        assert.equal(r.record.outcome, 'cancelled', phase);
        assert.equal(r.exitCode, 130, phase);
      } else assert.ok(['stopped-by-signal', 'completed'].includes(r.record.outcome), `${phase}: ${r.record.outcome}`);
    }
  });
}

function startCli(fake: FakeHost, out: string, stateDir: string): ReturnType<typeof spawn> {
  return spawn(process.execPath, ['--import', 'tsx', join(REPO, 'src/cli/bin.ts'), 'capture', '--duration', '60s', '--out', out], {
    cwd: REPO, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...fake.env, WNVCAP_PWSH: PWSH ?? 'pwsh', WNVCAP_STATE_DIR: stateDir, PATH: `${fake.env['PATH']}:${process.env['PATH'] ?? ''}` },
  });
}

/** Waits until the run folder's run.json shows a session (the capture window is open). */
async function waitForSession(out: string, ms = 60_000): Promise<string> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    const run = existsSync(out) ? readdirSync(out).find((n) => n.startsWith('run-')) : undefined;
    if (run) {
      try {
        const rec = JSON.parse(readFileSync(join(out, run, 'run.json'), 'utf8')) as RunRecord;
        if (rec.session && rec.steps.some((s) => s.name === 'start' && s.ok)) return join(out, run);
      } catch {
        // being written
      }
    }
    await new Promise((res) => setTimeout(res, 200));
  }
  throw new Error('the capture did not start');
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  test(`defect 15: ${sig} to the whole process group (as a terminal sends Ctrl-C): recorded as stopped by signal, session removed`, { ...NEEDS_PWSH, timeout: 180_000 }, async () => {
    const fake = await fakeHost('ws2022-docker');
    const out = mkdtempSync(join(tmpdir(), 'wnvcap-sig-'));
    const child = startCli(fake, out, join(out, 'state'));
    let stderr = '';
    child.stderr?.on('data', (b: Buffer) => { stderr += b.toString(); });
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    const runDir = await waitForSession(out);
    await new Promise((res) => setTimeout(res, 1500)); // a status poll is likely in flight
    process.kill(-child.pid!, sig);
    const code = await exited;
    const rec = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as RunRecord;
    assert.equal(rec.outcome, 'stopped-by-signal', `${stderr}\n${JSON.stringify(rec.steps)}`);
    assert.equal(code, 0, stderr);
    assert.equal(rec.cleanup?.sessionRemoved, true);
    assert.equal(captureLeft(fake), undefined);
    assert.ok(rec.files['report'], 'the early stop still reports');
  });
}

test('a killed agent leaves a session; sessions list shows it orphaned, sessions cleanup (another process) removes it', { ...NEEDS_PWSH, timeout: 180_000 }, async () => {
  const fake = await fakeHost('ws2022-docker');
  const out = mkdtempSync(join(tmpdir(), 'wnvcap-kill-'));
  const stateDir = join(out, 'state');
  const child = startCli(fake, out, stateDir);
  const exited = new Promise((res) => child.on('exit', res));
  await waitForSession(out);
  process.kill(-child.pid!, 'SIGKILL');
  await exited;
  assert.notEqual(captureLeft(fake), undefined, 'the killed agent left its session');
  const list = await cliOn(fake, ['sessions', 'list', '--json'], { WNVCAP_STATE_DIR: stateDir });
  assert.equal(list.code, 0, list.err);
  const rows = (JSON.parse(list.out) as { sessions: Array<{ name: string; orphaned: boolean }> }).sessions;
  assert.equal(rows.length, 1);
  assert.equal(rows[0]!.orphaned, true);
  const clean = await cliOn(fake, ['sessions', 'cleanup'], { WNVCAP_STATE_DIR: stateDir });
  assert.equal(clean.code, 0, clean.err);
  assert.match(clean.out, /removed session wnvcap-/);
  assert.equal(captureLeft(fake), undefined);
  assert.deepEqual(readdirSync(join(stateDir, 'leases')), []);
});

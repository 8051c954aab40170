/**
 * Faults at every command a capture runs, in a real pwsh on fake hosts: the cmdlet fails (an error
 * record), PowerShell dies, or the command hangs until the step's timeout. In every case no capture
 * is left on the host, the lease is gone, and run.json and wnvcap.log say what happened.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readLeases } from '../src/capture/lease.js';
import type { RunRecord } from '../src/capture/lifecycle.js';
import type { FakeHost, FakeState, HostType } from './fake-windows/fake-host.js';
import { captureLeft, captureOn, CountingRunner, fakeHost, NEEDS_PWSH } from './helpers.js';

export interface FaultCase {
  host: HostType;
  backend: string;
  kinds: Array<'error' | 'die' | 'hang'>;
  /** Hang only at these commands (a hang costs the step's whole timeout). */
  hangAt?: RegExp;
  /** This file's share of the fault points (every of-th, from index): a long case split over files that run at once. */
  share?: { index: number; of: number };
}

/** Every (command, occurrence) of a fault-free run. */
function faultPoints(executed: Array<{ command: string }>): Array<{ command: string; nth: number }> {
  const seen = new Map<string, number>();
  return executed.map((c) => {
    const n = (seen.get(c.command.toLowerCase()) ?? 0) + 1;
    seen.set(c.command.toLowerCase(), n);
    return { command: c.command, nth: n };
  });
}

/** Puts the fake host back as it was made, with these faults (the call counts start again). */
function resetHost(fake: FakeHost, initial: FakeState, faults: FakeState['faults']): void {
  fake.update((s) => {
    for (const k of Object.keys(s)) delete (s as unknown as Record<string, unknown>)[k];
    Object.assign(s, structuredClone(initial), { faults });
  });
}

/**
 * One test: every fault kind at every command a fault-free capture ran. The captures of one test
 * share a fake host (reset before each) and a PowerShell kept warm between them (a new one after a
 * fault kills it): starting pwsh and loading the fake modules is most of a capture's CPU time.
 */
export function faultTest(c: FaultCase): void {
  const part = c.share ? ` [fault points ${c.share.index + 1} of every ${c.share.of}]` : '';
  test(`faults at every command (${c.host}, ${c.backend}: ${c.kinds.join(', ')})${part}: nothing left running, the failure recorded`, { ...NEEDS_PWSH, timeout: 900_000 }, async () => {
    const fake = await fakeHost(c.host);
    const initial = fake.state();
    // Only a hang waits out a timeout: the others keep the real limits, so a loaded machine cannot fail a healthy step.
    const shells = { warm: new CountingRunner(fake), hang: new CountingRunner(fake, { WNVCAP_TIMEOUT_SCALE: '0.05' }) };
    try {
      await faultRuns(c, fake, initial, shells);
    } finally {
      await shells.warm.dispose();
      await shells.hang.dispose();
    }
  });
}

async function faultRuns(c: FaultCase, fake: FakeHost, initial: FakeState, shells: { warm: CountingRunner; hang: CountingRunner }): Promise<void> {
  const ok = await captureOn(fake, { backend: c.backend }, { runner: shells.warm });
  assert.equal(ok.record.outcome, 'completed', JSON.stringify(ok.record.error));
  const every = faultPoints(fake.executed());
  assert.ok(every.length >= 6, `${every.length} fault points`);
  const points = c.share ? every.filter((_, i) => i % c.share!.of === c.share!.index) : every;
  for (const pt of points) {
    for (const kind of c.kinds.filter((k) => k !== 'hang' || !c.hangAt || c.hangAt.test(pt.command))) {
      const what = `${c.backend} ${kind} at ${pt.command}#${pt.nth}`;
      resetHost(fake, initial, [{ command: pt.command, nth: pt.nth, kind, message: `injected failure at ${pt.command}` }]);
      const r = await captureOn(fake, { backend: c.backend }, { runner: kind === 'hang' ? shells.hang : shells.warm });
      assert.equal(captureLeft(fake), undefined, `${what}: a capture was left`);
      const rec = JSON.parse(readFileSync(join(r.runDir, 'run.json'), 'utf8')) as RunRecord;
      assert.ok(['completed', 'failed'].includes(rec.outcome), `${what}: outcome ${rec.outcome}`);
      if (rec.outcome === 'failed') {
        assert.ok(rec.error?.message, `${what}: the error is recorded`);
        assert.notEqual(r.exitCode, 0, `${what}: non-zero exit`);
        assert.match(readFileSync(join(r.runDir, 'wnvcap.log'), 'utf8'), /"level":"error"/, `${what}: logged`);
        if (kind === 'hang') assert.match(JSON.stringify(rec), /timed out/, `${what}: a timeout, not a death`);
        if (kind === 'die') assert.match(JSON.stringify(rec), /died|printed no result|exited/, `${what}: PowerShell died`);
      } else {
        // A program that crashes (exit 255) where its failure is tolerated (pktmon filter remove) is tolerated too.
        const toleratedNative = kind === 'die' && /\.exe$/i.test(pt.command);
        assert.ok(kind === 'error' || toleratedNative || rec.warnings.length > 0 || rec.steps.some((s) => !s.ok), `${what}: a survived death or hang leaves a trace in run.json`);
      }
      const steps = rec.steps.map((st) => `${st.name} ${st.ok ? 'ok' : `failed (${st.error})`} ${st.durationMs} ms`).join('; ');
      if (rec.session) assert.equal(rec.cleanup?.sessionRemoved, true, `${what}: cleanup recorded: ${rec.cleanup?.detail}; steps: ${steps}`);
      assert.deepEqual(await readLeases(r.stateDir), [], `${what}: lease removed`);
    }
  }
}

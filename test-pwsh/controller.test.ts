/**
 * The controller (src/remote/controller.ts, session-pool.ts) in a real pwsh: one process, a
 * runspace pool of --throttle runspaces, one job per remote step. Steps here are local scripts
 * (the pool does not care what a job does); the remoting itself is in ssh-fleet.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { quoteString } from '../src/powershell/quote.js';
import { stmt, type Step } from '../src/powershell/script.js';
import { PoolController } from '../src/remote/controller.js';
import { ControllerShell } from '../src/remote/controller-shell.js';
import { LocalPowerShellRunner } from '../src/remote/local-runner.js';
import { CREDENTIAL_VAR, PASSWORD_ENV } from '../src/remote/session-pool.js';
import { NEEDS_PWSH, PWSH } from './helpers.js';
import { cmdline, processTree } from './proc.js';

/** A job that records when it ran (ms since the epoch) and sleeps. */
function sleeper(name: string, ms: number, timeoutMs?: number): Step {
  const body = `$t0 = [DateTimeOffset]::UtcNow.ToUnixTimeMilliseconds(); Start-Sleep -Milliseconds ${ms}; @($t0, [DateTimeOffset]::UtcNow.ToUnixTimeMilliseconds())`;
  return { name, description: `sleep ${ms} ms`, statements: [stmt([], { resultKey: 'span', expression: body })], ...(timeoutMs ? { timeoutMs } : {}) };
}

function controller(throttle: number, env: Record<string, string> = {}, extra: { credentialUser?: string } = {}): { c: PoolController; shell: ControllerShell } {
  const shell = new ControllerShell({ env: { ...process.env, WNVCAP_PWSH: PWSH ?? 'pwsh', ...env } });
  const c = new PoolController(shell, { throttle, pollMs: 100, stopGraceMs: 10_000, ...extra });
  c.retain();
  return { c, shell };
}

test('one controller runs at most --throttle remote steps at once, in one process, and every step gets its own answer', { ...NEEDS_PWSH, timeout: 120_000 }, async () => {
  const { c } = controller(3);
  try {
    const steps = Array.from({ length: 7 }, (_, i) => sleeper(`s${i}`, 1500));
    const results = await Promise.all(steps.map((s) => c.run(s)));
    const spans = results.map((r) => { assert.equal(r.ok, true, JSON.stringify(r.error)); return (r.result['span'] as number[]).map(Number) as [number, number]; });
    // Most steps running at one instant: never above the pool size, and the pool is used.
    const most = Math.max(...spans.map(([t]) => spans.filter(([a, b]) => a <= t && t < b).length));
    assert.equal(most, 3, `at most 3 at once, and 3 reached: ${JSON.stringify(spans)}`);
  } finally {
    await c.release();
  }
});

test('a step past its time is stopped alone: the others finish, the controller goes on', { ...NEEDS_PWSH, timeout: 120_000 }, async () => {
  const { c } = controller(4);
  try {
    const stuck = c.run(sleeper('stuck', 600_000, 2_000));
    const fine = c.run(sleeper('fine', 3_000));
    await assert.rejects(stuck, /step stuck timed out after 2 s and was stopped/);
    const r = await fine;
    assert.equal(r.ok, true);
    assert.equal(c.generation, 0, 'the controller was not replaced');
    assert.equal((await c.run(sleeper('after', 10))).ok, true);
  } finally {
    await c.release();
  }
});

test('a controller that dies loses its steps with a clear error; the next step starts a new one (generation says sessions are gone)', { ...NEEDS_PWSH, timeout: 120_000 }, async () => {
  const { c, shell } = controller(2);
  try {
    assert.equal((await c.run(sleeper('warm', 10))).ok, true);
    const pending = c.run(sleeper('long', 60_000));
    await new Promise((r) => setTimeout(r, 1500));
    const pid = shell.pid;
    assert.ok(pid, 'the controller runs');
    process.kill(-pid, 'SIGKILL'); // its process group (setsid): the launcher and pwsh
    await assert.rejects(pending, /the controller PowerShell failed .*remoting sessions are gone/);
    assert.equal(c.generation, 1);
    assert.equal((await c.run(sleeper('again', 10))).ok, true, 'a new controller');
  } finally {
    await c.release();
  }
});

test('--credential: the controller builds the PSCredential once from its environment and removes the variable; the password is on no command line', { ...NEEDS_PWSH, timeout: 120_000 }, async () => {
  const secret = `pw-${Math.random().toString(36).slice(2)}'";$x`;
  // The job compares with a second variable, so the password itself never comes back.
  const { c, shell } = controller(2, { [PASSWORD_ENV]: secret, WNVCAP_PROBE_EXPECT: secret }, { credentialUser: 'CORP\\capture' });
  try {
    const probe: Step = {
      name: 'probe', description: 'what a job sees',
      statements: [
        stmt([], { resultKey: 'user', expression: `$${CREDENTIAL_VAR}.UserName` }),
        stmt([], { resultKey: 'same', expression: `$${CREDENTIAL_VAR}.GetNetworkCredential().Password -eq [Environment]::GetEnvironmentVariable('WNVCAP_PROBE_EXPECT')` }),
        stmt([], { resultKey: 'envLeft', expression: `$null -ne $env:${PASSWORD_ENV}` }),
      ],
    };
    const r = await c.run(probe);
    assert.equal(r.ok, true, JSON.stringify(r.error));
    assert.deepEqual(r.result['user'], ['CORP\\capture']);
    assert.deepEqual(r.result['same'], [true], 'the credential holds the password');
    assert.deepEqual(r.result['envLeft'], [false], 'the variable is gone from the controller');
    const pid = shell.pid!;
    for (const p of processTree(pid)) assert.ok(!cmdline(p.pid).includes(secret), `not on the command line of ${p.pid}`);
  } finally {
    await c.release();
  }
});

test('a long transfer runs past its step time while it makes progress; a stalled one is stopped once nothing arrives for the idle time', { ...NEEDS_PWSH, timeout: 120_000 }, async () => {
  const { c } = controller(2);
  const dir = mkdtempSync(join(tmpdir(), 'wnvcap-progress-'));
  const grows = join(dir, 'grows.bin');
  const size = (f: string) => (): number => { try { return statSync(f).size; } catch { return -1; } };
  const writer = (f: string, rounds: number): Step => ({
    name: 'transfer', description: 'write a file slowly',
    statements: [stmt([], { resultKey: 'rounds', expression: `foreach ($i in 1..${rounds}) { [IO.File]::AppendAllText(${quoteString(f)}, 'x' * 1000); Start-Sleep -Milliseconds 700 }; ${rounds}` })],
  });
  try {
    const ok = await c.run(writer(grows, 8), { timeoutMs: 60_000, progress: size(grows), idleMs: 2_500 });
    assert.equal(ok.ok, true, 'about 5.6 s of steady progress, never 2.5 s without it');
    const stuck = join(dir, 'stuck.bin');
    writeFileSync(stuck, 'begun'); // a copy that began, then nothing more arrives
    await assert.rejects(c.run(sleeper('stalled', 60_000), { timeoutMs: 60_000, progress: size(stuck), idleMs: 2_000 }), /step stalled made no progress for 2 s and was stopped/);
    assert.equal((await c.run(sleeper('after', 10))).ok, true, 'the controller goes on');
  } finally {
    await c.release();
  }
});

test('no terminal sequences reach the runners even with a terminal type set: PowerShell runs with TERM=dumb (a sequence after the closing delimiter hung node-powershell)', { ...NEEDS_PWSH, timeout: 60_000 }, async () => {
  const env = { ...process.env, WNVCAP_PWSH: PWSH ?? 'pwsh', TERM: 'xterm-256color' };
  const local = new LocalPowerShellRunner({ env });
  const { c } = controller(1, { TERM: 'xterm-256color' });
  try {
    for (const r of [await local.run(sleeper('local', 10)), await c.run(sleeper('pooled', 10))]) {
      assert.equal(r.ok, true);
      assert.doesNotMatch(r.raw ?? '', /\x1b/, 'no escape sequence in what PowerShell printed');
    }
  } finally {
    await local.dispose();
    await c.release();
  }
});

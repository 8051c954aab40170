/**
 * `wnvcap capture --computer ... --ssh` over real PowerShell remoting to fake Windows hosts (one
 * sshd each, ssh/ssh-hosts.ts): New-PSSession -HostName, Invoke-Command of every capture step,
 * Copy-Item -FromSession with the SHA-256 checked on both sides, Remove-PSSession, all from one
 * controller pwsh and its runspace pool. Good hosts of four types, and failures for real: a refused
 * key, no sshd, a foreign capture session, a full disk, a slow host, a host that dies mid-copy,
 * SIGINT and SIGTERM mid-fleet. Each host's envelope says what happened and what to do; no host
 * keeps a capture session or a PowerShell session; no secret reaches a command line or a file.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { main } from '../src/cli/main.js';
import { PoolController } from '../src/remote/controller.js';
import { ControllerShell } from '../src/remote/controller-shell.js';
import { RemoteRunner } from '../src/remote/remote-runner.js';
import { writeNdisScenario } from '../src/sim/scenarios.js';
import { PWSH, tally } from './helpers.js';
import { cmdline, environ, processTree } from './proc.js';
import { startSshFleet, sshFleetUnavailable, type SshFleet } from './ssh/ssh-hosts.js';

const REPO = join(import.meta.dirname, '..');
const unavailable = sshFleetUnavailable();
if (unavailable && process.env['CI'] === 'true') throw new Error(`CI: ${unavailable}`);
const OPTS = (ms: number): { skip: string } | { timeout: number } => (unavailable ? { skip: unavailable } : { timeout: ms });

interface Envelope { host: string; status: string; phase: string; files: string[]; error: { message: string; remedy: string | null } | null }

/** What the CI line sums: hosts reached over SSH and the failure kinds a test exercised (scripts/run-tests.mjs). */
function sshTally(reached: string[], failureKinds: string[]): void {
  mkdirSync(join(REPO, 'test-output'), { recursive: true });
  appendFileSync(join(REPO, 'test-output', 'ssh-tally.jsonl'), `${JSON.stringify({ reached, failureKinds })}\n`);
}

/** A ~40 MB capture from our writer: its copy takes seconds, long enough to kill the host during it. */
function bigEtl(dir: string): string {
  const file = join(dir, 'big.etl');
  const fd = openSync(file, 'w');
  const r = writeNdisScenario({ seed: 7, packets: 44_000, bufferSize: 1 << 20 }, (c) => { writeSync(fd, c); });
  writeSync(fd, r.header, 0, r.header.length, 0);
  closeSync(fd);
  return file;
}

/** Every file under dir. */
function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

/** Waits until nothing of the host's remote sessions runs (Remove-PSSession ends them). */
async function remoteSessionsGone(fleet: SshFleet, names: string[], ms = 15_000): Promise<string[]> {
  const t0 = Date.now();
  let left: string[];
  do {
    left = names.filter((n) => fleet.remotePids(n).length > 0);
    if (left.length === 0) return [];
    await new Promise((r) => setTimeout(r, 250));
  } while (Date.now() - t0 < ms);
  return left;
}

test('fleet capture over SSH, one controller: four host types captured and fetched; a refused key, no sshd, a foreign session, a full disk, a slow host, a host that dies mid-copy', OPTS(600_000), async () => {
  const work = mkdtempSync(join(tmpdir(), 'wnvcap-fleet-ssh-'));
  const fleet = await startSshFleet([
    { name: 'ch2022', type: 'ws2022-docker' }, { name: 'aks1', type: 'aks-containerd' }, { name: 'old2016', type: 'ws2016' },
    { name: 'slow', type: 'ws2025', options: { slowMs: 700 } },
    { name: 'locked', type: 'ws2022-docker' },
    { name: 'busy', type: 'ws2022-docker', options: { foreignSession: { name: 'NetTrace', status: 'Running', localFilePath: 'C:\\ops\\t.etl' } } },
    { name: 'full', type: 'ws2022-docker', options: { diskFull: true } },
    { name: 'dies', type: 'ws2022-docker' },
  ], { deniedNames: ['locked'] });
  try {
    const big = bigEtl(work);
    fleet.host('dies').fake.update((s) => { s.etlTemplate = big; });
    const out = join(work, 'out');
    const remoteDir = join(work, 'remote-runs');
    mkdirSync(out);
    mkdirSync(remoteDir);
    const computers = ['ch2022', 'aks1', 'old2016', 'slow', 'locked', 'busy', 'full', 'dies', fleet.noSshd.address];
    // While it runs: kill 'dies' once its copy is arriving; count the controller PowerShells.
    let killedAt = -1;
    let killTime = -1;
    /** Session id of each controller PowerShell -> the command line it was first seen with, when it was seen first and last. */
    const controllers = new Map<number, string>();
    const seen = new Map<number, { first: number; last: number; pid: number }>();
    const t0 = Date.now();
    const secret = `pw-${Math.random().toString(36).slice(2)}`;
    const leaks: string[] = [];
    const watch = setInterval(() => {
      for (const p of processTree(process.pid)) {
        const line = cmdline(p.pid);
        // The controller's request loop (controller-shell.ts). Not `setsid` itself, before its
        // setsid() call: that moment has the command line and still this process's session.
        if (line.includes('@@wnvcap') && !/^\S*setsid\s/.test(line)) {
          if (!controllers.has(p.sid)) controllers.set(p.sid, line.slice(0, 80));
          const at = Date.now() - t0;
          const s = seen.get(p.sid);
          if (s) s.last = at;
          else seen.set(p.sid, { first: at, last: at, pid: p.pid });
        }
        if (line.includes(secret)) leaks.push(`local ${p.pid}: ${line}`);
      }
      for (const h of fleet.hosts) for (const pid of fleet.remotePids(h.name)) {
        if (cmdline(pid).includes(secret) || environ(pid).includes(secret)) leaks.push(`${h.name} ${pid}`);
      }
      if (killedAt >= 0) return;
      const fleetDir = readdirSync(out).find((n) => n.startsWith('fleet-'));
      const hostDir = fleetDir ? join(out, fleetDir, 'dies') : '';
      const run = hostDir && existsSync(hostDir) ? readdirSync(hostDir).find((n) => n.startsWith('run-')) : undefined;
      const etl = run ? join(hostDir, run, 'capture.etl') : '';
      if (etl && existsSync(etl) && statSync(etl).size > 1 << 20) {
        killedAt = statSync(etl).size;
        killTime = Date.now() - t0;
        fleet.kill('dies');
      }
    }, 100);
    let stdout = '';
    let stderr = '';
    let code: number;
    try {
      code = await main(['capture', '--computer', computers.join(','), '--ssh', '--user', fleet.user, '--key', fleet.keyFile,
        '--remote-dir', remoteDir, '--duration', '2s', '--throttle', '4', '--out', out, '--json'], {
        stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; }, stderrIsTTY: false, cwd: out,
        // A password in the environment (as for WinRM) must reach no host and no command line.
        env: { ...fleet.clientEnv, WNVCAP_PWSH: PWSH ?? 'pwsh', WNVCAP_STATE_DIR: join(work, 'state'), WNVCAP_PASSWORD: secret },
      });
    } finally {
      clearInterval(watch);
    }
    assert.equal(code, 5, `some hosts fail: ${stderr}`);
    const hosts = (JSON.parse(stdout) as { hosts: Envelope[] }).hosts;
    const by = Object.fromEntries(hosts.map((h) => [h.host, h]));
    for (const n of ['ch2022', 'aks1', 'old2016', 'slow']) {
      assert.equal(by[n]?.status, 'ok', `${n}: ${JSON.stringify(by[n])}`);
      assert.ok(by[n]!.files.includes('capture.etl') && by[n]!.files.includes('report.txt'), `${n}: fetched and reported`);
    }
    assert.ok(fleet.host('slow').fake.executed().length > 5, 'the slow host answered every step, late');
    assert.equal(by['locked']?.phase, 'connect');
    assert.match(by['locked']!.error!.message, /Permission denied \(publickey/, 'ssh\'s own words, found among the controller\'s output by the address ssh resolved');
    assert.match(by['locked']!.error!.remedy ?? '', /the SSH key was refused/);
    const none = by[fleet.noSshd.address]!;
    assert.equal(none.phase, 'connect');
    assert.match(none.error!.message, /Connection refused/);
    assert.match(none.error!.remedy ?? '', /sshd is not reachable/);
    assert.match(by['busy']!.error!.message, /already has a capture session "NetTrace"/);
    assert.match(by['busy']!.error!.remedy ?? '', /Get-NetEventSession \| Format-List/);
    assert.match(by['full']!.error!.message, /not enough space/i);
    assert.match(by['full']!.error!.remedy ?? '', /free disk space/);
    // The host that died during its copy: a failed fetch, the partial copy kept apart, the capture still on the host.
    assert.ok(killedAt > 0, 'the host was killed while its copy arrived');
    assert.equal(by['dies']?.status, 'failed', JSON.stringify(by['dies']));
    assert.equal(by['dies']!.phase, 'fetch');
    assert.match(by['dies']!.error!.message, /copy of .*capture\.etl from dies failed/);
    assert.match(by['dies']!.error!.remedy ?? '', /still on the host/);
    assert.ok(by['dies']!.files.includes('capture.etl.partial') && !by['dies']!.files.includes('capture.etl'), `the partial copy is kept apart: ${by['dies']!.files.join(', ')}`);
    // Nothing left behind.
    for (const h of fleet.hosts) assert.deepEqual(h.fake.state().sessions.filter((x) => x.name.startsWith('wnvcap-')), [], `${h.name}: no wnvcap capture session left`);
    // The hosts share this machine's disk: one capture is left in the remote folder, the dead host's.
    const onHosts = walk(remoteDir).filter((f) => f.endsWith('capture.etl'));
    assert.deepEqual(onHosts.map((f) => statSync(f).size), [statSync(big).size], 'every verified copy was removed from its host; the dead host keeps its capture');
    assert.deepEqual(await remoteSessionsGone(fleet, fleet.hosts.map((h) => h.name)), [], 'no host keeps a PowerShell session');
    // One controller PowerShell serves every host. pwsh 7.6.9 may abort when a host dies mid-copy
    // (remote-runner.ts copy()): then, and only then, a second one replaces it, never beside it.
    const when = [...seen].map(([sid, x]) => `${sid} (pid ${x.pid}) seen ${x.first}-${x.last} ms`).join('; ');
    const why = `sessions seen: ${[...controllers].map(([sid, l]) => `${sid}: ${l}`).join('; ')}; ${when}; host 'dies' killed at ${killTime} ms; ` +
      `${JSON.stringify(hosts.filter((h) => h.error).map((h) => [h.host, h.phase, h.error!.message]))}; stderr: ${stderr.slice(0, 4000)}`;
    const order = [...seen.values()].sort((a, b) => a.first - b.first);
    assert.ok(order.length === 1 || order.length === 2, `one controller, or one replaced once (${why})`);
    if (order.length === 2) {
      assert.ok(order[0]!.last < order[1]!.first, `the replacement started after the first controller was gone (${why})`);
      assert.ok(killTime >= 0 && order[1]!.first > killTime, `a replacement only after a host died mid-copy (${why})`);
      // The first served until the host died (the watcher polls every 100 ms): not replaced after an earlier failure.
      assert.ok(order[0]!.last >= killTime - 250, `the first controller ended when the host died, not before (${why})`);
    }
    assert.deepEqual(leaks, [], 'the password is on no command line and in no remote environment');
    for (const f of walk(out)) assert.ok(!readFileSync(f).includes(secret), `not in ${f}`);
    assert.ok(!stdout.includes(secret) && !stderr.includes(secret));
    tally('ws2022-docker', 1);
    const reached = hosts.filter((h) => h.phase !== 'connect').map((h) => h.host);
    sshTally(reached, ['unreachable', 'denied', 'foreign session', 'full disk', 'slow host', 'host dies mid-copy']);
  } finally {
    await fleet.dispose();
  }
});

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  test(`${sig} to the CLI mid-fleet (as a terminal sends Ctrl-C to its process group): every host stops and removes its session, reports what it has`, OPTS(300_000), async () => {
    const work = mkdtempSync(join(tmpdir(), 'wnvcap-fleet-sig-'));
    const fleet = await startSshFleet([{ name: 'sa', type: 'ws2022-docker' }, { name: 'sb', type: 'ws2025' }, { name: 'sc', type: 'aks-containerd', options: { slowMs: 300 } }]);
    try {
      const out = join(work, 'out');
      const remoteDir = join(work, 'remote-runs');
      mkdirSync(out);
      mkdirSync(remoteDir);
      const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'src/cli/bin.ts'), 'capture', '--computer', 'sa,sb,sc', '--ssh', '--user', fleet.user, '--key', fleet.keyFile,
        '--remote-dir', remoteDir, '--duration', '120s', '--throttle', '3', '--out', out, '--json'], {
        cwd: REPO, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...fleet.clientEnv, WNVCAP_PWSH: PWSH ?? 'pwsh', WNVCAP_STATE_DIR: join(work, 'state') },
      });
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (b: Buffer) => { stdout += b.toString(); });
      child.stderr!.on('data', (b: Buffer) => { stderr += b.toString(); });
      const exited = new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
      // Every host capturing: then the signal, to the whole process group.
      const t0 = Date.now();
      while (!fleet.hosts.every((h) => h.fake.state().sessions.some((s) => s.name.startsWith('wnvcap-') && s.status === 'Running'))) {
        if (Date.now() - t0 > 120_000) throw new Error(`the fleet did not start capturing: ${stderr}`);
        await new Promise((r) => setTimeout(r, 250));
      }
      await new Promise((r) => setTimeout(r, 1000));
      process.kill(-child.pid!, sig);
      const code = await exited;
      const hosts = (JSON.parse(stdout) as { hosts: Envelope[] }).hosts;
      assert.equal(code, 0, `every host stopped early and kept its capture: ${stderr}\n${stdout}`);
      for (const h of hosts) {
        assert.equal(h.status, 'ok', JSON.stringify(h));
        assert.ok(h.files.includes('capture.etl'), `${h.host}: the early stop still fetched`);
      }
      for (const h of fleet.hosts) assert.deepEqual(h.fake.state().sessions.filter((x) => x.name.startsWith('wnvcap-')), [], `${h.name}: no capture session left`);
      assert.deepEqual(await remoteSessionsGone(fleet, fleet.hosts.map((h) => h.name)), [], 'no host keeps a PowerShell session');
      const records = walk(out).filter((f) => f.endsWith('run.json')).map((f) => JSON.parse(readFileSync(f, 'utf8')) as { outcome: string });
      assert.deepEqual(records.map((r) => r.outcome), ['stopped-by-signal', 'stopped-by-signal', 'stopped-by-signal']);
      sshTally(fleet.hosts.map((h) => h.name), [`${sig} mid-fleet`]);
    } finally {
      await fleet.dispose();
    }
  });
}

test('the shared controller dies during a copy: the copy is made again once over a new session and verified; the host keeps nothing', OPTS(300_000), async () => {
  const work = mkdtempSync(join(tmpdir(), 'wnvcap-refetch-'));
  const fleet = await startSshFleet([{ name: 'cp1', type: 'ws2022-docker' }]);
  const shell = new ControllerShell({ env: { ...fleet.clientEnv, WNVCAP_PWSH: PWSH ?? 'pwsh' } });
  const controller = new PoolController(shell, { throttle: 2 });
  const runner = new RemoteRunner(controller, { host: 'cp1', transport: 'ssh', user: fleet.user, keyFile: fleet.keyFile }, work);
  try {
    const onHost = bigEtl(work);
    const expected = statSync(onHost).size;
    const local = join(work, 'fetched.etl');
    let killed = false;
    const watch = setInterval(() => {
      if (!killed && existsSync(local) && statSync(local).size > 1 << 20 && shell.pid) {
        killed = true;
        process.kill(-shell.pid, 'SIGKILL'); // the controller's process group, not the host
      }
    }, 50);
    let r;
    try {
      r = await runner.fetch(onHost, local, { timeoutMs: 300_000 });
    } finally {
      clearInterval(watch);
    }
    assert.ok(killed, 'the controller was killed while the copy arrived');
    assert.equal(controller.generation, 1, 'a new controller took over');
    assert.equal(r.bytes, expected);
    assert.equal(statSync(local).size, expected, 'the whole file, verified by the host\'s hash');
    assert.ok(!existsSync(onHost), 'the verified copy was removed from the host');
  } finally {
    await runner.dispose();
    await fleet.dispose();
  }
});

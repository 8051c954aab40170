/**
 * Fleet capture over real SSH remoting: N fake Windows hosts (one sshd each on loopback, see
 * test-pwsh/ssh/), each writing a ~100 MB ETL at stop, captured with `wnvcap capture --computer
 * ... --ssh` through the CLI (built: dist/). Reports wall time, the controller side's CPU and
 * peak memory (the wnvcap process plus its controller PowerShell and ssh clients, sampled from
 * /proc every 200 ms), per host count. The hosts' sshd and pwsh run on the same machine and
 * compete for its cores: wall time is a bound for a fleet of real hosts, not a forecast.
 * WNVCAP_BENCH_THROTTLE sets --throttle (default 8).
 *
 *   node --import tsx scripts/bench/fleet-ssh.ts [hosts...]      (default: 5 20)
 *   npm run bench:fleet
 */

import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeNdisScenario } from '../../src/sim/scenarios.js';
import { findPwsh } from '../../test-pwsh/fake-windows/fake-host.js';
import { processTree, rssKb } from '../../test-pwsh/proc.js';
import { startSshFleet, sshFleetUnavailable, type SshHostSpec } from '../../test-pwsh/ssh/ssh-hosts.js';

const REPO = join(import.meta.dirname, '..', '..');
const SIZES = process.argv.slice(2).map(Number).filter((n) => n > 0);
const COUNTS = SIZES.length ? SIZES : [5, 20];
const THROTTLE = Number(process.env['WNVCAP_BENCH_THROTTLE'] ?? 8);

/** A ~100 MB NDIS capture from our writer (cached in .bench/). */
function bigEtl(): string {
  const dir = join(REPO, '.bench');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'fleet-100MB.etl');
  if (existsSync(file)) return file;
  const fd = openSync(file, 'w');
  const r = writeNdisScenario({ seed: 7, packets: 110_000, bufferSize: 1 << 20 }, (c) => { writeSync(fd, c); });
  writeSync(fd, r.header, 0, r.header.length, 0); // the final header at offset 0, as the bench files do
  closeSync(fd);
  return file;
}

const TICK_S = 0.01; // USER_HZ on Linux

/** RSS (kB) of a process and its descendants; their CPU ticks noted by pid (the last value seen counts). */
function treeSample(root: number, cpu: Map<number, number>): number {
  let total = 0;
  for (const p of processTree(root)) {
    total += rssKb(p.pid);
    cpu.set(p.pid, p.cpuTicks);
  }
  return total;
}

/** The transfer's limit on this machine: one `ssh host cat file` of the same file, same sshd (wall MB/s, CPU s of ssh). */
function sshCatOnce(host: string, file: string, env: Record<string, string>): { mbps: number; cpuS: number } {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S', 'sh', '-c', 'ssh "$0" cat "$1" > /dev/null', host, file], { env, encoding: 'utf8' });
  const [e, u, s] = r.stderr.trim().split('\n').pop()!.split(' ').map(Number) as [number, number, number];
  return { mbps: Number((readFileSync(file).length / 1048576 / e).toFixed(1)), cpuS: Number((u + s).toFixed(1)) };
}

async function runOnce(n: number, etl: string): Promise<Record<string, number | string>> {
  const types: SshHostSpec['type'][] = ['ws2022-docker', 'ws2025', 'aks-containerd', 'ws2016'];
  const fleet = await startSshFleet(Array.from({ length: n }, (_, i) => ({ name: `h${i + 1}`, type: types[i % types.length]! })));
  try {
    for (const h of fleet.hosts) h.fake.update((s) => { s.etlTemplate = etl; });
    const limit = sshCatOnce(fleet.hosts[0]!.name, etl, fleet.clientEnv);
    const out = mkdtempSync(join(tmpdir(), 'wnvcap-bench-fleet-'));
    const remote = mkdtempSync(join(tmpdir(), 'wnvcap-bench-remote-'));
    const args = [join(REPO, 'dist/cli/bin.js'), 'capture', '--computer', fleet.hosts.map((h) => h.name).join(','), '--ssh', '--user', fleet.user, '--key', fleet.keyFile,
      '--remote-dir', remote, '--duration', '2s', '--max-size', '1GB', '--throttle', String(THROTTLE), '--out', out, '--json', '-q'];
    const { spawn } = await import('node:child_process');
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { cwd: out, env: { ...fleet.clientEnv, WNVCAP_PWSH: findPwsh() ?? 'pwsh', WNVCAP_STATE_DIR: join(out, 'state') }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => { stdout += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    let peakKb = 0;
    const cpu = new Map<number, number>();
    const sampler = setInterval(() => { peakKb = Math.max(peakKb, treeSample(child.pid!, cpu)); }, 200);
    const code = await new Promise<number>((res) => child.on('exit', (c) => res(c ?? -1)));
    clearInterval(sampler);
    const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
    if (!stdout.trim()) throw new Error(`wnvcap exited ${code} without a result: ${stderr.slice(-2000)}`);
    const ok = (JSON.parse(stdout) as { hosts: Array<{ status: string }> }).hosts.filter((h) => h.status === 'ok').length;
    const cpuS = [...cpu.values()].reduce((a, b) => a + b, 0) * TICK_S;
    const mb = Math.round(readFileSync(etl).length / 1048576);
    return {
      hosts: n, throttle: THROTTLE, ok, exit: code, wallS: Number(wallS.toFixed(1)), controllerCpuS: Number(cpuS.toFixed(1)), controllerPeakMB: Math.round(peakKb / 1024),
      etlMB: mb, fetchedMBps: Number(((n * mb) / wallS).toFixed(1)), sshCatMBps: limit.mbps, sshCatCpuS: limit.cpuS,
    };
  } finally {
    await fleet.dispose();
  }
}

const why = sshFleetUnavailable();
if (why) {
  console.error(`fleet bench skipped: ${why}`);
  process.exit(0);
}
const etl = bigEtl();
for (const n of COUNTS) {
  const r = await runOnce(n, etl);
  console.log(JSON.stringify(r));
}

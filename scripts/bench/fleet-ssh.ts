/**
 * Fleet capture over real SSH remoting: N fake Windows hosts (one sshd each on loopback, see
 * test-pwsh/ssh/), each writing a ~100 MB ETL at stop, captured with `wnvcap capture --computer
 * ... --ssh` through the CLI. Reports wall time, the controller side's CPU and peak memory (the
 * wnvcap process plus every PowerShell controller it starts, sampled from /proc), per host count.
 *
 *   node --import tsx scripts/bench/fleet-ssh.ts [hosts...]      (default: 5 20)
 *   npm run bench:fleet
 */

import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeNdisScenario } from '../../src/sim/scenarios.js';
import { findPwsh } from '../../test-pwsh/fake-windows/fake-host.js';
import { startSshFleet, sshFleetUnavailable, type SshHostSpec } from '../../test-pwsh/ssh/ssh-hosts.js';

const REPO = join(import.meta.dirname, '..', '..');
const SIZES = process.argv.slice(2).map(Number).filter((n) => n > 0);
const COUNTS = SIZES.length ? SIZES : [5, 20];

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

/** RSS (kB) of a process and all its descendants, from /proc. */
function treeRssKb(root: number): number {
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
    } catch { /* gone */ }
  }
  let total = 0;
  const walk = (pid: number): void => {
    try {
      const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      total += Number(m?.[1] ?? 0);
    } catch { /* gone */ }
    for (const c of children.get(pid) ?? []) walk(c);
  };
  walk(root);
  return total;
}

async function runOnce(n: number, etl: string): Promise<Record<string, number | string>> {
  const types: SshHostSpec['type'][] = ['ws2022-docker', 'ws2025', 'aks-containerd', 'ws2016'];
  const fleet = await startSshFleet(Array.from({ length: n }, (_, i) => ({ name: `h${i + 1}`, type: types[i % types.length]! })));
  try {
    for (const h of fleet.hosts) h.fake.update((s) => { s.etlTemplate = etl; });
    const out = mkdtempSync(join(tmpdir(), 'wnvcap-bench-fleet-'));
    const remote = mkdtempSync(join(tmpdir(), 'wnvcap-bench-remote-'));
    const args = ['--import', 'tsx', join(REPO, 'src/cli/bin.ts'), 'capture', '--computer', fleet.hosts.map((h) => h.name).join(','), '--ssh', '--user', fleet.user, '--key', fleet.keyFile,
      '--remote-dir', remote, '--duration', '2s', '--max-size', '1GB', '--throttle', '8', '--out', out, '--json', '-q'];
    const { spawn } = await import('node:child_process');
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { cwd: out, env: { ...fleet.clientEnv, WNVCAP_PWSH: findPwsh() ?? 'pwsh', WNVCAP_STATE_DIR: join(out, 'state') }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (b: Buffer) => { stdout += b.toString(); });
    let peakKb = 0;
    const sampler = setInterval(() => { peakKb = Math.max(peakKb, treeRssKb(child.pid!)); }, 200);
    const code = await new Promise<number>((res) => child.on('exit', (c) => res(c ?? -1)));
    clearInterval(sampler);
    const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
    const ok = (JSON.parse(stdout) as { hosts: Array<{ status: string }> }).hosts.filter((h) => h.status === 'ok').length;
    return { hosts: n, ok, exit: code, wallS: Number(wallS.toFixed(1)), controllerPeakMB: Math.round(peakKb / 1024), etlMB: Math.round(readFileSync(etl).length / 1048576) };
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


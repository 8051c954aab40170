/**
 * Follow mode in a real pwsh: the session's flush timer is set with Update-EtwTraceSession (the
 * fake host then writes the capture while it runs, bin/fake-etw-flush.cjs), and sniff's packets
 * reach the output while the capture still runs: on the local host (the file read as it grows)
 * and on a host reached over SSH (the new bytes pulled by tail steps through PowerShell remoting).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { main } from '../src/cli/main.js';
import { readPcapng } from '../src/pcapng/pcapng-reader.js';
import { fakeHost, NEEDS_PWSH, PWSH, tally } from './helpers.js';
import { sshFleetUnavailable, startSshFleet } from './ssh/ssh-hosts.js';

const REPO = join(import.meta.dirname, '..');
const unavailable = sshFleetUnavailable();
if (unavailable && process.env['CI'] === 'true') throw new Error(`CI: ${unavailable}`);

type Packet = ReturnType<typeof readPcapng>['packets'][number];
/** A packet as Wireshark shows it; sorted lists compare what two files hold whatever their order. */
const view = (p: Packet): string => `${p.timestamp} ${Buffer.from(p.data).toString('hex')} ${p.comments.join(' ')}`;
const held = (bytes: Uint8Array): string[] => readPcapng(bytes).packets.map(view).sort();

function runDirOf(dir: string): string {
  return join(dir, readdirSync(dir).find((n) => n.startsWith('run-'))!);
}

test('follow on Server 2022 in a real pwsh: Update-EtwTraceSession -FlushTimer 1, packets on stdout while the capture runs, the same packets as the run folder\'s', NEEDS_PWSH, async () => {
  const fake = await fakeHost('ws2022-docker');
  const dir = mkdtempSync(join(tmpdir(), 'wnvcap-follow-'));
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), join(REPO, 'src', 'cli', 'bin.ts'), 'sniff', 'web', '--duration', '10s', '--out', dir, '-w', '-'], {
    cwd: fake.dir, env: { ...fake.env, WNVCAP_PWSH: PWSH ?? 'pwsh', WNVCAP_STATE_DIR: join(dir, 'state') }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  let err = '';
  let beforeEnd = -1;
  child.stdout.on('data', (d: Buffer) => out.push(d));
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
    if (beforeEnd < 0 && /run folder .*: completed/.test(err)) beforeEnd = readPcapng(Buffer.concat(out)).packets.length;
  });
  const code = await new Promise<number | null>((res) => child.on('close', res));
  assert.equal(code, 0, err);
  assert.ok(beforeEnd > 0, `packets reached stdout before the capture ended (${beforeEnd}): ${err}`);
  const flush = fake.executed().find((c) => c.command === 'Update-EtwTraceSession');
  assert.ok(flush, 'the flush timer was set');
  assert.deepEqual(flush.params['FlushTimer'], 1);
  assert.match(String(flush.params['Name']), /^wnvcap-/);
  const stream = Buffer.concat(out);
  assert.deepEqual(held(stream), held(readFileSync(join(runDirOf(dir), 'target.pcapng'))), 'the stream holds what target.pcapng holds');
  tally('ws2022-docker', 6);
});

test('follow over SSH: tail steps bring the host\'s new bytes; the file fills while the capture runs; the same packets as the run folder\'s', unavailable ? { skip: unavailable } : { timeout: 180_000 }, async () => {
  const fleet = await startSshFleet([{ name: 'fw1', type: 'ws2025' }]);
  const dir = mkdtempSync(join(tmpdir(), 'wnvcap-follow-ssh-'));
  const file = join(dir, 'web.pcapng');
  let duringRun = 0;
  const watch = setInterval(() => {
    // While run.json still says running, whatever the file holds came by following.
    const runs = existsSync(dir) ? readdirSync(dir).filter((n) => n.startsWith('run-')) : [];
    const run = runs[0] ? join(dir, runs[0], 'run.json') : '';
    if (!run || !existsSync(run) || !existsSync(file)) return;
    try {
      if ((JSON.parse(readFileSync(run, 'utf8')) as { outcome: string }).outcome === 'running') duringRun = Math.max(duringRun, readPcapng(readFileSync(file)).packets.length);
    } catch {
      // a file being written: look again
    }
  }, 250);
  let err = '';
  let code: number;
  try {
    code = await main(['sniff', 'web', '--computer', 'fw1', '--ssh', '--user', fleet.user, '--key', fleet.keyFile, '--duration', '12s', '-w', file, '--out', dir, '--remote-dir', join(dir, 'remote')], {
      stdout: () => undefined, stderr: (t) => { err += t; }, stderrIsTTY: false, cwd: dir,
      env: { ...fleet.clientEnv, WNVCAP_PWSH: PWSH ?? 'pwsh', WNVCAP_STATE_DIR: join(dir, 'state') },
    });
  } finally {
    clearInterval(watch);
    await fleet.dispose();
  }
  assert.equal(code, 0, err);
  assert.ok(duringRun > 0, `packets were in the file while the capture ran: ${err}`);
  const runDir = runDirOf(dir);
  const run = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as { steps: Array<{ name: string; ok: boolean }>; warnings: string[]; fetched?: { bytes: number } };
  assert.ok(run.steps.some((s) => s.name === 'flush-timer' && s.ok), JSON.stringify(run.steps));
  assert.ok(!run.warnings.some((w) => /could not be read while it is written/.test(w)), run.warnings.join('\n'));
  assert.ok(run.fetched && run.fetched.bytes > 0, 'the verified copy came back as well');
  assert.ok(!existsSync(join(runDir, 'capture.etl.live')), 'the followed copy is gone: the run folder keeps the verified one');
  assert.deepEqual(held(readFileSync(file)), held(readFileSync(join(runDir, 'target.pcapng'))));
  tally('ws2025', 8);
});

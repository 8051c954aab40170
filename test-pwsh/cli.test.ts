/**
 * doctor, sessions, compartments, schedule and sniff through the CLI, its PowerShell a real pwsh
 * on each fake host type.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readPcapng } from '../src/pcapng/pcapng-reader.js';
import { HOST_TYPES } from './fake-windows/fake-host.js';
import { cliOn, fakeHost, NEEDS_PWSH, tally } from './helpers.js';

for (const type of HOST_TYPES) {
  test(`${type}: doctor, sessions list and compartments answer from a real PowerShell`, NEEDS_PWSH, async () => {
    const fake = await fakeHost(type);
    const doctor = await cliOn(fake, ['doctor', '--json']);
    assert.equal(doctor.code, 0, doctor.err);
    const checks = (JSON.parse(doctor.out) as { checks: Array<{ check: string; ok: boolean }> }).checks;
    const ok = (re: RegExp): boolean | undefined => checks.find((c) => re.test(c.check))?.ok;
    assert.equal(ok(/^elevated/), true);
    assert.equal(ok(/^pktmon/), type !== 'ws2016');
    assert.equal(ok(/^docker/), !['aks-containerd', 'hyperv'].includes(type));
    assert.equal(ok(/^HNS/), ['ws2022-docker', 'aks-containerd', 'ws2025'].includes(type));
    assert.equal(ok(/^VmSwitch/), ['ws2022-docker', 'aks-containerd', 'hyperv', 'ws2025'].includes(type));
    const list = await cliOn(fake, ['sessions', 'list', '--json'], { WNVCAP_STATE_DIR: mkdtempSync(join(tmpdir(), 'wnvcap-st-')) });
    assert.equal(list.code, 0, list.err);
    assert.deepEqual((JSON.parse(list.out) as { sessions: unknown[] }).sessions, []);
    const comps = await cliOn(fake, ['compartments', '--json']);
    assert.equal(comps.code, 0, comps.err);
    assert.match(comps.out, /"id": 2,/);
    // Docker names the container (joined by HNS endpoint, else by its vNIC); containerd: the pod crictl names for the sandbox id HNS knows.
    if (type === 'aks-containerd') assert.match(comps.out, /"name": "shop\/web-7d9f8c6b5-x2k4p"/);
    else if (type !== 'hyperv') assert.match(comps.out, /"name": "web"/);
    tally(type, 3);
  });
}

test('doctor on a host where wnvcap is not elevated: FAIL with the remedy, exit 4', NEEDS_PWSH, async () => {
  const fake = await fakeHost('ws2022-docker', { elevated: false });
  const r = await cliOn(fake, ['doctor']);
  assert.equal(r.code, 4);
  assert.match(r.out, /FAIL elevated: run wnvcap as Administrator/);
  tally('ws2022-docker', 1);
});

test('a foreign session: sessions list marks it, capture refuses it, sessions cleanup leaves it without --force', NEEDS_PWSH, async () => {
  const fake = await fakeHost('ws2022-docker', { foreignSession: { name: 'NetTrace', status: 'Running', localFilePath: 'C:\\t.etl' } });
  const state = mkdtempSync(join(tmpdir(), 'wnvcap-st-'));
  const list = await cliOn(fake, ['sessions', 'list', '--json'], { WNVCAP_STATE_DIR: state });
  assert.match(list.out, /"owner": "not wnvcap"/);
  const out = mkdtempSync(join(tmpdir(), 'wnvcap-out-'));
  const cap = await cliOn(fake, ['capture', '--duration', '1s', '--out', out], { WNVCAP_STATE_DIR: state });
  assert.equal(cap.code, 4);
  assert.match(cap.err, /already has a capture session "NetTrace"/);
  const clean = await cliOn(fake, ['sessions', 'cleanup'], { WNVCAP_STATE_DIR: state });
  assert.match(clean.out, /0 session\(s\) removed; sessions not started by wnvcap were left alone/);
  assert.equal((fake.state() as unknown as { sessions: unknown[] }).sessions.length, 1);
  tally('ws2022-docker', 4);
});

test('defect 9: schedule add creates the working directory; Windows stores the real time limit and a start time with its zone', NEEDS_PWSH, async () => {
  const fake = await fakeHost('ws2022-docker');
  // A full Windows path that PowerShell on Linux can create: \\tmp\<dir>\runs is //tmp/<dir>/runs there.
  const dir = mkdtempSync(join(tmpdir(), 'wnvcap-sched-'));
  const out = `\\\\tmp\\${dir.split('/').pop()!}\\runs\\nightly`;
  const r = await cliOn(fake, ['schedule', 'add', 'nightly', '--every', '6h', '--duration', '10m', '--out', out]);
  assert.equal(r.code, 0, r.err);
  assert.ok(existsSync(join(dir, 'runs', 'nightly')), 'the task working directory exists before the task is registered');
  const task = JSON.stringify(fake.state());
  assert.match(task, /PT1H2M/, 'execution time limit: the 10 minute window plus the 52 minute margin (every step at its timeout)');
  assert.match(task, /IgnoreNew/);
  assert.match(task, /S-1-5-18/);
  // A daily window is wall-clock time on the host: its start is stored without a UTC offset
  // (with one, Task Scheduler synchronizes across time zones and DST moves the window).
  const daily = await cliOn(fake, ['schedule', 'add', 'daily', '--cron', '0 3 * * *', '--duration', '10m', '--out', out]);
  assert.equal(daily.code, 0, daily.err);
  const stored = fake.state().tasks.find((t) => t.taskName === 'wnvcap-daily')!;
  assert.match(stored.triggers[0]!.startBoundary ?? '', /^\d{4}-\d\d-\d\dT03:00:00$/);
  assert.equal(stored.principal.userId, 'S-1-5-18');
  const list = await cliOn(fake, ['schedule', 'list', '--json']);
  assert.match(list.out, /wnvcap-nightly/);
  const now = await cliOn(fake, ['schedule', 'run-now', 'nightly']);
  assert.equal(now.code, 0, now.err);
  const rm = await cliOn(fake, ['schedule', 'remove', 'nightly']);
  assert.equal(rm.code, 0, rm.err);
  assert.doesNotMatch(JSON.stringify((fake.state() as unknown as { tasks?: unknown[] }).tasks ?? []), /wnvcap-nightly/);
  tally('ws2022-docker', 4);
});

test('sniff db on Server 2022 in a real pwsh: the target from the inventory, its MAC in the capture filter, only its packets written (cache shares its IP)', NEEDS_PWSH, async () => {
  const fake = await fakeHost('ws2022-docker');
  const dir = mkdtempSync(join(tmpdir(), 'wnvcap-sniff-'));
  const out = join(dir, 'db.pcapng');
  const r = await cliOn(fake, ['sniff', 'db', '-w', out, '--duration', '2s', '--out', dir], { WNVCAP_STATE_DIR: join(dir, 'state') });
  assert.equal(r.code, 0, r.err);
  const macFilter = fake.executed().find((c) => c.command === 'Add-NetEventPacketCaptureProvider')?.params['LinkLayerAddress'];
  assert.deepEqual(macFilter, ['00-15-5D-AA-BB-01'], 'db\'s MAC, as Windows writes it, reached the capture provider');
  const packets = readPcapng(readFileSync(out)).packets.map((p) => p.comments.join(' '));
  assert.ok(packets.length > 0);
  assert.ok(packets.every((c) => c.includes('compartment=4 container=db')), packets.find((c) => !c.includes('container=db')));
  tally('ws2022-docker', 4);
});

test('sniff a pod by namespace/name on an AKS node in a real pwsh: crictl names the sandbox HNS lists; only its packets, named by the pod', NEEDS_PWSH, async () => {
  const fake = await fakeHost('aks-containerd');
  const dir = mkdtempSync(join(tmpdir(), 'wnvcap-sniff-pod-'));
  const out = join(dir, 'db.pcapng');
  const r = await cliOn(fake, ['sniff', 'data/db-0', '-w', out, '--duration', '2s', '--out', dir], { WNVCAP_STATE_DIR: join(dir, 'state') });
  assert.equal(r.code, 0, r.err);
  assert.ok(fake.executed().some((c) => c.command === 'crictl.exe'), 'the inventory asked crictl');
  assert.match(r.err, /packets of pod data\/db-0 \(compartment 4\)/);
  const packets = readPcapng(readFileSync(out)).packets.map((p) => p.comments.join(' '));
  assert.ok(packets.length > 0);
  assert.ok(packets.every((c) => c.includes('compartment=4 container=data/db-0')), packets.find((c) => !c.includes('container=data/db-0')));
  // The pod's name alone is enough where it is unique.
  const byName = await cliOn(fake, ['sniff', 'cache-0', '-w', join(dir, 'cache.pcapng'), '--duration', '1s', '--out', dir], { WNVCAP_STATE_DIR: join(dir, 'state') });
  assert.equal(byName.code, 0, byName.err);
  assert.match(byName.err, /pod data\/cache-0 \(compartment 5\)/);
  tally('aks-containerd', 8);
});

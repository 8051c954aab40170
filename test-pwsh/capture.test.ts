/**
 * Captures through the production lifecycle and runner, in a real pwsh, on every fake host type:
 * the backend each host supports, the snapshot each host can give (a missing command is a
 * warning and a partial snapshot, never a failed capture), the session always removed.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { HOST_TYPES, type HostType } from './fake-windows/fake-host.js';
import { captureLeft, captureOn, fakeHost, NEEDS_PWSH } from './helpers.js';

/** What each host type must give: the auto backend, and what the snapshot must say is missing. */
const EXPECT: Record<HostType, { auto: string; absent: RegExp[]; present: string[]; backends: string[] }> = {
  'ws2022-docker': { auto: 'netevent', absent: [], present: ['Get-HnsEndpoint', 'docker network inspect', 'Get-VMSwitch'], backends: ['netevent', 'pktmon', 'netsh'] },
  'aks-containerd': { auto: 'netevent', absent: [/docker\.exe is not on this host/], present: ['Get-HnsEndpoint'], backends: ['netevent', 'pktmon'] },
  hyperv: { auto: 'netevent', absent: [/Get-HnsNetwork is not on this host/, /docker\.exe is not on this host/], present: ['Get-VMSwitch'], backends: ['netevent', 'pktmon'] },
  ws2016: { auto: 'netevent', absent: [/Get-HnsNetwork is not on this host/], present: ['docker network inspect'], backends: ['netevent', 'netsh'] },
  'ws2019-1809': { auto: 'netevent', absent: [/Get-HnsNetwork is not on this host/], present: ['docker network inspect'], backends: ['netevent', 'pktmon'] },
  ws2025: { auto: 'netevent', absent: [], present: ['Get-HnsEndpoint', 'docker network inspect'], backends: ['netevent', 'pktmon', 'netsh'] },
};

for (const type of HOST_TYPES) {
  test(`${type}: a capture completes, the snapshot is as complete as the host allows, no session is left`, NEEDS_PWSH, async () => {
    const fake = await fakeHost(type);
    const r = await captureOn(fake);
    const e = EXPECT[type];
    assert.equal(r.record.outcome, 'completed', JSON.stringify(r.record.error ?? r.record.warnings));
    assert.equal(r.exitCode, 0);
    assert.equal(r.record.backend, e.auto);
    assert.equal(captureLeft(fake), undefined);
    assert.equal(r.record.cleanup?.sessionRemoved, true);
    const snap = JSON.parse(readFileSync(join(r.runDir, 'snapshot.json'), 'utf8')) as { commands: Record<string, unknown[]>; warnings: string[] };
    for (const re of e.absent) assert.ok(snap.warnings.some((w) => re.test(w)), `${type}: a warning ${re} in ${JSON.stringify(snap.warnings)}`);
    if (e.absent.length === 0) assert.deepEqual(snap.warnings, []);
    for (const k of e.present) assert.ok((snap.commands[k] ?? []).length > 0, `${type}: ${k} in the snapshot`);
    assert.ok((r.record.packets ?? 0) > 0, 'packets decoded from the ETL the fake host wrote');
    assert.ok(existsSync(join(r.runDir, 'report.txt')));
  });

  for (const backend of EXPECT[type].backends.filter((b) => b !== EXPECT[type].auto)) {
    test(`${type}: --backend ${backend} completes and leaves nothing running`, NEEDS_PWSH, async () => {
      const fake = await fakeHost(type);
      const r = await captureOn(fake, { backend });
      assert.equal(r.record.outcome, 'completed', JSON.stringify(r.record.error ?? r.record.steps));
      assert.equal(r.record.backend, backend);
      assert.equal(captureLeft(fake), undefined);
      assert.ok((r.record.packets ?? 0) > 0);
    });
  }
}

test('defect 2: on Server 2016 (no pktmon.exe) the preflight runs; --backend pktmon is refused with a remedy', NEEDS_PWSH, async () => {
  const fake = await fakeHost('ws2016');
  const r = await captureOn(fake, { backend: 'pktmon' });
  assert.equal(r.record.outcome, 'failed');
  assert.equal(r.record.steps[0]?.name, 'preflight');
  assert.equal(r.record.steps[0]?.ok, true, 'the preflight itself succeeded');
  assert.match(r.record.error?.message ?? '', /pktmon is not on this host/);
  assert.match(r.record.error?.hint ?? '', /--backend netevent or netsh/);
});

test('defect 16: provider adds keep no raw CIM objects; the VmSwitch/VFP providers are added once', NEEDS_PWSH, async () => {
  const fake = await fakeHost('ws2022-docker');
  const r = await captureOn(fake, {}, { profile: 'sdn' });
  assert.equal(r.record.outcome, 'completed', JSON.stringify(r.record.error));
  const adds = fake.executed().filter((c) => /^Add-NetEvent/i.test(c.command));
  const names = adds.map((c) => `${c.command}:${String(c.params['Name'] ?? '')}`.toUpperCase());
  assert.ok(names.some((n) => n.startsWith('ADD-NETEVENTVMSWITCHPROVIDER')), 'the VmSwitch provider cmdlet ran');
  assert.ok(!names.some((n) => n.includes('67DC0D66')), `the VmSwitch GUID was not added a second time: ${names.join(', ')}`);
  assert.ok(!names.some((n) => n.includes('9F2660EA')), 'the VFP GUID was not added a second time');
  const log = readFileSync(join(r.runDir, 'wnvcap.log'), 'utf8');
  assert.doesNotMatch(log, /CimClass|CimInstanceProperties/);
});

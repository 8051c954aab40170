/**
 * The option matrix in a real pwsh on every fake host type: every profile x filter set x backend
 * the host has, its start script then its stop script, through the production runner. Real
 * parameter binding (names, types, ValidateSet values, mandatory parameters) and the fake
 * natives' argument checks accept every script, and nothing is left running.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { resolveCaptureOptions, type RawCaptureOptions } from '../src/capture/options.js';
import { listProfiles } from '../src/capture/profiles.js';
import { netshStartStep, netshStopStep, pktmonStartStep, pktmonStopStep, startStep, stopStep } from '../src/capture/steps.js';
import type { Step } from '../src/powershell/script.js';
import { HOST_TYPES, type HostType } from './fake-windows/fake-host.js';
import { captureLeft, CountingRunner, fakeHost, NEEDS_PWSH } from './helpers.js';

const FLAG_SETS: RawCaptureOptions[] = [
  {},
  { ip: ['10.0.0.1', 'fe80::1'], protocol: ['tcp', '17'], mac: ['00-15-5D-01-02-03'], ethertype: ['0x0800', '34525'] },
  { captureType: 'physical', truncate: '0', maxSize: '2GB' },
  { captureType: 'switch', truncate: '14' },
];

/** Backends, build and the VmSwitch/VFP cmdlets each host type has (what the preflight would find). */
const HOSTS: Record<HostType, { build: number; backends: string[]; vmswitch: boolean }> = {
  'ws2022-docker': { build: 20348, backends: ['netevent', 'pktmon', 'netsh'], vmswitch: true },
  'aks-containerd': { build: 20348, backends: ['netevent', 'pktmon', 'netsh'], vmswitch: true },
  hyperv: { build: 20348, backends: ['netevent', 'pktmon', 'netsh'], vmswitch: true },
  ws2016: { build: 14393, backends: ['netevent', 'netsh'], vmswitch: false },
  'ws2019-1809': { build: 17763, backends: ['netevent', 'pktmon', 'netsh'], vmswitch: false },
  ws2025: { build: 26100, backends: ['netevent', 'pktmon', 'netsh'], vmswitch: true },
};

function steps(backend: string, o: ReturnType<typeof resolveCaptureOptions>, etl: string, build: number, vmswitch: boolean): [Step, Step] {
  const session = 'wnvcap-20260101T000000Z-abcd';
  if (backend === 'netevent') return [startStep(session, etl, o, { vmSwitchProvider: vmswitch, vfpProvider: vmswitch }), stopStep(session)];
  if (backend === 'pktmon') return [pktmonStartStep(etl, o, build), pktmonStopStep()];
  return [netshStartStep(session, etl, o), netshStopStep(session)];
}

for (const type of HOST_TYPES) {
  test(`${type}: every profile x filter set x backend starts and stops in a real pwsh`, { ...NEEDS_PWSH, timeout: 600_000 }, async () => {
    const fake = await fakeHost(type);
    const runner = new CountingRunner(fake);
    const h = HOSTS[type];
    let n = 0;
    try {
      for (const p of await listProfiles()) {
        for (const backend of h.backends) {
          if (p.values.backend !== undefined && p.values.backend !== backend) continue; // drops: pktmon only
          for (const flags of FLAG_SETS) {
            const out = mkdtempSync(join(tmpdir(), 'wnvcap-matrix-'));
            const o = resolveCaptureOptions(p, { ...flags, backend }, { out, dryRun: false, force: false });
            const what = `${type} ${p.name} ${backend} ${JSON.stringify(flags)}`;
            const [start, stop] = steps(backend, o, join(out, 'run-x', 'capture.etl'), h.build, h.vmswitch);
            const s = await runner.run(start);
            assert.equal(s.ok, true, `${what}: start: ${JSON.stringify(s.error)}`);
            const t = await runner.run(stop);
            assert.equal(t.ok, true, `${what}: stop: ${JSON.stringify(t.error)}`);
            assert.equal(captureLeft(fake), undefined, what);
            n++;
          }
        }
      }
    } finally {
      await runner.dispose();
    }
    assert.ok(n >= 30, `${n} combinations`);
  });
}

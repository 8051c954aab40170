/**
 * Interop: our per-flow packet and byte counts equal tshark's `-z conv,tcp` and `-z conv,udp`
 * over the pcapng we wrote, for a real fixture and the simulated container host. tshark counts
 * every frame, so we compare our flows summed by 5-tuple (we also split by VNI); tshark's extra
 * UDP conversations may only be the VXLAN tunnels (UDP 4789) whose inner flows we report.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyzeCapture } from '../src/analysis/run-analysis.js';
import { memorySource } from '../src/etl/byte-source.js';
import { containerHostCapture } from '../src/sim/container-host.js';
import { parseSnapshot } from '../src/topology/snapshot.js';
import { buildTopology, type Topology } from '../src/topology/topology.js';
import { convertBytes, readFixture } from '../test/helpers/fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'wnvcap-conv-'));
const UNIT: Record<string, number> = { bytes: 1, kB: 1000, MB: 1e6, GB: 1e9 };

interface Conv { frames: number; bytes: number; unit: string }

function tsharkConv(file: string, proto: 'tcp' | 'udp'): Map<string, Conv> {
  const r = spawnSync('tshark', ['-r', file, '-q', '-z', `conv,${proto}`], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.error) throw new Error(`tshark not runnable: ${r.error.message}`);
  assert.equal(r.status, 0, r.stderr);
  const out = new Map<string, Conv>();
  const re = /^(\S+):(\d+)\s+<->\s+(\S+):(\d+)\s+\d+\s+[\d,]+\s+\S+\s+\d+\s+[\d,]+\s+\S+\s+(\d+)\s+([\d,]+)\s+(bytes|kB|MB|GB)\s/;
  for (const line of r.stdout.split('\n')) {
    const m = re.exec(line);
    if (!m) continue;
    out.set(key(proto, m[1]!, Number(m[2]), m[3]!, Number(m[4])), { frames: Number(m[5]), bytes: Number(m[6]!.replace(/,/g, '')) * UNIT[m[7]!]!, unit: m[7]! });
  }
  return out;
}

function key(proto: string, a: string, pa: number, b: string, pb: number): string {
  return a < b || (a === b && pa <= pb) ? `${proto}|${a}|${pa}|${b}|${pb}` : `${proto}|${b}|${pb}|${a}|${pa}`;
}

async function compare(name: string, etl: Uint8Array, topo: Topology | undefined): Promise<void> {
  const { raw } = await convertBytes(etl);
  const file = join(dir, `${name}.pcapng`);
  writeFileSync(file, raw);
  const report = await analyzeCapture(async () => memorySource(etl), topo, { application: 'test', topFlows: 1e9 });
  for (const proto of ['tcp', 'udp'] as const) {
    const ours = new Map<string, { frames: number; bytes: number }>();
    for (const f of report.flows.filter((x) => x.protocol === proto.toUpperCase())) {
      const k = key(proto, f.a.ip, f.a.port, f.b.ip, f.b.port);
      const e = ours.get(k) ?? { frames: 0, bytes: 0 };
      e.frames += f.packets;
      e.bytes += f.bytes;
      ours.set(k, e);
    }
    const theirs = tsharkConv(file, proto);
    assert.ok(ours.size > 0, `${name}: no ${proto} flows`);
    for (const [k, o] of ours) {
      const t = theirs.get(k);
      assert.ok(t, `${name}: tshark has no ${k}`);
      assert.equal(o.frames, t.frames, `${name} ${k} frames`);
      if (t.unit === 'bytes') assert.equal(o.bytes, t.bytes, `${name} ${k} bytes`);
      // Above 10,000 bytes tshark prints whole kB/MB, rounded down.
      else assert.ok(o.bytes >= t.bytes && o.bytes < t.bytes + UNIT[t.unit]!, `${name} ${k} bytes ${o.bytes} vs ${t.bytes / UNIT[t.unit]!} ${t.unit}`);
    }
    for (const k of theirs.keys()) if (!ours.has(k)) assert.ok(proto === 'udp' && /\|4789(\||$)/.test(k), `${name}: tshark conversation ${k} missing from our flows`);
  }
}

test('per-flow counts equal tshark conv,tcp / conv,udp: real PktMon fixture (Wi-Fi, Ethernet, raw IP, drops)', async () => {
  await compare('dookisan', readFixture('pktmon-win11-26100-wifi-eth-drops-dookisan.etl'), undefined);
});

test('per-flow counts equal tshark conv,tcp / conv,udp: simulated container host', async () => {
  const cap = containerHostCapture({ scale: 3 });
  await compare('container-host', cap.etl, buildTopology(parseSnapshot(cap.snapshot)));
});

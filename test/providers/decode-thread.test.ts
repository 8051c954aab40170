/**
 * The decode on a second thread against the decode on this one: the same report, the same pcapng
 * bytes (with the snapshot's labels where there is one), the same passes, for every real fixture
 * (PktMon files restart into two passes), the simulated container host and a synthetic NDIS
 * capture (fragments, vSwitch events); the same errors for bad input, and a consumer's failure
 * ends the thread.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { SnapshotLabels } from '../../src/analysis/labels.js';
import { AnalysisConsumer } from '../../src/analysis/run-analysis.js';
import { PcapngConsumer } from '../../src/pcapng/etl-to-pcapng.js';
import { memorySink } from '../../src/pcapng/file-sink.js';
import type { CaptureConsumer } from '../../src/providers/decode-capture.js';
import { decodeCaptureFile } from '../../src/providers/decode-thread.js';
import { containerHostCapture } from '../../src/sim/container-host.js';
import { EtlWriter } from '../../src/sim/etl-writer.js';
import { ipv4Frame } from '../../src/sim/frames.js';
import { ndisFragment, pktmonPacket } from '../../src/sim/payloads.js';
import { writeNdisScenario } from '../../src/sim/scenarios.js';
import { NDIS_PACKET_CAPTURE, PKTMON } from '../../src/providers/guids.js';
import { NDIS_KW, NDIS_KW_HI } from '../../src/providers/ndiscap.js';
import { parseSnapshot } from '../../src/topology/snapshot.js';
import { buildTopology, type Topology } from '../../src/topology/topology.js';
import { InputError } from '../../src/util/errors.js';
import { assemble, FIXTURES, fixtureNames } from '../helpers/fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'wnvcap-thread-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, bytes: Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

async function decode(path: string, thread: 'always' | 'never', topo?: Topology, budgetBytes?: number): Promise<{ report: string; pcapng: Buffer; passes: number; fileOpens: number; threaded: boolean }> {
  const sink = memorySink();
  const pcapng = new PcapngConsumer(sink, 'wnvcap test', topo ? new SnapshotLabels(topo) : undefined);
  const analysis = new AnalysisConsumer(topo, { application: 'wnvcap test' });
  const r = await decodeCaptureFile(path, [pcapng, analysis], { thread, ...(budgetBytes ? { budgetBytes } : {}) });
  await pcapng.finish();
  return { report: JSON.stringify(analysis.report(r)), pcapng: Buffer.from(sink.bytes()), passes: r.passes, fileOpens: r.fileOpens, threaded: r.threaded };
}

async function same(path: string, topo?: Topology, budgetBytes?: number): Promise<{ packets: number; passes: number }> {
  const here = await decode(path, 'never', topo, budgetBytes);
  const there = await decode(path, 'always', topo, budgetBytes);
  assert.equal(here.threaded, false);
  assert.equal(there.threaded, true);
  assert.equal(there.report, here.report);
  assert.ok(there.pcapng.equals(here.pcapng), 'pcapng bytes');
  assert.equal(there.passes, here.passes);
  assert.equal(there.fileOpens, here.fileOpens);
  return { packets: (JSON.parse(here.report) as { totals: { packets: number } }).totals.packets, passes: here.passes };
}

for (const name of fixtureNames()) {
  test(`decode thread: ${name} gives the same report and pcapng as this thread`, async () => {
    await same(join(FIXTURES, name));
  });
}

test('decode thread: the simulated container host (snapshot labels, paths over several hops, PktMon drops)', async () => {
  const cap = containerHostCapture({ ps: '7', scale: 2 });
  const topo = buildTopology(parseSnapshot(JSON.stringify(cap.snapshot)));
  const path = file('host.etl', cap.etl);
  const r = await same(path, topo);
  assert.equal(r.packets, cap.truth.packets);
  assert.equal(r.passes, 2, 'PktMon packets: two passes, after a restart');
});

test('decode thread: a synthetic NDIS capture (fragments, vSwitch ports, several batches)', async () => {
  const chunks: Uint8Array[] = [];
  const s = writeNdisScenario({ seed: 8, packets: 6000, cpus: 3, bufferSize: 16384, fragmentEvery: 11, vmswitchEvery: 5, maxFrame: 1514 }, (c) => chunks.push(c));
  const r = await same(file('ndis.etl', assemble(chunks, s.header)));
  assert.equal(r.packets, 6000);
  assert.equal(r.passes, 1);
});

test('decode thread: a restart after NDIS packets and their interfaces reached the consumers', async () => {
  // 400 NDIS packets on three interfaces (many 4 kB buffers), then PktMon packets: with a merge
  // budget of two buffers, the one-pass attempt delivers NDIS packets before it meets PktMon.
  const chunks: Uint8Array[] = [];
  const w = new EtlWriter({ cpus: 2, bufferSize: 4096 }, (c) => chunks.push(c));
  let t = 1000;
  for (let n = 0; n < 460; n++) {
    const udp = { protocol: 'udp', srcPort: 5000 + (n % 7), dstPort: 53, payload: new Uint8Array(40 + (n % 50)) } as const;
    const f = ipv4Frame('00:15:5d:01:02:03', '00:15:5d:0a:0b:0c', '10.0.0.4', '10.0.0.5', udp);
    t += 50;
    if (n < 400) {
      const ifIndex = 5 + (n % 3);
      const keywordLo = (NDIS_KW.ETHERNET | NDIS_KW.START | NDIS_KW.END) >>> 0;
      w.addEvent({ cpu: n % 2, ticks: t, provider: NDIS_PACKET_CAPTURE, id: 1001, keywordLo, keywordHi: NDIS_KW_HI.SEND, payload: ndisFragment(ifIndex, ifIndex, f) });
    } else {
      const fields = { groupId: BigInt(n), pktNumber: 1, appearance: 1, dirTag: 4, packetType: 1, componentId: 9, edgeId: 1, filterId: 0, dropReason: 0, dropLocation: 0, originalSize: f.length };
      w.addEvent({ cpu: n % 2, ticks: t, provider: PKTMON, id: 160, keywordLo: 0x10, payload: pktmonPacket(fields, f) });
    }
  }
  const path = file('mixed.etl', assemble(chunks, w.finish()));
  const seen: string[] = [];
  const log: CaptureConsumer = { start: () => seen.push('start'), addInterface: () => seen.push('if'), packet: () => seen.push('p'), restart: async () => { seen.push('restart'); } };
  await decodeCaptureFile(path, [log], { thread: 'always', budgetBytes: 8192 });
  const restart = seen.indexOf('restart');
  assert.ok(restart > 0 && seen.slice(0, restart).includes('if'), `interfaces before the restart: ${seen.slice(0, 12).join(' ')}`);
  const r = await same(path, undefined, 8192);
  assert.equal(r.packets, 460);
  assert.equal(r.passes, 2);
});

test('decode thread: bad input fails with the same error as on this thread', async () => {
  const notEtl = file('not.etl', new Uint8Array(70_000).fill(0x41));
  for (const path of [notEtl, join(dir, 'missing.etl')]) {
    const errors = [];
    for (const thread of ['never', 'always'] as const) {
      errors.push(await decodeCaptureFile(path, [new AnalysisConsumer(undefined, { application: 't' })], { thread }).then(() => undefined, (e: unknown) => e));
    }
    const [here, there] = errors;
    assert.ok(here instanceof InputError, `${path}: ${String(here)}`);
    assert.ok(there instanceof InputError, `${path} on the thread: ${String(there)}`);
    assert.equal(there.message, here.message);
    assert.equal(there.exitCode, here.exitCode);
  }
});

test('decode thread: a consumer that fails stops the decode with its error', async () => {
  const chunks: Uint8Array[] = [];
  const s = writeNdisScenario({ seed: 2, packets: 3000, cpus: 2, bufferSize: 16384 }, (c) => chunks.push(c));
  const path = file('fail.etl', assemble(chunks, s.header));
  let seen = 0;
  const failing: CaptureConsumer = {
    start() {},
    addInterface() {},
    packet() {
      if (++seen === 1000) throw new Error('disk full');
    },
    async restart() {},
  };
  await assert.rejects(decodeCaptureFile(path, [failing], { thread: 'always' }), /disk full/);
  assert.equal(seen, 1000, 'nothing after the failure');
});

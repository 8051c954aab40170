/**
 * The analysis on a second thread against the analysis on this one, fed by the same decode beside
 * a pcapng writer: the same report and the same pcapng bytes (with the snapshot's labels where
 * there is one), for every real fixture (PktMon files restart into two passes), the simulated
 * container host, a synthetic NDIS capture (fragments, vSwitch events, many batches) and a restart
 * after NDIS packets and their interfaces were delivered; a failed decode ends the thread.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { SnapshotLabels } from '../../src/analysis/labels.js';
import { analyzeCaptureFile, openAnalysis } from '../../src/analysis/analysis-thread.js';
import type { AnalyzerOptions } from '../../src/analysis/analyzer.js';
import { openFileSource } from '../../src/etl/file-source.js';
import { PcapngConsumer } from '../../src/pcapng/etl-to-pcapng.js';
import { memorySink } from '../../src/pcapng/file-sink.js';
import { decodeCapture } from '../../src/providers/decode-capture.js';
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

async function decode(path: string, thread: 'always' | 'never', topo?: Topology, budgetBytes?: number, options: Partial<AnalyzerOptions> = {}): Promise<{ report: string; pcapng: Buffer; passes: number; threaded: boolean }> {
  const sink = memorySink();
  const pcapng = new PcapngConsumer(sink, 'wnvcap test', topo ? new SnapshotLabels(topo) : undefined);
  const analysis = openAnalysis(topo, { application: 'wnvcap test', ...options }, { thread, captureBytes: 0 });
  try {
    const r = await decodeCapture(() => openFileSource(path), [pcapng, analysis], budgetBytes ? { budgetBytes } : {});
    await pcapng.finish();
    return { report: JSON.stringify(await analysis.report(r)), pcapng: Buffer.from(sink.bytes()), passes: r.passes, threaded: analysis.threaded };
  } finally {
    await analysis.close();
  }
}

async function same(path: string, topo?: Topology, budgetBytes?: number, options: Partial<AnalyzerOptions> = {}): Promise<{ packets: number; passes: number }> {
  const here = await decode(path, 'never', topo, budgetBytes, options);
  const there = await decode(path, 'always', topo, budgetBytes, options);
  assert.equal(here.threaded, false);
  assert.equal(there.threaded, true);
  assert.equal(there.report, here.report);
  assert.ok(there.pcapng.equals(here.pcapng), 'pcapng bytes');
  assert.equal(there.passes, here.passes);
  return { packets: (JSON.parse(here.report) as { totals: { packets: number } }).totals.packets, passes: here.passes };
}

for (const name of fixtureNames()) {
  test(`analysis thread: ${name} gives the same report as this thread`, async () => {
    await same(join(FIXTURES, name));
  });
}

test('analysis thread: the simulated container host (snapshot labels, paths over several hops, PktMon drops)', async () => {
  const cap = containerHostCapture({ ps: '7', scale: 2 });
  const topo = buildTopology(parseSnapshot(JSON.stringify(cap.snapshot)));
  const path = file('host.etl', cap.etl);
  const r = await same(path, topo);
  assert.equal(r.packets, cap.truth.packets);
  assert.equal(r.passes, 2, 'PktMon packets: two passes, after a restart');
  // Every analyzer option reaches the thread: one compartment, a short flow list, the run's filters.
  const filters = { ips: ['10.244.1.5'], protocols: [6], macs: [], etherTypes: [], truncate: 128, captureType: 'Physical' };
  const narrowed = await decode(path, 'always', topo, undefined, { compartment: 4, topFlows: 2, filters });
  const report = JSON.parse(narrowed.report) as { flows: unknown[]; capture: unknown };
  assert.ok(report.flows.length <= 2, 'topFlows reached the thread');
  assert.ok(JSON.stringify(report).includes('"truncate":128'), 'the filters reached the thread');
  await same(path, topo, undefined, { compartment: 4, topFlows: 2, filters });
});

test('analysis thread: a synthetic NDIS capture (fragments, vSwitch ports, several batches)', async () => {
  const chunks: Uint8Array[] = [];
  const s = writeNdisScenario({ seed: 8, packets: 6000, cpus: 3, bufferSize: 16384, fragmentEvery: 11, vmswitchEvery: 5, maxFrame: 1514 }, (c) => chunks.push(c));
  const r = await same(file('ndis.etl', assemble(chunks, s.header)));
  assert.equal(r.packets, 6000);
  assert.equal(r.passes, 1);
});

test('analysis thread: a restart after NDIS packets and their interfaces reached the consumers', async () => {
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
  const r = await same(path, undefined, 8192);
  assert.equal(r.packets, 460);
  assert.equal(r.passes, 2);
});

test('analysis thread: a decode that fails (not an ETL file) fails as on one thread, and the thread ends', async () => {
  const notEtl = file('not.etl', new Uint8Array(70_000).fill(0x41));
  const errors = [];
  for (const thread of ['never', 'always'] as const) {
    errors.push(await analyzeCaptureFile(notEtl, undefined, { application: 't', thread }).then(() => undefined, (e: unknown) => e));
  }
  const [here, there] = errors;
  assert.ok(here instanceof InputError, String(here));
  assert.ok(there instanceof InputError, String(there));
  assert.equal(there.message, here.message);
  // A thread left running would keep this test file's process alive past its end.
});

test('analysis thread: analyzeCaptureFile says where the analysis ran', async () => {
  const chunks: Uint8Array[] = [];
  const s = writeNdisScenario({ seed: 2, packets: 3000, cpus: 2, bufferSize: 16384 }, (c) => chunks.push(c));
  const path = file('small.etl', assemble(chunks, s.header));
  const auto = await analyzeCaptureFile(path, undefined, { application: 't' });
  const two = await analyzeCaptureFile(path, undefined, { application: 't', thread: 'always' });
  assert.equal(auto.threaded, false, 'a capture under 16 MB: one thread');
  assert.equal(two.threaded, true);
  assert.deepEqual(two.report, auto.report);
  assert.equal(two.report.totals.packets, 3000);
});

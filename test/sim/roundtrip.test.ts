/** ETLs from our writer decode to exactly the packets put in (ground truth from the generator). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { writeNdisScenario, writePktmonScenario, type TruthPacket } from '../../src/sim/scenarios.js';
import { assemble, convertBytes } from '../helpers/fixtures.js';

const matrix = [
  { kind: 'ndis', pointerSize: 8, compressed: false },
  { kind: 'ndis', pointerSize: 4, compressed: false },
  { kind: 'ndis', pointerSize: 8, compressed: true },
  { kind: 'ndis', pointerSize: 4, compressed: true },
  { kind: 'pktmon', pointerSize: 8, compressed: true },
  { kind: 'pktmon', pointerSize: 4, compressed: false },
] as const;

for (const m of matrix) {
  test(`round trip: ${m.kind}, ${m.pointerSize * 8}-bit, ${m.compressed ? 'compressed' : 'uncompressed'}`, async () => {
    const chunks: Uint8Array[] = [];
    const truth: TruthPacket[] = [];
    const opts = { seed: 11, packets: 2500, pointerSize: m.pointerSize, compressed: m.compressed, cpus: 5, bufferSize: 16384, fragmentEvery: 7, vmswitchEvery: 11, truncateEvery: 13, gftEvery: 5 };
    const r = (m.kind === 'ndis' ? writeNdisScenario : writePktmonScenario)(opts, (c) => chunks.push(c), (p) => truth.push(p));
    const { pcapng, stats, summary } = await convertBytes(assemble(chunks, r.header));
    assert.deepEqual(summary.issues.counts, {});
    // Buffers really are out of time order in the file (per-CPU flushing).
    assert.ok(summary.buffers.count > 20);
    truth.sort((a, b) => a.ticks - b.ticks);
    assert.equal(pcapng.packets.length, truth.length);
    const t0 = pcapng.packets[0]!.timestamp - BigInt(truth[0]!.ticks);
    for (let i = 0; i < truth.length; i++) {
      const a = truth[i]!;
      const b = pcapng.packets[i]!;
      assert.equal(b.timestamp - t0, BigInt(a.ticks), `packet ${i} time`);
      assert.deepEqual(b.data, a.data, `packet ${i} bytes`);
      assert.equal(b.originalLength, a.originalLength, `packet ${i} original length`);
      assert.equal(b.flags, a.direction, `packet ${i} direction`);
      const iface = pcapng.interfaces[b.interfaceId]!;
      if (a.kind === 'pktmon') assert.match(iface.description, new RegExp(`PktMon component ${a.componentId}\\b`));
      else if (a.kind === 'ndis') assert.match(iface.name, new RegExp(`^eth:${a.ifIndex}:0$`));
      else assert.match(iface.name, new RegExp(`^vNIC:Synthetic:.*:${a.ifIndex}:\\d+$`));
      if (a.dropped) assert.match(b.comments[0]!, /DROPPED reason="TCP\/IP EndpointNotFound" \(1204\)/);
    }
    if (m.kind === 'ndis') {
      assert.ok(stats.ndis.multiFragmentPackets > 100);
      assert.equal(stats.ndis.incompletePackets + stats.ndis.missingStart + stats.ndis.vmswitchUnparsed, 0);
      assert.ok(pcapng.packets.some((p) => p.comments[0]!.includes('truncated')));
      assert.ok(pcapng.packets.some((p) => /VlanId=42 SrcPortId=18 .*DstNicCount=1/.test(p.comments[0]!)));
    } else {
      assert.ok(stats.drops > 20, `drops: ${stats.drops}`);
      // Component names come from a rundown logged after every packet.
      assert.ok(pcapng.interfaces.some((i) => i.name === 'netvsc.sys:59'));
    }
  });
}

test('round trip: QPC at 3 GHz, system-time and CPU-cycle clocks keep 100 ns times', async () => {
  for (const clock of [{ clockType: 1 as const, perfFreq: 3000000000n }, { clockType: 2 as const }, { clockType: 3 as const, cpuSpeedMHz: 2400 }]) {
    const chunks: Uint8Array[] = [];
    const truth: TruthPacket[] = [];
    const r = writeNdisScenario({ seed: 3, packets: 300, cpus: 2, bufferSize: 8192, ...clock }, (c) => chunks.push(c), (p) => truth.push(p));
    const { pcapng } = await convertBytes(assemble(chunks, r.header));
    truth.sort((a, b) => a.ticks - b.ticks);
    const t0 = pcapng.packets[0]!.timestamp - BigInt(truth[0]!.ticks);
    for (let i = 0; i < truth.length; i++) assert.equal(pcapng.packets[i]!.timestamp - t0, BigInt(truth[i]!.ticks), `clock ${clock.clockType} packet ${i}`);
    // Absolute: the writer's StartTime (FILETIME) maps to the pcapng epoch exactly.
    assert.equal(pcapng.packets[0]!.timestamp, 133625243079225833n - 116444736000000000n + BigInt(truth[0]!.ticks));
  }
});

test('round trip: a CPU whose buffer flushes beyond the merge budget is delivered late, not lost', async () => {
  const chunks: Uint8Array[] = [];
  const r = writeNdisScenario({ seed: 5, packets: 4000, cpus: 3, bufferSize: 65536 }, (c) => chunks.push(c));
  const { stats } = await convertBytes(assemble(chunks, r.header));
  assert.equal(stats.packets, 4000);
  const { memorySource } = await import('../../src/etl/byte-source.js');
  const { convertEtlToPcapng } = await import('../../src/pcapng/etl-to-pcapng.js');
  const { memorySink } = await import('../../src/pcapng/file-sink.js');
  const bytes = assemble(chunks, r.header);
  const small = await convertEtlToPcapng(async () => memorySource(bytes), memorySink(), { application: 't', budgetBytes: 1 });
  assert.equal(small.stats.packets, 4000);
  assert.ok(small.stats.lateEvents > 0, 'with no reorder budget some events are late');
  assert.equal(stats.lateEvents, 0, 'with the default budget none are');
});

test('one pass for NDIS captures, two for PktMon, and the same bytes either way', async () => {
  const { memorySource } = await import('../../src/etl/byte-source.js');
  const { convertEtlToPcapng } = await import('../../src/pcapng/etl-to-pcapng.js');
  const { memorySink } = await import('../../src/pcapng/file-sink.js');
  for (const [kind, make] of [['ndis', writeNdisScenario], ['pktmon', writePktmonScenario]] as const) {
    const chunks: Uint8Array[] = [];
    const r = make({ seed: 21, packets: 1500, cpus: 3, bufferSize: 16384, fragmentEvery: 9, vmswitchEvery: 7 }, (c) => chunks.push(c));
    const bytes = assemble(chunks, r.header);
    const a = memorySink();
    const b = memorySink();
    const one = await convertEtlToPcapng(async () => memorySource(bytes), a, { application: 't' });
    const two = await convertEtlToPcapng(async () => memorySource(bytes), b, { application: 't', forceTwoPasses: true });
    assert.equal(one.passes, kind === 'ndis' ? 1 : 2, kind);
    assert.equal(two.passes, 2);
    assert.deepEqual(a.bytes(), b.bytes(), `${kind}: identical pcapng`);
    assert.deepEqual(one.summary, two.summary, `${kind}: identical summary`);
  }
});

test('decodeCapture: one decode feeds the pcapng and the report alike, reading an NDIS file once and a PktMon file in two passes; the same output as each on its own', async () => {
  const { memorySource } = await import('../../src/etl/byte-source.js');
  const { convertEtlToPcapng, PcapngConsumer } = await import('../../src/pcapng/etl-to-pcapng.js');
  const { memorySink } = await import('../../src/pcapng/file-sink.js');
  const { analyzeCapture, AnalysisConsumer } = await import('../../src/analysis/run-analysis.js');
  const { decodeCapture } = await import('../../src/providers/decode-capture.js');
  for (const [kind, make] of [['ndis', writeNdisScenario], ['pktmon', writePktmonScenario]] as const) {
    const chunks: Uint8Array[] = [];
    const r = make({ seed: 33, packets: 1200, cpus: 2, bufferSize: 16384, fragmentEvery: 9, vmswitchEvery: 7 }, (c) => chunks.push(c));
    const bytes = assemble(chunks, r.header);
    let opens = 0;
    const sink = memorySink();
    const pcapng = new PcapngConsumer(sink, 't');
    const analysis = new AnalysisConsumer(undefined, { application: 't' });
    const d = await decodeCapture(async () => { opens++; return memorySource(bytes); }, [pcapng, analysis]);
    await pcapng.finish();
    assert.deepEqual([d.passes, opens], kind === 'ndis' ? [1, 1] : [2, 3], `${kind}: passes and opens of the file`);
    const alone = memorySink();
    await convertEtlToPcapng(async () => memorySource(bytes), alone, { application: 't' });
    assert.deepEqual(sink.bytes(), alone.bytes(), `${kind}: the same pcapng`);
    assert.deepEqual(analysis.report(d), await analyzeCapture(async () => memorySource(bytes), undefined, { application: 't' }), `${kind}: the same report`);
  }
});

test('plain NDIS comments: each packet says its own interface, process, thread and CPU, past the encoded-comment cache\'s size (issue 13)', async () => {
  const { EtlWriter } = await import('../../src/sim/etl-writer.js');
  const { NDIS_PACKET_CAPTURE } = await import('../../src/providers/guids.js');
  const { NDIS_KW, NDIS_KW_HI } = await import('../../src/providers/ndiscap.js');
  const { ndisFragment } = await import('../../src/sim/payloads.js');
  const chunks: Uint8Array[] = [];
  const w = new EtlWriter({ cpus: 4, bufferSize: 65536, osBuild: 20348 }, (c) => chunks.push(c));
  const frame = new Uint8Array(60).fill(7);
  const expected: string[] = [];
  // 12,000 packets, 3,000 process/thread pairs each seen four times: the second time the same
  // comment again, the third on another CPU, the fourth on another interface (9,000 different
  // comments: more than the cache holds).
  for (let n = 0; n < 12_000; n++) {
    const round = Math.floor(n / 3000);
    const cpu = (n + (round === 2 ? 1 : 0)) % 4;
    const ifIndex = [6, 23, 27][(n + (round === 3 ? 1 : 0)) % 3]!;
    const processId = 4 + (n % 1500) * 4; // two threads a process, on the same CPU and interface
    const threadId = 0x100 + ((n * 7) % 3000);
    w.addEvent({
      cpu, ticks: 1000 + n * 10, provider: NDIS_PACKET_CAPTURE, id: 1001, processId, threadId,
      keywordLo: (NDIS_KW.ETHERNET | NDIS_KW.START | NDIS_KW.END) >>> 0, keywordHi: NDIS_KW_HI.SEND | 0x600, payload: ndisFragment(ifIndex, ifIndex, frame),
    });
    expected.push(`ifIndex=${ifIndex} PID=${processId} TID=${threadId} CPU=${cpu}`);
  }
  const { pcapng } = await convertBytes(assemble(chunks, w.finish()));
  assert.deepEqual(pcapng.packets.map((p) => p.comments[0]), expected);
});

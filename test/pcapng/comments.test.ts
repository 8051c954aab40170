/**
 * Per-packet comments of NDIS, vSwitch and PktMon packets, as Wireshark shows them. The converter keeps
 * encoded comment parts per interface, CPU, process and thread (and per vSwitch port's strings);
 * whatever the order of packets, each comment must be the one its own fields spell, written out
 * here independently of the converter.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { LogfileHeader } from '../../src/etl/logfile-header.js';
import { memorySink } from '../../src/pcapng/file-sink.js';
import { PcapngConsumer } from '../../src/pcapng/etl-to-pcapng.js';
import { readPcapng } from '../../src/pcapng/pcapng-reader.js';
import type { CaptureInterface } from '../../src/providers/interfaces.js';
import { PacketRecord, SOURCE } from '../../src/providers/packet-record.js';
import { PktmonComponents } from '../../src/providers/pktmon.js';
import { pktmonDropReasonName } from '../../src/providers/pktmon-tables.js';
import { LINKTYPE } from '../../src/util/link-type.js';

/** Three interfaces: plain NDIS (LWF over a miniport), and two vSwitch ports. */
const IFACES = [
  { lower: 6, miniport: 6, vm: false },
  { lower: 17, miniport: 9, vm: true },
  { lower: 17, miniport: 17, vm: true },
];

const packet: fc.Arbitrary<Spec> = fc.record({
  iface: fc.integer({ min: 0, max: IFACES.length - 1 }),
  cpu: fc.integer({ min: 0, max: 3 }),
  pid: fc.constantFrom(4, 1000, 4294967295),
  tid: fc.constantFrom(256, 257, 70000),
  // One port id, strings that change (a port re-used), non-ASCII text included.
  portId: fc.constantFrom(16, 17),
  portName: fc.constantFrom('8F4B9C1E-2D3A', 'Ünïcode-Port', ''),
  nicName: fc.constantFrom('Container NIC 1', 'NIC'),
  nicType: fc.constantFrom('Synthetic', 'Emulated'),
  destinationCount: fc.integer({ min: 0, max: 2 }),
  vlanId: fc.constantFrom(0, 42),
  hashValue: fc.constantFrom(0, 0x1234abcd, 0xffffffff, 0x0000000f),
  truncated: fc.boolean(),
  metadata: fc.constantFrom('', '', '', 'ReceiveFlags=0x0 PhyType=802.11ac CenterFreq=5180 MPDUs=1 RSSI=-40 DataRate=130'),
});

interface Spec {
  iface: number; cpu: number; pid: number; tid: number; portId: number; portName: string; nicName: string; nicType: string;
  destinationCount: number; vlanId: number; hashValue: number; truncated: boolean; metadata: string;
}

function expectedComment(s: Spec): string {
  const f = IFACES[s.iface]!;
  let c = f.lower !== f.miniport ? `ifIndex=${f.lower} miniport=${f.miniport}` : `ifIndex=${f.lower}`;
  c += ` PID=${s.pid} TID=${s.tid} CPU=${s.cpu}`;
  if (f.vm) {
    c += ` VlanId=${s.vlanId} SrcPortId=${s.portId} SrcNicType=${s.nicType} SrcNicName=${s.nicName} SrcPortName=${s.portName}`;
    if (s.destinationCount > 0) c += ` DstNicCount=${s.destinationCount}`;
    c += ` HashValue=${s.hashValue.toString(16).padStart(8, '0')}`;
  }
  if (s.truncated) c += ' truncated';
  if (s.metadata) c += ` ${s.metadata}`;
  return c;
}

async function comments(specs: Spec[]): Promise<string[]> {
  const sink = memorySink();
  const out = new PcapngConsumer(sink, 'test');
  const header = { startTime: 132000000000000000n, osBuild: 20348, loggerName: 'test' } as LogfileHeader;
  out.start({ header, fileName: 'x.etl', osVersion: '10.0', components: new PktmonComponents() });
  const ifaces: CaptureInterface[] = IFACES.map((f, id) => ({
    id, source: f.vm ? SOURCE.NDIS_VMSWITCH : SOURCE.NDIS, linkType: LINKTYPE.ETHERNET, name: `if${id}`, description: '', ipv4: [], ipv6: [], packets: 0, bytes: 0,
  }));
  for (const i of ifaces) out.addInterface(i);
  const p = new PacketRecord();
  specs.forEach((s, k) => {
    const f = IFACES[s.iface]!;
    p.interfaceId = s.iface;
    p.source = f.vm ? SOURCE.NDIS_VMSWITCH : SOURCE.NDIS;
    p.ticks = k;
    p.data = new Uint8Array([k & 0xff, 1, 2, 3]);
    p.originalLength = 4;
    p.cpu = s.cpu;
    p.processId = s.pid;
    p.threadId = s.tid;
    p.lowerIfIndex = f.lower;
    p.miniportIfIndex = f.miniport;
    p.truncated = s.truncated;
    p.metadata = s.metadata;
    p.vmswitch = f.vm
      ? { portId: s.portId, portName: s.portName, nicName: s.nicName, nicType: s.nicType, destinationCount: s.destinationCount, vlanId: s.vlanId, hashValue: s.hashValue }
      : null;
    out.packet(p, ifaces[s.iface]!);
  });
  await out.finish();
  return readPcapng(sink.bytes()).packets.map((x) => x.comments.join('|'));
}

test('comments: every packet gets the comment its own fields spell, whatever came before', async () => {
  await fc.assert(fc.asyncProperty(fc.array(packet, { minLength: 1, maxLength: 60 }), async (specs) => {
    assert.deepEqual(await comments(specs), specs.map(expectedComment));
  }), { numRuns: 300 });
});

test('comments: one thread\'s packets alternating between two ports and destination counts', async () => {
  const base: Spec = {
    iface: 1, cpu: 0, pid: 4, tid: 256, portId: 16, portName: 'A', nicName: 'NIC', nicType: 'Synthetic', destinationCount: 0, vlanId: 0, hashValue: 1, truncated: false, metadata: '',
  };
  const specs: Spec[] = [];
  for (let k = 0; k < 40; k++) specs.push({ ...base, portName: k % 3 ? 'A' : 'B', destinationCount: k % 2, hashValue: k * 0x01010101 });
  assert.deepEqual(await comments(specs), specs.map(expectedComment));
});

/** PktMon: two components (one with named edges), packets on either, with counters, drops, relabelling. */
const COMPONENTS = [
  { id: 59, name: 'netvsc.sys:Upper', prefix: 'component=59 netvsc.sys', edges: new Map([[1, 'Upper Rx'], [2, 'Lower Tx']]) },
  { id: 7, name: 'vmswitch', prefix: 'component=7', edges: new Map<number, string>() },
];
const DIRECTIONS: Record<number, string> = { 1: 'In', 2: 'Out', 3: 'Rx', 4: 'Tx' };

interface PktmonSpec {
  comp: number; cpu: number; pid: number; tid: number; edgeId: number; dirTag: number; appearance: number; pktNumber: number;
  filterId: number; dropped: boolean; dropReason: number; dropLocation: number; relabelled: boolean;
}

const pktmonPacket: fc.Arbitrary<PktmonSpec> = fc.record({
  comp: fc.integer({ min: 0, max: COMPONENTS.length - 1 }),
  cpu: fc.integer({ min: 0, max: 2 }),
  pid: fc.constantFrom(4, 0),
  tid: fc.constantFrom(0, 9000),
  edgeId: fc.constantFrom(1, 2, 3),
  dirTag: fc.constantFrom(1, 2, 3, 4),
  appearance: fc.oneof(fc.constantFrom(0, 1, 10, 100), fc.nat(65535)),
  pktNumber: fc.oneof(fc.constantFrom(0, 1, 2, 10, 1000, 4294967295), fc.nat({ max: 0xffffffff })),
  filterId: fc.constantFrom(0, 3, 10),
  dropped: fc.boolean(),
  dropReason: fc.constantFrom(0, 25, 1205, 950, 7777),
  dropLocation: fc.constantFrom(0, 0xe000010a, 0xffffffff),
  relabelled: fc.boolean(),
});

function expectedPktmon(s: PktmonSpec, components = COMPONENTS): string {
  const c = components[s.comp]!;
  let t = `${c.prefix} edge=${c.edges.get(s.edgeId) ?? s.edgeId} ${DIRECTIONS[s.dirTag]} PID=${s.pid} TID=${s.tid} CPU=${s.cpu}`;
  if (s.appearance) t += ` appearance=${s.appearance}`;
  if (s.pktNumber > 1) t += ` pkt=${s.pktNumber}`;
  if (s.filterId) t += ` filter=${s.filterId}`;
  if (s.dropped) t += ` DROPPED reason="${pktmonDropReasonName(s.dropReason)}" (${s.dropReason}) location=0x${s.dropLocation.toString(16).padStart(8, '0')}`;
  if (s.relabelled) t += ' (PacketType 2, Ethernet II frame)';
  return t;
}

async function pktmonComments(specs: PktmonSpec[], components = COMPONENTS): Promise<string[]> {
  const sink = memorySink();
  const out = new PcapngConsumer(sink, 'test');
  const header = { startTime: 132000000000000000n, osBuild: 26100, loggerName: 'PktMon' } as LogfileHeader;
  const rundown = new PktmonComponents();
  for (const c of components) {
    const flowCounters = [...c.edges].map(([edgeId, edgeName]) => ({ edgeId, edgeName, dirTagIn: 1, packetsIn: 0, bytesIn: 0, dirTagOut: 2, packetsOut: 0, bytesOut: 0 }));
    rundown.components.set(c.id, { id: c.id, type: 0, name: c.name, description: '', props: {}, ipv4: [], ipv6: [], etherTypes: [], flowCounters });
  }
  out.start({ header, fileName: 'x.etl', osVersion: '10.0', components: rundown });
  const ifaces: CaptureInterface[] = components.map((c, id) => ({
    id, source: SOURCE.PKTMON, linkType: LINKTYPE.ETHERNET, name: c.name, description: '', componentId: c.id, ipv4: [], ipv6: [], packets: 0, bytes: 0,
  }));
  for (const i of ifaces) out.addInterface(i);
  const p = new PacketRecord();
  specs.forEach((s, k) => {
    Object.assign(p, {
      interfaceId: s.comp, source: SOURCE.PKTMON, ticks: k, data: new Uint8Array([1, 2, 3, 4]), originalLength: 4, cpu: s.cpu, processId: s.pid, threadId: s.tid,
      componentId: components[s.comp]!.id, edgeId: s.edgeId, dirTag: s.dirTag, appearance: s.appearance, pktNumber: s.pktNumber, filterId: s.filterId,
      dropped: s.dropped, dropReason: s.dropReason, dropLocation: s.dropLocation, relabelled: s.relabelled, pktGroupIdHi: 0, pktGroupIdLo: k + 1,
    });
    out.packet(p, ifaces[s.comp]!);
  });
  await out.finish();
  return readPcapng(sink.bytes()).packets.map((x) => x.comments.join('|'));
}

test('comments: PktMon packets get the comment their own fields spell (edge, direction, counters, drop)', async () => {
  await fc.assert(fc.asyncProperty(fc.array(pktmonPacket, { minLength: 1, maxLength: 60 }), async (specs) => {
    assert.deepEqual(await pktmonComments(specs), specs.map((x) => expectedPktmon(x)));
  }), { numRuns: 300 });
});

/** `text` cut at `max` bytes of UTF-8, whole characters only (how a comment is kept under pcapng's limit). */
function cutUtf8(text: string, max: number): string {
  let bytes = 0;
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    const n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (bytes + n > max) break;
    bytes += n;
    out += ch;
  }
  return out;
}

test('comments: long names give comments cut at 2048 bytes, whole characters, on the first packet and after', async () => {
  const long = [
    { ...COMPONENTS[0]!, name: `${'n'.repeat(1990)}:Upper`, prefix: `component=59 ${'n'.repeat(1990)}` },
    { ...COMPONENTS[1]!, name: 'é'.repeat(1100), prefix: 'component=7' },
  ];
  const specs: PktmonSpec[] = [0, 0, 1, 0].map((comp, k) => ({
    comp, cpu: 0, pid: 4, tid: 8, edgeId: 1, dirTag: 3, appearance: 3, pktNumber: 2, filterId: 0, dropped: k % 2 === 0, dropReason: 25, dropLocation: 1, relabelled: false,
  }));
  assert.deepEqual(await pktmonComments(specs, long), specs.map((s) => cutUtf8(expectedPktmon(s, long), 2048)));
  const base: Spec = {
    iface: 1, cpu: 0, pid: 4, tid: 256, portId: 16, portName: 'é'.repeat(1100), nicName: 'NIC', nicType: 'Synthetic', destinationCount: 0, vlanId: 0, hashValue: 7, truncated: true, metadata: '',
  };
  const vm = [base, { ...base, portName: '\u4e2d'.repeat(400) }, base];
  assert.deepEqual(await comments(vm), vm.map((s) => cutUtf8(expectedComment(s), 2048)));
});

/**
 * Synthetic captures with known ground truth, from a seed: NDIS-PacketCapture (1001 single and
 * multi-fragment, truncated, 1003 vSwitch) and PktMon (components rundown logged last in time,
 * packets at several components, drops). Used by round-trip tests, the benchmarks and the
 * simulated host. Streaming: packets go to the writer as they are made; the truth callback
 * sees each packet as the decoder must return it.
 */
import { EtlWriter, type EtlWriterOptions } from './etl-writer.js';
import { ipv4Frame, TCP_FLAG } from './frames.js';
import { ndisFragment, ndisVmSwitchFragment, pktmonComponent, pktmonFlowCounters, pktmonPacket, pktmonPropIpv4, pktmonPropMac, pktmonPropUint } from './payloads.js';
import { Random } from './random.js';
import { TcpStreams } from './tcp-streams.js';
import { NDIS_PACKET_CAPTURE, PKTMON } from '../providers/guids.js';
import { NDIS_KW, NDIS_KW_HI } from '../providers/ndiscap.js';

export interface TruthPacket {
  ticks: number;
  data: Uint8Array;
  originalLength: number;
  /** 1 inbound, 2 outbound. */
  direction: number;
  kind: 'ndis' | 'vmswitch' | 'pktmon';
  ifIndex: number;
  componentId: number;
  dropped: boolean;
  dropReason: number;
  cpu: number;
}

export interface ScenarioOptions extends EtlWriterOptions {
  seed: number;
  packets: number;
  /** Every Nth packet is split over 2-3 fragments (NDIS). 0 = never. */
  fragmentEvery?: number;
  /** Every Nth packet is a 1003 vSwitch event (NDIS). */
  vmswitchEvery?: number;
  /** Every Nth packet is truncated to 128 bytes (PacketTruncated keyword / PktMon logged size). */
  truncateEvery?: number;
  /** Every Nth 1001 event carries the 16-byte GFT tail. */
  gftEvery?: number;
  /** Frame sizes (bytes). */
  minFrame?: number;
  maxFrame?: number;
  /** Set EVENTS_LOST on a buffer of this CPU. */
  lostEventsCpu?: number;
  /** Spread packets over this many flows by rewriting the source port (checksums not updated). */
  flows?: number;
  /** NDIS: instead of the frame pool, this many coherent TCP connections (tcp-streams.ts). */
  streams?: number;
}

export interface ScenarioResult {
  writer: EtlWriter;
  /** Final header buffer: write it at file offset 0 when the sink allows. */
  header: Uint8Array;
  packets: number;
}

const MACS = ['00:15:5d:01:02:03', '00:15:5d:0a:0b:0c', '00:22:48:7b:b3:80', '94:8e:d3:c5:f7:48'];
const IPS = ['10.0.0.4', '10.0.0.5', '172.20.16.2', '172.20.16.3', '192.168.1.10'];

/** A pool of real frames of varied sizes; each packet copies one and stamps a counter in it. */
function framePool(rng: Random, min: number, max: number): Uint8Array[] {
  const pool: Uint8Array[] = [];
  for (let i = 0; i < 64; i++) {
    const len = rng.int(min, max);
    const payload = rng.bytes(Math.max(0, len - 54));
    const tcp = i % 3 !== 0;
    pool.push(
      ipv4Frame(rng.pick(MACS), rng.pick(MACS), rng.pick(IPS), rng.pick(IPS), tcp
        ? { protocol: 'tcp', srcPort: 49152 + i, dstPort: 443, seq: i * 1000, ack: 1, flags: TCP_FLAG.ACK | TCP_FLAG.PSH, payload }
        : { protocol: 'udp', srcPort: 53000 + i, dstPort: 53, payload: payload.subarray(0, Math.max(0, len - 42)) }),
    );
  }
  return pool;
}

function stamp(frame: Uint8Array, n: number): Uint8Array {
  const f = frame.slice();
  // Overwrite the last 4 bytes (payload) with the packet number: every packet differs.
  if (f.length >= 60) {
    f[f.length - 4] = n & 0xff;
    f[f.length - 3] = (n >>> 8) & 0xff;
    f[f.length - 2] = (n >>> 16) & 0xff;
    f[f.length - 1] = (n >>> 24) & 0xff;
  }
  return f;
}

export function writeNdisScenario(o: ScenarioOptions, out: (chunk: Uint8Array) => void, truth?: (p: TruthPacket) => void): ScenarioResult {
  const rng = new Random(o.seed);
  const w = new EtlWriter(o, out);
  const cpus = o.cpus ?? 4;
  const pool = framePool(rng, o.minFrame ?? 60, o.maxFrame ?? 1514);
  const streams = o.streams ? new TcpStreams(rng, o.streams, o.minFrame ?? 60, o.maxFrame ?? 1514) : undefined;
  const ifs = [{ miniport: 5, lower: 5 }, { miniport: 5, lower: 9 }, { miniport: 12, lower: 12 }];
  const ptr = w.pointerSize;
  let t = 1000;
  for (let n = 0; n < o.packets; n++) {
    t += rng.int(1, 40);
    // CPU 0 logs most; the last CPU rarely: its buffers flush late, out of time order.
    const r = rng.next();
    const cpu = cpus === 1 ? 0 : r < 0.5 ? 0 : r < 0.97 ? 1 + Math.floor(rng.next() * Math.max(1, cpus - 2)) : cpus - 1;
    const frame = streams ? streams.next() : stamp(pool[n % pool.length]!, n);
    if (o.flows && frame.length >= 38) {
      const port = 1024 + (n % o.flows);
      frame[34] = port >> 8;
      frame[35] = port & 0xff;
    }
    const send = rng.next() < 0.5;
    const dirKw = send ? NDIS_KW_HI.SEND : NDIS_KW_HI.RECEIVE;
    const hiKw = dirKw | 0x600; // the always-declared unnamed bits
    const tid = 0x1000 + cpu;
    const ifc = ifs[n % ifs.length]!;
    const truncate = o.truncateEvery ? n % o.truncateEvery === o.truncateEvery - 1 : false;
    const data = truncate ? frame.subarray(0, 128) : frame;
    const vm = o.vmswitchEvery ? n % o.vmswitchEvery === o.vmswitchEvery - 1 : false;
    const fragments = !vm && o.fragmentEvery && n % o.fragmentEvery === 0 ? 2 + (n % 2) : 1;
    const baseKw = NDIS_KW.ETHERNET | (truncate ? NDIS_KW.TRUNCATED : 0) | (vm ? NDIS_KW.VMSWITCH : 0);
    if (vm) {
      const dest = n % 2;
      w.addEvent({
        cpu, ticks: t, provider: NDIS_PACKET_CAPTURE, id: 1003, keywordLo: (baseKw | NDIS_KW.START | NDIS_KW.END) >>> 0, keywordHi: hiKw, processId: 4, threadId: tid,
        payload: ndisVmSwitchFragment(ifc.miniport, ifc.lower, {
          portId: 0x10 + (n % 3), portName: `8F4B9C1E-2D3A-4B5C-9D6E-7F8091A2B3C${n % 3}`, nicName: `Container NIC ${n % 3}`, nicType: 'Synthetic',
          destinations: dest, vlanId: n % 3 === 2 ? 42 : 0, hashValue: 0x1234abcd,
        }, data, ptr),
      });
    } else {
      const cut = Math.ceil(data.length / fragments);
      for (let i = 0; i < fragments; i++) {
        const part = data.subarray(i * cut, Math.min(data.length, (i + 1) * cut));
        const kw = baseKw | (i === 0 ? NDIS_KW.START : 0) | (i === fragments - 1 ? NDIS_KW.END : 0);
        w.addEvent({
          cpu, ticks: t + i, provider: NDIS_PACKET_CAPTURE, id: 1001, keywordLo: kw >>> 0, keywordHi: hiKw, processId: 4, threadId: tid,
          payload: ndisFragment(ifc.miniport, ifc.lower, part, o.gftEvery ? n % o.gftEvery === 0 : false),
        });
      }
      t += fragments - 1;
    }
    if (o.lostEventsCpu === cpu && n === Math.floor(o.packets / 2)) w.markEventsLost(cpu);
    if (truth) {
      let orig = data.length;
      if (truncate) orig = Math.max(data.length, ((frame[16]! << 8) | frame[17]!) + 14);
      truth({
        ticks: t, data: data.slice(), originalLength: orig, direction: send ? 2 : 1, kind: vm ? 'vmswitch' : 'ndis',
        ifIndex: ifc.lower, componentId: 0, dropped: false, dropReason: 0, cpu,
      });
    }
  }
  const header = w.finish();
  return { writer: w, header, packets: o.packets };
}

export interface PktmonComponentSpec {
  id: number;
  type: number;
  name: string;
  description: string;
  ifIndex: number;
  mac?: string;
  ipv4?: string;
}

export const SIM_PKTMON_COMPONENTS: readonly PktmonComponentSpec[] = [
  { id: 59, type: 2, name: 'netvsc.sys', description: 'Microsoft Hyper-V Network Adapter #3', ifIndex: 5, mac: '00:22:48:7b:b3:80', ipv4: '10.0.0.4' },
  { id: 61, type: 3, name: 'vmswitch.sys', description: 'Hyper-V Virtual Switch Extension Filter', ifIndex: 17 },
  { id: 70, type: 5, name: 'vmswitch.sys', description: '5C1A4A3B-0D1E-4F5A-8B9C-0D1E2F3A4B5C', ifIndex: 31, mac: '00:15:5d:01:02:03' },
  { id: 75, type: 11, name: 'tcpip.sys', description: 'TCP/IPv4 - L3/L4', ifIndex: 5, ipv4: '10.0.0.4' },
];

/**
 * PktMon capture as pktmon's relogger writes it (compressed by default): every packet at 2-3
 * components with one PktGroupId and AppearanceCount 1..n (Server 2022 style), some drops (170)
 * at the tcpip L3/L4 component as raw IP, and the rundown logged after the last packet.
 */
export function writePktmonScenario(o: ScenarioOptions, out: (chunk: Uint8Array) => void, truth?: (p: TruthPacket) => void): ScenarioResult {
  const rng = new Random(o.seed);
  const w = new EtlWriter({ compressed: true, bufferSize: 256 * 1024, ...o }, out);
  const cpus = o.cpus ?? 4;
  const pool = framePool(rng, o.minFrame ?? 60, o.maxFrame ?? 1514);
  const comps = SIM_PKTMON_COMPONENTS;
  const path = [comps[0]!, comps[1]!, comps[2]!];
  let t = 1000;
  let group = 0x100000;
  let count = 0;
  for (let n = 0; count < o.packets; n++) {
    t += rng.int(2, 60);
    const cpu = rng.int(0, cpus - 1);
    const frame = stamp(pool[n % pool.length]!, n);
    const rx = rng.next() < 0.5;
    const truncate = o.truncateEvery ? n % o.truncateEvery === 0 : false;
    const logged = truncate ? frame.subarray(0, 128) : frame;
    group++;
    const drop = n % 25 === 24;
    const hops = drop ? 1 : 2 + (n % 2);
    for (let a = 0; a < hops && count < o.packets; a++) {
      const comp = drop ? comps[3]! : rx ? path[a]! : path[hops - 1 - a]!;
      const data = drop ? logged.subarray(14) : logged;
      const orig = drop ? frame.length - 14 : frame.length;
      const tt = t + a;
      w.addEvent({
        cpu, ticks: tt, provider: PKTMON, id: drop ? 170 : 160, keywordLo: 0x10, processId: 0, threadId: 0,
        payload: pktmonPacket({
          groupId: (BigInt(cpu) << 48n) | BigInt(group), pktNumber: 1, appearance: a + 1, dirTag: rx ? 3 : 4,
          packetType: drop ? 3 : 1, componentId: comp.id, edgeId: drop ? 0 : 1 + (a % 2), filterId: 0,
          dropReason: drop ? 1204 : 0, dropLocation: drop ? 0xe0004321 : 0, originalSize: orig,
        }, data),
      });
      count++;
      truth?.({
        ticks: tt, data: data.slice(), originalLength: Math.max(orig, data.length), direction: rx ? 1 : 2, kind: 'pktmon', ifIndex: comp.ifIndex,
        componentId: comp.id, dropped: drop, dropReason: drop ? 1204 : 0, cpu,
      });
    }
    t += hops;
  }
  // Rundown at stop: after every packet in time, on CPU 0 (flushed first by finish()).
  t += 100;
  for (const c of comps) {
    const ev = (id: number, payload: Uint8Array): void => {
      t += 1;
      w.addEvent({ cpu: 0, ticks: t, provider: PKTMON, id, keywordLo: 0x2, payload });
    };
    ev(20, pktmonComponent(c.id, c.type, c.name, c.description));
    ev(30, pktmonPropUint(c.id, 1, c.ifIndex));
    ev(30, pktmonPropUint(c.id, 2, c.ifIndex));
    if (c.mac) ev(70, pktmonPropMac(c.id, c.mac.split(':').map((x) => parseInt(x, 16))));
    if (c.ipv4) ev(65, pktmonPropIpv4(c.id, c.ipv4.split('.').map(Number)));
    ev(90, pktmonFlowCounters(c.id, 'Upper', 1, 0, 0));
    ev(90, pktmonFlowCounters(c.id, 'Lower', 2, 0, 0));
  }
  const header = w.finish();
  return { writer: w, header, packets: count };
}

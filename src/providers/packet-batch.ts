/**
 * Packets across a thread boundary (analysis/analysis-thread.ts): the decoding thread writes each
 * PacketRecord, its frame bytes and the interfaces it creates into a batch (one transferable
 * ArrayBuffer and a short list of the rare object values); the other thread reads them back into
 * one reused PacketRecord, field for field. Every PacketRecord field is carried (test/providers/
 * packet-batch.test.ts fails when a new field is not).
 */
import type { CaptureInterface } from './interfaces.js';
import { PacketRecord, type VmSwitchInfo } from './packet-record.js';

/**
 * A packet: ticks (float64), 12 u32 slots, then (flag F_PKTMON) 12 more for the PktMon fields, all
 * zero otherwise (an NDIS packet's), then (flag F_VMSWITCH) 6 for a vSwitch packet's numbers and
 * its port's strings (an index into the batch's `ports`); then its frame bytes, to the next
 * multiple of 8.
 */
const BASE_BYTES = 56;
const PKTMON_BYTES = 48;
const VMSWITCH_BYTES = 24;
const F_TRUNCATED = 1;
const F_DROPPED = 2;
const F_RELABELLED = 4;
const F_METADATA = 8;
const F_PKTMON = 16;
const F_VMSWITCH = 32;

/** What crosses: the filled part of `buffer`, the packet count, and what a packet number needs first. */
export interface PacketBatch {
  buffer: ArrayBuffer;
  used: number;
  count: number;
  /** [packet index, text] of the packets that have WLAN metadata. */
  metadata: Array<[number, string]>;
  /**
   * vSwitch ports' strings (PortName, NicName, NicType), each once a batch: they are the same for
   * thousands of packets, and a copy per packet was most of the batch's cost to send and read.
   */
  ports: Array<[string, string, string]>;
  /** Interfaces created just before the packet of that index. */
  interfaces: Array<[number, CaptureInterface]>;
}

/** A batch's size: room for any packet (at most 64 kB). */
export const BATCH_BYTES = 1024 * 1024;

/** Fills one batch at a time (the decode thread). */
export class BatchWriter {
  private buffer: ArrayBuffer;
  private u32: Uint32Array;
  private f64: Float64Array;
  private u8: Uint8Array;
  private used = 0;
  private count = 0;
  private metadata: PacketBatch['metadata'] = [];
  private interfaces: PacketBatch['interfaces'] = [];
  private ports: PacketBatch['ports'] = [];
  /** PortName -> indexes in `ports` of the strings with that PortName. */
  private portIndex = new Map<string, number[]>();

  constructor(buffer: ArrayBuffer = new ArrayBuffer(BATCH_BYTES)) {
    this.buffer = buffer;
    this.u32 = new Uint32Array(buffer);
    this.f64 = new Float64Array(buffer);
    this.u8 = new Uint8Array(buffer);
  }

  get packets(): number {
    return this.count;
  }

  get isEmpty(): boolean {
    return this.count === 0 && this.interfaces.length === 0;
  }

  /** Room for a packet of `length` bytes (false: take() this batch first). */
  fits(length: number): boolean {
    return this.used + BASE_BYTES + PKTMON_BYTES + VMSWITCH_BYTES + length + 8 <= this.buffer.byteLength;
  }

  addInterface(i: CaptureInterface): void {
    this.interfaces.push([this.count, { ...i, ipv4: [...i.ipv4], ipv6: [...i.ipv6] }]);
  }

  add(p: PacketRecord): void {
    const d = p.data;
    const u = this.u32;
    const s = this.used >>> 2;
    this.f64[s >>> 1] = p.ticks;
    u[s + 2] = p.linkType;
    u[s + 3] = p.originalLength;
    u[s + 4] = p.interfaceId;
    u[s + 5] = p.direction;
    u[s + 6] = p.source;
    u[s + 7] = p.cpu;
    u[s + 8] = p.processId;
    u[s + 9] = p.threadId;
    u[s + 10] = p.miniportIfIndex;
    u[s + 11] = p.lowerIfIndex;
    u[s + 13] = d.length;
    const vm = p.vmswitch;
    const pktmon = (p.pktGroupIdHi | p.pktGroupIdLo | p.pktNumber | p.appearance | p.componentId | p.edgeId | p.filterId | p.dirTag | p.pktmonPacketType | p.dropReason | p.dropLocation) !== 0;
    u[s + 12] = (p.truncated ? F_TRUNCATED : 0) | (p.dropped ? F_DROPPED : 0) | (p.relabelled ? F_RELABELLED : 0) | (p.metadata !== '' ? F_METADATA : 0) |
      (pktmon ? F_PKTMON : 0) | (vm ? F_VMSWITCH : 0);
    let at = this.used + BASE_BYTES;
    if (pktmon) {
      const m = at >>> 2;
      u[m] = p.pktGroupIdHi;
      u[m + 1] = p.pktGroupIdLo;
      u[m + 2] = p.pktNumber;
      u[m + 3] = p.appearance;
      u[m + 4] = p.componentId;
      u[m + 5] = p.edgeId;
      u[m + 6] = p.filterId;
      u[m + 7] = p.dirTag;
      u[m + 8] = p.pktmonPacketType;
      u[m + 9] = p.dropReason;
      u[m + 10] = p.dropLocation;
      at += PKTMON_BYTES;
    }
    if (vm) {
      const m = at >>> 2;
      u[m] = vm.portId;
      u[m + 1] = vm.destinationCount;
      u[m + 2] = vm.vlanId;
      u[m + 3] = vm.hashValue;
      u[m + 4] = this.portStrings(vm);
      at += VMSWITCH_BYTES;
    }
    if (p.metadata !== '') this.metadata.push([this.count, p.metadata]);
    this.u8.set(d, at);
    this.used = at + ((d.length + 7) & ~7);
    this.count++;
  }

  /** The index in `ports` of a vSwitch packet's strings (added on first sight in this batch). */
  private portStrings(vm: VmSwitchInfo): number {
    let known = this.portIndex.get(vm.portName);
    if (known) {
      for (const k of known) {
        const s = this.ports[k]!;
        if (s[1] === vm.nicName && s[2] === vm.nicType) return k;
      }
    } else this.portIndex.set(vm.portName, (known = []));
    known.push(this.ports.length);
    return this.ports.push([vm.portName, vm.nicName, vm.nicType]) - 1;
  }

  /** The batch so far; the writer goes on in `next` (a returned or a new buffer). */
  take(next: ArrayBuffer): PacketBatch {
    const b: PacketBatch = { buffer: this.buffer, used: this.used, count: this.count, metadata: this.metadata, interfaces: this.interfaces, ports: this.ports };
    this.buffer = next;
    this.u32 = new Uint32Array(next);
    this.f64 = new Float64Array(next);
    this.u8 = new Uint8Array(next);
    this.used = 0;
    this.count = 0;
    this.metadata = [];
    this.interfaces = [];
    this.ports = [];
    this.portIndex = new Map();
    return b;
  }
}

/**
 * Reads a batch back (the analysis thread): `onInterface` for each interface where it was created,
 * `onPacket` with one reused record per packet and where its frame lies in the batch,
 * `bytes[start, end)`. The record's `data` is left empty: a view per packet was 7% of the analysis
 * thread's time, with its garbage (issue 13).
 */
export function readBatch(
  b: PacketBatch, p: PacketRecord, onInterface: (i: CaptureInterface) => void,
  onPacket: (p: PacketRecord, bytes: Uint8Array, start: number, end: number) => void,
): void {
  const u = new Uint32Array(b.buffer, 0, b.used >>> 2);
  const bytes = new Uint8Array(b.buffer, 0, b.used);
  p.data = NO_DATA;
  const f64 = new Float64Array(b.buffer, 0, b.used >>> 3);
  let nextIf = 0;
  let nextMetadata = 0;
  let at = 0;
  let pktmonSet = true; // whether p may hold PktMon values (cleared once at the first packet without)
  for (let k = 0; k < b.count; k++) {
    while (nextIf < b.interfaces.length && b.interfaces[nextIf]![0] === k) onInterface(b.interfaces[nextIf++]![1]);
    const s = at >>> 2;
    p.ticks = f64[s >>> 1]!;
    p.linkType = u[s + 2]! as PacketRecord['linkType'];
    p.originalLength = u[s + 3]!;
    p.interfaceId = u[s + 4]!;
    p.direction = u[s + 5]! as PacketRecord['direction'];
    p.source = u[s + 6]! as PacketRecord['source'];
    p.cpu = u[s + 7]!;
    p.processId = u[s + 8]!;
    p.threadId = u[s + 9]!;
    p.miniportIfIndex = u[s + 10]!;
    p.lowerIfIndex = u[s + 11]!;
    const f = u[s + 12]!;
    const len = u[s + 13]!;
    p.truncated = (f & F_TRUNCATED) !== 0;
    p.dropped = (f & F_DROPPED) !== 0;
    p.relabelled = (f & F_RELABELLED) !== 0;
    p.metadata = f & F_METADATA ? b.metadata[nextMetadata++]![1] : '';
    at += BASE_BYTES;
    if (f & F_PKTMON) {
      readPktmon(u, at >>> 2, p);
      at += PKTMON_BYTES;
      pktmonSet = true;
    } else if (pktmonSet) {
      readPktmon(ZERO, 0, p);
      pktmonSet = false;
    }
    if (f & F_VMSWITCH) {
      const m = at >>> 2;
      const strings = b.ports[u[m + 4]!]!;
      p.vmswitch = { portId: u[m]!, portName: strings[0], nicName: strings[1], nicType: strings[2], destinationCount: u[m + 1]!, vlanId: u[m + 2]!, hashValue: u[m + 3]! };
      at += VMSWITCH_BYTES;
    } else p.vmswitch = null;
    onPacket(p, bytes, at, at + len);
    at += (len + 7) & ~7;
  }
  while (nextIf < b.interfaces.length) onInterface(b.interfaces[nextIf++]![1]);
}

const ZERO = new Uint32Array(11);
const NO_DATA = new Uint8Array(0);

function readPktmon(u: Uint32Array, m: number, p: PacketRecord): void {
  p.pktGroupIdHi = u[m]!;
  p.pktGroupIdLo = u[m + 1]!;
  p.pktNumber = u[m + 2]!;
  p.appearance = u[m + 3]!;
  p.componentId = u[m + 4]!;
  p.edgeId = u[m + 5]!;
  p.filterId = u[m + 6]!;
  p.dirTag = u[m + 7]!;
  p.pktmonPacketType = u[m + 8]!;
  p.dropReason = u[m + 9]!;
  p.dropLocation = u[m + 10]!;
}

/**
 * Microsoft-Windows-NDIS-PacketCapture ("ndiscap", etl-format.md 3): 1001 packet fragments,
 * 1002 WLAN metadata for the next packet, 1003 vSwitch fragments. Media and direction come from
 * the runtime keyword bits, never from the event id. Fragments are reassembled per
 * (LowerIfIndex, CPU) by the PacketStart/PacketEnd keywords (the reference tools use one global
 * accumulator, pitfall 12).
 */
import type { EtlRecord } from '../etl/record.js';
import { readUtf16z } from '../etl/logfile-header.js';
import { LINKTYPE, type LinkType } from '../util/link-type.js';
import { DIRECTION, SOURCE, type PacketRecord, type VmSwitchInfo } from './packet-record.js';

export const NDIS_EVENT = { FRAGMENT: 1001, METADATA: 1002, VMSWITCH_FRAGMENT: 1003 } as const;

/** Keyword bits, low word. */
export const NDIS_KW = {
  ETHERNET: 0x00000001,
  WIRELESS_WAN: 0x00000200,
  TUNNEL: 0x00008000,
  NATIVE_802_11: 0x00010000,
  VMSWITCH: 0x01000000,
  TRUNCATED: 0x02000000,
  START: 0x40000000,
  END: 0x80000000,
} as const;
/** Keyword bits, high word (bit 32 = bit 0 here). */
export const NDIS_KW_HI = { SEND: 0x1, RECEIVE: 0x2 } as const;

export const MAX_PACKET = 65535;

export function mediaLinkType(keywordLo: number): LinkType {
  if (keywordLo & NDIS_KW.NATIVE_802_11) return LINKTYPE.IEEE802_11;
  if (keywordLo & NDIS_KW.WIRELESS_WAN) return LINKTYPE.RAW;
  return LINKTYPE.ETHERNET;
}

/**
 * Original length, which ndiscap does not log (etl-format.md 3.7): inferred from the IP length
 * field, VLAN-aware, without etl2pcapng's +14 for raw IP. Never less than the captured length
 * (LSO packets carry IPv4 total length 0).
 */
export function inferOriginalLength(d: Uint8Array, linkType: LinkType): number {
  const cap = d.length;
  let inferred = 0;
  if (linkType === LINKTYPE.ETHERNET) {
    let off = 12;
    let et = cap >= 14 ? (d[12]! << 8) | d[13]! : 0;
    while ((et === 0x8100 || et === 0x88a8) && off + 6 <= cap) {
      off += 4;
      et = (d[off]! << 8) | d[off + 1]!;
    }
    const ip = off + 2;
    if (et === 0x0800 && cap >= ip + 20) inferred = ((d[ip + 2]! << 8) | d[ip + 3]!) + ip;
    else if (et === 0x86dd && cap >= ip + 40) inferred = ((d[ip + 4]! << 8) | d[ip + 5]!) + 40 + ip;
  } else if (linkType === LINKTYPE.RAW && cap >= 20) {
    const ver = d[0]! >> 4;
    if (ver === 4) inferred = (d[2]! << 8) | d[3]!;
    else if (ver === 6 && cap >= 40) inferred = ((d[4]! << 8) | d[5]!) + 40;
  }
  return inferred > cap ? inferred : cap;
}

const PHY_TYPES = ['Unknown', 'FHSS', 'DSSS', 'IR', '802.11a', '802.11b', '802.11g', '802.11n', '802.11ac', '802.11ad', '802.11ax'];

interface Accumulator {
  bytes: Uint8Array;
  length: number;
  active: boolean;
}

export interface NdisCounters {
  fragments: number;
  packets: number;
  multiFragmentPackets: number;
  /** A new PacketStart arrived while a packet was being assembled: the partial packet is dropped. */
  incompletePackets: number;
  /** Fragments with neither Start nor a packet in progress (assembled anyway, as etl2pcapng). */
  missingStart: number;
  oversize: number;
  malformed: number;
  vmswitchUnparsed: number;
  /** (DestinationCount, element bytes) pairs seen in 1003 events, to learn the layout. */
  destinationLayouts: Map<string, number>;
}

/** Reassembles ndiscap fragments into packets. One instance per decode. */
export class NdisDecoder {
  readonly counters: NdisCounters = {
    fragments: 0, packets: 0, multiFragmentPackets: 0, incompletePackets: 0, missingStart: 0, oversize: 0,
    malformed: 0, vmswitchUnparsed: 0, destinationLayouts: new Map(),
  };
  private readonly acc = new Map<number, Accumulator>();
  private readonly pendingMeta = new Map<number, string>();
  /** The last 1003 event's fragment: offset and length in its record, and its OOB data's length. */
  private vmFragment = 0;
  private vmFragmentLength = 0;
  private vmOobLength = 0;
  /** vSwitch port id -> the strings of its last 1003 event. */
  private readonly ports = new Map<number, PortStrings>();

  /**
   * Consumes one ndiscap record. Returns true when `out` now holds a complete packet.
   */
  decode(rec: EtlRecord, out: PacketRecord): boolean {
    const id = rec.eventId;
    if (id === NDIS_EVENT.METADATA) {
      this.metadata(rec);
      return false;
    }
    if (id !== NDIS_EVENT.FRAGMENT && id !== NDIS_EVENT.VMSWITCH_FRAGMENT) return false;
    const v = rec.view;
    const p = rec.userOffset;
    const n = rec.userLength;
    let fragOff: number;
    let fragLen: number;
    let vm: VmSwitchInfo | null = null;
    if (n < 12) {
      this.counters.malformed++;
      return false;
    }
    const miniport = v.getUint32(p, true);
    const lower = v.getUint32(p + 4, true);
    if (id === NDIS_EVENT.FRAGMENT) {
      fragLen = v.getUint32(p + 8, true);
      fragOff = p + 12;
      if (12 + fragLen > n) {
        this.counters.malformed++;
        return false;
      }
    } else {
      vm = this.vmswitch(rec);
      if (!vm) return false;
      fragOff = this.vmFragment;
      fragLen = this.vmFragmentLength;
    }
    this.counters.fragments++;
    const kw = rec.keywordLo;
    const start = (kw & NDIS_KW.START) !== 0;
    const end = (kw & NDIS_KW.END) >>> 0 !== 0;
    const key = lower * 2048 + rec.cpu;
    let data: Uint8Array;
    if (start && end) {
      const a = this.acc.get(key);
      if (a?.active) {
        this.counters.incompletePackets++;
        a.active = false;
        a.length = 0;
      }
      data = rec.data.subarray(fragOff, fragOff + fragLen);
    } else {
      let a = this.acc.get(key);
      if (!a) {
        a = { bytes: new Uint8Array(MAX_PACKET), length: 0, active: false };
        this.acc.set(key, a);
      }
      if (start) {
        if (a.active) this.counters.incompletePackets++;
        a.length = 0;
        a.active = true;
      } else if (!a.active) {
        this.counters.missingStart++;
        a.length = 0;
        a.active = true;
      }
      if (a.length + fragLen > MAX_PACKET) {
        this.counters.oversize++;
        a.active = false;
        a.length = 0;
        return false;
      }
      a.bytes.set(rec.data.subarray(fragOff, fragOff + fragLen), a.length);
      a.length += fragLen;
      if (!end) return false;
      data = a.bytes.subarray(0, a.length);
      a.active = false;
      a.length = 0;
      this.counters.multiFragmentPackets++;
    }
    const linkType = mediaLinkType(kw);
    if (linkType === LINKTYPE.IEEE802_11 && data.length >= 2 && data[1]! & 0x40) {
      // The payload in the ETL is already decrypted: clear Protected, as etl2pcapng does.
      data[1] = data[1]! & ~0x40;
    }
    out.source = vm ? SOURCE.NDIS_VMSWITCH : SOURCE.NDIS;
    out.ticks = rec.ticks;
    out.cpu = rec.cpu;
    out.processId = rec.processId;
    out.threadId = rec.threadId;
    out.linkType = linkType;
    out.data = data;
    out.originalLength = inferOriginalLength(data, linkType);
    out.direction = rec.keywordHi & NDIS_KW_HI.SEND ? DIRECTION.OUTBOUND : DIRECTION.INBOUND;
    out.miniportIfIndex = miniport;
    out.lowerIfIndex = lower;
    out.truncated = (kw & NDIS_KW.TRUNCATED) !== 0;
    out.vmswitch = vm;
    const metaKey = lower;
    const meta = this.pendingMeta.get(metaKey);
    if (meta !== undefined) {
      out.metadata = meta;
      this.pendingMeta.delete(metaKey);
    } else out.metadata = '';
    out.pktGroupIdHi = 0;
    out.pktGroupIdLo = 0;
    out.pktNumber = 0;
    out.appearance = 0;
    out.componentId = 0;
    out.edgeId = 0;
    out.filterId = 0;
    out.dirTag = 0;
    out.pktmonPacketType = 0;
    out.dropped = false;
    out.dropReason = 0;
    out.dropLocation = 0;
    out.relabelled = false;
    this.counters.packets++;
    return true;
  }

  /** 1002: DOT11_EXTSTA_RECV_CONTEXT for the next packet on this interface (etl-format.md 3.4). */
  private metadata(rec: EtlRecord): void {
    const v = rec.view;
    const p = rec.userOffset;
    if (rec.userLength < 12) {
      this.counters.malformed++;
      return;
    }
    const lower = v.getUint32(p + 4, true);
    const size = v.getUint32(p + 8, true);
    if (size !== 48 || 12 + size > rec.userLength) return;
    const m = p + 12;
    const phy = v.getUint32(m + 8, true);
    this.pendingMeta.set(
      lower,
      `ReceiveFlags=0x${v.getUint32(m + 4, true).toString(16)} PhyType=${PHY_TYPES[phy] ?? phy} CenterFreq=${v.getUint32(m + 12, true)}` +
        ` MPDUs=${v.getUint16(m + 16, true)} RSSI=${v.getInt32(m + 20, true)} DataRate=${rec.data[m + 24]}`,
    );
  }

  /**
   * 1003: fixed head, three UTF-16Z strings, DestinationCount, destinations of unknown layout,
   * then FragmentSize, Fragment, OOBDataSize, OOBData. The fragment is found by the
   * length-consistency search of etl-format.md 3.5.
   */
  private vmswitch(rec: EtlRecord): VmSwitchInfo | null {
    const v = rec.view;
    const p = rec.userOffset;
    const end = p + rec.userLength;
    const ptr = rec.pointerSize;
    if (rec.userLength < 16) {
      this.counters.malformed++;
      return null;
    }
    const portId = v.getUint32(p + 8, true);
    const port = this.portStrings(rec, portId, p + 12, end);
    if (!port) {
      this.counters.malformed++;
      return null;
    }
    const p0 = p + 12 + port.raw.length;
    const destCount = v.getUint32(p0, true);
    let found = -1;
    const first = p0 + 4;
    if (destCount === 0) {
      if (this.fragmentAt(v, first, end, ptr)) found = first;
    } else {
      for (let q = first; q + 8 <= end; q += 2) {
        if (this.fragmentAt(v, q, end, ptr)) {
          found = q;
          break;
        }
      }
    }
    if (found < 0) {
      this.counters.vmswitchUnparsed++;
      return null;
    }
    if (destCount > 0) {
      const k = `${destCount}:${found - first}`;
      this.counters.destinationLayouts.set(k, (this.counters.destinationLayouts.get(k) ?? 0) + 1);
    }
    const fragLen = this.vmFragmentLength;
    const oobLen = this.vmOobLength;
    const oob = found + 4 + fragLen + 4;
    let vlanId = 0;
    let hashValue = 0;
    if (oobLen >= 5 * ptr) vlanId = (v.getUint32(oob + 4 * ptr, true) >>> 4) & 0xfff;
    if (oobLen >= 9 * ptr) hashValue = v.getUint32(oob + 8 * ptr, true);
    this.vmFragment = found + 4;
    return { portId, portName: port.portName, nicName: port.nicName, nicType: port.nicType, destinationCount: destCount, vlanId, hashValue };
  }

  /**
   * Whether FragmentSize, Fragment, OOBDataSize, OOBData fill the rest of the event from `q`
   * exactly (the length-consistency test); when they do, their lengths are in vmFragmentLength
   * and vmOobLength.
   */
  private fragmentAt(v: DataView, q: number, end: number, ptr: number): boolean {
    if (q + 4 > end) return false;
    const f = v.getUint32(q, true);
    if (f > MAX_PACKET || q + 4 + f + 4 > end) return false;
    const m = v.getUint32(q + 4 + f, true);
    if (q + 4 + f + 4 + m !== end || m % ptr !== 0 || m > 4096) return false;
    this.vmFragmentLength = f;
    this.vmOobLength = m;
    return true;
  }

  /**
   * A 1003 event's PortName, NicName and NicType (UTF-16Z from `at`; `raw` is their bytes, so
   * they end at at + raw.length); undefined when they leave no room for DestinationCount. A
   * port's events repeat the same strings: when the bytes match the port's last ones, their text
   * is reused, not decoded again (decoding was half of a vSwitch packet's cost; issue 13).
   */
  private portStrings(rec: EtlRecord, portId: number, at: number, end: number): PortStrings | undefined {
    const known = this.ports.get(portId);
    if (known && at + known.raw.length + 4 <= end && sameBytes(rec.view, rec.data, at, known)) return known;
    const b = rec.data;
    const portName = readUtf16z(b, at, end);
    const nicName = readUtf16z(b, portName.next, end);
    const nicType = readUtf16z(b, nicName.next, end);
    if (nicType.next + 4 > end) return undefined;
    const raw = b.slice(at, nicType.next);
    const words = new Uint32Array(raw.buffer, 0, raw.length >>> 2).slice(); // little-endian, as getUint32(.., true) reads them
    const strings: PortStrings = { raw, words, portName: portName.text, nicName: nicName.text, nicType: nicType.text };
    if (this.ports.size >= MAX_PORTS) this.ports.clear();
    this.ports.set(portId, strings);
    return strings;
  }
}

/** A vSwitch port's strings as its last 1003 event carried them: bytes (terminators included) and text. */
interface PortStrings {
  raw: Uint8Array;
  /** `raw`'s whole 32-bit words (the comparison's fast part). */
  words: Uint32Array;
  portName: string;
  nicName: string;
  nicType: string;
}

/** Ports whose strings are remembered (then the memory starts again). */
const MAX_PORTS = 4096;

/** Whether the event's bytes at `at` are the port's `raw` ones: four at a time, then the rest. */
function sameBytes(v: DataView, b: Uint8Array, at: number, strings: PortStrings): boolean {
  const raw = strings.raw;
  const words = strings.words;
  const n = words.length;
  for (let i = 0; i < n; i++) if (v.getUint32(at + 4 * i, true) !== words[i]) return false;
  for (let i = 4 * n; i < raw.length; i++) if (b[at + i] !== raw[i]) return false;
  return true;
}

/**
 * Microsoft-Windows-PktMon (etl-format.md 4). Rundown events 20-110 describe components (driver,
 * friendly name, ifIndexes, MAC, IPs, counters) and filters; 160/170 carry packets (170 =
 * dropped). The rundown is logged at stop, after every packet in time but anywhere in the file:
 * the decoder reads it in a first pass (PktmonComponents), then decodes packets in a second.
 */
import type { EtlRecord } from '../etl/record.js';
import { readUtf16z } from '../etl/logfile-header.js';
import { formatGuid } from '../util/guid.js';
import { formatIpv6Text } from '../util/ip.js';
import { LINKTYPE } from '../util/link-type.js';
import { DIRECTION, SOURCE, type PacketRecord } from './packet-record.js';
import { ETHERNET_ETHERTYPES } from './pktmon-tables.js';

export const PKTMON_EVENT = {
  COMPONENT: 20,
  PROP_UINT: 30,
  PROP_GUID: 40,
  PROP_HEX32: 50,
  PROP_NDIS_MEDIUM: 60,
  PROP_IPV4: 65,
  PROP_IPV6: 66,
  PROP_BINARY: 70,
  PROP_STRING: 73,
  PROP_ETHERTYPE: 75,
  DROP_COUNTERS: 80,
  FLOW_COUNTERS: 90,
  FILTER_IPV4: 100,
  FILTER_IPV6: 110,
  PACKET: 160,
  DROP: 170,
} as const;

export interface PktmonCounter {
  edgeId: number;
  edgeName: string;
  dirTagIn: number;
  packetsIn: number;
  bytesIn: number;
  dirTagOut: number;
  packetsOut: number;
  bytesOut: number;
}

export interface PktmonComponent {
  id: number;
  type: number;
  name: string;
  description: string;
  /** Numeric properties by PropertyType (event 30/50/60). */
  props: Record<number, number>;
  ifGuid?: string;
  mac?: string;
  ipv4: string[];
  ipv6: string[];
  etherTypes: number[];
  vmSwitchName?: string;
  dropCounters?: PktmonCounter;
  flowCounters: PktmonCounter[];
}

export interface PktmonFilter {
  id: number;
  name: string;
  mac1: string;
  mac2: string;
  etherType: number;
  vlanId: number;
  ip1: string;
  ip2: string;
  protocol: number;
  port1: number;
  port2: number;
  tcpFlags: number;
}

export function formatMac(b: Uint8Array, off: number): string {
  const parts: string[] = [];
  for (let i = 0; i < 6; i++) parts.push((b[off + i] ?? 0).toString(16).padStart(2, '0'));
  return parts.join(':');
}

export function formatIpv4(b: Uint8Array, off: number): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

export function formatIpv6(b: Uint8Array, off: number): string {
  return formatIpv6Text(b, off);
}

const utf16 = new TextDecoder('utf-16le');

/** Collects the PktMon rundown (components, properties, counters, filters). */
export class PktmonComponents {
  readonly components = new Map<number, PktmonComponent>();
  readonly filters: PktmonFilter[] = [];
  malformed = 0;

  private get(id: number): PktmonComponent {
    let c = this.components.get(id);
    if (!c) {
      c = { id, type: 0, name: '', description: '', props: {}, ipv4: [], ipv6: [], etherTypes: [], flowCounters: [] };
      this.components.set(id, c);
    }
    return c;
  }

  /** Consumes a PktMon rundown record; returns false when it is not one or is malformed. */
  add(rec: EtlRecord): boolean {
    const b = rec.data;
    const v = rec.view;
    const p = rec.userOffset;
    const n = rec.userLength;
    const end = p + n;
    const u16 = (o: number): number => v.getUint16(p + o, true);
    const u32 = (o: number): number => v.getUint32(p + o, true);
    const u64 = (o: number): number => Number(v.getBigUint64(p + o, true));
    const bad = (): boolean => { this.malformed++; return false; };
    switch (rec.eventId) {
      case PKTMON_EVENT.COMPONENT: {
        if (n < 8) return bad();
        const c = this.get(u16(0));
        c.type = u16(2);
        const name = readUtf16z(b, p + 4, end);
        const desc = readUtf16z(b, name.next, end);
        c.name = name.text;
        c.description = desc.text;
        return true;
      }
      case PKTMON_EVENT.PROP_UINT:
      case PKTMON_EVENT.PROP_HEX32:
        if (n < 8) return bad();
        this.get(u16(0)).props[u16(2)] = u32(4);
        return true;
      case PKTMON_EVENT.PROP_NDIS_MEDIUM:
        if (n < 6) return bad();
        this.get(u16(0)).props[u16(2)] = u16(4);
        return true;
      case PKTMON_EVENT.PROP_GUID:
        if (n < 20) return bad();
        this.get(u16(0)).ifGuid = formatGuid(b, p + 4);
        return true;
      case PKTMON_EVENT.PROP_IPV4:
        if (n < 8) return bad();
        this.get(u16(0)).ipv4.push(formatIpv4(b, p + 4));
        return true;
      case PKTMON_EVENT.PROP_IPV6:
        if (n < 20) return bad();
        this.get(u16(0)).ipv6.push(formatIpv6(b, p + 4));
        return true;
      case PKTMON_EVENT.PROP_BINARY: {
        if (n < 8) return bad();
        const size = u32(4);
        if (8 + size > n) return bad();
        if (u16(2) === 6 && size === 6) this.get(u16(0)).mac = formatMac(b, p + 8);
        else this.get(u16(0));
        return true;
      }
      case PKTMON_EVENT.PROP_STRING: {
        // UTF-16LE filling the rest of the payload, no NUL and no length (etl-format.md 4.2).
        if (n < 4) return bad();
        let len = n - 4;
        len -= len % 2;
        let text = utf16.decode(b.subarray(p + 4, p + 4 + len));
        text = text.replace(/\0+$/, '');
        if (u16(2) === 10) this.get(u16(0)).vmSwitchName = text;
        else this.get(u16(0));
        return true;
      }
      case PKTMON_EVENT.PROP_ETHERTYPE:
        if (n < 6) return bad();
        this.get(u16(0)).etherTypes.push(u16(4));
        return true;
      case PKTMON_EVENT.DROP_COUNTERS:
        if (n < 38) return bad();
        this.get(u16(0)).dropCounters = {
          edgeId: 0, edgeName: '', dirTagIn: u16(2), packetsIn: u64(4), bytesIn: u64(12),
          dirTagOut: u16(20), packetsOut: u64(22), bytesOut: u64(30),
        };
        return true;
      case PKTMON_EVENT.FLOW_COUNTERS: {
        if (n < 4) return bad();
        const name = readUtf16z(b, p + 2, end);
        const q = name.next - p;
        if (q + 38 > n) return bad();
        this.get(u16(0)).flowCounters.push({
          edgeName: name.text, edgeId: u16(q), dirTagIn: u16(q + 2), packetsIn: u64(q + 4), bytesIn: u64(q + 12),
          dirTagOut: u16(q + 20), packetsOut: u64(q + 22), bytesOut: u64(q + 30),
        });
        return true;
      }
      case PKTMON_EVENT.FILTER_IPV4:
      case PKTMON_EVENT.FILTER_IPV6: {
        if (n < 4) return bad();
        const name = readUtf16z(b, p + 2, end);
        const q = name.next;
        const ipLen = rec.eventId === PKTMON_EVENT.FILTER_IPV4 ? 4 : 16;
        if (q + 16 + 2 * ipLen + 6 > end) return bad();
        const ip = ipLen === 4 ? formatIpv4 : formatIpv6;
        const after = q + 16 + 2 * ipLen;
        this.filters.push({
          id: u16(0), name: name.text, mac1: formatMac(b, q), mac2: formatMac(b, q + 6),
          etherType: v.getUint16(q + 12, true), vlanId: v.getUint16(q + 14, true),
          ip1: ip(b, q + 16), ip2: ip(b, q + 16 + ipLen), protocol: b[after]!,
          port1: v.getUint16(after + 1, true), port2: v.getUint16(after + 3, true), tcpFlags: b[after + 5]!,
        });
        return true;
      }
      default:
        return false;
    }
  }
}

/** Length of the fixed part of events 160/170. */
export const PKTMON_PACKET_HEADER = 34;

/**
 * Decodes a PktMon 160/170 event into `out`. Returns false when the payload is malformed.
 * The link type comes from PacketType, except that PacketType 2 frames carrying an EtherType at
 * bytes 12-13 are Ethernet II (etl-format.md 4.4, pitfall 25) unless `compat` is set.
 */
export function decodePktmonPacket(rec: EtlRecord, out: PacketRecord, compat: boolean): boolean {
  const n = rec.userLength;
  if (n < PKTMON_PACKET_HEADER) return false;
  const v = rec.view;
  const p = rec.userOffset;
  const logged = v.getUint16(p + 32, true);
  if (PKTMON_PACKET_HEADER + logged > n) return false;
  out.source = SOURCE.PKTMON;
  out.ticks = rec.ticks;
  out.cpu = rec.cpu;
  out.processId = rec.processId;
  out.threadId = rec.threadId;
  out.pktGroupIdLo = v.getUint32(p, true);
  out.pktGroupIdHi = v.getUint32(p + 4, true);
  out.pktNumber = v.getUint16(p + 8, true);
  out.appearance = v.getUint16(p + 10, true);
  const dir = v.getUint16(p + 12, true);
  out.dirTag = dir;
  out.direction = dir === 3 || dir === 1 ? DIRECTION.INBOUND : dir === 4 || dir === 2 ? DIRECTION.OUTBOUND : DIRECTION.UNKNOWN;
  const ptype = v.getUint16(p + 14, true);
  out.pktmonPacketType = ptype;
  out.componentId = v.getUint16(p + 16, true);
  out.edgeId = v.getUint16(p + 18, true);
  out.filterId = v.getUint16(p + 20, true);
  out.dropReason = v.getUint32(p + 22, true);
  out.dropLocation = v.getUint32(p + 26, true);
  out.originalLength = Math.max(v.getUint16(p + 30, true), logged);
  out.dropped = rec.eventId === PKTMON_EVENT.DROP;
  const start = p + PKTMON_PACKET_HEADER;
  out.data = rec.data.subarray(start, start + logged);
  out.relabelled = false;
  out.miniportIfIndex = 0;
  out.lowerIfIndex = 0;
  out.truncated = logged < out.originalLength;
  out.vmswitch = null;
  out.metadata = '';
  if (ptype === 2) {
    const d = out.data;
    if (!compat && d.length >= 14 && ETHERNET_ETHERTYPES.has((d[12]! << 8) | d[13]!)) {
      out.linkType = LINKTYPE.ETHERNET;
      out.relabelled = true;
    } else out.linkType = LINKTYPE.IEEE802_11;
  } else if (ptype === 3) out.linkType = LINKTYPE.RAW;
  else out.linkType = LINKTYPE.ETHERNET;
  return true;
}

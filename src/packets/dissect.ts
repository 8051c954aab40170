/**
 * Drives the layer decoders over one frame: link type -> Ethernet/802.11/raw IP -> ARP/IPv4/IPv6
 * -> TCP/UDP/ICMP -> DNS; UDP 4789 (VXLAN) and GRE 0x6558 (NVGRE) descend into the inner
 * Ethernet frame, keeping the outer addresses. The layers never call each other.
 */
import { LINKTYPE } from '../util/link-type.js';
import { decodeArp } from './arp.js';
import { decodeDns, DNS_PORTS } from './dns.js';
import { type Dissection, HeaderEnd, OVERLAY } from './dissection.js';
import { decodeEthernet, ETHERTYPE } from './ethernet.js';
import { decodeGre } from './gre.js';
import { decodeIcmp } from './icmp.js';
import { decode80211 } from './ieee80211.js';
import { decodeIpv4 } from './ipv4.js';
import { decodeIpv6 } from './ipv6.js';
import { decodeTcp } from './tcp.js';
import { decodeUdp } from './udp.js';
import { decodeVxlan, VXLAN_HEADER_LEN, VXLAN_PORT } from './vxlan.js';

/** Where the header just decoded ends; read right after each decoder returns (overlays recurse). */
const at = new HeaderEnd();

export const IP_PROTO = { ICMP: 1, TCP: 6, UDP: 17, GRE: 47, ICMPV6: 58 } as const;

/**
 * Dissects the frame `d[start, end)` (by default all of `d`) into `out`. Offsets in `out` (ipOffset,
 * the IPv6 addresses') count from the start of `d`: the analysis thread dissects frames in place in
 * their batch (providers/packet-batch.ts).
 */
export function dissect(d: Uint8Array, linkType: number, out: Dissection, start = 0, end = d.length): Dissection {
  out.reset();
  if (linkType === LINKTYPE.ETHERNET) ethernet(d, start, end, out, 0);
  else if (linkType === LINKTYPE.RAW) {
    if (end <= start) out.status = 'truncated';
    else ip(d, start, end, d[start]! >> 4 === 6 ? 6 : 4, out, 0);
  } else if (linkType === LINKTYPE.IEEE802_11) {
    const status = decode80211(d, start, end, out, at);
    if (status !== 'ok') out.status = status;
    else if (at.next >= 0) l3(d, at.next, end, out, 0);
  } else {
    out.status = 'unsupported';
    out.note = `link type ${linkType}`;
  }
  return out;
}

function ethernet(d: Uint8Array, off: number, end: number, out: Dissection, depth: number): void {
  const status = decodeEthernet(d, off, end, out, at);
  if (status !== 'ok') {
    out.status = status;
    return;
  }
  l3(d, at.next, end, out, depth);
}

function l3(d: Uint8Array, off: number, end: number, out: Dissection, depth: number): void {
  const et = out.etherType;
  if (et === ETHERTYPE.IPV4) ip(d, off, end, 4, out, depth);
  else if (et === ETHERTYPE.IPV6) ip(d, off, end, 6, out, depth);
  else if (et === ETHERTYPE.ARP) out.status = decodeArp(d, off, end, out);
  else {
    out.status = 'unsupported';
    out.note = `EtherType 0x${et.toString(16).padStart(4, '0')}`;
  }
}

function ip(d: Uint8Array, off: number, end: number, version: number, out: Dissection, depth: number): void {
  const status = version === 4 ? decodeIpv4(d, off, end, out, at) : decodeIpv6(d, off, end, out, at);
  if (status !== 'ok') {
    out.status = status;
    return;
  }
  out.ipOffset = off;
  if (out.fragmentOffset > 0) return; // later fragments carry no L4 header
  const p = at.next;
  const segEnd = Math.max(p, at.payloadEnd);
  const capEnd = Math.min(end, segEnd);
  const proto = out.ipProtocol;
  if (proto === IP_PROTO.TCP) {
    out.status = decodeTcp(d, p, capEnd, segEnd, out);
    if (out.status === 'ok' && (DNS_PORTS.has(out.srcPort) || DNS_PORTS.has(out.dstPort))) {
      const hl = (d[p + 12]! >> 4) * 4;
      if (p + hl + 2 < capEnd) decodeDns(d, p + hl + 2, capEnd, out); // TCP DNS has a 2-byte length prefix
    }
  } else if (proto === IP_PROTO.UDP) {
    out.status = decodeUdp(d, p, capEnd, segEnd, out);
    if (out.status !== 'ok') return;
    if (out.dstPort === VXLAN_PORT && depth === 0) {
      if (decodeVxlan(d, p + 8, capEnd, out) === 'ok') {
        enterOverlay(out, OVERLAY.VXLAN);
        ethernet(d, p + 8 + VXLAN_HEADER_LEN, capEnd, out, depth + 1);
      }
      return;
    }
    if (DNS_PORTS.has(out.srcPort) || DNS_PORTS.has(out.dstPort)) decodeDns(d, p + 8, capEnd, out);
  } else if (proto === IP_PROTO.ICMP || proto === IP_PROTO.ICMPV6) {
    out.status = decodeIcmp(d, p, capEnd, out);
  } else if (proto === IP_PROTO.GRE && depth === 0) {
    const g = decodeGre(d, p, capEnd, out);
    if (g.status !== 'ok') {
      out.status = g.status;
      return;
    }
    if (g.protocol === ETHERTYPE.TEB) {
      enterOverlay(out, g.nvgre ? OVERLAY.NVGRE : OVERLAY.GRE);
      ethernet(d, g.next, capEnd, out, depth + 1);
    } else if (g.protocol === ETHERTYPE.IPV4 || g.protocol === ETHERTYPE.IPV6) {
      enterOverlay(out, OVERLAY.GRE);
      ip(d, g.next, capEnd, g.protocol === ETHERTYPE.IPV4 ? 4 : 6, out, depth + 1);
    }
  }
}

/** Keeps the outer addresses and clears the inner fields before dissecting the inner frame. */
function enterOverlay(out: Dissection, kind: typeof OVERLAY[keyof typeof OVERLAY]): void {
  out.overlay = kind;
  out.outerSrcMac = out.srcMac;
  out.outerDstMac = out.dstMac;
  out.outerSrcIp = out.srcIp;
  out.outerDstIp = out.dstIp;
  out.srcPort = -1;
  out.dstPort = -1;
  out.ipProtocol = -1;
  out.payloadLength = 0;
}

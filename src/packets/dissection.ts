import { formatIpv6Text } from '../util/ip.js';

export { formatIpv6Text };

/**
 * The result of dissecting one frame: a reusable object with a fixed shape, refilled for every
 * packet by dissect() (no allocation per layer). Addresses are kept as text only for IP (flow
 * keys); MACs are 48-bit numbers (exact in a double).
 */
export type DecodeStatus = 'ok' | 'truncated' | 'malformed' | 'unsupported';

export const OVERLAY = { NONE: 0, VXLAN: 1, NVGRE: 2, GRE: 3 } as const;
export type Overlay = (typeof OVERLAY)[keyof typeof OVERLAY];

/**
 * Where a decoded header ends (next: its payload; payloadEnd: the end its length field gives), set
 * by the header decoders for their caller to read at once: one instance reused, no result object
 * per packet (issue 13: report speed).
 */
export class HeaderEnd {
  next = -1;
  payloadEnd = -1;
}

export class Dissection {
  status: DecodeStatus = 'ok';
  /** Deepest layer reached, for "unsupported" reporting. */
  note = '';
  // Link layer (of the innermost frame for overlays; outer values are kept below).
  hasEthernet = false;
  srcMac = 0;
  dstMac = 0;
  vlanId = -1;
  etherType = 0;
  // Overlay (VXLAN/NVGRE) seen on the outer packet.
  overlay: Overlay = OVERLAY.NONE;
  /** VXLAN VNI or NVGRE VSID. */
  virtualNetworkId = -1;
  outerSrcMac = 0;
  outerDstMac = 0;
  outerSrcIp = '';
  outerDstIp = '';
  // ARP
  arpOp = 0;
  arpSenderIp = '';
  arpTargetIp = '';
  // IP (innermost)
  ipVersion = 0;
  /** Offset of the innermost IP header in the bytes dissected (-1 when none). */
  ipOffset = -1;
  /** IPv4 addresses as unsigned 32-bit numbers (-1 for IPv6 / none): cheap flow keys. */
  srcIp4 = -1;
  dstIp4 = -1;
  /** IPv6: where the addresses are (text is made only when asked for). */
  ip6Data: Uint8Array | null = null;
  ip6Src = 0;
  ip6Dst = 0;
  private srcText: string | null = null;
  private dstText: string | null = null;
  /** Source address as text ('' when none), formatted on first use. */
  get srcIp(): string {
    return (this.srcText ??= this.ipText(this.srcIp4, this.ip6Src));
  }
  set srcIp(v: string) {
    this.srcText = v;
  }
  get dstIp(): string {
    return (this.dstText ??= this.ipText(this.dstIp4, this.ip6Dst));
  }
  set dstIp(v: string) {
    this.dstText = v;
  }
  /** Forgets the address text: the next read formats the current addresses. */
  clearIpText(): void {
    this.srcText = null;
    this.dstText = null;
  }
  private ipText(v4: number, v6off: number): string {
    if (v4 >= 0) return `${v4 >>> 24}.${(v4 >>> 16) & 255}.${(v4 >>> 8) & 255}.${v4 & 255}`;
    if (this.ip6Data) return formatIpv6Text(this.ip6Data, v6off);
    return '';
  }
  ipProtocol = -1;
  ttl = 0;
  /** IP total length from the header (0 on LSO captures), or the payload length + 40 for IPv6. */
  ipLength = 0;
  fragmentOffset = 0;
  moreFragments = false;
  // Transport
  srcPort = -1;
  dstPort = -1;
  tcpFlags = 0;
  tcpSeq = 0;
  tcpAck = 0;
  tcpWindow = 0;
  tcpWindowScale = -1;
  tcpMss = -1;
  tcpSackPermitted = false;
  tcpSackBlocks = 0;
  tcpTimestamp = -1;
  /** Bytes of TCP/UDP payload according to the IP header (not the captured bytes). */
  payloadLength = 0;
  icmpType = -1;
  icmpCode = -1;
  // DNS
  isDns = false;
  dnsId = 0;
  dnsResponse = false;
  dnsRcode = 0;
  dnsQuestionName = '';
  dnsQuestionType = 0;
  dnsAnswerCount = 0;

  reset(): void {
    this.status = 'ok';
    this.note = '';
    this.hasEthernet = false;
    this.srcMac = 0;
    this.dstMac = 0;
    this.vlanId = -1;
    this.etherType = 0;
    this.overlay = OVERLAY.NONE;
    this.virtualNetworkId = -1;
    this.outerSrcMac = 0;
    this.outerDstMac = 0;
    this.outerSrcIp = '';
    this.outerDstIp = '';
    this.arpOp = 0;
    this.arpSenderIp = '';
    this.arpTargetIp = '';
    this.ipVersion = 0;
    this.ipOffset = -1;
    this.srcIp4 = -1;
    this.dstIp4 = -1;
    this.ip6Data = null;
    this.srcText = null;
    this.dstText = null;
    this.ipProtocol = -1;
    this.ttl = 0;
    this.ipLength = 0;
    this.fragmentOffset = 0;
    this.moreFragments = false;
    this.srcPort = -1;
    this.dstPort = -1;
    this.tcpFlags = 0;
    this.tcpSeq = 0;
    this.tcpAck = 0;
    this.tcpWindow = 0;
    this.tcpWindowScale = -1;
    this.tcpMss = -1;
    this.tcpSackPermitted = false;
    this.tcpSackBlocks = 0;
    this.tcpTimestamp = -1;
    this.payloadLength = 0;
    this.icmpType = -1;
    this.icmpCode = -1;
    this.isDns = false;
    this.dnsId = 0;
    this.dnsResponse = false;
    this.dnsRcode = 0;
    this.dnsQuestionName = '';
    this.dnsQuestionType = 0;
    this.dnsAnswerCount = 0;
  }
}

export function formatMacNumber(mac: number): string {
  return mac.toString(16).padStart(12, '0').replace(/(..)(?!$)/g, '$1:');
}

/** Normalizes any MAC text form (00-15-5D-.., 00:15:5d:.., 00155D..) to a 48-bit number, or -1. */
export function parseMac(text: string): number {
  const hex = text.replace(/[-:.\s]/g, '').toLowerCase();
  if (!/^[0-9a-f]{12}$/.test(hex)) return -1;
  return parseInt(hex, 16);
}

/**
 * Ethernet II with 802.1Q / 802.1ad tags (IEEE 802.3, 802.1Q).
 *   | dst MAC 6 | src MAC 6 | [0x8100 TCI 2]* | EtherType 2 | payload
 */
import type { DecodeStatus, Dissection, HeaderEnd } from './dissection.js';

export const ETHERNET_HEADER_LEN = 14;
export const ETHERTYPE = { IPV4: 0x0800, ARP: 0x0806, VLAN: 0x8100, QINQ: 0x88a8, IPV6: 0x86dd, TEB: 0x6558 } as const;

export function readMac(d: Uint8Array, off: number): number {
  return d[off]! * 0x10000000000 + d[off + 1]! * 0x100000000 + ((d[off + 2]! << 24) >>> 0) + (d[off + 3]! << 16) + (d[off + 4]! << 8) + d[off + 5]!;
}

/** Decodes the Ethernet header at `off`: its payload offset in `at.next`. Sets etherType and vlanId. */
export function decodeEthernet(d: Uint8Array, off: number, end: number, out: Dissection, at: HeaderEnd): DecodeStatus {
  if (end - off < ETHERNET_HEADER_LEN) return 'truncated';
  out.hasEthernet = true;
  out.dstMac = readMac(d, off);
  out.srcMac = readMac(d, off + 6);
  let p = off + 12;
  let et = (d[p]! << 8) | d[p + 1]!;
  while (et === ETHERTYPE.VLAN || et === ETHERTYPE.QINQ) {
    if (p + 6 > end) return 'truncated';
    out.vlanId = ((d[p + 2]! << 8) | d[p + 3]!) & 0x0fff;
    p += 4;
    et = (d[p]! << 8) | d[p + 1]!;
  }
  out.etherType = et;
  at.next = p + 2;
  return 'ok';
}

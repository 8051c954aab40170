/**
 * IPv4 (RFC 791).
 *   | ver/IHL | TOS | total length 2 | id 2 | flags/frag 2 | TTL | proto | csum 2 | src 4 | dst 4 | opts
 * Windows captures of large-send (LSO) packets carry total length 0: the captured length is used.
 */
import type { DecodeStatus, Dissection, HeaderEnd } from './dissection.js';

export function formatIpv4At(d: Uint8Array, off: number): string {
  return `${d[off]}.${d[off + 1]}.${d[off + 2]}.${d[off + 3]}`;
}

/** The payload's offset and end in `at`, or a status that is not 'ok'. */
export function decodeIpv4(d: Uint8Array, off: number, end: number, out: Dissection, at: HeaderEnd): DecodeStatus {
  if (end - off < 20) return 'truncated';
  const vihl = d[off]!;
  const ihl = (vihl & 0x0f) * 4;
  if (vihl >> 4 !== 4 || ihl < 20) return 'malformed';
  if (end - off < ihl) return 'truncated';
  let total = (d[off + 2]! << 8) | d[off + 3]!;
  if (total === 0) total = end - off; // LSO: length left to the NIC
  out.ipVersion = 4;
  out.ipLength = total;
  const frag = (d[off + 6]! << 8) | d[off + 7]!;
  out.moreFragments = (frag & 0x2000) !== 0;
  out.fragmentOffset = (frag & 0x1fff) * 8;
  out.ttl = d[off + 8]!;
  out.ipProtocol = d[off + 9]!;
  out.srcIp4 = ((d[off + 12]! << 24) | (d[off + 13]! << 16) | (d[off + 14]! << 8) | d[off + 15]!) >>> 0;
  out.dstIp4 = ((d[off + 16]! << 24) | (d[off + 17]! << 16) | (d[off + 18]! << 8) | d[off + 19]!) >>> 0;
  out.clearIpText(); // text formatted on demand from srcIp4/dstIp4
  if (total < ihl) return 'malformed';
  at.next = off + ihl;
  at.payloadEnd = off + total;
  return 'ok';
}

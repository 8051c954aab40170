/**
 * IPv6 (RFC 8200) with extension headers: hop-by-hop (0), routing (43), fragment (44),
 * destination options (60), AH (51) are walked to the upper-layer protocol.
 *   | ver/TC/flow 4 | payload length 2 | next header | hop limit | src 16 | dst 16 |
 */
import { formatIpv6Text, type DecodeStatus, type Dissection, type HeaderEnd } from './dissection.js';

export function formatIpv6At(d: Uint8Array, off: number): string {
  return formatIpv6Text(d, off);
}

export function decodeIpv6(d: Uint8Array, off: number, end: number, out: Dissection, at: HeaderEnd): DecodeStatus {
  if (end - off < 40) return 'truncated';
  if (d[off]! >> 4 !== 6) return 'malformed';
  const plen = (d[off + 4]! << 8) | d[off + 5]!;
  out.ipVersion = 6;
  out.srcIp4 = -1;
  out.dstIp4 = -1;
  out.ipLength = plen === 0 ? end - off : plen + 40; // jumbogram / LSO: captured length
  out.ttl = d[off + 7]!;
  out.ip6Data = d;
  out.ip6Src = off + 8;
  out.ip6Dst = off + 24;
  out.clearIpText(); // text formatted on demand
  let nh = d[off + 6]!;
  let p = off + 40;
  const payloadEnd = off + out.ipLength;
  for (let n = 0; n < 8; n++) {
    if (nh === 0 || nh === 43 || nh === 60 || nh === 51 || nh === 44) {
      if (p + 8 > end) return 'truncated';
      const next = d[p]!;
      if (nh === 44) {
        const fo = (d[p + 2]! << 8) | d[p + 3]!;
        out.fragmentOffset = fo & 0xfff8;
        out.moreFragments = (fo & 1) === 1;
        p += 8;
      } else if (nh === 51) p += (d[p + 1]! + 2) * 4;
      else p += (d[p + 1]! + 1) * 8;
      nh = next;
      continue;
    }
    break;
  }
  out.ipProtocol = nh;
  at.next = p;
  at.payloadEnd = payloadEnd;
  return 'ok';
}

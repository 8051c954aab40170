/** ICMP (RFC 792) and ICMPv6 (RFC 4443): type and code. */
import type { DecodeStatus, Dissection } from './dissection.js';

export function decodeIcmp(d: Uint8Array, off: number, end: number, out: Dissection): DecodeStatus {
  if (end - off < 4) return 'truncated';
  out.icmpType = d[off]!;
  out.icmpCode = d[off + 1]!;
  return 'ok';
}

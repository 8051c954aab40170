/** UDP (RFC 768). | src port | dst port | length | checksum | */
import type { DecodeStatus, Dissection } from './dissection.js';

export const UDP_HEADER_LEN = 8;

export function decodeUdp(d: Uint8Array, off: number, end: number, datagramEnd: number, out: Dissection): DecodeStatus {
  if (end - off < UDP_HEADER_LEN) return 'truncated';
  out.srcPort = (d[off]! << 8) | d[off + 1]!;
  out.dstPort = (d[off + 2]! << 8) | d[off + 3]!;
  const len = (d[off + 4]! << 8) | d[off + 5]!;
  out.payloadLength = Math.max(0, (len >= 8 ? Math.min(len, datagramEnd - off) : datagramEnd - off) - UDP_HEADER_LEN);
  return 'ok';
}

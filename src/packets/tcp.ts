/**
 * TCP (RFC 9293) with MSS, window scale, SACK-permitted, SACK and timestamp options (RFC 7323, 2018).
 *   | src port | dst port | seq 4 | ack 4 | off/flags 2 | window 2 | csum 2 | urg 2 | options
 */
import type { DecodeStatus, Dissection } from './dissection.js';

export const TCP_FLAGS = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20, ECE: 0x40, CWR: 0x80 } as const;

export function decodeTcp(d: Uint8Array, off: number, end: number, segmentEnd: number, out: Dissection): DecodeStatus {
  if (end - off < 20) return 'truncated';
  out.srcPort = (d[off]! << 8) | d[off + 1]!;
  out.dstPort = (d[off + 2]! << 8) | d[off + 3]!;
  out.tcpSeq = ((d[off + 4]! << 24) | (d[off + 5]! << 16) | (d[off + 6]! << 8) | d[off + 7]!) >>> 0;
  out.tcpAck = ((d[off + 8]! << 24) | (d[off + 9]! << 16) | (d[off + 10]! << 8) | d[off + 11]!) >>> 0;
  const hl = (d[off + 12]! >> 4) * 4;
  out.tcpFlags = d[off + 13]!;
  out.tcpWindow = (d[off + 14]! << 8) | d[off + 15]!;
  if (hl < 20) return 'malformed';
  out.payloadLength = Math.max(0, segmentEnd - off - hl);
  const optEnd = Math.min(off + hl, end);
  for (let p = off + 20; p < optEnd; ) {
    const kind = d[p]!;
    if (kind === 0) break;
    if (kind === 1) { p++; continue; }
    if (p + 1 >= optEnd) break;
    const len = d[p + 1]!;
    if (len < 2 || p + len > optEnd) break;
    if (kind === 2 && len === 4) out.tcpMss = (d[p + 2]! << 8) | d[p + 3]!;
    else if (kind === 3 && len === 3) out.tcpWindowScale = d[p + 2]!;
    else if (kind === 4) out.tcpSackPermitted = true;
    else if (kind === 5) out.tcpSackBlocks = (len - 2) >> 3;
    else if (kind === 8 && len === 10) out.tcpTimestamp = ((d[p + 2]! << 24) | (d[p + 3]! << 16) | (d[p + 4]! << 8) | d[p + 5]!) >>> 0;
    p += len;
  }
  return end - off < hl ? 'truncated' : 'ok';
}

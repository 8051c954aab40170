/**
 * GRE (RFC 2784/2890) and NVGRE (RFC 7637): | C K S flags, version 2 | protocol 2 | [csum 4] [key 4] [seq 4] |
 * NVGRE sets K with protocol 0x6558 (transparent Ethernet bridging); the key's top 24 bits are the VSID.
 */
import type { DecodeStatus, Dissection } from './dissection.js';

export function decodeGre(d: Uint8Array, off: number, end: number, out: Dissection): { status: DecodeStatus; next: number; protocol: number; nvgre: boolean } {
  if (end - off < 4) return { status: 'truncated', next: -1, protocol: 0, nvgre: false };
  const flags = d[off]!;
  const protocol = (d[off + 2]! << 8) | d[off + 3]!;
  let p = off + 4;
  if (flags & 0x80) p += 4;
  let nvgre = false;
  if (flags & 0x20) {
    if (p + 4 > end) return { status: 'truncated', next: -1, protocol, nvgre };
    if (protocol === 0x6558) {
      nvgre = true;
      out.virtualNetworkId = (d[p]! << 16) | (d[p + 1]! << 8) | d[p + 2]!;
    }
    p += 4;
  }
  if (flags & 0x10) p += 4;
  if (p > end) return { status: 'truncated', next: -1, protocol, nvgre };
  return { status: 'ok', next: p, protocol, nvgre };
}

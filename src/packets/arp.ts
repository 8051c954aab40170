/** ARP for IPv4 over Ethernet (RFC 826): op, sender and target protocol addresses. */
import type { DecodeStatus, Dissection } from './dissection.js';
import { formatIpv4At } from './ipv4.js';

export function decodeArp(d: Uint8Array, off: number, end: number, out: Dissection): DecodeStatus {
  if (end - off < 28) return 'truncated';
  if (((d[off + 2]! << 8) | d[off + 3]!) !== 0x0800 || d[off + 5] !== 4) return 'unsupported';
  out.arpOp = (d[off + 6]! << 8) | d[off + 7]!;
  out.arpSenderIp = formatIpv4At(d, off + 14);
  out.arpTargetIp = formatIpv4At(d, off + 24);
  return 'ok';
}

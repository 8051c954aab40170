/**
 * VXLAN (RFC 7348) on UDP 4789: | flags (0x08 = VNI valid) | reserved 3 | VNI 3 | reserved | then an
 * Ethernet frame. Windows SDN / Kubernetes overlay networks (and flannel's 4789) use it.
 */
import type { DecodeStatus, Dissection } from './dissection.js';

export const VXLAN_PORT = 4789;
export const VXLAN_HEADER_LEN = 8;

export function decodeVxlan(d: Uint8Array, off: number, end: number, out: Dissection): DecodeStatus {
  if (end - off < VXLAN_HEADER_LEN) return 'truncated';
  if ((d[off]! & 0x08) === 0) return 'malformed';
  out.virtualNetworkId = (d[off + 4]! << 16) | (d[off + 5]! << 8) | d[off + 6]!;
  return 'ok';
}

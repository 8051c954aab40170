/**
 * 802.11 data frames (IEEE 802.11-2020 9.3.2) far enough to reach IP: frame control, addresses by
 * ToDS/FromDS, QoS control, then an LLC/SNAP header (AA AA 03 00 00 00 + EtherType).
 */
import type { DecodeStatus, Dissection, HeaderEnd } from './dissection.js';
import { readMac } from './ethernet.js';

export function decode80211(d: Uint8Array, off: number, end: number, out: Dissection, at: HeaderEnd): DecodeStatus {
  if (end - off < 24) return 'truncated';
  const fc = d[off]!;
  const type = (fc >> 2) & 3;
  const subtype = fc >> 4;
  if (type !== 2) return 'unsupported';
  const flags = d[off + 1]!;
  const toDs = flags & 1;
  const fromDs = (flags >> 1) & 1;
  const a1 = readMac(d, off + 4);
  const a2 = readMac(d, off + 10);
  const a3 = readMac(d, off + 16);
  let hl = 24;
  if (toDs && fromDs) hl += 6;
  if (subtype & 0x8) hl += 2; // QoS data
  if (flags & 0x80) hl += 4; // +HTC/order
  out.dstMac = toDs ? a3 : a1;
  out.srcMac = fromDs ? (toDs ? readMac(d, off + 24) : a3) : a2;
  if (subtype & 0x4) {
    at.next = -1; // null data: no payload
    return 'ok';
  }
  const p = off + hl;
  if (p + 8 > end) return 'truncated';
  if (d[p] !== 0xaa || d[p + 1] !== 0xaa || d[p + 2] !== 0x03) return 'unsupported';
  out.hasEthernet = true;
  out.etherType = (d[p + 6]! << 8) | d[p + 7]!;
  at.next = p + 8;
  return 'ok';
}

/**
 * DNS (RFC 1035) over UDP/TCP 53 (and mDNS 5353, LLMNR 5355): id, QR, rcode, the first question's
 * name and type, the answer count. Names follow compression pointers (bounded).
 */
import type { DecodeStatus, Dissection } from './dissection.js';

export const DNS_PORTS: ReadonlySet<number> = new Set([53, 5353, 5355]);
export const DNS_RCODE: Readonly<Record<number, string>> = { 0: 'NOERROR', 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 4: 'NOTIMP', 5: 'REFUSED' };
export const DNS_TYPE: Readonly<Record<number, string>> = { 1: 'A', 2: 'NS', 5: 'CNAME', 6: 'SOA', 12: 'PTR', 15: 'MX', 16: 'TXT', 28: 'AAAA', 33: 'SRV', 65: 'HTTPS', 255: 'ANY' };

function readName(d: Uint8Array, base: number, p: number, end: number): { name: string; next: number } | undefined {
  const labels: string[] = [];
  let next = -1;
  for (let hops = 0; hops < 64; hops++) {
    if (p >= end) return undefined;
    const len = d[p]!;
    if (len === 0) {
      if (next < 0) next = p + 1;
      return { name: labels.join('.') || '.', next };
    }
    if ((len & 0xc0) === 0xc0) {
      if (p + 1 >= end) return undefined;
      if (next < 0) next = p + 2;
      p = base + (((len & 0x3f) << 8) | d[p + 1]!);
      continue;
    }
    if (p + 1 + len > end) return undefined;
    let s = '';
    for (let i = 1; i <= len; i++) s += String.fromCharCode(d[p + i]!);
    labels.push(s);
    p += 1 + len;
  }
  return undefined;
}

export function decodeDns(d: Uint8Array, off: number, end: number, out: Dissection): DecodeStatus {
  if (end - off < 12) return 'truncated';
  out.isDns = true;
  out.dnsId = (d[off]! << 8) | d[off + 1]!;
  out.dnsResponse = (d[off + 2]! & 0x80) !== 0;
  out.dnsRcode = d[off + 3]! & 0x0f;
  const qd = (d[off + 4]! << 8) | d[off + 5]!;
  out.dnsAnswerCount = (d[off + 6]! << 8) | d[off + 7]!;
  if (qd > 0) {
    const q = readName(d, off, off + 12, end);
    if (!q) return 'truncated';
    out.dnsQuestionName = q.name;
    if (q.next + 2 <= end) out.dnsQuestionType = (d[q.next]! << 8) | d[q.next + 1]!;
  }
  return 'ok';
}

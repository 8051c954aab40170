/** Builds real Ethernet/IPv4/IPv6/TCP/UDP/ICMP frames (with correct checksums) for synthetic captures. */

export function macBytes(mac: string): number[] {
  return mac.split(':').map((x) => parseInt(x, 16));
}

export function ipv4Bytes(ip: string): number[] {
  return ip.split('.').map(Number);
}

function checksum(b: Uint8Array, off: number, len: number, initial = 0): number {
  let sum = initial;
  for (let i = 0; i + 1 < len; i += 2) sum += (b[off + i]! << 8) | b[off + i + 1]!;
  if (len & 1) sum += b[off + len - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export interface L4 {
  protocol: 'tcp' | 'udp' | 'icmp';
  srcPort?: number;
  dstPort?: number;
  /** TCP fields. */
  seq?: number;
  ack?: number;
  flags?: number;
  window?: number;
  /** TCP options bytes (length multiple of 4). */
  options?: Uint8Array;
  payload?: Uint8Array;
}

export const TCP_FLAG = { FIN: 1, SYN: 2, RST: 4, PSH: 8, ACK: 16 } as const;

/** Ethernet II + optional 802.1Q + IPv4 + L4. */
export function ipv4Frame(srcMac: string, dstMac: string, src: string, dst: string, l4: L4, opts: { vlan?: number; ttl?: number; id?: number } = {}): Uint8Array {
  const payload = l4.payload ?? new Uint8Array(0);
  const optLen = l4.options?.length ?? 0;
  const l4Len = l4.protocol === 'tcp' ? 20 + optLen + payload.length : 8 + payload.length;
  const l2 = opts.vlan !== undefined ? 18 : 14;
  const total = 20 + l4Len;
  const f = new Uint8Array(Math.max(l2 + total, 60));
  f.set(macBytes(dstMac), 0);
  f.set(macBytes(srcMac), 6);
  let p = 12;
  if (opts.vlan !== undefined) {
    f[12] = 0x81; f[13] = 0x00; f[14] = (opts.vlan >> 8) & 0x0f; f[15] = opts.vlan & 0xff;
    p = 16;
  }
  f[p] = 0x08; f[p + 1] = 0x00;
  const ip = p + 2;
  f[ip] = 0x45;
  f[ip + 2] = total >> 8; f[ip + 3] = total & 0xff;
  const id = opts.id ?? 1;
  f[ip + 4] = (id >> 8) & 0xff; f[ip + 5] = id & 0xff;
  f[ip + 6] = 0x40;
  f[ip + 8] = opts.ttl ?? 128;
  f[ip + 9] = l4.protocol === 'tcp' ? 6 : l4.protocol === 'udp' ? 17 : 1;
  f.set(ipv4Bytes(src), ip + 12);
  f.set(ipv4Bytes(dst), ip + 16);
  const ck = checksum(f, ip, 20);
  f[ip + 10] = ck >> 8; f[ip + 11] = ck & 0xff;
  writeL4(f, ip + 20, l4, payload, f.subarray(ip + 12, ip + 20), 4);
  return f;
}

function writeL4(f: Uint8Array, t: number, l4: L4, payload: Uint8Array, addrs: Uint8Array, _family: number): void {
  const optLen = l4.options?.length ?? 0;
  const proto = l4.protocol === 'tcp' ? 6 : l4.protocol === 'udp' ? 17 : 1;
  const len = l4.protocol === 'tcp' ? 20 + optLen + payload.length : 8 + payload.length;
  if (l4.protocol === 'icmp') {
    f[t] = l4.srcPort ?? 8; // type
    f[t + 1] = 0;
    f[t + 4] = 0; f[t + 5] = 1; f[t + 6] = ((l4.dstPort ?? 1) >> 8) & 0xff; f[t + 7] = (l4.dstPort ?? 1) & 0xff;
    f.set(payload, t + 8);
    const ck = checksum(f, t, len);
    f[t + 2] = ck >> 8; f[t + 3] = ck & 0xff;
    return;
  }
  const v = new DataView(f.buffer, f.byteOffset);
  v.setUint16(t, l4.srcPort ?? 0);
  v.setUint16(t + 2, l4.dstPort ?? 0);
  if (l4.protocol === 'udp') {
    v.setUint16(t + 4, len);
    f.set(payload, t + 8);
  } else {
    v.setUint32(t + 4, (l4.seq ?? 0) >>> 0);
    v.setUint32(t + 8, (l4.ack ?? 0) >>> 0);
    f[t + 12] = ((20 + optLen) / 4) << 4;
    f[t + 13] = l4.flags ?? TCP_FLAG.ACK;
    v.setUint16(t + 14, l4.window ?? 65535);
    if (l4.options) f.set(l4.options, t + 20);
    f.set(payload, t + 20 + optLen);
  }
  let pseudo = 0;
  for (let i = 0; i < addrs.length; i += 2) pseudo += (addrs[i]! << 8) | addrs[i + 1]!;
  pseudo += proto + len;
  const ck = checksum(f, t, len, pseudo);
  const off = l4.protocol === 'udp' ? 6 : 16;
  f[t + off] = ck >> 8; f[t + off + 1] = ck & 0xff;
}

export function ipv6Bytes(ip: string): number[] {
  const [h, t] = ip.includes('::') ? ip.split('::') : [ip, ''];
  const hw = h ? h.split(':').map((x) => parseInt(x, 16)) : [];
  const tw = t ? t.split(':').map((x) => parseInt(x, 16)) : [];
  const words = [...hw, ...new Array<number>(8 - hw.length - tw.length).fill(0), ...tw];
  return words.flatMap((w) => [w >> 8, w & 0xff]);
}

/** Ethernet II + IPv6 + L4 (UDP/TCP). */
export function ipv6Frame(srcMac: string, dstMac: string, src: string, dst: string, l4: L4): Uint8Array {
  const payload = l4.payload ?? new Uint8Array(0);
  const optLen = l4.options?.length ?? 0;
  const l4Len = l4.protocol === 'tcp' ? 20 + optLen + payload.length : 8 + payload.length;
  const f = new Uint8Array(Math.max(14 + 40 + l4Len, 60));
  f.set(macBytes(dstMac), 0);
  f.set(macBytes(srcMac), 6);
  f[12] = 0x86; f[13] = 0xdd;
  f[14] = 0x60;
  f[18] = l4Len >> 8; f[19] = l4Len & 0xff;
  f[20] = l4.protocol === 'tcp' ? 6 : 17;
  f[21] = 64;
  f.set(ipv6Bytes(src), 22);
  f.set(ipv6Bytes(dst), 38);
  writeL4(f, 54, l4, payload, f.subarray(22, 54), 6);
  return f;
}

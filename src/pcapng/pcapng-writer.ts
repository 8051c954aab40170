/**
 * pcapng writer (draft-ietf-opsawg-pcapng): SHB, IDB, EPB with options, built into reused 1 MiB
 * chunks. Pure: the caller takes filled chunks with takeReady() and writes them (file-sink.ts).
 * Timestamps use if_tsresol 7 (100 ns) to keep Windows' precision.
 */
export const BLOCK = { SHB: 0x0a0d0d0a, IDB: 1, EPB: 6, ISB: 5 } as const;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const OPT = { END: 0, COMMENT: 1 } as const;
const SHB_OPT = { HARDWARE: 2, OS: 3, USERAPPL: 4 } as const;
const IF_OPT = { NAME: 2, DESCRIPTION: 3, IPV4: 4, IPV6: 5, MAC: 6, TSRESOL: 9, OS: 12 } as const;
const EPB_OPT = { FLAGS: 2, PACKETID: 5 } as const;

export const CHUNK_SIZE = 1024 * 1024;
export const TS_RESOL_100NS = 7;

export interface SectionInfo {
  application: string;
  os?: string;
  hardware?: string;
  comment?: string;
}

export interface InterfaceDescription {
  linkType: number;
  name: string;
  description?: string;
  mac?: string;
  ipv4?: readonly string[];
  ipv6?: readonly string[];
  snapLength?: number;
}

export interface EpbOptions {
  /** epb_flags direction bits: 0 unknown, 1 inbound, 2 outbound. */
  direction: number;
  /** epb_packetid as two 32-bit halves, written when either is non-zero. */
  packetIdHi: number;
  packetIdLo: number;
  /** UTF-8 comment bytes (may be empty). */
  comment: Uint8Array;
}

const utf8 = new TextEncoder();
const pad4 = (n: number): number => (n + 3) & ~3;

export class PcapngWriter {
  private chunk: Uint8Array = new Uint8Array(CHUNK_SIZE);
  private view = new DataView(this.chunk.buffer);
  private pos = 0;
  private readonly ready: Uint8Array[] = [];
  private readonly free: Uint8Array[] = [];
  private interfaces = 0;
  bytesWritten = 0;
  packets = 0;

  /** Bytes waiting in takeReady() plus the open chunk. */
  get pendingBytes(): number {
    let n = this.pos;
    for (const r of this.ready) n += r.length;
    return n;
  }

  writeSectionHeader(info: SectionInfo): void {
    const opts: Array<[number, Uint8Array]> = [];
    if (info.comment) opts.push([OPT.COMMENT, utf8.encode(info.comment)]);
    if (info.hardware) opts.push([SHB_OPT.HARDWARE, utf8.encode(info.hardware)]);
    if (info.os) opts.push([SHB_OPT.OS, utf8.encode(info.os)]);
    opts.push([SHB_OPT.USERAPPL, utf8.encode(info.application)]);
    const len = 24 + optionsLength(opts) + 4;
    this.reserve(len);
    const v = this.view;
    let p = this.pos;
    v.setUint32(p, BLOCK.SHB, true);
    v.setUint32(p + 4, len, true);
    v.setUint32(p + 8, BYTE_ORDER_MAGIC, true);
    v.setUint16(p + 12, 1, true);
    v.setUint16(p + 14, 0, true);
    v.setInt32(p + 16, -1, true);
    v.setInt32(p + 20, -1, true);
    p = this.writeOptions(p + 24, opts);
    v.setUint32(p, len, true);
    this.pos = p + 4;
  }

  /** Writes an IDB and returns its interface id. */
  addInterface(d: InterfaceDescription): number {
    const opts: Array<[number, Uint8Array]> = [];
    opts.push([IF_OPT.NAME, utf8.encode(truncate(d.name))]);
    if (d.description) opts.push([IF_OPT.DESCRIPTION, utf8.encode(truncate(d.description))]);
    for (const ip of d.ipv4 ?? []) {
      const b = parseIpv4(ip);
      if (b) opts.push([IF_OPT.IPV4, new Uint8Array([...b, 255, 255, 255, 255])]);
    }
    for (const ip of d.ipv6 ?? []) {
      const b = parseIpv6(ip);
      if (b) opts.push([IF_OPT.IPV6, new Uint8Array([...b, 128])]);
    }
    if (d.mac) {
      const m = d.mac.split(/[:-]/).map((x) => parseInt(x, 16));
      if (m.length === 6 && m.every((x) => Number.isInteger(x) && x >= 0 && x < 256)) opts.push([IF_OPT.MAC, new Uint8Array(m)]);
    }
    opts.push([IF_OPT.TSRESOL, new Uint8Array([TS_RESOL_100NS])]);
    const len = 16 + optionsLength(opts) + 4;
    this.reserve(len);
    const v = this.view;
    let p = this.pos;
    v.setUint32(p, BLOCK.IDB, true);
    v.setUint32(p + 4, len, true);
    v.setUint16(p + 8, d.linkType, true);
    v.setUint16(p + 10, 0, true);
    v.setUint32(p + 12, d.snapLength ?? 0, true);
    p = this.writeOptions(p + 16, opts);
    v.setUint32(p, len, true);
    this.pos = p + 4;
    return this.interfaces++;
  }

  /** Writes one EPB. `tsHi`/`tsLo` are the 64-bit timestamp in if_tsresol units. */
  writePacket(interfaceId: number, tsHi: number, tsLo: number, data: Uint8Array, originalLength: number, o: EpbOptions): void {
    const capLen = data.length;
    const dataLen = pad4(capLen);
    const hasId = o.packetIdHi !== 0 || o.packetIdLo !== 0;
    const commentLen = o.comment.length;
    const optLen = 8 + (hasId ? 12 : 0) + (commentLen > 0 ? 4 + pad4(commentLen) : 0) + 4;
    const len = 28 + dataLen + optLen + 4;
    this.reserve(len);
    const v = this.view;
    const c = this.chunk;
    let p = this.pos;
    v.setUint32(p, BLOCK.EPB, true);
    v.setUint32(p + 4, len, true);
    v.setUint32(p + 8, interfaceId, true);
    v.setUint32(p + 12, tsHi, true);
    v.setUint32(p + 16, tsLo, true);
    v.setUint32(p + 20, capLen, true);
    v.setUint32(p + 24, originalLength, true);
    c.set(data, p + 28);
    p += 28 + capLen;
    while (p & 3) c[p++] = 0;
    v.setUint32(p, EPB_OPT.FLAGS | (4 << 16), true);
    v.setUint32(p + 4, o.direction, true);
    p += 8;
    if (hasId) {
      v.setUint32(p, EPB_OPT.PACKETID | (8 << 16), true);
      v.setUint32(p + 4, o.packetIdLo, true);
      v.setUint32(p + 8, o.packetIdHi, true);
      p += 12;
    }
    if (commentLen > 0) {
      v.setUint32(p, OPT.COMMENT | (commentLen << 16), true);
      c.set(o.comment, p + 4);
      p += 4 + commentLen;
      while (p & 3) c[p++] = 0;
    }
    v.setUint32(p, 0, true);
    v.setUint32(p + 4, len, true);
    this.pos = p + 8;
    this.packets++;
  }

  /** Filled chunks, in order, including the current partial one. Give them back with recycle(). */
  takeReady(includePartial: boolean): Uint8Array[] {
    if (includePartial && this.pos > 0) this.rotate();
    return this.ready.splice(0, this.ready.length);
  }

  recycle(chunk: Uint8Array): void {
    const base = new Uint8Array(chunk.buffer, 0, chunk.buffer.byteLength);
    if (base.length === CHUNK_SIZE && this.free.length < 8) this.free.push(base);
  }

  private reserve(len: number): void {
    if (this.pos + len <= this.chunk.length) return;
    this.rotate();
    if (len > this.chunk.length) {
      this.chunk = new Uint8Array(len);
      this.view = new DataView(this.chunk.buffer);
    }
  }

  private rotate(): void {
    if (this.pos > 0) {
      this.ready.push(this.chunk.subarray(0, this.pos));
      this.bytesWritten += this.pos;
    }
    this.chunk = this.free.pop() ?? new Uint8Array(CHUNK_SIZE);
    this.view = new DataView(this.chunk.buffer);
    this.pos = 0;
  }

  private writeOptions(p: number, opts: ReadonlyArray<[number, Uint8Array]>): number {
    const v = this.view;
    for (const [code, val] of opts) {
      v.setUint16(p, code, true);
      v.setUint16(p + 2, val.length, true);
      this.chunk.set(val, p + 4);
      p += 4 + val.length;
      while (p & 3) this.chunk[p++] = 0;
    }
    v.setUint32(p, 0, true);
    return p + 4;
  }
}

function optionsLength(opts: ReadonlyArray<[number, Uint8Array]>): number {
  let n = 4;
  for (const [, v] of opts) n += 4 + pad4(v.length);
  return n;
}

function truncate(s: string): string {
  return s.length > 255 ? `${s.slice(0, 254)}…` : s;
}

export function parseIpv4(s: string): number[] | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const b = m.slice(1).map(Number);
  return b.every((x) => x <= 255) ? b : undefined;
}

export function parseIpv6(s: string): number[] | undefined {
  const t = s.replace(/%.*$/, '');
  if (!/^[0-9a-fA-F:.]+$/.test(t) || t.split('::').length > 2) return undefined;
  const [head, tail] = t.includes('::') ? t.split('::') : [t, undefined];
  const parse = (x: string | undefined): number[] => (x ? x.split(':').map((w) => parseInt(w, 16)) : []);
  const h = parse(head);
  const tl = parse(tail);
  const fill = 8 - h.length - tl.length;
  if (fill < 0 || (tail === undefined && fill !== 0)) return undefined;
  const words = [...h, ...new Array<number>(fill).fill(0), ...tl];
  if (words.length !== 8 || words.some((w) => !Number.isInteger(w) || w < 0 || w > 0xffff)) return undefined;
  return words.flatMap((w) => [w >> 8, w & 0xff]);
}

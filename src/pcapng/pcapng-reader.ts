/**
 * A small pcapng reader (little-endian sections) used by tests and `wnvcap` self-checks: SHB,
 * IDB (link type, name, tsresol), EPB (timestamp, lengths, flags, comment, packet id).
 */
export interface PcapngInterface {
  linkType: number;
  name: string;
  description: string;
  /** Timestamp units per second. */
  unitsPerSecond: bigint;
}

export interface PcapngPacket {
  interfaceId: number;
  /** Raw 64-bit timestamp in the interface's units. */
  timestamp: bigint;
  /** Microseconds since 1970 (floor). */
  micros: bigint;
  capturedLength: number;
  originalLength: number;
  data: Uint8Array;
  flags: number | undefined;
  comments: string[];
  packetId: bigint | undefined;
}

export interface PcapngFile {
  application: string;
  interfaces: PcapngInterface[];
  packets: PcapngPacket[];
}

const utf8 = new TextDecoder();

export function readPcapng(bytes: Uint8Array): PcapngFile {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const file: PcapngFile = { application: '', interfaces: [], packets: [] };
  let p = 0;
  while (p + 12 <= bytes.length) {
    const type = v.getUint32(p, true);
    const len = v.getUint32(p + 4, true);
    if (len < 12 || p + len > bytes.length || len % 4 !== 0) throw new Error(`bad block length ${len} at ${p}`);
    if (v.getUint32(p + len - 4, true) !== len) throw new Error(`trailing length mismatch at ${p}`);
    const body = p + 8;
    const end = p + len - 4;
    if (type === 0x0a0d0d0a) {
      if (v.getUint32(body, true) !== 0x1a2b3c4d) throw new Error('big-endian or bad SHB');
      options(bytes, v, body + 16, end, (code, val) => { if (code === 4) file.application = utf8.decode(val); });
    } else if (type === 1) {
      const i: PcapngInterface = { linkType: v.getUint16(body, true), name: '', description: '', unitsPerSecond: 1000000n };
      options(bytes, v, body + 8, end, (code, val) => {
        if (code === 2) i.name = utf8.decode(val);
        else if (code === 3) i.description = utf8.decode(val);
        else if (code === 9 && val.length >= 1) {
          const r = val[0]!;
          i.unitsPerSecond = r & 0x80 ? 2n ** BigInt(r & 0x7f) : 10n ** BigInt(r);
        }
      });
      file.interfaces.push(i);
    } else if (type === 6) {
      const ifId = v.getUint32(body, true);
      const ts = (BigInt(v.getUint32(body + 4, true)) << 32n) | BigInt(v.getUint32(body + 8, true));
      const cap = v.getUint32(body + 12, true);
      const orig = v.getUint32(body + 16, true);
      const data = bytes.slice(body + 20, body + 20 + cap);
      const pkt: PcapngPacket = { interfaceId: ifId, timestamp: ts, micros: 0n, capturedLength: cap, originalLength: orig, data, flags: undefined, comments: [], packetId: undefined };
      options(bytes, v, body + 20 + ((cap + 3) & ~3), end, (code, val) => {
        const ov = new DataView(val.buffer, val.byteOffset, val.byteLength);
        if (code === 1) pkt.comments.push(utf8.decode(val));
        else if (code === 2 && val.length === 4) pkt.flags = ov.getUint32(0, true);
        else if (code === 5 && val.length === 8) pkt.packetId = ov.getBigUint64(0, true);
      });
      const units = file.interfaces[ifId]?.unitsPerSecond ?? 1000000n;
      pkt.micros = (ts * 1000000n) / units;
      file.packets.push(pkt);
    }
    p += len;
  }
  return file;
}

function options(b: Uint8Array, v: DataView, p: number, end: number, f: (code: number, val: Uint8Array) => void): void {
  while (p + 4 <= end) {
    const code = v.getUint16(p, true);
    const len = v.getUint16(p + 2, true);
    if (code === 0) return;
    f(code, b.subarray(p + 4, p + 4 + len));
    p += 4 + ((len + 3) & ~3);
  }
}

/**
 * Walks the records of one (expanded) buffer: classifies each by its marker (etl-format.md 2.1),
 * fills the shared EtlRecord and calls the visitor. Records are 8-byte aligned; every kind
 * carries its own size, so unknown kinds are skipped safely. A record that cannot be sized or
 * runs past the buffer end stops this buffer (not the file) and is returned as the reason.
 */
import type { EtlBuffer } from './buffer-reader.js';
import type { EtlClock } from './clock.js';
import { EVENT_HEADER_SIZE, EVENT_INSTANCE_HEADER_SIZE, EVENT_TRACE_HEADER_SIZE, HEADER_TYPE, PERFINFO_HEADER_SIZE, RECORD_KIND, SYSTEM_HEADER_COMPACT_SIZE, SYSTEM_HEADER_FULL_SIZE, WMI_BUFFER_HEADER_SIZE } from './constants.js';
import type { EtlRecord } from './record.js';

export interface WalkProblem {
  /** Offset inside the expanded buffer. */
  offset: number;
  reason: string;
}

const EXT_CONTAINER_ID = 0x10;

/** Extra header bytes of system/perfinfo headers: PEBS index and PMC counters. */
function systemExtras(m: number): number {
  return (m & 0x8000 ? 8 : 0) + ((m & 0x0700) >>> 8) * 8;
}

export function walkRecords(buf: EtlBuffer, clock: EtlClock, rec: EtlRecord, visit: (r: EtlRecord) => void): WalkProblem | undefined {
  let pos = WMI_BUFFER_HEADER_SIZE;
  while (pos + 8 <= buf.end) {
    const r = decodeRecordAt(buf, pos, clock, rec);
    if (typeof r !== 'number') return r;
    if (r === 0) return undefined;
    visit(rec);
    pos += (r + 7) & ~7;
  }
  return undefined;
}

/**
 * Decodes the record at `pos` into `rec`. Returns its size (without alignment padding), 0 at
 * end-of-records padding, or the problem that stops this buffer.
 */
export function decodeRecordAt(buf: EtlBuffer, pos: number, clock: EtlClock, rec: EtlRecord): number | WalkProblem {
  const v = buf.view;
  const end = buf.end;
  rec.data = buf.data;
  rec.view = v;
  rec.cpu = buf.cpu;
  rec.bufferFileOffset = buf.fileOffset;
  {
    const m = v.getUint32(pos, true);
    if (m === 0xffffffff || m === 0) return 0; // padding: end of records
    const top = m >>> 24;
    let size: number;
    let hdr: number;
    rec.offset = pos;
    rec.guidOffset = -1;
    rec.containerIdOffset = -1;
    rec.eventId = 0;
    rec.version = 0;
    rec.keywordLo = 0;
    rec.keywordHi = 0;
    rec.flags = 0;
    rec.hookId = 0;
    rec.threadId = 0;
    rec.processId = 0;
    rec.ticks = Number.NaN;
    if ((top & 0xc0) === 0xc0) {
      const ht = (m >>> 16) & 0xff;
      rec.headerType = ht;
      switch (ht) {
        case HEADER_TYPE.SYSTEM32:
        case HEADER_TYPE.SYSTEM64:
        case HEADER_TYPE.COMPACT32:
        case HEADER_TYPE.COMPACT64: {
          size = v.getUint16(pos + 4, true);
          const full = ht === HEADER_TYPE.SYSTEM32 || ht === HEADER_TYPE.SYSTEM64;
          hdr = (full ? SYSTEM_HEADER_FULL_SIZE : SYSTEM_HEADER_COMPACT_SIZE) + systemExtras(m);
          if (size < hdr || pos + size > end) return bad(pos, size, end);
          rec.kind = RECORD_KIND.SYSTEM;
          rec.pointerSize = ht === HEADER_TYPE.SYSTEM32 || ht === HEADER_TYPE.COMPACT32 ? 4 : 8;
          rec.hookId = v.getUint16(pos + 6, true);
          rec.threadId = v.getUint32(pos + 8, true);
          rec.processId = v.getUint32(pos + 12, true);
          rec.ticks = clock.ticksAt(v, pos + 0x10);
          break;
        }
        case HEADER_TYPE.PERFINFO32:
        case HEADER_TYPE.PERFINFO64:
          size = v.getUint16(pos + 4, true);
          hdr = PERFINFO_HEADER_SIZE + systemExtras(m);
          if (size < hdr || pos + size > end) return bad(pos, size, end);
          rec.kind = RECORD_KIND.PERFINFO;
          rec.pointerSize = ht === HEADER_TYPE.PERFINFO32 ? 4 : 8;
          rec.hookId = v.getUint16(pos + 6, true);
          rec.ticks = clock.ticksAt(v, pos + 8);
          break;
        case HEADER_TYPE.FULL_HEADER32:
        case HEADER_TYPE.FULL_HEADER64:
        case HEADER_TYPE.INSTANCE32:
        case HEADER_TYPE.INSTANCE64: {
          size = v.getUint16(pos, true);
          const inst = ht === HEADER_TYPE.INSTANCE32 || ht === HEADER_TYPE.INSTANCE64;
          hdr = inst ? EVENT_INSTANCE_HEADER_SIZE : EVENT_TRACE_HEADER_SIZE;
          if (size < hdr || pos + size > end) return bad(pos, size, end);
          rec.kind = inst ? RECORD_KIND.INSTANCE : RECORD_KIND.CLASSIC;
          rec.pointerSize = ht === HEADER_TYPE.FULL_HEADER32 || ht === HEADER_TYPE.INSTANCE32 ? 4 : 8;
          rec.opcode = buf.data[pos + 4]!;
          rec.eventId = rec.opcode;
          rec.level = buf.data[pos + 5]!;
          rec.version = v.getUint16(pos + 6, true);
          rec.threadId = v.getUint32(pos + 8, true);
          rec.processId = v.getUint32(pos + 12, true);
          rec.ticks = clock.ticksAt(v, pos + 0x10);
          rec.guidOffset = pos + 0x18;
          break;
        }
        case HEADER_TYPE.EVENT_HEADER32:
        case HEADER_TYPE.EVENT_HEADER64: {
          size = v.getUint16(pos, true);
          hdr = EVENT_HEADER_SIZE;
          if (size < hdr || pos + size > end) return bad(pos, size, end);
          rec.kind = RECORD_KIND.EVENT;
          rec.pointerSize = ht === HEADER_TYPE.EVENT_HEADER32 ? 4 : 8;
          const flags = v.getUint16(pos + 4, true);
          rec.flags = flags;
          rec.threadId = v.getUint32(pos + 8, true);
          rec.processId = v.getUint32(pos + 12, true);
          rec.ticks = clock.ticksAt(v, pos + 0x10);
          rec.guidOffset = pos + 0x18;
          rec.eventId = v.getUint16(pos + 0x28, true);
          rec.version = buf.data[pos + 0x2a]!;
          rec.channel = buf.data[pos + 0x2b]!;
          rec.level = buf.data[pos + 0x2c]!;
          rec.opcode = buf.data[pos + 0x2d]!;
          rec.task = v.getUint16(pos + 0x2e, true);
          rec.keywordLo = v.getUint32(pos + 0x30, true);
          rec.keywordHi = v.getUint32(pos + 0x34, true);
          if (flags & 0x0001) {
            // Extended data items (etl-format.md 2.7): 8-byte aligned, linked by bit 0.
            let p = pos + EVENT_HEADER_SIZE;
            const recEnd = pos + size;
            for (let n = 0; n < 32; n++) {
              if (p + 8 > recEnd) return { offset: p, reason: 'extended data item header runs past the record' };
              const itemSize = v.getUint16(p, true);
              const extType = v.getUint16(p + 2, true);
              const linkage = v.getUint16(p + 4, true);
              const dataSize = v.getUint16(p + 6, true);
              if (itemSize < 8 || itemSize % 8 !== 0 || dataSize > itemSize - 8 || p + itemSize > recEnd) {
                return { offset: p, reason: `malformed extended data item (size ${itemSize}, data ${dataSize})` };
              }
              if (extType === EXT_CONTAINER_ID && dataSize >= 16) rec.containerIdOffset = p + 8;
              p += itemSize;
              if ((linkage & 1) === 0) break;
            }
            hdr = p - pos;
          }
          break;
        }
        default:
          // TIMED, ERROR, WNODE, MESSAGE-in-0xC0 and unknown types: size in the first u16.
          size = v.getUint16(pos, true);
          hdr = 8;
          if (size < 8 || pos + size > end) return bad(pos, size, end);
          rec.kind = RECORD_KIND.OTHER;
          break;
      }
    } else if ((top & 0xd0) === 0x90) {
      // MESSAGE_TRACE_HEADER (WPP): optional fields by OptionFlags (etl-format.md 2.8).
      size = v.getUint16(pos, true);
      if (size < 8 || pos + size > end) return bad(pos, size, end);
      rec.kind = RECORD_KIND.MESSAGE;
      rec.headerType = 0x90;
      rec.eventId = v.getUint16(pos + 4, true);
      const opt = v.getUint16(pos + 6, true);
      let p = pos + 8;
      if (opt & 0x0001) p += 4;
      if (opt & 0x0002) {
        rec.guidOffset = p;
        p += 16;
      } else if (opt & 0x0004) p += 4;
      if (opt & 0x0018) {
        if (p + 8 <= pos + size) rec.ticks = clock.ticksAt(v, p);
        p += 8;
      }
      if (opt & 0x0020) {
        if (p + 8 <= pos + size) {
          rec.threadId = v.getUint32(p, true);
          rec.processId = v.getUint32(p + 4, true);
        }
        p += 8;
      }
      hdr = Math.min(p - pos, size);
      rec.pointerSize = opt & 0x0040 ? 4 : 8;
    } else {
      return { offset: pos, reason: `unknown record marker 0x${m.toString(16).padStart(8, '0')}` };
    }
    rec.size = size;
    rec.userOffset = pos + hdr;
    rec.userLength = size - hdr;
    return size;
  }
}

function bad(pos: number, size: number, end: number): WalkProblem {
  return pos + size > end
    ? { offset: pos, reason: `record of ${size} bytes runs past the end of the buffer data (${end - pos} bytes left)` }
    : { offset: pos, reason: `record size ${size} is smaller than its header` };
}

/**
 * Writes ETL files in the container format Windows uses (etl-format.md 1-2), for tests,
 * benchmarks and the simulated host: a header buffer with the logfile header record, then
 * per-CPU data buffers flushed when full (so file order is not time order, as on Windows),
 * 64- or 32-bit, optionally Xpress-compressed like pktmon's relogger, with lost-event flags.
 * Streaming: only one buffer per CPU is held; output goes to a callback.
 */
import { BUFFER_FLAG, EVENT_HEADER_SIZE, WMI_BUFFER_HEADER_SIZE } from '../etl/constants.js';
import { xpressCompress } from './xpress-compress.js';

export interface EtlWriterOptions {
  pointerSize?: 4 | 8;
  /** Xpress-compress data buffers (LogFileMode COMPRESSED_MODE, as pktmon writes). */
  compressed?: boolean;
  /** Bytes per data buffer (expanded size for compressed files). */
  bufferSize?: number;
  cpus?: number;
  /** Session start as FILETIME. */
  startTime?: bigint;
  /** Raw clock value at the start (R0). */
  startRaw?: bigint;
  /** 1 QPC, 2 system time, 3 CPU cycles. */
  clockType?: 1 | 2 | 3;
  perfFreq?: bigint;
  cpuSpeedMHz?: number;
  osBuild?: number;
  loggerName?: string;
  logFileName?: string;
  eventsLost?: number;
}

export interface EventSpec {
  cpu: number;
  /** 100 ns units since the session start. */
  ticks: number;
  provider: Uint8Array;
  id: number;
  version?: number;
  level?: number;
  keywordLo?: number;
  keywordHi?: number;
  processId?: number;
  threadId?: number;
  payload: Uint8Array;
  /** Header type override: 32-bit provider record (0x12) in a 64-bit session, etc. */
  headerType?: number;
  /** Extended data items to put before the payload: [type, data]. */
  extended?: ReadonlyArray<readonly [number, Uint8Array]>;
}

const utf16 = (s: string): Uint8Array => {
  const b = new Uint8Array((s.length + 1) * 2);
  for (let i = 0; i < s.length; i++) {
    b[2 * i] = s.charCodeAt(i) & 0xff;
    b[2 * i + 1] = s.charCodeAt(i) >> 8;
  }
  return b;
};

interface CpuBuffer {
  bytes: Uint8Array;
  view: DataView;
  pos: number;
  flags: number;
  lastTicks: number;
}

export class EtlWriter {
  readonly pointerSize: 4 | 8;
  readonly compressed: boolean;
  readonly bufferSize: number;
  readonly startTime: bigint;
  readonly startRaw: bigint;
  readonly clockType: 1 | 2 | 3;
  readonly perfFreq: bigint;
  readonly cpuSpeedMHz: number;
  private readonly cpus: CpuBuffer[];
  private readonly opts: EtlWriterOptions;
  private buffersWritten = 0;
  private maxTicks = 0;
  private seqNo = 0n;
  bytesOut = 0;
  events = 0;

  constructor(opts: EtlWriterOptions, private readonly out: (chunk: Uint8Array) => void) {
    this.opts = opts;
    this.pointerSize = opts.pointerSize ?? 8;
    this.compressed = opts.compressed ?? false;
    this.bufferSize = opts.bufferSize ?? 64 * 1024;
    this.startTime = opts.startTime ?? 133625243079225833n;
    this.startRaw = opts.startRaw ?? 2499815729351n;
    this.clockType = opts.clockType ?? 1;
    this.perfFreq = opts.perfFreq ?? 10000000n;
    this.cpuSpeedMHz = opts.cpuSpeedMHz ?? 2594;
    const n = opts.cpus ?? 4;
    this.cpus = Array.from({ length: n }, () => {
      const bytes = new Uint8Array(this.bufferSize);
      return { bytes, view: new DataView(bytes.buffer), pos: WMI_BUFFER_HEADER_SIZE, flags: 0, lastTicks: -Infinity };
    });
    this.out(this.headerBuffer(0n, 0));
  }

  /** Raw clock value for ticks (inverse of etl/clock.ts). */
  rawFor(ticks: number): bigint {
    const t = BigInt(ticks);
    if (this.clockType === 2) return this.startTime + t;
    const freq = this.clockType === 3 ? BigInt(this.cpuSpeedMHz) * 1000000n : this.perfFreq;
    // Smallest raw delta whose floor(delta * 1e7 / freq) equals t.
    let d = (t * freq + 9999999n) / 10000000n;
    if (t < 0n) d = -((-t * freq) / 10000000n);
    return this.startRaw + d;
  }

  /** Sets the EVENTS_LOST flag on the CPU's current buffer. */
  markEventsLost(cpu: number): void {
    this.cpus[cpu]!.flags |= BUFFER_FLAG.EVENTS_LOST;
  }

  addEvent(e: EventSpec): void {
    const ext = e.extended ?? [];
    let extLen = 0;
    for (const [, d] of ext) extLen += 8 + ((d.length + 7) & ~7);
    const size = EVENT_HEADER_SIZE + extLen + e.payload.length;
    if (size > 0xffff) throw new Error(`event too large for one record: ${size}`);
    const padded = (size + 7) & ~7;
    if (WMI_BUFFER_HEADER_SIZE + padded > this.bufferSize) throw new Error('event larger than a buffer');
    let c = this.cpus[e.cpu];
    if (!c) throw new Error(`no CPU ${e.cpu}`);
    if (e.ticks < c.lastTicks) throw new Error(`events of CPU ${e.cpu} must be in time order`);
    if (c.pos + padded > this.bufferSize) {
      this.flushCpu(e.cpu);
      c = this.cpus[e.cpu]!;
    }
    c.lastTicks = e.ticks;
    if (e.ticks > this.maxTicks) this.maxTicks = e.ticks;
    const b = c.bytes;
    const v = c.view;
    const p = c.pos;
    const ht = e.headerType ?? (this.pointerSize === 8 ? 0x13 : 0x12);
    v.setUint16(p, size, true);
    b[p + 2] = ht;
    b[p + 3] = 0xc0;
    v.setUint16(p + 4, ext.length > 0 ? 1 : 0, true);
    v.setUint16(p + 6, 0, true);
    v.setUint32(p + 8, e.threadId ?? 0, true);
    v.setUint32(p + 12, e.processId ?? 0, true);
    v.setBigInt64(p + 0x10, this.rawFor(e.ticks), true);
    b.set(e.provider, p + 0x18);
    v.setUint16(p + 0x28, e.id, true);
    b[p + 0x2a] = e.version ?? 0;
    b[p + 0x2b] = 0;
    b[p + 0x2c] = e.level ?? 4;
    b[p + 0x2d] = 0;
    v.setUint16(p + 0x2e, 0, true);
    v.setUint32(p + 0x30, e.keywordLo ?? 0, true);
    v.setUint32(p + 0x34, e.keywordHi ?? 0, true);
    b.fill(0, p + 0x38, p + 0x50);
    let q = p + EVENT_HEADER_SIZE;
    ext.forEach(([type, d], i) => {
      const itemSize = 8 + ((d.length + 7) & ~7);
      v.setUint16(q, itemSize, true);
      v.setUint16(q + 2, type, true);
      v.setUint16(q + 4, i < ext.length - 1 ? 1 : 0, true);
      v.setUint16(q + 6, d.length, true);
      b.fill(0, q + 8, q + itemSize);
      b.set(d, q + 8);
      q += itemSize;
    });
    b.set(e.payload, q);
    b.fill(0, p + size, p + padded);
    c.pos = p + padded;
    this.events++;
  }

  /** Flushes every CPU's buffer (in CPU order) and returns the final header buffer for offset 0. */
  finish(): Uint8Array {
    for (let i = 0; i < this.cpus.length; i++) this.flushCpu(i);
    const end = this.startTime + BigInt(this.maxTicks);
    return this.headerBuffer(end, this.buffersWritten + 1);
  }

  /** Writes the CPU's buffer if it holds records. */
  flushCpu(cpu: number): void {
    const c = this.cpus[cpu]!;
    if (c.pos === WMI_BUFFER_HEADER_SIZE && c.flags === 0) return;
    const used = c.pos;
    const v = c.view;
    const flags = BUFFER_FLAG.PROC_INDEX | BUFFER_FLAG.FLUSH_MARKER | c.flags | (this.compressed ? BUFFER_FLAG.COMPRESSED : 0);
    this.fillHeader(v, 0, this.compressed ? 0 : this.bufferSize, used, cpu, flags, 0);
    if (this.compressed) {
      const comp = xpressCompress(c.bytes.subarray(WMI_BUFFER_HEADER_SIZE, used));
      const disk = new Uint8Array(WMI_BUFFER_HEADER_SIZE + comp.length);
      disk.set(c.bytes.subarray(0, WMI_BUFFER_HEADER_SIZE));
      disk.set(comp, WMI_BUFFER_HEADER_SIZE);
      new DataView(disk.buffer).setUint32(0, disk.length, true);
      this.emit(disk);
    } else {
      c.bytes.fill(0xff, used, this.bufferSize); // unused space: 0xFF, as etl-format.md 1.3
      this.emit(c.bytes.slice());
    }
    this.buffersWritten++;
    c.pos = WMI_BUFFER_HEADER_SIZE;
    c.flags = 0;
  }

  private emit(b: Uint8Array): void {
    this.bytesOut += b.length;
    this.out(b);
  }

  private fillHeader(v: DataView, o: number, bufferSize: number, used: number, cpu: number, flags: number, type: number): void {
    v.setUint32(o, bufferSize, true);
    v.setUint32(o + 4, used, true);
    v.setUint32(o + 8, used, true);
    v.setInt32(o + 0xc, 0, true);
    v.setBigUint64(o + 0x10, 0n, true);
    v.setBigInt64(o + 0x18, this.seqNo++, true);
    v.setBigUint64(o + 0x20, 0n, true);
    v.setUint16(o + 0x28, cpu, true);
    v.setUint16(o + 0x2a, 0x12, true);
    v.setUint32(o + 0x2c, 3, true);
    v.setUint32(o + 0x30, used, true);
    v.setUint16(o + 0x34, flags, true);
    v.setUint16(o + 0x36, type, true);
    v.setBigUint64(o + 0x38, 0n, true);
    v.setBigUint64(o + 0x40, 0n, true);
  }

  /** The header buffer: logfile header record (SYSTEM header, HookId 0) and a 0x0050 system record. */
  private headerBuffer(endTime: bigint, buffersWritten: number): Uint8Array {
    const is64 = this.pointerSize === 8;
    const structSize = is64 ? 0x118 : 0x110;
    const logger = utf16(this.opts.loggerName ?? 'wnvcap-sim');
    const file = utf16(this.opts.logFileName ?? 'C:\\ProgramData\\wnvcap\\capture.etl');
    const recSize = 0x20 + structSize + logger.length + file.length;
    const rec2 = 0x50;
    const used = WMI_BUFFER_HEADER_SIZE + ((recSize + 7) & ~7) + rec2;
    const size = this.compressed ? Math.max(1024, (used + 1023) & ~1023) : this.bufferSize;
    const b = new Uint8Array(size).fill(0xff);
    const v = new DataView(b.buffer);
    this.fillHeader(v, 0, size, used, 0, BUFFER_FLAG.FLUSH_MARKER, 4);
    v.setBigInt64(0x18, 0n, true);
    let p = WMI_BUFFER_HEADER_SIZE;
    b.fill(0, p, used);
    v.setUint16(p, 2, true);
    b[p + 2] = is64 ? 0x02 : 0x01;
    b[p + 3] = 0xc0;
    v.setUint16(p + 4, recSize, true);
    v.setUint16(p + 6, 0, true);
    v.setUint32(p + 8, 0x1000, true);
    v.setUint32(p + 12, 4, true);
    v.setBigInt64(p + 0x10, this.startRaw, true);
    const h = p + 0x20;
    v.setUint32(h, this.bufferSize, true);
    b.set([10, 0, 1, 5], h + 4);
    v.setUint32(h + 8, this.opts.osBuild ?? 20348, true);
    v.setUint32(h + 0xc, this.cpus.length, true);
    v.setBigUint64(h + 0x10, endTime, true);
    v.setUint32(h + 0x18, 156250, true);
    v.setUint32(h + 0x1c, 512, true);
    v.setUint32(h + 0x20, this.compressed ? 0x04010001 : 0x00000001, true);
    v.setUint32(h + 0x24, buffersWritten, true);
    v.setUint32(h + 0x28, 1, true);
    v.setUint32(h + 0x2c, this.pointerSize, true);
    v.setUint32(h + 0x30, this.opts.eventsLost ?? 0, true);
    v.setUint32(h + 0x34, this.cpuSpeedMHz, true);
    const tz = is64 ? 0x48 : 0x40;
    v.setInt32(h + tz, 0, true);
    b.set(utf16('Coordinated Universal Time').subarray(0, 62), h + tz + 4);
    const after = is64 ? 0xf8 : 0xf0;
    v.setBigUint64(h + after, this.startTime - 864000000000n, true);
    v.setBigUint64(h + after + 8, this.perfFreq, true);
    v.setBigUint64(h + after + 16, this.startTime, true);
    v.setUint32(h + after + 24, this.clockType, true);
    v.setUint32(h + after + 28, 0, true);
    b.set(logger, h + structSize);
    b.set(file, h + structSize + logger.length);
    p += (recSize + 7) & ~7;
    v.setUint16(p, 2, true);
    b[p + 2] = is64 ? 0x02 : 0x01;
    b[p + 3] = 0xc0;
    v.setUint16(p + 4, rec2, true);
    v.setUint16(p + 6, 0x0050, true);
    v.setBigInt64(p + 0x10, this.startRaw, true);
    return b;
  }
}

/**
 * Streams the buffers of an ETL file (etl-format.md 1): validates each 0x48-byte WMI_BUFFER_HEADER,
 * expands compressed buffers (Xpress, 1.8), resynchronises after damage, and reports lost-event
 * flags and truncation as issues. Memory: one read-ahead window plus a small pool of buffers that
 * callers give back with release(); never the whole file.
 */
import { InputError } from '../util/errors.js';
import type { ByteSource } from './byte-source.js';
import { EtlClock } from './clock.js';
import { BUFFER_FLAG, MAX_BUFFER_SIZE, WMI_BUFFER_HEADER_SIZE } from './constants.js';
import type { IssueLog } from './issues.js';
import { decodeLogfileHeader, type LogfileHeader } from './logfile-header.js';
import { XpressError, xpressDecompress } from './xpress.js';

export interface EtlBuffer {
  /** Ordinal of the buffer in the file (0 = header buffer). */
  seq: number;
  fileOffset: number;
  /** Bytes the buffer occupies in the file. */
  diskSize: number;
  /** Expanded buffer bytes (header included); may be longer than `end`. Valid until release(). */
  data: Uint8Array;
  view: DataView;
  /** End of the records inside `data`. */
  end: number;
  cpu: number;
  flags: number;
  type: number;
  compressed: boolean;
  /** The file ended inside this buffer. */
  truncated: boolean;
}

/**
 * The buffers of an uncompressed file after its first, in file order (plan()): buffer i is at
 * `first + i * size`.
 */
export interface BufferPlan {
  first: number;
  size: number;
  count: number;
  /** Each buffer's stream: its CPU (ProcessorIndex) and its session (LoggerId, the high half). */
  streams: Uint32Array;
  /** Each buffer's header flags. */
  flags: Uint16Array;
  /** EtlBuffer.seq of buffer 0. */
  firstSeq: number;
}

/** LogFileMode bits under which a CPU's buffers are not in time order in the file (etl-format.md 1.6). */
const MODE_CIRCULAR = 0x2;
const MODE_NO_PER_PROCESSOR_BUFFERING = 0x10000000;
/** At most this many buffers are planned: one small read each before any is decoded. */
const MAX_PLANNED_BUFFERS = 1 << 17;
/** The header's ProcessorIndex (low 11 bits) and LoggerId (high 16 bits), as one u32 at 0x28. */
const STREAM_MASK = 0xffff07ff;

export interface BufferStats {
  buffers: number;
  compressedBuffers: number;
  compressedBytes: number;
  expandedBytes: number;
  /** Buffers flagged EVENTS_LOST / BUFFER_LOST. */
  eventsLostFlags: number;
  bufferLostFlags: number;
  /** Buffers that could not be used (bad header, bad compression). */
  badBuffers: number;
  /** File bytes skipped while resynchronising. */
  skippedBytes: number;
  cpus: Set<number>;
}

const WINDOW_SIZE = 4 * 1024 * 1024;
/** Buffers read ahead in the direct way (directBuffer): 4 MB of 1 MB buffers, one read each. */
const DIRECT_AHEAD = 4;

/** Where an uncompressed buffer's records end: its FilledBytes, or SavedOffset when that is 0. */
function recordsEnd(filled: number, saved: number): number {
  return filled !== 0 ? filled : saved;
}

class BufferPool {
  private readonly free = new Map<number, Uint8Array[]>();
  /** The memory a buffer of `size` bytes takes from the pool. */
  static block(size: number): number {
    let cap = 65536;
    while (cap < size) cap *= 2;
    return cap;
  }
  get(size: number): Uint8Array {
    const cap = BufferPool.block(size);
    const list = this.free.get(cap);
    return list?.pop() ?? new Uint8Array(cap);
  }
  put(b: Uint8Array): void {
    const list = this.free.get(b.length);
    if (list) {
      if (list.length < 16) list.push(b);
    } else this.free.set(b.length, [b]);
  }
}

export class EtlBufferReader {
  header!: LogfileHeader;
  clock!: EtlClock;
  readonly stats: BufferStats = {
    buffers: 0, compressedBuffers: 0, compressedBytes: 0, expandedBytes: 0, eventsLostFlags: 0,
    bufferLostFlags: 0, badBuffers: 0, skippedBytes: 0, cpus: new Set(),
  };
  private win: Uint8Array = new Uint8Array(WINDOW_SIZE);
  private winView = new DataView(this.win.buffer);
  private winPos = 0;
  private winLen = 0;
  private pos = 0;
  private seq = 0;
  private pending: EtlBuffer | null = null;
  private readonly pool = new BufferPool();
  /** Uncompressed buffers read straight into their memory (directBuffer), and those read ahead. */
  private direct = false;
  private readonly ahead: Array<{ pos: number; buf: Uint8Array; done: Promise<number> }> = [];

  /**
   * Follow mode (a source with waitFor): awaited while the reader waits for the file to grow, so
   * that its caller can release the events it holds.
   */
  onWait: (() => Promise<void>) | undefined;

  constructor(
    private readonly src: ByteSource,
    private readonly issues: IssueLog,
  ) {}

  /** A file still being written (follow mode). */
  get following(): boolean {
    return this.src.waitFor !== undefined;
  }

  /** Follow mode: waits until bytes [pos, pos+n) are written; false when the writer finished first. */
  private async available(pos: number, n: number): Promise<boolean> {
    const src = this.src;
    if (!src.waitFor) return pos + n <= src.size;
    for (;;) {
      const r = await src.waitFor(pos + n);
      if (r !== 'tick') return r === 'ready';
      if (this.onWait) await this.onWait();
    }
  }

  get fileSize(): number {
    return this.src.size;
  }

  /** File position of the next buffer (progress). */
  get position(): number {
    return this.pos;
  }

  /** Reads the header buffer. Throws InputError when the file is not an ETL file. */
  async open(): Promise<LogfileHeader> {
    const name = this.src.name;
    const hint = 'expected an .etl file written by New-NetEventSession, netsh trace, pktmon or logman';
    if (this.following) await this.available(0, WMI_BUFFER_HEADER_SIZE + 0x20 + 0x110);
    if (this.src.size === 0) throw new InputError(`${name} is empty`, { hint });
    if (this.src.size < WMI_BUFFER_HEADER_SIZE + 0x20 + 0x110) {
      throw new InputError(`${name} is too short (${this.src.size} bytes) to be an ETL file`, { hint });
    }
    const o = await this.ensure(0, WMI_BUFFER_HEADER_SIZE);
    const problem = this.headerProblem(this.winView, o, 0);
    if (problem) throw new InputError(`${name} is not an ETL file: ${problem}`, { offset: 0, hint });
    const first = await this.next();
    if (!first || first.fileOffset !== 0) throw new InputError(`${name} is not an ETL file: unreadable first buffer`, { offset: 0, hint });
    const h = decodeLogfileHeader(first.data, first.end);
    if (typeof h === 'string') throw new InputError(`${name} is not an ETL file: ${h}`, { offset: WMI_BUFFER_HEADER_SIZE, hint });
    this.header = h;
    this.clock = new EtlClock(h);
    if (this.clock.problem) this.issues.add('warning', 'clock', WMI_BUFFER_HEADER_SIZE, `${this.clock.problem}; timestamps may be wrong`);
    this.pending = first;
    this.direct = !this.following && h.bufferSize >= WMI_BUFFER_HEADER_SIZE && h.bufferSize <= MAX_BUFFER_SIZE;
    if (this.direct) this.setWindow(WMI_BUFFER_HEADER_SIZE * 16); // headers only, while the direct way lasts
    return h;
  }

  /** The next buffer in file order, or null at the end of the file. */
  async next(): Promise<EtlBuffer | null> {
    if (this.pending) {
      const p = this.pending;
      this.pending = null;
      return p;
    }
    for (;;) {
      const pos = this.pos;
      if (this.direct) {
        const b = await this.directBuffer(pos);
        if (b) return b;
      }
      if (this.following) await this.available(pos, WMI_BUFFER_HEADER_SIZE);
      let size = this.src.size;
      if (pos >= size) return null;
      if (size - pos < WMI_BUFFER_HEADER_SIZE) {
        this.issues.add('warning', 'truncated', pos, `file ends with ${size - pos} bytes that are not a whole buffer header`);
        this.pos = size;
        return null;
      }
      let o = await this.ensure(pos, WMI_BUFFER_HEADER_SIZE);
      const problem = this.headerProblem(this.winView, o, pos);
      if (problem) {
        if (problem.startsWith('unused') && (await this.notWrittenYet())) continue;
        await this.resync(pos, problem);
        continue;
      }
      const v = this.winView;
      let diskSize = v.getUint32(o, true);
      const saved = v.getUint32(o + 4, true);
      const filled = v.getUint32(o + 0x30, true);
      const flags = v.getUint16(o + 0x34, true);
      const type = v.getUint16(o + 0x36, true);
      const compressed = (flags & BUFFER_FLAG.COMPRESSED) !== 0;
      // A damaged size in an uncompressed file: prefer the logfile's buffer size when only it
      // leads to a plausible next header.
      const logSize = this.header?.bufferSize ?? 0;
      if (!compressed && pos > 0 && diskSize !== logSize && logSize >= WMI_BUFFER_HEADER_SIZE && logSize <= MAX_BUFFER_SIZE) {
        if (!(await this.plausibleAt(pos + diskSize)) && (await this.plausibleAt(pos + logSize))) {
          this.issues.add('warning', 'buffer-header', pos, `buffer size ${diskSize} does not lead to the next buffer; using the logfile buffer size ${logSize}`);
          diskSize = logSize;
        }
      }
      if (this.following) {
        await this.available(pos, diskSize);
        size = this.src.size; // grown while waiting, even when the writer ended first
      }
      const present = Math.min(diskSize, size - pos);
      const truncated = present < diskSize;
      if (truncated) {
        this.issues.add('warning', 'truncated', pos, `file ends inside the buffer at offset ${pos}: ${present} of ${diskSize} bytes present`);
      }
      o = await this.ensure(pos, present);
      const cpu = this.winView.getUint16(o + 0x28, true) & 0x07ff;
      let data: Uint8Array;
      let end: number;
      if (compressed) {
        const expanded = saved;
        data = this.pool.get(expanded);
        data.set(this.win.subarray(o, o + WMI_BUFFER_HEADER_SIZE), 0);
        let written: number;
        try {
          const r = xpressDecompress(this.win, o + WMI_BUFFER_HEADER_SIZE, o + present, data, WMI_BUFFER_HEADER_SIZE, expanded);
          written = r.written;
        } catch (e) {
          if (!(e instanceof XpressError)) throw e;
          const at = pos + e.inputOffset - o;
          this.issues.add('warning', 'compressed', pos, `compressed buffer at offset ${pos} not decoded: ${e.message} (input offset ${at})`);
          this.pool.put(data);
          this.stats.badBuffers++;
          this.pos = pos + diskSize;
          continue;
        }
        end = WMI_BUFFER_HEADER_SIZE + written;
        if (!truncated && end !== expanded) {
          this.issues.add('warning', 'compressed', pos, `compressed buffer at offset ${pos} not decoded: expanded to ${end} bytes, header says ${expanded}`);
          this.pool.put(data);
          this.stats.badBuffers++;
          this.pos = pos + diskSize;
          continue;
        }
        this.stats.compressedBuffers++;
        this.stats.compressedBytes += present;
        this.stats.expandedBytes += end;
      } else {
        data = this.pool.get(present);
        data.set(this.win.subarray(o, o + present), 0);
        end = Math.min(recordsEnd(filled, saved), diskSize, present);
        this.stats.expandedBytes += present;
      }
      return this.deliver(pos, diskSize, data, end, cpu, flags, type, compressed, truncated);
    }
  }

  /** Counts a good buffer, says its lost-event flags, moves past it. */
  private deliver(pos: number, diskSize: number, data: Uint8Array, end: number, cpu: number, flags: number, type: number, compressed: boolean, truncated: boolean): EtlBuffer {
    this.flagIssues(pos, cpu, flags);
    this.pos = pos + diskSize;
    return this.counted(this.seq++, pos, diskSize, data, end, cpu, flags, type, compressed, truncated);
  }

  private flagIssues(pos: number, cpu: number, flags: number): void {
    if (flags & BUFFER_FLAG.EVENTS_LOST) {
      this.stats.eventsLostFlags++;
      this.issues.add('warning', 'events-lost', pos, `buffer at offset ${pos} (CPU ${cpu}) is flagged EVENTS_LOST: the logger dropped events`);
    }
    if (flags & BUFFER_FLAG.BUFFER_LOST) {
      this.stats.bufferLostFlags++;
      this.issues.add('warning', 'buffer-lost', pos, `buffer at offset ${pos} (CPU ${cpu}) is flagged BUFFER_LOST: a whole buffer was lost`);
    }
  }

  private counted(seq: number, pos: number, diskSize: number, data: Uint8Array, end: number, cpu: number, flags: number, type: number, compressed: boolean, truncated: boolean): EtlBuffer {
    if (end < WMI_BUFFER_HEADER_SIZE) end = WMI_BUFFER_HEADER_SIZE;
    this.stats.buffers++;
    this.stats.cpus.add(cpu);
    return {
      seq, fileOffset: pos, diskSize, data, view: new DataView(data.buffer, data.byteOffset, data.byteLength),
      end, cpu, flags, type, compressed, truncated,
    };
  }

  /**
   * Reading by CPU (etl-reader.ts readByCpu): the buffers from position() to the end of the file,
   * read from their headers alone (one small read each), when all of them are uncompressed
   * buffers of the logfile's buffer size, one after another to the very end, every header sound.
   * From then on the reader hands them out by bufferAt(), in any order.
   *
   * Undefined, and nothing changed, for any other file; for a circular file or one logged without
   * per-processor buffers; when a stream's SequenceNumbers go back in file order (its buffers were
   * not written in the order they were filled); for more than MAX_PLANNED_BUFFERS buffers; or
   * when a buffer per stream would take more than `maxBytes` of memory.
   */
  plan(maxBytes: number): BufferPlan | undefined {
    const h = this.header;
    const size = h.bufferSize;
    const first = this.pos;
    const readSync = this.src.readSync;
    if (!this.direct || !readSync || this.ahead.length > 0 || (h.logFileMode & (MODE_CIRCULAR | MODE_NO_PER_PROCESSOR_BUFFERING)) !== 0) return undefined;
    const count = (this.src.size - first) / size;
    if (!Number.isInteger(count) || count <= 0 || count > MAX_PLANNED_BUFFERS) return undefined;
    const plan: BufferPlan = { first, size, count, streams: new Uint32Array(count), flags: new Uint16Array(count), firstSeq: this.seq };
    const head = new Uint8Array(WMI_BUFFER_HEADER_SIZE);
    const v = new DataView(head.buffer);
    /** Each stream's last SequenceNumber (0x18): they must rise in file order, as its buffers' times do. */
    const lastSeq = new Map<number, bigint>();
    for (let i = 0; i < count; i++) {
      const pos = first + i * size;
      if (readSync.call(this.src, head, 0, WMI_BUFFER_HEADER_SIZE, pos) !== WMI_BUFFER_HEADER_SIZE) return undefined;
      const flags = v.getUint16(0x34, true);
      if (v.getUint32(0, true) !== size || (flags & BUFFER_FLAG.COMPRESSED) !== 0 || this.headerProblem(v, 0, pos)) return undefined;
      const stream = v.getUint32(0x28, true) & STREAM_MASK;
      const seq = v.getBigInt64(0x18, true);
      if (seq < (lastSeq.get(stream) ?? 0n)) return undefined;
      lastSeq.set(stream, seq);
      plan.streams[i] = stream;
      plan.flags[i] = flags;
    }
    if (lastSeq.size * BufferPool.block(size) > maxBytes) return undefined;
    this.direct = false;
    this.seq += count;
    this.pos = this.src.size; // next() has nothing left: the plan's buffers come from bufferAt()
    return plan;
  }

  /**
   * Buffer i of the plan, read into its own memory, its header checked again and its lost-event
   * flags reported. Undefined, with a warning, when it is no longer what plan() read (the file
   * changed since).
   */
  async bufferAt(plan: BufferPlan, i: number): Promise<EtlBuffer | undefined> {
    const size = plan.size;
    const pos = plan.first + i * size;
    const buf = this.pool.get(size);
    const read = this.src.readDirect ?? this.src.read;
    const got = await read.call(this.src, buf, 0, size, pos);
    const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const flags = plan.flags[i]!;
    if (got !== size || v.getUint32(0, true) !== size || v.getUint16(0x34, true) !== flags || (v.getUint32(0x28, true) & STREAM_MASK) !== plan.streams[i] || this.headerProblem(v, 0, pos)) {
      this.pool.put(buf);
      this.stats.badBuffers++;
      this.issues.add('warning', 'buffer-header', pos, `the buffer at offset ${pos} changed while the file was read; skipped`);
      return undefined;
    }
    const cpu = plan.streams[i]! & 0x07ff;
    this.flagIssues(pos, cpu, flags);
    this.stats.expandedBytes += size;
    const end = Math.min(recordsEnd(v.getUint32(0x30, true), v.getUint32(4, true)), size);
    return this.counted(plan.firstSeq + i, pos, size, buf, end, cpu, flags, v.getUint16(0x36, true), false, false);
  }

  /**
   * Uncompressed files (every buffer the logfile's buffer size, one after another): the buffer at
   * `pos` read straight into its own memory, the next ones read ahead meanwhile; no copy through
   * the window (issue 13: decode speed). Undefined, and the window's way from then on, at the
   * first buffer that is anything else (compressed, damaged, short, the file's end).
   */
  private async directBuffer(pos: number): Promise<EtlBuffer | undefined> {
    const size = this.header.bufferSize;
    if (pos + size > this.src.size) return this.stopDirect();
    if (this.ahead[0]?.pos !== pos) {
      await this.dropAhead();
      this.readAhead(pos);
    }
    const a = this.ahead.shift()!;
    this.readAhead(pos + size);
    const got = await a.done;
    const v = new DataView(a.buf.buffer, a.buf.byteOffset, a.buf.byteLength);
    const flags = got === size ? v.getUint16(0x34, true) : 0;
    if (got !== size || v.getUint32(0, true) !== size || (flags & BUFFER_FLAG.COMPRESSED) !== 0 || this.headerProblem(v, 0, pos)) {
      this.pool.put(a.buf);
      return this.stopDirect();
    }
    this.stats.expandedBytes += size;
    return this.deliver(pos, size, a.buf, Math.min(recordsEnd(v.getUint32(0x30, true), v.getUint32(4, true)), size), v.getUint16(0x28, true) & 0x07ff, flags, v.getUint16(0x36, true), false, false);
  }

  /** Keeps DIRECT_AHEAD reads in flight, the first at `from` when none is. */
  private readAhead(from: number): void {
    const size = this.header.bufferSize;
    const read = this.src.readDirect ?? this.src.read;
    for (let at = this.ahead.length ? this.ahead[this.ahead.length - 1]!.pos + size : from; this.ahead.length < DIRECT_AHEAD && at + size <= this.src.size; at += size) {
      const buf = this.pool.get(size);
      const done = read.call(this.src, buf, 0, size, at);
      done.catch(() => 0); // handled: a failed read fails when awaited, not before (unhandled rejection)
      this.ahead.push({ pos: at, buf, done });
    }
  }

  private async stopDirect(): Promise<undefined> {
    this.direct = false;
    this.setWindow(WINDOW_SIZE);
    await this.dropAhead();
    return undefined;
  }

  /** A new, empty window of `size` bytes (it grows when a buffer needs more). */
  private setWindow(size: number): void {
    this.win = new Uint8Array(size);
    this.winView = new DataView(this.win.buffer);
    this.winPos = 0;
    this.winLen = 0;
  }

  private async dropAhead(): Promise<void> {
    for (const a of this.ahead.splice(0)) {
      await a.done.catch(() => 0);
      this.pool.put(a.buf);
    }
  }

  /**
   * Follow mode, a zero buffer header: a preallocated file's space ETW has not written yet. Waits a
   * tick and forgets what was read of it (true: look again); false once the writer has finished.
   */
  private async notWrittenYet(): Promise<boolean> {
    if (!this.src.waitFor) return false;
    const r = await this.src.waitFor(Number.MAX_SAFE_INTEGER);
    if (r === 'ended') return false;
    if (this.onWait) await this.onWait();
    this.winLen = 0;
    return true;
  }

  /** Gives a buffer's memory back for reuse. The buffer must not be used afterwards. */
  release(b: EtlBuffer): void {
    this.pool.put(b.data);
  }

  async close(): Promise<void> {
    await this.dropAhead();
    await this.src.close();
  }

  /** Why the header at window offset `o` (file position `pos`) cannot be used, or undefined. */
  private headerProblem(v: DataView, o: number, pos: number): string | undefined {
    const diskSize = v.getUint32(o, true);
    const saved = v.getUint32(o + 4, true);
    const flags = v.getUint16(o + 0x34, true);
    const type = v.getUint16(o + 0x36, true);
    if (diskSize === 0 && saved === 0 && type === 0 && flags === 0) return 'unused (zero) buffer header';
    if (diskSize < WMI_BUFFER_HEADER_SIZE) return `buffer size ${diskSize} is smaller than a buffer header`;
    if (diskSize > MAX_BUFFER_SIZE) return `buffer size ${diskSize} is larger than ${MAX_BUFFER_SIZE}`;
    if (type > 15) return `unknown buffer type ${type}`;
    if (flags & BUFFER_FLAG.COMPRESSED) {
      if (saved < WMI_BUFFER_HEADER_SIZE || saved > MAX_BUFFER_SIZE) return `compressed buffer claims ${saved} expanded bytes`;
      if (pos === 0) return 'the first buffer is compressed';
    }
    return undefined;
  }

  /** Strict plausibility test used to find buffer starts after damage. */
  private async plausibleAt(pos: number): Promise<boolean> {
    if (pos === this.src.size) return true; // end of file is a fine place for a buffer to end
    if (pos + WMI_BUFFER_HEADER_SIZE > this.src.size) return false;
    const o = await this.ensure(pos, WMI_BUFFER_HEADER_SIZE + 4);
    return this.plausible(o, pos);
  }

  private plausible(o: number, pos: number): boolean {
    const v = this.winView;
    const diskSize = v.getUint32(o, true);
    if (diskSize < WMI_BUFFER_HEADER_SIZE || diskSize > MAX_BUFFER_SIZE) return false;
    const type = v.getUint16(o + 0x36, true);
    const flags = v.getUint16(o + 0x34, true);
    if (type > 8 || (flags & 0xff80) !== 0) return false;
    if ((v.getUint16(o + 0x28, true) & 0xf800) !== 0) return false;
    const saved = v.getUint32(o + 4, true);
    if (flags & BUFFER_FLAG.COMPRESSED) return saved >= WMI_BUFFER_HEADER_SIZE && saved <= MAX_BUFFER_SIZE;
    if (saved < WMI_BUFFER_HEADER_SIZE || saved > diskSize) return false;
    if (saved > WMI_BUFFER_HEADER_SIZE + 8 && pos + WMI_BUFFER_HEADER_SIZE + 4 <= this.src.size && o + WMI_BUFFER_HEADER_SIZE + 4 <= this.winLen) {
      const top = this.win[o + WMI_BUFFER_HEADER_SIZE + 3]!;
      if ((top & 0xc0) !== 0xc0 && (top & 0xd0) !== 0x90) return false;
    }
    return true;
  }

  /** Finds the next plausible buffer header after a bad one at `from`. */
  private async resync(from: number, problem: string): Promise<void> {
    const size = this.src.size;
    const zero = problem.startsWith('unused');
    this.stats.badBuffers++;
    const logSize = this.header?.bufferSize ?? 0;
    let found = -1;
    // Uncompressed files: buffers sit at multiples of the logfile buffer size.
    if (logSize >= WMI_BUFFER_HEADER_SIZE && logSize <= MAX_BUFFER_SIZE) {
      const aligned = Math.ceil((from + 1) / logSize) * logSize;
      if (aligned < size && (await this.plausibleAt(aligned))) found = aligned;
    }
    if (found < 0) {
      for (let p = from + 1; p + WMI_BUFFER_HEADER_SIZE <= size; ) {
        const o = await this.ensure(p, Math.min(WINDOW_SIZE, size - p));
        const stop = Math.min(this.winLen - WMI_BUFFER_HEADER_SIZE - 4, size - p - WMI_BUFFER_HEADER_SIZE + o);
        let q = o;
        for (; q <= stop; q++) {
          if (this.plausible(q, this.winPos + q)) break;
        }
        if (q <= stop) {
          found = this.winPos + q;
          break;
        }
        const next = this.winPos + q;
        if (next <= p) break;
        p = next;
      }
    }
    const to = found < 0 ? size : found;
    this.stats.skippedBytes += to - from;
    const what = zero ? 'unused zero-filled space' : `invalid buffer header (${problem})`;
    this.issues.add(zero ? 'note' : 'warning', zero ? 'zero-buffer' : 'buffer-header', from,
      found < 0 ? `${what} at offset ${from}; no further buffer found, ${to - from} bytes skipped`
        : `${what} at offset ${from}; resumed at offset ${found} (${to - from} bytes skipped)`);
    this.pos = to;
  }

  /**
   * Makes file bytes [pos, pos+len) available in the window; returns their window offset.
   * Moving forward keeps the window's tail and reads on from where the last read ended, so reads
   * stay sequential (the file source prefetches the next one while we decode).
   */
  private async ensure(pos: number, len: number): Promise<number> {
    const winEnd = this.winPos + this.winLen;
    if (pos >= this.winPos && pos + len <= winEnd) return pos - this.winPos;
    let cap = this.win.length;
    while (cap < len) cap *= 2;
    if (pos >= this.winPos && pos <= winEnd && this.winLen > 0) {
      const keep = winEnd - pos;
      if (cap !== this.win.length) {
        const bigger = new Uint8Array(cap);
        bigger.set(this.win.subarray(pos - this.winPos, this.winLen));
        this.win = bigger;
        this.winView = new DataView(this.win.buffer);
      } else this.win.copyWithin(0, pos - this.winPos, this.winLen);
      const want = Math.min(cap - keep, this.src.size - winEnd);
      const got = want > 0 ? await this.src.read(this.win, keep, want, winEnd) : 0;
      this.winPos = pos;
      this.winLen = keep + got;
      return 0;
    }
    if (cap !== this.win.length) {
      this.win = new Uint8Array(cap);
      this.winView = new DataView(this.win.buffer);
    }
    const want = Math.min(cap, this.src.size - pos);
    this.winLen = await this.src.read(this.win, 0, want, pos);
    this.winPos = pos;
    return 0;
  }
}

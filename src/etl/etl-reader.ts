/**
 * The two ways to read an ETL file:
 * - scanRecords: every record in file order (counting, rundown collection); buffers are released
 *   as soon as they are walked.
 * - readOrdered: the records a predicate selects, in timestamp order across CPUs, through the
 *   bounded EventMerger; buffers in file order, or, for an uncompressed file, CPU by CPU
 *   (readByCpu).
 * Both report damage as issues and go on: a bad record stops only its buffer.
 */
import { EtlBufferReader, type BufferPlan, type EtlBuffer } from './buffer-reader.js';
import type { ByteSource } from './byte-source.js';
import { EventMerger } from './event-merger.js';
import type { IssueLog } from './issues.js';
import { EtlRecord } from './record.js';
import { decodeRecordAt, walkRecords } from './record-walker.js';

export interface ReadOptions {
  issues: IssueLog;
  /** Called after each buffer with the file position reached. */
  onProgress?: (position: number, size: number) => void;
  /** Report record-level problems (set false on a second pass over the same file). */
  reportRecords?: boolean;
  /** Awaited after each buffer (and every few hundred events while draining): flush output here. */
  afterBuffer?: () => Promise<void>;
  /**
   * A file still being written (the reader's source waits for it): each buffer's events wait
   * `latencyMs` for older events in other CPUs' buffers, then go out; `idle` is awaited whenever
   * the reader waits for the file to grow (flush everything released there).
   */
  follow?: { latencyMs: number; idle: () => Promise<void> };
}

export const DEFAULT_MERGE_BUDGET_BYTES = 48 * 1024 * 1024;

function reportWalk(opts: ReadOptions, buf: EtlBuffer, problem: { offset: number; reason: string } | undefined): void {
  if (!problem) return;
  if (opts.reportRecords === false) return;
  const where = buf.compressed ? `expanded offset ${problem.offset} of the buffer at file offset ${buf.fileOffset}` : `file offset ${buf.fileOffset + problem.offset}`;
  opts.issues.add(buf.truncated ? 'note' : 'warning', 'record', buf.fileOffset + (buf.compressed ? 0 : problem.offset),
    `${problem.reason} at ${where}; rest of this buffer skipped`);
}

export interface ReadResult {
  reader: EtlBufferReader;
  recordProblems: number;
  lateEvents: number;
  maxHeldBytes: number;
}

/** Opens the source (throws InputError when it is not an ETL file) and returns the reader. */
export async function openEtl(src: ByteSource, issues: IssueLog): Promise<EtlBufferReader> {
  const reader = new EtlBufferReader(src, issues);
  try {
    await reader.open();
  } catch (e) {
    await src.close();
    throw e;
  }
  return reader;
}

export async function scanRecords(reader: EtlBufferReader, opts: ReadOptions, visit: (rec: EtlRecord, buf: EtlBuffer) => void): Promise<ReadResult> {
  const rec = new EtlRecord();
  let recordProblems = 0;
  for (let b = await reader.next(); b; b = await reader.next()) {
    const buf = b;
    const problem = walkRecords(buf, reader.clock, rec, (r) => visit(r, buf));
    if (problem) recordProblems++;
    reportWalk(opts, buf, problem);
    reader.release(buf);
    opts.onProgress?.(reader.position, reader.fileSize);
  }
  return { reader, recordProblems, lateEvents: 0, maxHeldBytes: 0 };
}

export async function readOrdered(
  reader: EtlBufferReader,
  opts: ReadOptions & { budgetBytes?: number },
  select: (rec: EtlRecord) => boolean,
  visit: (rec: EtlRecord) => void,
): Promise<ReadResult> {
  const out = new EtlRecord();
  const clock = reader.clock;
  const budget = opts.budgetBytes ?? DEFAULT_MERGE_BUDGET_BYTES;
  const merger = new EventMerger(
    budget,
    (buf, offset) => {
      decodeRecordAt(buf, offset, clock, out);
      visit(out);
    },
    (buf) => reader.release(buf),
  );
  const follow = opts.follow;
  if (follow) {
    reader.onWait = async () => {
      merger.releaseArrivedBefore(Date.now() - follow.latencyMs);
      if (opts.afterBuffer) await opts.afterBuffer();
      await follow.idle();
    };
  }
  const walker = new SelectWalker(reader, opts, select);
  const first = await reader.next();
  // Reading by CPU reads a buffer ahead for every CPU: half the budget at most.
  const plan = first && !follow ? reader.plan(budget / 2) : undefined;
  if (first) {
    walker.push(first, merger, plan ? first.seq : undefined);
    await afterEach(reader, opts, merger);
  }
  if (plan) await readByCpu(reader, plan, opts, walker, merger, first?.diskSize ?? 0);
  else if (first) {
    for (let b = await reader.next(); b; b = await reader.next()) {
      walker.push(b, merger);
      await afterEach(reader, opts, merger);
    }
  }
  reader.onWait = undefined;
  // A few hundred events a step: consumers' back-pressure (afterBuffer) holds even when packets are 64 kB.
  while (merger.drainSome(256)) if (opts.afterBuffer) await opts.afterBuffer();
  if (opts.afterBuffer) await opts.afterBuffer();
  return { reader, recordProblems: walker.recordProblems, lateEvents: merger.lateEvents, maxHeldBytes: merger.maxHeldBytes };
}

/** After a buffer in file order: follow mode's releases, progress, the consumer's turn. */
async function afterEach(reader: EtlBufferReader, opts: ReadOptions, merger: EventMerger): Promise<void> {
  if (opts.follow) merger.releaseArrivedBefore(Date.now() - opts.follow.latencyMs);
  opts.onProgress?.(reader.position, reader.fileSize);
  if (opts.afterBuffer) await opts.afterBuffer();
}

/** Walks a buffer, gives the merger the records `select` takes (their offsets and times). */
class SelectWalker {
  recordProblems = 0;
  /** Time of the last selected record of the buffer pushed last (NaN: none selected). */
  lastTicks = Number.NaN;
  /** Time of its first selected record. */
  firstTicks = Number.NaN;
  private readonly rec = new EtlRecord();
  private offsets = new Int32Array(1024);
  private ticks = new Float64Array(1024);
  private n = 0;
  private readonly take = (r: EtlRecord): void => {
    if (!this.select(r)) return;
    if (this.n === this.offsets.length) this.grow();
    this.offsets[this.n] = r.offset;
    this.ticks[this.n] = Number.isNaN(r.ticks) ? 0 : r.ticks;
    this.n++;
  };

  constructor(
    private readonly reader: EtlBufferReader,
    private readonly opts: ReadOptions,
    private readonly select: (rec: EtlRecord) => boolean,
  ) {}

  push(buf: EtlBuffer, merger: EventMerger, order?: number): void {
    this.n = 0;
    const problem = walkRecords(buf, this.reader.clock, this.rec, this.take);
    if (problem) this.recordProblems++;
    reportWalk(this.opts, buf, problem);
    const n = this.n;
    let first = Number.NaN;
    let last = Number.NaN;
    for (let i = 0; i < n; i++) {
      const t = this.ticks[i]!;
      if (!(t >= first)) first = t;
      if (!(t <= last)) last = t;
    }
    this.firstTicks = first;
    this.lastTicks = last;
    merger.pushCopy(buf, this.offsets, this.ticks, n, this.opts.follow ? Date.now() : 0, order);
  }

  private grow(): void {
    const o2 = new Int32Array(this.n * 2);
    o2.set(this.offsets);
    this.offsets = o2;
    const t2 = new Float64Array(this.n * 2);
    t2.set(this.ticks);
    this.ticks = t2;
  }
}

/** One CPU's buffers in the plan (file order, which ETW writes in time order) and how far read. */
interface CpuStream {
  /** Indexes into the plan. */
  buffers: number[];
  next: number;
  /** Time of the last selected record pushed from this CPU (-Infinity: none yet). */
  last: number;
  /** The read of buffers[next], started ahead. */
  reading: Promise<EtlBuffer | undefined> | undefined;
}

/**
 * Reading by CPU (issue 13): ETW writes each CPU's buffers in time order, but a quiet CPU flushes
 * seldom, so in file order the merge must hold everything between its buffers (tens of MB, out of
 * the processor's caches, for the bench's quiet CPU). Here each next buffer is the one of the CPU
 * whose last pushed record is oldest, read ahead one per CPU, and every event older than the
 * oldest of those last records is released at once: no buffer still to come can hold an older one.
 * A CPU whose buffers turn out not to be in time order ends the early releases: from there the
 * merge holds up to its budget, as in file order.
 */
async function readByCpu(reader: EtlBufferReader, plan: BufferPlan, opts: ReadOptions, walker: SelectWalker, merger: EventMerger, doneBytes: number): Promise<void> {
  const byCpu = new Map<number, CpuStream>();
  plan.cpus.forEach((cpu, i) => {
    let s = byCpu.get(cpu);
    if (!s) byCpu.set(cpu, (s = { buffers: [], next: 0, last: -Infinity, reading: undefined }));
    s.buffers.push(i);
  });
  const streams = [...byCpu.values()];
  for (const s of streams) s.reading = reader.bufferAt(plan, s.buffers[0]!);
  let inOrder = true;
  const size = reader.fileSize;
  const bufferSize = reader.header.bufferSize;
  for (;;) {
    const s = oldestStream(streams);
    if (!s) break;
    const buf = await s.reading;
    s.next++;
    s.reading = s.next < s.buffers.length ? reader.bufferAt(plan, s.buffers[s.next]!) : undefined;
    doneBytes += bufferSize;
    if (buf) {
      walker.push(buf, merger, buf.seq);
      if (walker.firstTicks < s.last) inOrder = false;
      if (walker.lastTicks > s.last) s.last = walker.lastTicks;
      if (inOrder) merger.releaseBefore(oldestLast(streams));
    }
    opts.onProgress?.(doneBytes, size);
    if (opts.afterBuffer) await opts.afterBuffer();
  }
}

/** The stream with buffers left whose last record is oldest (ties: the one next in the file). */
function oldestStream(streams: CpuStream[]): CpuStream | undefined {
  let best: CpuStream | undefined;
  for (const s of streams) {
    if (s.next === s.buffers.length) continue;
    if (!best || s.last < best.last || (s.last === best.last && s.buffers[s.next]! < best.buffers[best.next]!)) best = s;
  }
  return best;
}

/** The oldest last record of the streams with buffers left: nothing still to come is older. */
function oldestLast(streams: CpuStream[]): number {
  let w = Infinity;
  for (const s of streams) if (s.next < s.buffers.length && s.last < w) w = s.last;
  return w;
}

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
  if (first) {
    walker.push(first, merger);
    await afterEach(reader, opts, merger);
  }
  // Reading by CPU reads a buffer ahead for every CPU: half the budget at most.
  const plan = first && !follow ? reader.plan(budget / 2) : undefined;
  if (plan) await opts.issues.inFileOrder(() => readByCpu(reader, plan, opts, walker, merger));
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

/** The times of the records of a buffer that `select` took (NaN, NaN: none). */
interface Span {
  first: number;
  last: number;
}

/**
 * Walks a buffer and gives the merger the records `select` takes (their offsets and times), ranked
 * among equal times by the buffer's place in the file.
 */
class SelectWalker {
  recordProblems = 0;
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

  push(buf: EtlBuffer, merger: EventMerger): Span {
    this.n = 0;
    const problem = walkRecords(buf, this.reader.clock, this.rec, this.take);
    if (problem) this.recordProblems++;
    reportWalk(this.opts, buf, problem);
    const span = { first: Number.NaN, last: Number.NaN };
    for (let i = 0; i < this.n; i++) {
      const t = this.ticks[i]!;
      if (!(t >= span.first)) span.first = t;
      if (!(t <= span.last)) span.last = t;
    }
    merger.pushCopy(buf, this.offsets, this.ticks, this.n, this.opts.follow ? Date.now() : 0);
    return span;
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

/** One stream's buffers in the plan (a CPU's, in file order) and how far they are read. */
interface CpuStream {
  /** Indexes into the plan. */
  buffers: Int32Array;
  next: number;
  /** Time of the last selected record pushed from this stream (-Infinity: none yet). */
  last: number;
  /** The read of buffers[next], started ahead (a failed read rejects only when awaited). */
  reading: Promise<EtlBuffer | undefined> | undefined;
}

/**
 * How far a CPU's buffer may start before the end of its previous one and still be merged in
 * order, at first: 1 ms, in ticks of 100 ns. Events logged around a buffer switch can straddle it
 * (the merger sorts each buffer for the same reason); a larger step seen raises it (twice the step).
 */
const SLACK_TICKS = 10_000;

/**
 * Reading by CPU. ETW writes each CPU's buffers in time order, but a quiet CPU flushes seldom, so
 * in file order the merge must hold everything between its buffers (tens of MB for the bench's
 * quiet CPU, out of the processor's caches: 17% of the decode's time). Here the next buffer is the
 * one of the CPU whose last pushed record is oldest, one read ahead per CPU, and every event older
 * than the oldest of those last records (less the slack) goes out at once: no buffer still to come
 * can hold an older one. The budget still bounds what is held.
 */
async function readByCpu(reader: EtlBufferReader, plan: BufferPlan, opts: ReadOptions, walker: SelectWalker, merger: EventMerger): Promise<void> {
  const streams = cpuStreams(plan);
  const start = (s: CpuStream): void => {
    s.reading = s.next < s.buffers.length ? reader.bufferAt(plan, s.buffers[s.next]!) : undefined;
    s.reading?.catch(() => undefined); // handled here; rejects when awaited
  };
  streams.forEach(start);
  let slack = SLACK_TICKS;
  let done = plan.first;
  try {
    for (let s = oldestStream(streams); s; s = oldestStream(streams)) {
      const buf = await s.reading;
      s.next++;
      start(s);
      done += plan.size;
      if (buf) {
        const span = walker.push(buf, merger);
        if (span.first < s.last) slack = Math.max(slack, 2 * (s.last - span.first));
        if (span.last > s.last) s.last = span.last;
        merger.releaseBefore(oldestLast(streams) - slack);
      }
      opts.onProgress?.(done, reader.fileSize);
      if (opts.afterBuffer) await opts.afterBuffer();
    }
  } finally {
    // Stopped early (an error, or a single pass that meets PktMon): no read left running.
    for (const s of streams) {
      const buf = await s.reading?.catch(() => undefined);
      if (buf) reader.release(buf);
    }
  }
}

/** The plan's buffers by stream, in file order; streams by their first buffer. */
function cpuStreams(plan: BufferPlan): CpuStream[] {
  const byKey = new Map<number, number[]>();
  plan.streams.forEach((k, i) => {
    const list = byKey.get(k);
    if (list) list.push(i);
    else byKey.set(k, [i]);
  });
  return [...byKey.values()].map((list) => ({ buffers: Int32Array.from(list), next: 0, last: -Infinity, reading: undefined }));
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

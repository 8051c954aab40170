/**
 * The two ways to read an ETL file:
 * - scanRecords: every record in file order (counting, rundown collection); buffers are released
 *   as soon as they are walked.
 * - readOrdered: the records a predicate selects, in timestamp order across CPUs, through the
 *   bounded EventMerger.
 * Both report damage as issues and go on: a bad record stops only its buffer.
 */
import { EtlBufferReader, type EtlBuffer } from './buffer-reader.js';
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

function reportWalk(opts: ReadOptions, buf: EtlBuffer, problem: { offset: number; reason: string } | undefined, counters: { recordProblems: number }): void {
  if (!problem) return;
  counters.recordProblems++;
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
  const counters = { recordProblems: 0 };
  for (let b = await reader.next(); b; b = await reader.next()) {
    const buf = b;
    reportWalk(opts, buf, walkRecords(buf, reader.clock, rec, (r) => visit(r, buf)), counters);
    reader.release(buf);
    opts.onProgress?.(reader.position, reader.fileSize);
  }
  return { reader, recordProblems: counters.recordProblems, lateEvents: 0, maxHeldBytes: 0 };
}

export async function readOrdered(
  reader: EtlBufferReader,
  opts: ReadOptions & { budgetBytes?: number },
  select: (rec: EtlRecord) => boolean,
  visit: (rec: EtlRecord) => void,
): Promise<ReadResult> {
  const rec = new EtlRecord();
  const out = new EtlRecord();
  const counters = { recordProblems: 0 };
  const clock = reader.clock;
  const merger = new EventMerger(
    opts.budgetBytes ?? DEFAULT_MERGE_BUDGET_BYTES,
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
  let offsets = new Int32Array(1024);
  let ticks = new Float64Array(1024);
  for (let b = await reader.next(); b; b = await reader.next()) {
    const buf = b;
    let n = 0;
    const problem = walkRecords(buf, clock, rec, (r) => {
      if (!select(r)) return;
      if (n === offsets.length) {
        const o2 = new Int32Array(n * 2);
        o2.set(offsets);
        offsets = o2;
        const t2 = new Float64Array(n * 2);
        t2.set(ticks);
        ticks = t2;
      }
      offsets[n] = r.offset;
      ticks[n] = Number.isNaN(r.ticks) ? 0 : r.ticks;
      n++;
    });
    reportWalk(opts, buf, problem, counters);
    merger.pushCopy(buf, offsets, ticks, n, follow ? Date.now() : 0);
    if (follow) merger.releaseArrivedBefore(Date.now() - follow.latencyMs);
    opts.onProgress?.(reader.position, reader.fileSize);
    if (opts.afterBuffer) await opts.afterBuffer();
  }
  reader.onWait = undefined;
  // A few hundred events a step: consumers' back-pressure (afterBuffer) holds even when packets are 64 kB.
  while (merger.drainSome(256)) if (opts.afterBuffer) await opts.afterBuffer();
  if (opts.afterBuffer) await opts.afterBuffer();
  return { reader, recordProblems: counters.recordProblems, lateEvents: merger.lateEvents, maxHeldBytes: merger.maxHeldBytes };
}

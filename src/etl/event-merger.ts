/**
 * Bounded k-way merge of per-buffer event runs into timestamp order (etl-format.md 8.6).
 *
 * Buffers are per CPU and flushed independently, so file order is not time order. Each buffer's
 * selected records form a run sorted by time; runs wait in a heap ordered by their next event.
 * Events are released (oldest first) when the buffers held exceed the memory budget, when the
 * caller knows that nothing older can come (releaseBefore: reading by CPU; releaseArrivedBefore:
 * follow mode), or at the end of the file: memory stays bounded by the budget whatever the file
 * size. An event that arrives older than one already released (a buffer flushed later than the
 * budget could wait for) is still delivered and counted in `lateEvents`. Ties keep file order
 * (the buffers' EtlBuffer.seq, whatever order they are pushed in).
 */
import type { EtlBuffer } from './buffer-reader.js';

export interface MergeRun {
  buf: EtlBuffer;
  /** Record offsets in the buffer and their ticks, sorted by ticks (stable). */
  offsets: Int32Array;
  ticks: Float64Array;
  count: number;
  next: number;
  /** When the buffer was read (follow mode's latency window; Date.now()). */
  arrived: number;
}

/**
 * Run arrays kept for reuse (pushCopy): as many as a 48 MB budget of 1 MB buffers holds, with room
 * to spare; with smaller buffers more runs are held at once, and the others are allocated anew.
 */
const SPARE_RUNS = 128;

export class EventMerger {
  private readonly heap: MergeRun[] = [];
  private readonly spare: Array<{ offsets: Int32Array; ticks: Float64Array }> = [];
  private heldBytes = 0;
  private lastTicks = -Infinity;
  lateEvents = 0;
  maxHeldBytes = 0;

  constructor(
    private readonly budgetBytes: number,
    private readonly emit: (buf: EtlBuffer, offset: number) => void,
    private readonly release: (buf: EtlBuffer) => void,
  ) {}

  /**
   * Adds one buffer's selected records (offsets/ticks in file order; taken over by the merger).
   * Among events of equal time, those of the buffer earlier in the file (lower seq) go first.
   */
  push(buf: EtlBuffer, offsets: Int32Array, ticks: Float64Array, count: number, arrived = 0): void {
    if (count === 0) {
      this.release(buf);
      return;
    }
    let sorted = true;
    for (let i = 1; i < count; i++) if (ticks[i]! < ticks[i - 1]!) { sorted = false; break; }
    if (!sorted) {
      const idx = Array.from({ length: count }, (_, i) => i).sort((a, b) => ticks[a]! - ticks[b]! || a - b);
      const o2 = new Int32Array(count);
      const t2 = new Float64Array(count);
      idx.forEach((j, i) => { o2[i] = offsets[j]!; t2[i] = ticks[j]!; });
      offsets = o2;
      ticks = t2;
    }
    const run: MergeRun = { buf, offsets, ticks, count, next: 0, arrived };
    this.heap.push(run);
    this.siftUp(this.heap.length - 1);
    this.heldBytes += buf.data.length;
    if (this.heldBytes > this.maxHeldBytes) this.maxHeldBytes = this.heldBytes;
    while (this.heldBytes > this.budgetBytes && this.heap.length > 0) this.popOne();
  }

  /**
   * push() of a copy of the first `count` offsets and ticks, in arrays the merger reuses once
   * their run is done (one allocation per buffer would be garbage the size of the file's index).
   */
  pushCopy(buf: EtlBuffer, offsets: Int32Array, ticks: Float64Array, count: number, arrived = 0): void {
    if (count === 0) {
      this.push(buf, offsets, ticks, 0, arrived);
      return;
    }
    let r = this.spare.pop();
    if (!r || r.offsets.length < count) {
      const cap = Math.max(count, 1024);
      r = { offsets: new Int32Array(cap), ticks: new Float64Array(cap) };
    }
    r.offsets.set(offsets.subarray(0, count));
    r.ticks.set(ticks.subarray(0, count));
    this.push(buf, r.offsets, r.ticks, count, arrived);
  }

  /** Releases every remaining event in order. */
  drain(): void {
    while (this.heap.length > 0) this.popOne();
  }

  /**
   * Follow mode: a buffer that arrived before `cutoff` has waited its latency window for older
   * events from other CPUs' buffers. Releases every event up to the last one of such buffers, in
   * order (one that comes later is delivered late, and counted).
   */
  releaseArrivedBefore(cutoff: number): void {
    let until = -Infinity;
    for (const r of this.heap) if (r.arrived < cutoff && r.ticks[r.count - 1]! > until) until = r.ticks[r.count - 1]!;
    while (this.heap.length > 0 && this.heap[0]!.ticks[this.heap[0]!.next]! <= until) this.popOne();
  }

  /** Releases, in order, every event older than `until` (no event still to come is older). */
  releaseBefore(until: number): void {
    while (this.heap.length > 0 && this.heap[0]!.ticks[this.heap[0]!.next]! < until) this.popOne();
  }

  /** Events held, in all. */
  get held(): number {
    let n = 0;
    for (const r of this.heap) n += r.count - r.next;
    return n;
  }

  /** Releases up to `max` remaining events; returns true while events remain. */
  drainSome(max: number): boolean {
    for (let i = 0; i < max && this.heap.length > 0; i++) this.popOne();
    return this.heap.length > 0;
  }

  private popOne(): void {
    const run = this.heap[0]!;
    const t = run.ticks[run.next]!;
    if (t < this.lastTicks) this.lateEvents++;
    else this.lastTicks = t;
    this.emit(run.buf, run.offsets[run.next]!);
    run.next++;
    if (run.next === run.count) {
      const last = this.heap.pop()!;
      if (this.heap.length > 0) {
        this.heap[0] = last;
        this.siftDown(0);
      }
      this.heldBytes -= run.buf.data.length;
      if (this.spare.length < SPARE_RUNS) this.spare.push({ offsets: run.offsets, ticks: run.ticks });
      this.release(run.buf);
    } else {
      this.siftDown(0);
    }
  }

  private less(a: MergeRun, b: MergeRun): boolean {
    const ta = a.ticks[a.next]!;
    const tb = b.ticks[b.next]!;
    return ta < tb || (ta === tb && a.buf.seq < b.buf.seq);
  }

  private siftUp(i: number): void {
    const h = this.heap;
    const x = h[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(x, h[p]!)) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = x;
  }

  /** Moves the run at `i` down to its place; the runs it passes move up (no swaps). */
  private siftDown(i: number): void {
    const h = this.heap;
    const n = h.length;
    const x = h[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.less(h[r]!, h[l]!) ? r : l;
      if (!this.less(h[c]!, x)) break;
      h[i] = h[c]!;
      i = c;
    }
    h[i] = x;
  }
}

/**
 * The bounded merge: with room for everything it is a stable sort by time (runs in file order);
 * pushCopy copies the caller's arrays (which the reader reuses for the next buffer) into arrays
 * the merger recycles, and gives the same events as push() of fresh arrays whatever the budget.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { EtlBuffer } from '../../src/etl/buffer-reader.js';
import { EventMerger } from '../../src/etl/event-merger.js';

interface Run {
  size: number;
  cpu: number;
  ticks: number[];
}

/**
 * Runs of buffers: sizes of 1-8 units, a few events each, ticks from a small range (ties, disorder),
 * from 1-3 CPUs (a CPU's runs that follow on each other wait behind one another, not in the heap).
 */
const runs = fc.array(
  fc.record({ size: fc.integer({ min: 1, max: 8 }), cpu: fc.integer({ min: 0, max: 2 }), ticks: fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 12 }) }),
  { minLength: 1, maxLength: 30 },
);

/** Runs whose ticks rise across each CPU's buffers, as ETW writes them (ties at the joins included). */
const cpuStreams = fc.array(
  fc.record({ size: fc.integer({ min: 1, max: 8 }), cpu: fc.integer({ min: 0, max: 2 }), ticks: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 12 }) }),
  { minLength: 1, maxLength: 30 },
).map((input) => {
  const at = [0, 0, 0];
  return input.map((r) => ({ ...r, ticks: r.ticks.map((d) => (at[r.cpu] = at[r.cpu]! + d)) }));
});

/** Every event a merger emits, as `run:index` (index of the event in its run, file order). */
function merge(input: Run[], budget: number, how: 'copy' | 'fresh'): string[] {
  const out: string[] = [];
  const released: number[] = [];
  // seq: the buffer's place in the file, which ranks events of equal time.
  const bufs = input.map((r, i) => ({ data: new Uint8Array(r.size), cpu: r.cpu, id: i, seq: i }) as unknown as EtlBuffer & { id: number });
  const m = new EventMerger(budget, (buf, offset) => out.push(`${(buf as EtlBuffer & { id: number }).id}:${offset}`), (buf) => released.push((buf as EtlBuffer & { id: number }).id));
  // One scratch pair, as readOrdered reuses: overwritten after every pushCopy.
  const offsets = new Int32Array(64);
  const ticks = new Float64Array(64);
  input.forEach((r, i) => {
    r.ticks.forEach((t, k) => { offsets[k] = k; ticks[k] = t; });
    if (how === 'copy') {
      m.pushCopy(bufs[i]!, offsets, ticks, r.ticks.length);
      offsets.fill(-7);
      ticks.fill(-7);
    } else {
      m.push(bufs[i]!, Int32Array.from(r.ticks, (_, k) => k), Float64Array.from(r.ticks), r.ticks.length);
    }
  });
  m.drain();
  assert.deepEqual([...released].sort((a, b) => a - b), input.map((_, i) => i), 'every buffer released once');
  return out;
}

function stableSort(input: Run[]): string[] {
  return input.flatMap((r, i) => r.ticks.map((t, k) => ({ t, i, k })))
    .sort((a, b) => a.t - b.t || a.i - b.i || a.k - b.k)
    .map((e) => `${e.i}:${e.k}`);
}

test('EventMerger: CPUs\' buffers in order, with room for all: a stable sort by time', () => {
  fc.assert(fc.property(cpuStreams, (input) => {
    assert.deepEqual(merge(input, 1e9, 'copy'), stableSort(input));
  }), { numRuns: 500 });
});

test('EventMerger: with room for all, a stable sort by time (ties: file order)', () => {
  fc.assert(fc.property(runs, (input) => {
    assert.deepEqual(merge(input, 1e9, 'copy'), stableSort(input));
  }), { numRuns: 300 });
});

/**
 * The bounded merge as its definition says, by linear scans: after each buffer, while the
 * buffers held exceed the budget, the oldest event held goes (ties: file order); at the end,
 * everything, oldest first.
 */
function modelMerge(input: Run[], budget: number): string[] {
  const out: string[] = [];
  const held: Array<{ i: number; sorted: Array<{ t: number; k: number }>; next: number }> = [];
  let bytes = 0;
  const popOldest = (): void => {
    let best = -1;
    for (let h = 0; h < held.length; h++) {
      const e = held[h]!.sorted[held[h]!.next]!;
      const b = best < 0 ? undefined : held[best]!.sorted[held[best]!.next]!;
      if (!b || e.t < b.t) best = h;
    }
    const run = held[best]!;
    out.push(`${run.i}:${run.sorted[run.next]!.k}`);
    if (++run.next === run.sorted.length) {
      bytes -= input[run.i]!.size;
      held.splice(best, 1);
    }
  };
  input.forEach((r, i) => {
    if (r.ticks.length === 0) return;
    held.push({ i, sorted: r.ticks.map((t, k) => ({ t, k })).sort((a, b) => a.t - b.t || a.k - b.k), next: 0 });
    bytes += r.size;
    while (bytes > budget && held.length > 0) popOldest();
  });
  while (held.length > 0) popOldest();
  return out;
}

test('EventMerger: under any budget, the bounded merge its definition gives (CPUs in order or not)', () => {
  fc.assert(fc.property(fc.oneof(runs, cpuStreams), fc.integer({ min: 0, max: 40 }), (input, budget) => {
    assert.deepEqual(merge(input, budget, 'copy'), modelMerge(input, budget));
  }), { numRuns: 1000 });
});

test('EventMerger: pushCopy of reused arrays gives what push of fresh ones gives, under any budget', () => {
  fc.assert(fc.property(runs, fc.integer({ min: 0, max: 40 }), (input, budget) => {
    assert.deepEqual(merge(input, budget, 'copy'), merge(input, budget, 'fresh'));
  }), { numRuns: 500 });
});

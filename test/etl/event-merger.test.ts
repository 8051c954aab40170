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
  ticks: number[];
}

/** Runs of buffers: sizes of 1-8 units, a few events each, ticks from a small range (ties, disorder). */
const runs = fc.array(
  fc.record({ size: fc.integer({ min: 1, max: 8 }), ticks: fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 12 }) }),
  { minLength: 1, maxLength: 30 },
);

/** Every event a merger emits, as `run:index` (index of the event in its run, file order). */
function merge(input: Run[], budget: number, how: 'copy' | 'fresh'): string[] {
  const out: string[] = [];
  const released: number[] = [];
  const bufs = input.map((r, i) => ({ data: new Uint8Array(r.size), id: i }) as unknown as EtlBuffer & { id: number });
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

test('EventMerger: with room for all, a stable sort by time (ties: file order)', () => {
  fc.assert(fc.property(runs, (input) => {
    const expected = input.flatMap((r, i) => r.ticks.map((t, k) => ({ t, i, k })))
      .sort((a, b) => a.t - b.t || a.i - b.i || a.k - b.k)
      .map((e) => `${e.i}:${e.k}`);
    assert.deepEqual(merge(input, 1e9, 'copy'), expected);
  }), { numRuns: 300 });
});

test('EventMerger: pushCopy of reused arrays gives what push of fresh ones gives, under any budget', () => {
  fc.assert(fc.property(runs, fc.integer({ min: 0, max: 40 }), (input, budget) => {
    assert.deepEqual(merge(input, budget, 'copy'), merge(input, budget, 'fresh'));
  }), { numRuns: 500 });
});

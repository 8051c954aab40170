/** The path tracker's integer hash table against a Map, on random operation sequences. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { IntTable } from '../../src/analysis/int-table.js';

test('IntTable: get, set and delete agree with a Map (keys crowded into few slots, growth, backward-shift deletion)', () => {
  // Keys from a small pool (seeded per run), so that sets, deletes and gets meet the same keys and
  // many share a home slot; the table starts small and grows.
  const op = fc.tuple(fc.constantFrom('set', 'delete', 'get'), fc.integer({ min: 0, max: 47 }), fc.integer({ min: 0, max: 1 << 20 }));
  const pool48 = fc.array(fc.integer({ min: 0, max: 0x3fffffff }), { minLength: 48, maxLength: 48 });
  fc.assert(fc.property(pool48, fc.array(op, { minLength: 100, maxLength: 400 }), fc.integer({ min: 1, max: 64 }), (pool, ops, capacity) => {
    const t = new IntTable(capacity);
    const m = new Map<number, number>();
    for (const [kind, k, value] of ops) {
      const key = pool[k]!;
      if (kind === 'set') {
        t.set(key, value);
        m.set(key, value);
      } else if (kind === 'delete') {
        t.delete(key);
        m.delete(key);
      }
      assert.equal(t.get(key), m.get(key) ?? -1);
      assert.equal(t.size, m.size);
    }
    const all = new Map<number, number>();
    t.forEach((k, v) => all.set(k, v));
    assert.deepEqual([...all].sort((a, b) => a[0] - b[0]), [...m].sort((a, b) => a[0] - b[0]));
  }), { numRuns: 300 });
});

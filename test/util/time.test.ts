import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FILETIME_UNIX_EPOCH, filetimeToIso, isoToFiletime } from '../../src/util/time.js';

test('report times: FILETIME to ISO text to 100 ns and back (the fleet reads what a host\'s report wrote)', () => {
  // 2024-03-01T12:34:56.789Z + 1234 ticks, worked out by hand: 1709296496789 ms since 1970.
  const ft = 1709296496789n * 10000n + 1234n + FILETIME_UNIX_EPOCH;
  assert.equal(filetimeToIso(ft), '2024-03-01T12:34:56.7891234Z');
  assert.equal(isoToFiletime('2024-03-01T12:34:56.7891234Z'), ft);
  assert.equal(isoToFiletime('2024-03-01T12:34:56.789Z'), ft - 1234n, 'fewer digits');
  assert.equal(isoToFiletime('2024-03-01T12:34:56Z'), ft - 7891234n, 'no fraction');
  assert.equal(isoToFiletime('1601-01-01T00:00:00.0000000Z'), 0n);
  assert.equal(isoToFiletime(''), undefined);
  assert.equal(isoToFiletime('yesterday'), undefined);
});

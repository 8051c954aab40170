import assert from 'node:assert/strict';
import { test } from 'node:test';
import { XpressError, xpressDecompress } from '../../src/etl/xpress.js';
import { Random } from '../../src/sim/random.js';
import { xpressCompress } from '../../src/sim/xpress-compress.js';

function roundTrip(input: Uint8Array): void {
  const comp = xpressCompress(input);
  const out = new Uint8Array(input.length);
  const r = xpressDecompress(comp, 0, comp.length, out, 0, out.length);
  assert.equal(r.written, input.length);
  assert.equal(r.inputTruncated, false);
  assert.deepEqual(out, input);
}

test('xpress: round trip of random, repetitive and long-run data', () => {
  const rng = new Random(42);
  roundTrip(new Uint8Array(0));
  roundTrip(rng.bytes(1));
  roundTrip(rng.bytes(1000));
  roundTrip(new Uint8Array(100000).fill(7)); // one long overlapping match: 32-bit length path
  const mixed = new Uint8Array(70000);
  for (let i = 0; i < mixed.length; i++) mixed[i] = i % 300 < 150 ? i & 0xff : rng.int(0, 3);
  roundTrip(mixed);
  for (const len of [3, 10, 17, 21, 22, 23, 40, 276, 277, 278, 300, 65538]) roundTrip(new Uint8Array(len).fill(1));
});

test('xpress: MS-XCA example "abcabcabc..." decodes', () => {
  // MS-XCA 3.1 example: "abc" then a match of length 297 at distance 3.
  const input = new Uint8Array(300);
  for (let i = 0; i < 300; i++) input[i] = 97 + (i % 3);
  roundTrip(input);
});

test('xpress: a match before the output start is an error with its input offset', () => {
  // flags: first token is a match (bit 31 set), match bytes 0x0018 = distance 4, length 3.
  const bad = new Uint8Array([0, 0, 0, 0x80, 0x18, 0x00]);
  assert.throws(() => xpressDecompress(bad, 0, bad.length, new Uint8Array(16), 0, 16), (e: unknown) => e instanceof XpressError && e.inputOffset === 6);
});

test('xpress: output overflow is an error, truncated input is reported', () => {
  const comp = xpressCompress(new Uint8Array(500).fill(3));
  assert.throws(() => xpressDecompress(comp, 0, comp.length, new Uint8Array(100), 0, 100), XpressError);
  const rng = new Random(1);
  const data = rng.bytes(400);
  const c2 = xpressCompress(data);
  const out = new Uint8Array(400);
  const r = xpressDecompress(c2, 0, c2.length - 50, out, 0, 400);
  assert.ok(r.written < 400);
  assert.deepEqual(out.subarray(0, r.written), data.subarray(0, r.written));
});

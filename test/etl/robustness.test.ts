/**
 * Bad input: cut files, flipped bytes, empty files, not-ETL, absurd sizes, records running past
 * their buffer, compressed data that does not expand. Every case ends in a typed InputError or in
 * the packets before the damage plus issues: never an uncaught exception, never a hang.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memorySource } from '../../src/etl/byte-source.js';
import { openFileSource } from '../../src/etl/file-source.js';
import { convertEtlToPcapng } from '../../src/pcapng/etl-to-pcapng.js';
import { memorySink } from '../../src/pcapng/file-sink.js';
import { summarizeEtl } from '../../src/providers/capture-decoder.js';
import { isAppError } from '../../src/util/errors.js';
import { writeNdisScenario } from '../../src/sim/scenarios.js';
import { assemble, convertBytes, fixtureNames, readFixture } from '../helpers/fixtures.js';

const SEED = 20261122;

/** Decodes; returns packets, or 'input-error' for a typed InputError. Anything else fails the test. */
async function tryDecode(bytes: Uint8Array): Promise<{ packets: number; issues: Record<string, number> } | 'input-error'> {
  try {
    const r = await convertBytes(bytes);
    return { packets: r.stats.packets, issues: r.summary.issues.counts };
  } catch (e) {
    if (isAppError(e) && e.name === 'InputError') return 'input-error';
    throw e;
  }
}

const synthetic = (() => {
  const chunks: Uint8Array[] = [];
  const r = writeNdisScenario({ seed: 9, packets: 600, cpus: 3, bufferSize: 8192, fragmentEvery: 5, vmswitchEvery: 7 }, (c) => chunks.push(c));
  return assemble(chunks, r.header);
})();

// Every real fixture, and a synthetic NDIS capture (fragments, vSwitch events).
const inputs: Array<[string, Uint8Array]> = [...fixtureNames().map((n): [string, Uint8Array] => [n, readFixture(n)]), ['synthetic NDIS', synthetic]];

for (const [name, bytes] of inputs) {
  test(`robustness: ${name} cut at many offsets`, async () => {
    const full = await tryDecode(bytes);
    assert.notEqual(full, 'input-error');
    const fullPackets = (full as { packets: number }).packets;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: bytes.length - 1 }), async (cut) => {
        const r = await tryDecode(bytes.subarray(0, cut));
        if (r === 'input-error') return cut < 2048 || bytes.length < 2048; // only a cut inside the header buffer
        assert.ok(r.packets <= fullPackets);
        return true;
      }),
      { seed: SEED, numRuns: 60 },
    );
  });

  test(`robustness: ${name} with random byte flips`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.integer({ min: 0, max: bytes.length - 1 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 20 }), async (flips) => {
        const b = bytes.slice();
        for (const [at, v] of flips) b[at] = v;
        await tryDecode(b); // must not throw anything but InputError
        return true;
      }),
      { seed: SEED, numRuns: 80 },
    );
  });
}

test('robustness: a cut synthetic file keeps every packet before the damage and says where', async () => {
  const cut = Math.floor(synthetic.length * 0.6) + 100;
  const r = await convertBytes(synthetic.subarray(0, cut));
  assert.ok(r.stats.packets > 200);
  assert.ok(r.summary.issues.counts['truncated']! >= 1);
  assert.match(r.summary.issues.samples.find((s) => s.kind === 'truncated')!.message, /file ends inside the buffer at offset \d+/);
});

test('robustness: a bad buffer header in the middle of an uncompressed file: the buffers before and after it are decoded, from memory and from a file (the reader leaves its direct way there)', async () => {
  const clean = await convertBytes(synthetic);
  const damaged = synthetic.slice();
  const at = 8192 * Math.floor(synthetic.length / 8192 / 2);
  new DataView(damaged.buffer).setUint32(at, 3, true); // a buffer size smaller than its header
  const dir = mkdtempSync(join(tmpdir(), 'wnvcap-robust-'));
  const file = join(dir, 'damaged.etl');
  writeFileSync(file, damaged);
  const fromFile = await convertEtlToPcapng(() => openFileSource(file), memorySink(), { application: 'wnvcap test' });
  for (const r of [await convertBytes(damaged), fromFile]) {
    const lost = clean.stats.packets - r.stats.packets;
    assert.ok(lost > 0 && lost < 150, `one 8 kB buffer's packets lost, not more (${lost})`);
    assert.match(r.summary.issues.samples.find((x) => x.kind === 'buffer-header')!.message, new RegExp(`at offset ${at}; resumed at offset ${at + 8192}`));
  }
});

test('robustness: empty file, not an ETL, tiny file', async () => {
  for (const b of [new Uint8Array(0), new TextEncoder().encode('hello world, this is not an ETL file at all'.repeat(20)), new Uint8Array(100)]) {
    await assert.rejects(summarizeEtl(async () => memorySource(b)), (e: unknown) => isAppError(e) && e.name === 'InputError' && /offset|empty|short/.test(e.message));
  }
});

test('robustness: zero and huge buffer sizes, records past the buffer, bad compression', async () => {
  const base = synthetic;
  const v = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);
  // Zero buffer size in the second buffer: resynchronised, later buffers still decode.
  const zero = base.slice();
  v(zero).setUint32(8192, 0, true);
  let r = await tryDecode(zero);
  assert.notEqual(r, 'input-error');
  assert.ok((r as { packets: number }).packets > 400);
  assert.ok((r as { issues: Record<string, number> }).issues['buffer-header']! >= 1);
  // Huge buffer size.
  const huge = base.slice();
  v(huge).setUint32(8192, 0xfffffff0, true);
  r = await tryDecode(huge);
  assert.ok(r !== 'input-error' && r.packets > 400 && r.issues['buffer-header']! >= 1);
  // First record of the second buffer claims to run past the buffer.
  const past = base.slice();
  v(past).setUint16(8192 + 0x48, 0xfff0, true);
  r = await tryDecode(past);
  assert.ok(r !== 'input-error' && r.packets > 400 && r.issues['record']! >= 1);
  // The header buffer is not an ETL header: typed error.
  const notEtl = base.slice();
  v(notEtl).setUint32(0x48, 0x12345678, true);
  assert.equal(await tryDecode(notEtl), 'input-error');
  // A compressed buffer whose data does not expand: reported by offset, the rest decodes.
  const chunks: Uint8Array[] = [];
  const rr = writeNdisScenario({ seed: 9, packets: 600, cpus: 3, bufferSize: 8192, compressed: true }, (c) => chunks.push(c));
  const comp = assemble(chunks, rr.header);
  const second = v(comp).getUint32(0, true);
  const bad = comp.slice();
  bad.fill(0xff, second + 0x48, second + 0x48 + 8); // flag word all matches, then garbage distances
  const rb = await convertBytes(bad);
  assert.ok(rb.stats.packets > 400 && rb.stats.packets < 600);
  assert.match(rb.summary.issues.samples.find((s) => s.kind === 'compressed')!.message, new RegExp(`compressed buffer at offset ${second} not decoded`));
});

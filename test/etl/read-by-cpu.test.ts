/**
 * Reading by CPU (etl-reader.ts readByCpu): an uncompressed file's buffers are read CPU by CPU,
 * and events go out as soon as no buffer still to come can be older. It must give what reading in
 * file order gives with room to hold the whole file (an exact sort), while holding a few buffers
 * instead of everything between a quiet CPU's buffers; and fall back, or lose nothing, when the
 * file is not what it assumes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { EtlBufferReader } from '../../src/etl/buffer-reader.js';
import { memorySource, type ByteSource } from '../../src/etl/byte-source.js';
import { WMI_BUFFER_HEADER_SIZE } from '../../src/etl/constants.js';
import { IssueLog } from '../../src/etl/issues.js';
import { convertEtlToPcapng } from '../../src/pcapng/etl-to-pcapng.js';
import { memorySink } from '../../src/pcapng/file-sink.js';
import { EtlWriter } from '../../src/sim/etl-writer.js';
import { ndisFragment } from '../../src/sim/payloads.js';
import { writeNdisScenario, type ScenarioOptions } from '../../src/sim/scenarios.js';
import { NDIS_PACKET_CAPTURE } from '../../src/providers/guids.js';
import { NDIS_KW, NDIS_KW_HI } from '../../src/providers/ndiscap.js';
import { assemble } from '../helpers/fixtures.js';

const APP = 'wnvcap-test';

function scenario(o: ScenarioOptions): Uint8Array {
  const chunks: Uint8Array[] = [];
  const r = writeNdisScenario(o, (c) => chunks.push(c));
  return assemble(chunks, r.header);
}

/** The same bytes without readSync: the reader cannot plan, and reads in file order. */
function fileOrderSource(bytes: Uint8Array): ByteSource {
  const { readSync: _r, ...rest } = memorySource(bytes);
  return rest;
}

async function convert(src: ByteSource, budgetBytes?: number) {
  const sink = memorySink();
  const r = await convertEtlToPcapng(async () => src, sink, { application: APP, ...(budgetBytes ? { budgetBytes } : {}) });
  return { bytes: Buffer.from(sink.bytes()), stats: r.stats, summary: r.summary };
}

async function planOf(bytes: Uint8Array, maxBytes = 1 << 30) {
  const reader = new EtlBufferReader(memorySource(bytes), new IssueLog());
  await reader.open();
  await reader.next();
  return reader.plan(maxBytes);
}

test('by CPU: the same pcapng and summary as file order with room for the whole file, on random files', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        seed: fc.integer({ min: 1, max: 1e6 }),
        packets: fc.integer({ min: 0, max: 600 }),
        cpus: fc.integer({ min: 1, max: 6 }),
        bufferSize: fc.constantFrom(4096, 8192, 16384),
        fragmentEvery: fc.constantFrom(0, 5),
        vmswitchEvery: fc.constantFrom(0, 7),
        lost: fc.boolean(),
      }),
      async (o) => {
        const bytes = scenario({ ...o, minFrame: 60, maxFrame: 1200, ...(o.lost ? { lostEventsCpu: 0 } : {}) });
        assert.equal((await planOf(bytes)) !== undefined, o.packets > 0, 'the writer\'s files are planned (a header alone is not)');
        const byCpu = await convert(memorySource(bytes));
        const fileOrder = await convert(fileOrderSource(bytes));
        assert.ok(byCpu.bytes.equals(fileOrder.bytes), 'pcapng bytes');
        assert.deepEqual(byCpu.summary, fileOrder.summary);
        const { maxHeldBytes: _a, ...a } = byCpu.stats;
        const { maxHeldBytes: _b, ...b } = fileOrder.stats;
        assert.deepEqual(a, b);
        assert.equal(byCpu.stats.lateEvents, 0);
      },
    ),
    { numRuns: 40 },
  );
});

test('by CPU: events of equal time on several CPUs keep file order, whatever order the buffers were flushed in', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.record({ cpu: fc.integer({ min: 0, max: 3 }), dt: fc.integer({ min: 0, max: 2 }), flush: fc.boolean() }), { minLength: 1, maxLength: 300 }),
      async (events) => {
        const chunks: Uint8Array[] = [];
        const w = new EtlWriter({ cpus: 4, bufferSize: 1024, osBuild: 20348 }, (c) => chunks.push(c));
        const at = [1000, 1000, 1000, 1000];
        events.forEach((e, n) => {
          at[e.cpu]! += e.dt;
          const frame = new Uint8Array(60).fill(0xab);
          new DataView(frame.buffer).setUint32(56, n);
          w.addEvent({
            cpu: e.cpu, ticks: at[e.cpu]!, provider: NDIS_PACKET_CAPTURE, id: 1001, keywordLo: (NDIS_KW.ETHERNET | NDIS_KW.START | NDIS_KW.END) >>> 0,
            keywordHi: NDIS_KW_HI.SEND | 0x600, payload: ndisFragment(6, 6, frame),
          });
          if (e.flush) w.flushCpu(e.cpu);
        });
        const bytes = assemble(chunks, w.finish());
        assert.ok(await planOf(bytes));
        const byCpu = await convert(memorySource(bytes));
        const fileOrder = await convert(fileOrderSource(bytes));
        assert.equal(byCpu.stats.packets, events.length);
        assert.ok(byCpu.bytes.equals(fileOrder.bytes));
      },
    ),
    { numRuns: 60 },
  );
});

test('by CPU: a quiet CPU no longer makes the merge hold everything between its buffers', async () => {
  // The sim's last CPU logs 3% of the packets: its buffers are far apart in the file.
  const bytes = scenario({ seed: 3, packets: 6000, cpus: 4, bufferSize: 16384, minFrame: 200, maxFrame: 1500 });
  const byCpu = await convert(memorySource(bytes));
  const fileOrder = await convert(fileOrderSource(bytes));
  assert.ok(byCpu.bytes.equals(fileOrder.bytes));
  // A buffer per CPU pushed, and the one just read (each in a block of the reader's pool, 64 kB at
  // least): 5 blocks. In file order: 23 MB here.
  assert.ok(byCpu.stats.maxHeldBytes <= 5 * 65536, `held ${byCpu.stats.maxHeldBytes}`);
  assert.ok(fileOrder.stats.maxHeldBytes > 50 * byCpu.stats.maxHeldBytes, `file order held ${fileOrder.stats.maxHeldBytes}`);
});

test('by CPU: a CPU whose buffers are not in time order in the file loses no event, and from there the merge holds up to its budget', async () => {
  const bytes = scenario({ seed: 5, packets: 3000, cpus: 2, bufferSize: 8192, minFrame: 200, maxFrame: 1000 });
  const size = 8192;
  const plan = (await planOf(bytes))!;
  // Swap two of CPU 0's buffers (its 3rd and 6th): its events then go back in time in file order.
  const mine = plan.positions.filter((_, i) => plan.cpus[i] === 0);
  const [p, q] = [mine[2]!, mine[5]!];
  const swapped = bytes.slice();
  swapped.set(bytes.subarray(q, q + size), p);
  swapped.set(bytes.subarray(p, p + size), q);
  const exact = await convert(fileOrderSource(swapped));
  assert.equal(exact.stats.lateEvents, 0, 'room for the whole file: an exact sort');
  const byCpu = await convert(memorySource(swapped));
  assert.equal(byCpu.stats.packets, exact.stats.packets);
  assert.ok(byCpu.stats.lateEvents > 0, 'the events released before the swap was seen are late');
  // After it, the merge holds up to its budget (here the rest of the file), not a few 64 kB blocks.
  assert.ok(byCpu.stats.maxHeldBytes > 100 * size, `after it, the merge holds up to its budget (${byCpu.stats.maxHeldBytes})`);
  // Every packet is there once: the same blocks, in another order.
  const blocks = (b: Buffer) => {
    const out: string[] = [];
    for (let o = 0; o < b.length; ) {
      const len = b.readUInt32LE(o + 4);
      if (b.readUInt32LE(o) === 6) out.push(b.subarray(o + 20, o + len).toString('hex'));
      o += len;
    }
    return out.sort();
  };
  assert.deepEqual(blocks(byCpu.bytes), blocks(exact.bytes));
});

test('by CPU: not planned for a circular file, a file that ends inside a buffer, a compressed one, or too many CPUs for the read-ahead', async () => {
  const bytes = scenario({ seed: 7, packets: 400, cpus: 3, bufferSize: 8192 });
  assert.ok(await planOf(bytes));
  // LogFileMode (etl-format.md 1.6) of the logfile header record in the first buffer.
  const circular = bytes.slice();
  const modeAt = WMI_BUFFER_HEADER_SIZE + 0x20 + 0x20;
  const view = new DataView(circular.buffer);
  assert.equal(view.getUint32(modeAt, true), 1, 'the writer\'s LogFileMode');
  view.setUint32(modeAt, 0x3, true);
  assert.equal(await planOf(circular), undefined, 'circular');
  assert.equal(await planOf(bytes.subarray(0, bytes.length - 100)), undefined, 'ends inside a buffer');
  assert.equal(await planOf(scenario({ seed: 7, packets: 400, cpus: 3, bufferSize: 8192, compressed: true })), undefined, 'compressed');
  assert.equal(await planOf(bytes, 3 * 8192 - 1), undefined, 'a buffer per CPU over the limit');
  assert.ok(await planOf(bytes, 3 * 8192), 'at the limit');
  // The circular file still decodes, in file order: the same packets.
  const a = await convert(memorySource(circular));
  const b = await convert(memorySource(bytes));
  assert.equal(a.stats.packets, b.stats.packets);
});

test('by CPU: a buffer that changed after it was planned is skipped with a warning, the rest decoded', async () => {
  const bytes = scenario({ seed: 9, packets: 800, cpus: 3, bufferSize: 8192 });
  const live = bytes.slice();
  const src = memorySource(live);
  const base = await convert(memorySource(bytes));
  // Planned from the sound file, then one buffer's header is overwritten before it is read.
  const sink = memorySink();
  let planned = false;
  const readSync = src.readSync!;
  const changing: ByteSource = {
    ...src,
    readSync(dst, o, len, pos) {
      const n = readSync(dst, o, len, pos);
      if (pos === 5 * 8192) planned = true;
      return n;
    },
    async read(dst, o, len, pos) {
      if (planned) new DataView(live.buffer).setUint32(5 * 8192, 1234, true);
      return src.read(dst, o, len, pos);
    },
  };
  const r = await convertEtlToPcapng(async () => changing, sink, { application: APP });
  assert.equal(r.summary.issues.counts['buffer-header'], 1);
  assert.match(r.summary.issues.samples.find((s) => s.kind === 'buffer-header')!.message, /at offset 40960 changed while the file was read; skipped/);
  assert.ok(r.stats.packets > 0 && r.stats.packets < base.stats.packets, `${r.stats.packets} of ${base.stats.packets}`);
});

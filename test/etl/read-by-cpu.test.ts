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
import { EtlBufferReader, type BufferPlan } from '../../src/etl/buffer-reader.js';
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

/** File offsets of the buffers of one CPU, in file order. */
function buffersOf(plan: BufferPlan, cpu: number): number[] {
  const out: number[] = [];
  plan.streams.forEach((k, i) => { if ((k & 0x7ff) === cpu) out.push(plan.first + i * plan.size); });
  return out;
}

async function planOf(bytes: Uint8Array, maxBytes = 1 << 30) {
  const reader = new EtlBufferReader(memorySource(bytes), new IssueLog());
  await reader.open();
  await reader.next();
  return reader.plan(maxBytes);
}

test('by CPU: the same pcapng and summary (its issues in file order) as file order with room for the whole file, on random files', async () => {
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
        damaged: fc.option(fc.nat(), { nil: undefined }),
      }),
      async (o) => {
        const bytes = scenario({ ...o, minFrame: 60, maxFrame: 1200, ...(o.lost ? { lostEventsCpu: 0 } : {}) });
        // A record that runs past its buffer's end, in one buffer: a warning, the rest of it skipped.
        const buffers = bytes.length / o.bufferSize;
        if (o.damaged !== undefined && buffers > 1) new DataView(bytes.buffer).setUint16((1 + (o.damaged % (buffers - 1))) * o.bufferSize + WMI_BUFFER_HEADER_SIZE, 0xfff0, true);
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

test('by CPU: problems found out of file order are kept in file order', async () => {
  const bytes = scenario({ seed: 12, packets: 4000, cpus: 4, bufferSize: 8192, minFrame: 200, maxFrame: 1000 });
  const plan = (await planOf(bytes))!;
  const v = new DataView(bytes.buffer);
  // Every buffer of CPU 0 flagged EVENTS_LOST; the first record of every buffer of the quiet CPU
  // damaged (read long before their neighbours in the file).
  for (const pos of buffersOf(plan, 0)) v.setUint16(pos + 0x34, v.getUint16(pos + 0x34, true) | 0x2, true);
  for (const pos of buffersOf(plan, 3)) v.setUint16(pos + WMI_BUFFER_HEADER_SIZE, 0xfff0, true);
  const byCpu = await convert(memorySource(bytes));
  const fileOrder = await convert(fileOrderSource(bytes));
  assert.ok(byCpu.summary.issues.counts['events-lost']! > 10 && byCpu.summary.issues.counts.record! > 3);
  assert.deepEqual(byCpu.summary.issues, fileOrder.summary.issues);
  assert.ok(byCpu.bytes.equals(fileOrder.bytes));
});

test('by CPU: a quiet CPU no longer makes the merge hold everything between its buffers', async () => {
  // The sim's last CPU logs 3% of the packets: its buffers are far apart in the file.
  const bytes = scenario({ seed: 3, packets: 6000, cpus: 4, bufferSize: 16384, minFrame: 200, maxFrame: 1500 });
  const progress: number[] = [];
  const sink = memorySink();
  await convertEtlToPcapng(async () => memorySource(bytes), sink, { application: APP, onProgress: (_p, pos) => progress.push(pos) });
  assert.ok(progress.every((p, i) => i === 0 || p > progress[i - 1]!), 'progress goes forward with every buffer');
  assert.equal(progress.at(-1), bytes.length);
  const byCpu = await convert(memorySource(bytes));
  const fileOrder = await convert(fileOrderSource(bytes));
  assert.ok(byCpu.bytes.equals(fileOrder.bytes));
  // A buffer per CPU, the one just read and 1 ms of the others' packets (the slack: about 500 of
  // the sim's packets, 26 of these buffers), each buffer in a 64 kB block of the reader's pool at
  // least: 2.4 MB. In file order: 23 MB.
  assert.ok(byCpu.stats.maxHeldBytes <= 48 * 65536, `held ${byCpu.stats.maxHeldBytes}`);
  assert.ok(fileOrder.stats.maxHeldBytes > 8 * byCpu.stats.maxHeldBytes, `file order held ${fileOrder.stats.maxHeldBytes}`);
});

test('by CPU: a CPU\'s buffer that starts a little before its previous one ends (within 1 ms) is merged in order', async () => {
  const bytes = scenario({ seed: 4, packets: 3000, cpus: 3, bufferSize: 8192, minFrame: 200, maxFrame: 1000 });
  const v = new DataView(bytes.buffer);
  const mine = buffersOf((await planOf(bytes))!, 0);
  // Each buffer's first event (raw time at 0x10 of the record after the buffer header) is given
  // the time of the previous buffer's first event, plus one: older than most of that buffer.
  const at = (pos: number): number => pos + WMI_BUFFER_HEADER_SIZE + 0x10;
  for (let j = mine.length - 1; j > 0; j--) v.setBigInt64(at(mine[j]!), v.getBigInt64(at(mine[j - 1]!), true) + 1n, true);
  const exact = await convert(fileOrderSource(bytes));
  const byCpu = await convert(memorySource(bytes));
  assert.equal(byCpu.stats.lateEvents, 0);
  assert.ok(byCpu.bytes.equals(exact.bytes));
});

test('by CPU: a CPU whose buffers go back further in time loses no event, and the merge then holds more', async () => {
  const bytes = scenario({ seed: 5, packets: 3000, cpus: 2, bufferSize: 8192, minFrame: 200, maxFrame: 1000 });
  const size = 8192;
  const plan = (await planOf(bytes))!;
  // Swap two of CPU 0's buffers 38 apart (some 20,000 ticks, past the first 1 ms of slack).
  const mine = buffersOf(plan, 0);
  const [p, q] = [mine[2]!, mine[40]!];
  const swapped = bytes.slice();
  swapped.set(bytes.subarray(q, q + size), p);
  swapped.set(bytes.subarray(p, p + size), q);
  assert.equal(await planOf(swapped), undefined, 'the SequenceNumbers went back with the buffers: file order');
  // The headers' SequenceNumbers (0x18) put back in file order: nothing there says it.
  const sv = new DataView(swapped.buffer);
  const [sp, sq] = [sv.getBigInt64(p + 0x18, true), sv.getBigInt64(q + 0x18, true)];
  sv.setBigInt64(p + 0x18, sq, true);
  sv.setBigInt64(q + 0x18, sp, true);
  assert.ok(await planOf(swapped));
  const exact = await convert(fileOrderSource(swapped));
  assert.equal(exact.stats.lateEvents, 0, 'room for the whole file: an exact sort');
  const byCpu = await convert(memorySource(swapped));
  assert.equal(byCpu.stats.packets, exact.stats.packets);
  assert.ok(byCpu.stats.lateEvents > 0, 'the events released before the swap was seen are late');
  // The slack grows to twice the step back (from 1 ms to some 4 ms): the merge holds more from there.
  const unswapped = await convert(memorySource(bytes));
  assert.ok(byCpu.stats.maxHeldBytes > 2 * unswapped.stats.maxHeldBytes, `held ${byCpu.stats.maxHeldBytes}, ${unswapped.stats.maxHeldBytes} unswapped`);
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

test('by CPU: a read that fails fails the decode with its error, once, with no read left running', async () => {
  const bytes = scenario({ seed: 6, packets: 3000, cpus: 4, bufferSize: 8192, minFrame: 200, maxFrame: 1000 });
  // The quiet CPU's second buffer: its read is started long before it is awaited.
  const bad = buffersOf((await planOf(bytes))!, 3)[1]!;
  const src = memorySource(bytes);
  let started = 0;
  let settled = 0;
  const failing: ByteSource = {
    ...src,
    async read(dst, o, len, pos) {
      started++;
      try {
        if (pos === bad) throw Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' });
        await new Promise((r) => setTimeout(r, 2));
        return await src.read(dst, o, len, pos);
      } finally {
        settled++;
      }
    },
  };
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown): void => { unhandled.push(e); };
  process.on('unhandledRejection', onUnhandled);
  let running = -1;
  try {
    const failed = convertEtlToPcapng(async () => failing, memorySink(), { application: APP }).finally(() => { running = started - settled; });
    await assert.rejects(failed, /EIO/);
    await new Promise((r) => setTimeout(r, 20));
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
  assert.deepEqual(unhandled, []);
  assert.equal(running, 0, 'every read settled before the decode failed');
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
  // A buffer per CPU, each in a 64 kB block of the reader's pool at least.
  assert.equal(await planOf(bytes, 3 * 65536 - 1), undefined, 'a buffer per CPU over the limit');
  assert.ok(await planOf(bytes, 3 * 65536), 'at the limit');
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

/**
 * Follow mode: a capture read while it is written. The file grows the way ETW with a flush timer
 * grows it (every CPU's buffer at each flush: sim/container-host.ts flushEvery); the stream must
 * hold exactly the packets a decode of the finished file gives, in the same order, and packets
 * must come out before the writer has finished.
 */
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, openSync, closeSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { memorySource } from '../../src/etl/byte-source.js';
import { followFile } from '../../src/etl/follow-source.js';
import { convertEtlToPcapng, PcapngConsumer } from '../../src/pcapng/etl-to-pcapng.js';
import { memorySink } from '../../src/pcapng/file-sink.js';
import { readPcapng } from '../../src/pcapng/pcapng-reader.js';
import { followCapture } from '../../src/providers/decode-capture.js';
import { startFollow } from '../../src/run/follow.js';
import { containerHostCapture } from '../../src/sim/container-host.js';
import { EtlWriter } from '../../src/sim/etl-writer.js';
import { ndisFragment } from '../../src/sim/payloads.js';
import { NDIS_PACKET_CAPTURE } from '../../src/providers/guids.js';
import { NDIS_KW, NDIS_KW_HI } from '../../src/providers/ndiscap.js';

const APP = 'wnvcap-test';
type Packet = ReturnType<typeof readPcapng>['packets'][number];
const view = (p: Packet): string => `${p.timestamp} ${Buffer.from(p.data).toString('hex')} ${p.comments.join(' ')}`;

/** Resolves when `cond` holds, checked every 20 ms; fails after 30 s (a generous bound, never a measure). */
async function until(cond: () => boolean, what: string): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > 30_000) throw new Error(`never happened: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('follow: a file growing flush by flush gives the packets of the finished file, in order, the first ones before the writer ends', async () => {
  const cap = containerHostCapture({ scale: 4, flushEvery: 25 });
  const dir = mkdtempSync(join(tmpdir(), 'wnvcap-follow-'));
  const path = join(dir, 'capture.etl');
  const whole = memorySink();
  await convertEtlToPcapng(async () => memorySource(cap.etl, path), whole, { application: APP });
  const expected = readPcapng(whole.bytes()).packets.map(view);

  const sink = memorySink();
  const source = followFile(path, 20);
  const pcapng = new PcapngConsumer(sink, APP);
  const reading = followCapture(source, [pcapng], { latencyMs: 200 });
  const half = Math.floor(cap.flushedAt.length / 2);
  writeFileSync(path, cap.etl.subarray(0, cap.flushedAt[half - 1]));
  // Packets of the first half come out while the rest is not written yet.
  await until(() => readPcapng(sink.bytes()).packets.length > 0, 'a packet out of the first half');
  const early = readPcapng(sink.bytes()).packets.length;
  assert.ok(early < expected.length, `${early} of ${expected.length} packets before the rest was written`);
  for (let i = half; i < cap.flushedAt.length; i++) appendFileSync(path, cap.etl.subarray(cap.flushedAt[i - 1], cap.flushedAt[i]));
  source.end();
  const r = await reading;
  await pcapng.finish();
  await source.close();
  assert.equal(r.stats.lateEvents, 0);
  assert.deepEqual(readPcapng(sink.bytes()).packets.map(view), expected);
});

test('follow: a preallocated file (zeros ahead of the writer) is waited for, not skipped as unused space', async () => {
  const cap = containerHostCapture({ scale: 2, flushEvery: 25 });
  const dir = mkdtempSync(join(tmpdir(), 'wnvcap-follow-'));
  const path = join(dir, 'capture.etl');
  const first = cap.flushedAt[0]!;
  // The whole file's length at once, zeros after the first flush, as a preallocated ETW file.
  const zeros = new Uint8Array(cap.etl.length);
  zeros.set(cap.etl.subarray(0, first));
  writeFileSync(path, zeros);
  const sink = memorySink();
  const source = followFile(path, 20);
  const pcapng = new PcapngConsumer(sink, APP);
  const reading = followCapture(source, [pcapng], { latencyMs: 100 });
  await until(() => readPcapng(sink.bytes()).packets.length > 0, 'the first flush\'s packets');
  const fd = openSync(path, 'r+');
  writeSync(fd, cap.etl, first, cap.etl.length - first, first);
  closeSync(fd);
  source.end();
  const r = await reading;
  await pcapng.finish();
  await source.close();
  const whole = memorySink();
  await convertEtlToPcapng(async () => memorySource(cap.etl, path), whole, { application: APP });
  assert.equal(r.summary.issues.counts['zero-buffer'] ?? 0, 0, JSON.stringify(r.summary.issues));
  assert.deepEqual(readPcapng(sink.bytes()).packets.map(view), readPcapng(whole.bytes()).packets.map(view));
});

test('follow: lost events are said in the stream (the next packet\'s comment) and to the caller as they are found', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wnvcap-follow-'));
  const path = join(dir, 'capture.etl');
  const chunks: Uint8Array[] = [];
  const w = new EtlWriter({ cpus: 1, bufferSize: 4096, osBuild: 20348 }, (c) => chunks.push(c));
  const frame = new Uint8Array(60).fill(0xab);
  const ndis = (ticks: number): void => w.addEvent({
    cpu: 0, ticks, provider: NDIS_PACKET_CAPTURE, id: 1001, keywordLo: (NDIS_KW.ETHERNET | NDIS_KW.START | NDIS_KW.END) >>> 0, keywordHi: NDIS_KW_HI.SEND | 0x600, payload: ndisFragment(6, 6, frame),
  });
  ndis(1000);
  w.flushCpu(0);
  const firstFlush = chunks.length;
  w.markEventsLost(0);
  ndis(2000);
  const header = w.finish();
  chunks[0] = header;
  const warnings: string[] = [];
  const sink = memorySink();
  const live = startFollow(dir, path, { sink, application: APP, warn: (m) => warnings.push(m), latencyMs: 50 });
  writeFileSync(path, Buffer.concat(chunks.slice(0, firstFlush)));
  await until(() => readPcapng(sink.bytes()).packets.length === 1, 'the first packet');
  // The logger lost events before its next buffer: that buffer is flagged.
  appendFileSync(path, Buffer.concat(chunks.slice(firstFlush)));
  const after = await live.finish();
  const packets = readPcapng(sink.bytes()).packets;
  assert.equal(packets.length, 2);
  assert.doesNotMatch(packets[0]!.comments.join(' '), /EVENTS_LOST/);
  assert.match(packets[1]!.comments.join(' '), /wnvcap: buffer at offset \d+ \(CPU 0\) is flagged EVENTS_LOST/);
  assert.ok(warnings.some((m) => /EVENTS_LOST/.test(m)), warnings.join('\n'));
  assert.ok(warnings.some((m) => /snapshot\.json/.test(m)), 'no snapshot: said, and every packet kept');
  assert.deepEqual(after, []);
});

test('follow: a capture file that never appears ends the stream with a warning, not a hang', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wnvcap-follow-'));
  const live = startFollow(dir, join(dir, 'never.etl'), { sink: memorySink(), application: APP, warn: () => undefined, latencyMs: 50 });
  const warnings = await live.finish();
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /follow stopped: .*never\.etl is empty/);
});

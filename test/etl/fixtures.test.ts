/**
 * Every real ETL fixture (written by Windows) against the independent reference decode in
 * ../shared/fixtures/etl/reference (airbus etl-parser + Xpress + header fix).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { memorySource } from '../../src/etl/byte-source.js';
import { summarizeEtl } from '../../src/providers/capture-decoder.js';
import { convertBytes, FIXTURES, fixtureNames, readFixture, sha16 } from '../helpers/fixtures.js';

interface RefRun {
  records_by_kind: Record<string, number>;
  event_records_by_provider_event: Array<{ provider: string; event_id: number; version: number; count: number }>;
  classic_trace_records_by_guid: Record<string, number>;
  pktmon: { packet_fields: string[]; packets: Array<Array<number | string>>; packet_events_with_payload_160_170: number };
  timestamps: { first_filetime: number | null; last_filetime: number | null; first_iso: string | null; last_iso: string | null };
}
interface Ref {
  primary: 'raw' | 'decompressed';
  raw: RefRun;
  decompressed?: RefRun;
  header_own_parse: Record<string, number | string | boolean>;
  buffers: { count: number; compressed: number; processors: number[] };
}

function loadRef(name: string): { ref: Ref; run: RefRun; first: bigint | null; last: bigint | null } {
  const text = readFileSync(join(FIXTURES, 'reference', `${name}.json`), 'utf8');
  const ref = JSON.parse(text) as Ref;
  const run = ref.primary === 'raw' ? ref.raw : ref.decompressed!;
  // FILETIMEs exceed 2^53: take their exact digits from the text (raw run first, then decompressed).
  const exact = (field: string): bigint | null => {
    const all = [...text.matchAll(new RegExp(`"${field}": (\\d+|null)`, 'g'))].map((m) => m[1]!);
    const v = ref.primary === 'raw' ? all[0] : all[all.length - 1];
    return v === undefined || v === 'null' ? null : BigInt(v);
  };
  return { ref, run, first: exact('first_filetime'), last: exact('last_filetime') };
}

/** ISO with 7 fractional digits -> FILETIME (BigInt). */
function isoToFiletime(iso: string): bigint {
  const m = /^(.*)\.(\d{7})Z$/.exec(iso);
  assert.ok(m, iso);
  const ms = BigInt(Date.parse(`${m[1]}Z`));
  return ms * 10000n + BigInt(m[2]!) + 116444736000000000n;
}

for (const name of fixtureNames()) {
  test(`fixture ${name}: counts, header and times equal the reference`, async () => {
    const { ref, run, first, last } = loadRef(name);
    const bytes = readFixture(name);
    const { summary } = await summarizeEtl(async () => memorySource(bytes, name));
    // Header (the reference's own parse, with the 64-bit padding handled).
    const h = ref.header_own_parse;
    assert.equal(summary.header.osBuild, h['ProviderVersion']);
    assert.equal(summary.header.pointerSize, h['PointerSize']);
    assert.equal(summary.header.clockType, h['ReservedFlags']);
    assert.equal(summary.header.perfFreq, String(h['PerfFreq']));
    assert.equal(summary.header.loggerName, h['SessionName']);
    assert.equal(summary.header.logFileName, h['LogFileName']);
    assert.equal(summary.header.bufferSize, h['BufferSize']);
    assert.equal(summary.lost.eventsLost, h['EventsLost']);
    assert.equal(summary.header.startTime.slice(0, 26), String(h['StartTime_iso']).slice(0, 26));
    assert.equal(summary.buffers.count, ref.buffers.count);
    assert.equal(summary.buffers.compressed, ref.buffers.compressed);
    assert.deepEqual(summary.buffers.cpus, ref.buffers.processors);
    // A real file decodes without issues; a header that reports lost events is said so.
    assert.deepEqual(summary.issues.counts, Number(h['EventsLost']) > 0 ? { 'events-lost': 1 } : {});
    // Events per provider / id / version.
    const ours = summary.providers.flatMap((p) => p.byEvent.map((e) => `${p.guid}/${e.id}/v${e.version}=${e.count}`)).sort();
    const theirs = run.event_records_by_provider_event.map((e) => `${e.provider}/${e.event_id}/v${e.version}=${e.count}`).sort();
    assert.deepEqual(ours, theirs);
    assert.deepEqual(Object.fromEntries(summary.classicGuids.map((c) => [c.guid, c.count])), run.classic_trace_records_by_guid);
    assert.equal(summary.records.byKind['EventRecord'] ?? 0, run.records_by_kind['EventRecord'] ?? 0);
    assert.equal(summary.records.byKind['TraceRecord'] ?? 0, run.records_by_kind['TraceRecord'] ?? 0);
    // System/perfinfo records: the reference stops the header buffer at SavedOffset (0x04); we read
    // to Offset (0x30) as etl-format.md 1.3 says, so we see at least as many.
    assert.ok((summary.records.byKind['SystemTraceRecord'] ?? 0) >= (run.records_by_kind['SystemTraceRecord'] ?? 0));
    // Packets and drops.
    const rows = run.pktmon.packets;
    assert.equal(summary.packets.pktmon, run.pktmon.packet_events_with_payload_160_170);
    assert.equal(summary.packets.drops, rows.filter((r) => r[0] === 170).length);
    assert.equal(summary.packets.ndis, 0);
    // First/last event time, exact to 100 ns.
    if (first !== null && last !== null) {
      assert.equal(isoToFiletime(summary.time.firstEvent!), first);
      assert.equal(isoToFiletime(summary.time.lastEvent!), last);
      assert.equal(summary.time.firstEvent!.slice(0, 26), run.timestamps.first_iso!.slice(0, 26));
    } else assert.equal(summary.time.firstEvent, null);
  });

  test(`fixture ${name}: pcapng packets equal the reference (payload hashes, sizes, directions)`, async () => {
    const { run } = loadRef(name);
    const { pcapng, stats } = await convertBytes(readFixture(name));
    const rows = run.pktmon.packets;
    const f = run.pktmon.packet_fields;
    const col = (n: string): number => f.indexOf(n);
    assert.equal(pcapng.packets.length, rows.length);
    assert.equal(stats.drops, rows.filter((r) => r[0] === 170).length);
    const ours = pcapng.packets.map((p) => sha16(p.data)).sort();
    const theirs = rows.map((r) => String(r[col('payload_sha256_first16hex')])).sort();
    assert.deepEqual(ours, theirs);
    // Per-packet fields by payload hash + logged size: original length and direction.
    const key = (h: string, len: number, orig: number, dir: number): string => `${h}/${len}/${orig}/${dir}`;
    const ourKeys = pcapng.packets.map((p) => key(sha16(p.data), p.capturedLength, p.originalLength, p.flags ?? 0)).sort();
    const refKeys = rows.map((r) => key(String(r[col('payload_sha256_first16hex')]), Number(r[col('logged_size')]),
      Math.max(Number(r[col('original_size')]), Number(r[col('logged_size')])), r[col('dir_tag')] === 3 ? 1 : 2)).sort();
    assert.deepEqual(ourKeys, refKeys);
    // Time order in the output.
    for (let i = 1; i < pcapng.packets.length; i++) assert.ok(pcapng.packets[i]!.timestamp >= pcapng.packets[i - 1]!.timestamp);
  });
}

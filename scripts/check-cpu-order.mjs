#!/usr/bin/env node
// Checks on a real capture that reading by CPU (src/etl/etl-reader.ts readByCpu) gives what reading
// in file order with room for the whole file gives: the same pcapng, no late events. Run by the
// Windows workflow on the capture it makes (a real ETW file); needs `npm run build` first.
// Usage: node scripts/check-cpu-order.mjs <capture.etl>
import { readFileSync } from 'node:fs';
import { EtlBufferReader } from '../dist/etl/buffer-reader.js';
import { memorySource } from '../dist/etl/byte-source.js';
import { IssueLog } from '../dist/etl/issues.js';
import { convertEtlToPcapng } from '../dist/pcapng/etl-to-pcapng.js';
import { memorySink } from '../dist/pcapng/file-sink.js';

const path = process.argv[2];
if (!path) {
  console.error('usage: node scripts/check-cpu-order.mjs <capture.etl>');
  process.exit(2);
}
const bytes = new Uint8Array(readFileSync(path));
// Room for the whole file (however the reader's pool rounds its buffers): file order is then an exact sort.
const budget = 2 ** 50;

const reader = new EtlBufferReader(memorySource(bytes), new IssueLog());
await reader.open();
await reader.next();
const plan = reader.plan(budget / 2);
if (!plan) {
  console.log(`${path}: not read by CPU (compressed, circular, cut, or SequenceNumbers out of order): nothing to compare`);
  process.exit(0);
}
const streams = new Set(plan.streams).size;

async function decode(src) {
  const sink = memorySink();
  const r = await convertEtlToPcapng(async () => src, sink, { application: 'wnvcap check', budgetBytes: budget });
  return { bytes: Buffer.from(sink.bytes()), stats: r.stats };
}
const { readSync: _r, ...fileOrderSource } = memorySource(bytes);
const byCpu = await decode(memorySource(bytes));
const fileOrder = await decode(fileOrderSource);
console.log(`${path}: ${plan.count} buffers on ${streams} CPUs; ${byCpu.stats.packets} packets; late events by CPU ${byCpu.stats.lateEvents}, in file order ${fileOrder.stats.lateEvents}`);
if (!byCpu.bytes.equals(fileOrder.bytes) || byCpu.stats.lateEvents !== 0) {
  console.error('reading by CPU differs from reading in file order on this capture');
  process.exit(1);
}
console.log('reading by CPU gives the same pcapng as reading in file order');

/** Our pcapng of the demikernel PktMon capture against the pcapng Windows' `pktmon etl2pcap` made. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readPcapng } from '../../src/pcapng/pcapng-reader.js';
import { convertBytes, FIXTURES, NEEDS_SHARED, readFixture } from '../helpers/fixtures.js';

test('demikernel: packet by packet equal to the Windows-made pcapng (payload and µs timestamp)', NEEDS_SHARED, async () => {
  const win = readPcapng(new Uint8Array(readFileSync(join(FIXTURES, 'pktmon-ws2022-icmp-demikernel.windows-etl2pcap.pcapng'))));
  const ours = (await convertBytes(readFixture('pktmon-ws2022-icmp-demikernel.etl'))).pcapng;
  assert.equal(win.application, 'Packet Monitor');
  assert.equal(ours.packets.length, win.packets.length);
  assert.equal(ours.packets.length, 114);
  for (let i = 0; i < win.packets.length; i++) {
    const a = win.packets[i]!;
    const b = ours.packets[i]!;
    assert.equal(b.micros, a.micros, `packet ${i} timestamp`);
    assert.deepEqual(b.data, a.data, `packet ${i} payload`);
    assert.equal(b.originalLength, a.originalLength, `packet ${i} original length`);
  }
  // What we add over Windows' file: named interfaces, 100 ns times, direction, comments.
  assert.ok(ours.interfaces.length >= 4);
  assert.ok(ours.interfaces.every((i) => i.unitsPerSecond === 10000000n));
  assert.match(ours.interfaces[0]!.description, /PktMon component \d+/);
  assert.ok(ours.packets.every((p) => p.flags === 1 || p.flags === 2));
  assert.match(ours.packets[0]!.comments[0]!, /^component=59 netvsc\.sys edge=Upper Rx/);
});

test('decode is deterministic: same input, same bytes', NEEDS_SHARED, async () => {
  const a = await convertBytes(readFixture('pktmon-win11-26200-mdns-triton.etl'));
  const b = await convertBytes(readFixture('pktmon-win11-26200-mdns-triton.etl'));
  assert.deepEqual(a.raw, b.raw);
});

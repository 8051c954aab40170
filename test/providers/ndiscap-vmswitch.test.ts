/**
 * 1003 vSwitch events, one after another through one decoder: the decoder reuses a port's
 * strings while its events repeat their bytes, so a port whose strings change (a port id reused,
 * a string cut short, a string growing into the destinations) must still give each event its own.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { EtlRecord } from '../../src/etl/record.js';
import { NDIS_EVENT, NDIS_KW, NdisDecoder } from '../../src/providers/ndiscap.js';
import { PacketRecord } from '../../src/providers/packet-record.js';
import { ndisVmSwitchFragment } from '../../src/sim/payloads.js';

const event = fc.record({
  portId: fc.constantFrom(16, 17),
  portName: fc.constantFrom('8F4B9C1E', '8F4B9C1', 'Pört', ''),
  nicName: fc.constantFrom('Container NIC 1', 'NIC', 'NIC 1'),
  nicType: fc.constantFrom('Synthetic', 'Emulated'),
  destinations: fc.integer({ min: 0, max: 2 }),
  vlanId: fc.constantFrom(0, 42),
  hashValue: fc.nat(),
  frame: fc.uint8Array({ minLength: 14, maxLength: 80 }),
  at: fc.integer({ min: 0, max: 7 }),
});

test('NdisDecoder: each 1003 event gives its own port strings, VLAN, hash and frame', () => {
  fc.assert(fc.property(fc.array(event, { minLength: 1, maxLength: 40 }), (events) => {
    const ndis = new NdisDecoder();
    const rec = new EtlRecord();
    const out = new PacketRecord();
    for (const e of events) {
      const payload = ndisVmSwitchFragment(9, 17, e, e.frame, 8);
      // The payload at some offset of a larger buffer, as in an ETL buffer.
      const data = new Uint8Array(e.at + payload.length + 16).fill(0xee);
      data.set(payload, e.at);
      Object.assign(rec, {
        data, view: new DataView(data.buffer), eventId: NDIS_EVENT.VMSWITCH_FRAGMENT, userOffset: e.at, userLength: payload.length, pointerSize: 8,
        keywordLo: (NDIS_KW.ETHERNET | NDIS_KW.VMSWITCH | NDIS_KW.START | NDIS_KW.END) >>> 0, keywordHi: 1, cpu: 0, ticks: 0,
      });
      assert.ok(ndis.decode(rec, out));
      const { portId, portName, nicName, nicType, destinations, vlanId, hashValue } = e;
      assert.deepEqual(out.vmswitch, { portId, portName, nicName, nicType, destinationCount: destinations, vlanId, hashValue });
      assert.deepEqual([...out.data], [...e.frame]);
    }
  }), { numRuns: 300 });
});

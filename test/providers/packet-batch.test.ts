/**
 * Packets across the thread boundary: every field of PacketRecord (found by enumerating a new
 * record, so a field added later and not carried fails here), the frame bytes, the rare object
 * values and the interfaces, in order, through one batch.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { CaptureInterface } from '../../src/providers/interfaces.js';
import { BatchWriter, readBatch } from '../../src/providers/packet-batch.js';
import { PacketRecord } from '../../src/providers/packet-record.js';

type Fields = Record<string, unknown>;
const KEYS = Object.keys(new PacketRecord());

/** A value for each field, of the type its default has: any u32, any tick count, text, a vSwitch record. */
function fieldArb(key: string, def: unknown): fc.Arbitrary<unknown> {
  if (key === 'data') return fc.uint8Array({ maxLength: 1600 });
  if (key === 'ticks') return fc.oneof(fc.integer({ min: -(2 ** 40), max: 2 ** 52 }), fc.double({ noNaN: true, noDefaultInfinity: true }));
  if (key === 'vmswitch') {
    // Strings often shared between packets (one port's), in other combinations too: each batch keeps each set once.
    const text = fc.oneof(fc.string(), fc.constantFrom('', 'port-A', 'NIC 1'));
    const vm = fc.record({ portId: fc.nat(), portName: text, nicName: text, nicType: text, destinationCount: fc.nat(), vlanId: fc.nat(4095), hashValue: fc.nat({ max: 0xffffffff }) });
    return fc.option(vm, { nil: null });
  }
  if (typeof def === 'boolean') return fc.boolean();
  if (typeof def === 'string') return fc.oneof(fc.constant(''), fc.string());
  if (typeof def === 'number') return fc.oneof(fc.constant(0), fc.nat({ max: 0xffffffff }));
  throw new Error(`packet-batch.test: no generator for PacketRecord.${key} (${typeof def}): add one`);
}

const packetArb = fc.record(Object.fromEntries(KEYS.map((k) => [k, fieldArb(k, (new PacketRecord() as unknown as Fields)[k])]))) as fc.Arbitrary<Fields>;

/** The record's fields; its frame is `frame` (readBatch leaves p.data empty and says where the frame is). */
function snapshot(p: PacketRecord, frame = p.data): Fields {
  const o: Fields = { ...p };
  o['data'] = [...frame];
  o['vmswitch'] = p.vmswitch ? { ...p.vmswitch } : null; // values compared, not prototypes
  return o;
}

function iface(id: number): CaptureInterface {
  return { id, source: 1, linkType: 1, name: `if${id}`, description: '', ipv4: [`10.0.0.${id}`], ipv6: [], packets: 0, bytes: 0 };
}

test('packet batch: every PacketRecord field, the bytes and the interfaces come back in order', () => {
  fc.assert(fc.property(fc.array(fc.tuple(packetArb, fc.boolean()), { minLength: 1, maxLength: 60 }), (input) => {
    const w = new BatchWriter();
    const sent: Fields[] = [];
    const events: string[] = [];
    input.forEach(([fields, newIface], k) => {
      if (newIface) {
        w.addInterface(iface(k));
        events.push(`if${k}`);
      }
      const p = Object.assign(new PacketRecord(), fields, { data: fields['data'] as Uint8Array });
      assert.ok(w.fits(p.data.length));
      w.add(p);
      sent.push(snapshot(p));
      events.push(`p${sent.length - 1}`);
    });
    const batch = w.take(new ArrayBuffer(1 << 20));
    const got: Fields[] = [];
    const seen: string[] = [];
    readBatch(batch, new PacketRecord(), (i) => seen.push(`if${i.id}`), (p, bytes, start, end) => {
      assert.equal(p.data.length, 0, 'no view is made per packet');
      got.push(snapshot(p, bytes.subarray(start, end)));
      seen.push(`p${got.length - 1}`);
    });
    assert.deepEqual(got, sent);
    assert.deepEqual(seen, events);
    assert.ok(w.isEmpty, 'take() starts a new batch');
  }), { numRuns: 200 });
});

test('packet batch: an interface made after the last packet that fitted goes out with that batch', () => {
  const w = new BatchWriter();
  const p = new PacketRecord();
  p.data = new Uint8Array(60_000);
  let n = 0;
  while (w.fits(p.data.length)) { w.add(p); n++; }
  w.addInterface(iface(7));
  const seen: string[] = [];
  readBatch(w.take(new ArrayBuffer(1 << 20)), new PacketRecord(), (i) => seen.push(`if${i.id}`), () => seen.push('p'));
  assert.equal(seen.length, n + 1);
  assert.equal(seen.at(-1), 'if7');
});

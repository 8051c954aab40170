/**
 * The flow table's recent-flows cache and the path tracker's packet hash, on packets made by the
 * simulator's frame builder and dissected as in a report.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FlowTable } from '../../src/analysis/flows.js';
import { PathTracker } from '../../src/analysis/paths.js';
import { dissect } from '../../src/packets/dissect.js';
import { Dissection } from '../../src/packets/dissection.js';
import { PacketRecord } from '../../src/providers/packet-record.js';
import { ipv4Frame, ipv6Frame, TCP_FLAG } from '../../src/sim/frames.js';
import { LINKTYPE } from '../../src/util/link-type.js';

const MAC_A = '00:15:5d:01:02:03';
const MAC_B = '00:15:5d:0a:0b:0c';

test('flows: packets alike but for protocol or virtual network are different flows, whatever the VNI a snapshot gives (the recent-flows cache compares each)', () => {
  const t = new FlowTable();
  const tcp = dissect(ipv4Frame(MAC_A, MAC_B, '10.0.0.2', '10.0.0.3', { protocol: 'tcp', srcPort: 5000, dstPort: 5000, seq: 1, ack: 0, flags: TCP_FLAG.SYN }), LINKTYPE.ETHERNET, new Dissection());
  const big = 11 * 2 ** 26 - 1; // once packed with the protocol into one number, it equalled UDP's with no VNI
  const f1 = t.add(tcp, 1, 60, 0, undefined, false, big);
  const udp = dissect(ipv4Frame(MAC_A, MAC_B, '10.0.0.2', '10.0.0.3', { protocol: 'udp', srcPort: 5000, dstPort: 5000 }), LINKTYPE.ETHERNET, new Dissection());
  const f2 = t.add(udp, 2, 60, 0, undefined, false, -1);
  const f3 = t.add(udp, 3, 60, 0, undefined, false, 7);
  const again = t.add(dissect(ipv4Frame(MAC_A, MAC_B, '10.0.0.2', '10.0.0.3', { protocol: 'tcp', srcPort: 5000, dstPort: 5000, seq: 1, ack: 0, flags: TCP_FLAG.SYN }), LINKTYPE.ETHERNET, new Dissection()), 4, 60, 0, undefined, false, big);
  assert.deepEqual([f1!.protocol, f2!.protocol, f3!.protocol], ['TCP', 'UDP', 'UDP']);
  assert.equal(new Set([f1, f2, f3]).size, 3);
  assert.equal(again, f1);
  assert.equal(t.flows.size, 3);
});

test('paths: an IPv6 packet seen as raw IP and behind Ethernet is one packet at two places; the hop limit does not matter, the payload does', () => {
  const paths = new PathTracker();
  const add = (frame: Uint8Array, link: typeof LINKTYPE.ETHERNET | typeof LINKTYPE.RAW, iface: number, ticks: number): void => {
    const p = new PacketRecord();
    p.data = frame;
    p.linkType = link;
    p.interfaceId = iface;
    p.ticks = ticks;
    paths.add(p, dissect(frame, link, new Dissection()), 0, frame, frame.length);
  };
  const udp = { protocol: 'udp' as const, srcPort: 53000, dstPort: 53, payload: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]) };
  const eth = ipv6Frame(MAC_A, MAC_B, 'fd00::2', 'fd00::3', udp);
  const raw = ipv6Frame(MAC_A, MAC_B, 'fd00::2', 'fd00::3', udp).subarray(14);
  raw[7] = 63; // one hop later
  add(eth, LINKTYPE.ETHERNET, 1, 100);
  add(raw, LINKTYPE.RAW, 2, 110);
  const other = ipv6Frame(MAC_A, MAC_B, 'fd00::2', 'fd00::3', { ...udp, payload: new Uint8Array([9, 9, 9, 9, 9, 9, 9, 9]) }).subarray(14);
  add(other, LINKTYPE.RAW, 2, 120);
  paths.finish();
  assert.equal(paths.multiHopPackets, 1);
  assert.deepEqual([...paths.paths.values()].map((s) => [s.hops.join('>'), s.packets]).sort(), [['1>2', 1], ['2', 1]]);
});

/** Packet layers, one frame per case, built byte by byte with the layer stack in a comment. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dissect } from '../../src/packets/dissect.js';
import { LINKTYPE } from '../../src/util/link-type.js';
import { Dissection, formatMacNumber, OVERLAY, parseMac } from '../../src/packets/dissection.js';
import { ipv4Frame, ipv6Frame, TCP_FLAG } from '../../src/sim/frames.js';

/**
 * dissect() of `f` on its own, checked against dissect() of the same bytes in place inside a larger
 * buffer (other bytes before and after, as the analysis thread dissects frames in their batch): the
 * same fields, offsets counted from the larger buffer's start.
 */
function dissectFrame(f: Uint8Array, linkType: number): Dissection {
  const alone = dissect(f, linkType, new Dissection());
  // Filled with 0x65 (an IPv6 version nibble) and 0x00: a decoder reading outside the frame sees the difference.
  for (const [before, fill] of [[1, 0x65], [7, 0x00], [64, 0x65]] as const) {
    const buf = new Uint8Array(before + f.length + 9).fill(fill);
    buf.set(f, before);
    const inPlace = dissect(buf, linkType, new Dissection(), before, before + f.length);
    const fields = (d: Dissection, shift: number): Record<string, unknown> => {
      const o: Record<string, unknown> = { ...d, srcIp: d.srcIp, dstIp: d.dstIp, ip6Data: d.ip6Data !== null };
      delete o['srcText'];
      delete o['dstText'];
      if (d.ipOffset >= 0) o['ipOffset'] = d.ipOffset - shift;
      if (d.ip6Data) {
        o['ip6Src'] = d.ip6Src - shift;
        o['ip6Dst'] = d.ip6Dst - shift;
      }
      return o;
    };
    assert.deepEqual(fields(inPlace, before), fields(alone, 0), `in place after ${before} bytes`);
  }
  return alone;
}

const hex = (s: string): Uint8Array => new Uint8Array(s.replace(/\s+/g, '').match(/../g)!.map((x) => parseInt(x, 16)));

test('Ethernet[802.1Q[IPv4[TCP SYN with MSS, SACK-permitted, window scale, timestamps]]]', () => {
  const f = ipv4Frame('00:15:5d:01:02:03', '00:15:5d:0a:0b:0c', '10.0.0.1', '10.0.0.2', {
    protocol: 'tcp', srcPort: 49152, dstPort: 443, seq: 0xfffffff0, flags: TCP_FLAG.SYN, window: 64240,
    options: hex('020405b4 0402 080a 00000001 00000000 0103 0307'),
  }, { vlan: 42 });
  const d = dissectFrame(f, LINKTYPE.ETHERNET);
  assert.equal(d.status, 'ok');
  assert.equal(d.vlanId, 42);
  assert.equal(formatMacNumber(d.srcMac), '00:15:5d:01:02:03');
  assert.equal(d.srcIp, '10.0.0.1');
  assert.equal(d.dstPort, 443);
  assert.equal(d.tcpFlags, TCP_FLAG.SYN);
  assert.equal(d.tcpSeq, 0xfffffff0);
  assert.equal(d.tcpMss, 1460);
  assert.equal(d.tcpSackPermitted, true);
  assert.equal(d.tcpTimestamp, 1);
  assert.equal(d.tcpWindowScale, 7);
  assert.equal(d.payloadLength, 0);
});

test('IPv4 total length 0 (large send offload) uses the captured length', () => {
  const f = ipv4Frame('00:00:00:00:00:01', '00:00:00:00:00:02', '1.1.1.1', '2.2.2.2', { protocol: 'tcp', srcPort: 1, dstPort: 2, payload: new Uint8Array(3000) });
  f[16] = 0;
  f[17] = 0;
  const d = dissectFrame(f, LINKTYPE.ETHERNET);
  assert.equal(d.status, 'ok');
  assert.equal(d.ipLength, f.length - 14);
  assert.equal(d.payloadLength, 3000);
});

test('Ethernet[IPv6[hop-by-hop[UDP[DNS query AAAA]]]] and a DNS NXDOMAIN response', () => {
  // DNS: id 0x1234, RD, 1 question "example.com" AAAA
  const q = hex('1234 0100 0001 0000 0000 0000 07 6578616d706c65 03 636f6d 00 001c 0001');
  const f = ipv6Frame('00:00:00:00:00:01', '33:33:00:00:00:01', 'fe80::1', '2001:db8::53', { protocol: 'udp', srcPort: 5000, dstPort: 53, payload: q });
  // Insert an 8-byte hop-by-hop header (next header 17) after the IPv6 header.
  const withExt = new Uint8Array(f.length + 8);
  withExt.set(f.subarray(0, 54));
  withExt.set(hex('1100 0000 0000 0000'), 54);
  withExt.set(f.subarray(54), 62);
  withExt[20] = 0; // next header: hop-by-hop
  const plen = ((f[18]! << 8) | f[19]!) + 8;
  withExt[18] = plen >> 8;
  withExt[19] = plen & 0xff;
  const d = dissectFrame(withExt, LINKTYPE.ETHERNET);
  assert.equal(d.status, 'ok');
  assert.equal(d.ipVersion, 6);
  assert.equal(d.srcIp, 'fe80::1');
  assert.equal(d.dstIp, '2001:db8::53');
  assert.equal(d.ipProtocol, 17);
  assert.equal(d.isDns, true);
  assert.equal(d.dnsId, 0x1234);
  assert.equal(d.dnsQuestionName, 'example.com');
  assert.equal(d.dnsQuestionType, 28);
  // Response with rcode 3 and a compressed answer name pointer.
  const r = hex('1234 8183 0001 0000 0000 0000 07 6578616d706c65 03 636f6d 00 001c 0001');
  const d2 = dissectFrame(ipv4Frame('00:00:00:00:00:02', '00:00:00:00:00:01', '8.8.8.8', '10.0.0.1', { protocol: 'udp', srcPort: 53, dstPort: 5000, payload: r }), LINKTYPE.ETHERNET);
  assert.equal(d2.dnsResponse, true);
  assert.equal(d2.dnsRcode, 3);
});

test('Ethernet[IPv4[UDP 4789[VXLAN VNI 4096[Ethernet[IPv4[ICMP echo]]]]]]', () => {
  const inner = ipv4Frame('00:15:5d:aa:bb:01', '00:15:5d:cc:dd:07', '10.244.1.5', '10.244.2.7', { protocol: 'icmp', srcPort: 8, payload: new Uint8Array(8) });
  const vx = new Uint8Array(8 + inner.length);
  vx.set(hex('08000000 00100000'));
  vx.set(inner, 8);
  const outer = ipv4Frame('00:0d:3a:1b:2c:3d', '12:34:56:78:9a:bc', '10.0.0.4', '10.0.0.5', { protocol: 'udp', srcPort: 40000, dstPort: 4789, payload: vx });
  const d = dissectFrame(outer, LINKTYPE.ETHERNET);
  assert.equal(d.status, 'ok');
  assert.equal(d.overlay, OVERLAY.VXLAN);
  assert.equal(d.virtualNetworkId, 4096);
  assert.equal(d.outerSrcIp, '10.0.0.4');
  assert.equal(d.srcIp, '10.244.1.5');
  assert.equal(formatMacNumber(d.srcMac), '00:15:5d:aa:bb:01');
  assert.equal(d.icmpType, 8);
  assert.equal(d.ipOffset, 14 + 20 + 8 + 8 + 14);
});

test('Ethernet[IPv4[GRE key (NVGRE VSID 5001)[Ethernet[IPv4[UDP]]]]]', () => {
  const inner = ipv4Frame('00:15:5d:00:00:0a', '00:15:5d:00:00:0b', '192.168.0.1', '192.168.0.2', { protocol: 'udp', srcPort: 1000, dstPort: 2000 });
  const gre = new Uint8Array(8 + inner.length);
  gre.set(hex('2000 6558 00138900'));
  gre.set(inner, 8);
  const outer = ipv4Frame('00:00:00:00:00:01', '00:00:00:00:00:02', '10.1.1.1', '10.1.1.2', { protocol: 'udp', srcPort: 1, dstPort: 1 });
  // Replace the outer L4 with GRE (protocol 47).
  const f = new Uint8Array(34 + gre.length);
  f.set(outer.subarray(0, 34));
  f[23] = 47;
  const total = 20 + gre.length;
  f[16] = total >> 8;
  f[17] = total & 0xff;
  f.set(gre, 34);
  const d = dissectFrame(f, LINKTYPE.ETHERNET);
  assert.equal(d.status, 'ok');
  assert.equal(d.overlay, OVERLAY.NVGRE);
  assert.equal(d.virtualNetworkId, 5001);
  assert.equal(d.srcIp, '192.168.0.1');
  assert.equal(d.dstPort, 2000);
});

test('ARP request, raw IP (PktMon PacketType 3), 802.11 QoS data to IP', () => {
  const arp = hex('ffffffffffff 00155d010203 0806 0001 0800 06 04 0001 00155d010203 0a000001 000000000000 0a000002');
  const a = dissectFrame(arp, LINKTYPE.ETHERNET);
  assert.equal(a.arpOp, 1);
  assert.equal(a.arpSenderIp, '10.0.0.1');
  assert.equal(a.arpTargetIp, '10.0.0.2');
  const ip = ipv4Frame('00:00:00:00:00:01', '00:00:00:00:00:02', '10.9.1.14', '10.9.1.22', { protocol: 'udp', srcPort: 5, dstPort: 6 }).subarray(14);
  const r = dissectFrame(ip, LINKTYPE.RAW);
  assert.equal(r.srcIp, '10.9.1.14');
  assert.equal(r.dstPort, 6);
  // 802.11 QoS data, ToDS, addr1 BSSID, addr2 SA, addr3 DA; QoS control; LLC/SNAP IPv4.
  const wifi = new Uint8Array([...hex('8801 0000 aabbccddeeff 00155d010203 112233445566 0000 0000 aaaa03000000 0800'), ...ip]);
  const w = dissectFrame(wifi, LINKTYPE.IEEE802_11);
  assert.equal(w.status, 'ok');
  assert.equal(formatMacNumber(w.srcMac), '00:15:5d:01:02:03');
  assert.equal(formatMacNumber(w.dstMac), '11:22:33:44:55:66');
  assert.equal(w.srcIp, '10.9.1.14');
});

test('truncated and malformed frames return a status, never throw', () => {
  const f = ipv4Frame('00:00:00:00:00:01', '00:00:00:00:00:02', '1.2.3.4', '5.6.7.8', { protocol: 'tcp', srcPort: 1, dstPort: 2, payload: new Uint8Array(40) });
  for (let n = 0; n < f.length; n++) {
    const d = dissectFrame(f.subarray(0, n), LINKTYPE.ETHERNET);
    assert.ok(['ok', 'truncated', 'malformed', 'unsupported'].includes(d.status));
    if (n < 14) assert.equal(d.status, 'truncated');
  }
  const bad = f.slice();
  bad[14] = 0x41; // IHL 4 bytes
  assert.equal(dissectFrame(bad, LINKTYPE.ETHERNET).status, 'malformed');
  assert.equal(parseMac('00-15-5D-2A-7C-11'), parseMac('00155d2a7c11'));
  assert.equal(parseMac('nope'), -1);
});

/**
 * A simulated Windows container host: its inventory (a wnvcap.snapshot/1 document in the shapes
 * Windows PowerShell 5.1 or PowerShell 7 emit) and a capture of its traffic written by our ETL
 * writer, with the ground truth the report must find. Everything here is synthetic.
 *
 * Compartments: 1 host (Ethernet ifIndex 6, vEthernet (nat) 12); 2 "web" and 3 "api" on the
 * Docker nat network; 4 "db" and 5 "cache" on two overlay networks (VSID 4096 / 4097) that reuse
 * the subnet 10.244.1.0/24 and even the address 10.244.1.5 (only the MAC tells them apart).
 * Traffic: web -> api TCP with retransmissions (seen at both vNICs), api -> an external server
 * reset, DNS from web (one NXDOMAIN), db and cache over VXLAN on the host NIC (db also at its
 * vNIC), a SYN nobody answers, and PktMon drops at api's vSwitch port.
 */
import { NDIS_PACKET_CAPTURE, PKTMON } from '../providers/guids.js';
import { NDIS_KW, NDIS_KW_HI } from '../providers/ndiscap.js';
import { SNAPSHOT_SCHEMA, type Snapshot } from '../topology/snapshot.js';
import { concatBytes } from '../util/bytes.js';
import { EtlWriter } from './etl-writer.js';
import { ipv4Frame, TCP_FLAG, type L4 } from './frames.js';
import { ndisFragment, pktmonComponent, pktmonPacket, pktmonPropUint } from './payloads.js';

export interface ContainerHostTruth {
  /** Appearances (pcapng packets) per compartment. */
  compartments: Record<number, { packets: number; bytes: number }>;
  /** Flows by "proto|a:port|b:port|vni" (sorted ends), counting every appearance. */
  flows: Record<string, { packets: number; bytes: number }>;
  packets: number;
  retransmissions: number;
  resets: number;
  synUnanswered: number;
  dnsQueries: number;
  nxdomain: string[];
  drops: Array<{ reasonCode: number; componentId: number; compartmentId: number; packets: number }>;
  /** Path signatures (interface names joined by '>', '!' when dropped) -> packets. */
  paths: Record<string, number>;
  /** Compartment each overlay flow must be attributed to, by its flow key. */
  overlayFlowCompartments: Record<string, number>;
}

export interface ContainerHostCapture {
  snapshot: Snapshot;
  etl: Uint8Array;
  truth: ContainerHostTruth;
  /** With flushEvery: the file's length after each timed flush (what a reader sees grow). */
  flushedAt: number[];
}

const HOST_MAC = '00:0d:3a:1b:2c:3d';
const GW_MAC = '12:34:56:78:9a:bc';
const NAT_MAC = '00:15:5d:00:00:01';
const C = {
  web: { id: 'f82c3ec1d0fe590d3b5e0a6c9e1f4b7a8c2d5e6f7a8b9c0d1e2f3a4b5c6d7e8f', name: 'web', ip: '172.28.183.201', mac: '00:15:5d:2a:7c:11', ifIndex: 23, comp: 2, ep: '4f8b2c1d-6e3a-4b5c-9d7e-8f9a0b1c2d3e', port: '6b0e1f2a-3c4d-4e5f-8a9b-0c1d2e3f4a5b' },
  api: { id: '3b9d0e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d', name: 'api', ip: '172.28.177.45', mac: '00:15:5d:2a:7c:12', ifIndex: 27, comp: 3, ep: '0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f', port: '7c1f2a3b-4d5e-4f6a-9b0c-1d2e3f4a5b6c' },
  db: { id: '9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d', name: 'db', ip: '10.244.1.5', mac: '00:15:5d:aa:bb:01', ifIndex: 31, comp: 4, ep: '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d', port: '8d2a3b4c-5e6f-4a7b-8c9d-1e2f3a4b5c6d' },
  cache: { id: '5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c', name: 'cache', ip: '10.244.1.5', mac: '00:15:5d:aa:bb:02', ifIndex: 35, comp: 5, ep: '2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e', port: '9e3b4c5d-6f7a-4b8c-9d0e-2f3a4b5c6d7e' },
};
const NAT_NET = '5b12a8ca-ca12-4d94-9216-a2461d4e4077';
const OVL1 = 'a1b2c3d4-0000-4000-8000-000000004096';
const OVL2 = 'a1b2c3d4-0000-4000-8000-000000004097';
const REMOTE_POD = '10.244.2.7';
const REMOTE_HOST = '10.0.0.5';
const REMOTE_MAC = '00:15:5d:cc:dd:07';

type Ps = '5.1' | '7';

/** The inventory, as PowerShell would have returned it (enums numeric on 5.1, names on 7). */
export function containerHostSnapshot(ps: Ps): Snapshot {
  const fam = (v: 4 | 6): number | string => (ps === '5.1' ? (v === 4 ? 2 : 23) : v === 4 ? 'IPv4' : 'IPv6');
  const date = ps === '5.1' ? '/Date(1767225600000)/' : '2026-01-01T00:00:00.0000000Z';
  const ipif = (ifIndex: number, alias: string, comp: number): Record<string, unknown> => ({ InterfaceIndex: ifIndex, InterfaceAlias: alias, AddressFamily: fam(4), CompartmentId: comp, NlMtu: 1500, ConnectionState: ps === '5.1' ? 1 : 'Connected' });
  const addr = (ip: string, ifIndex: number, alias: string, prefix: number): Record<string, unknown> => ({ IPAddress: ip, InterfaceIndex: ifIndex, InterfaceAlias: alias, AddressFamily: fam(4), PrefixLength: prefix, AddressState: ps === '5.1' ? 4 : 'Preferred' });
  const vnic = 'vEthernet (Ethernet)';
  const ep = (c: typeof C.web, net: string, netName: string, type: string, prefix: number): Record<string, unknown> => ({
    ID: c.ep, Name: 'Ethernet', VirtualNetwork: net, VirtualNetworkName: netName, Type: type, IPAddress: c.ip, PrefixLength: prefix,
    MacAddress: c.mac.replace(/:/g, '-').toUpperCase(), State: 3, SharedContainers: [c.id],
    Resources: { Allocators: [{ Tag: 'Endpoint Port', EndpointPortGuid: c.port }] }, StartTime: date,
  });
  return {
    schema: SNAPSHOT_SCHEMA,
    host: 'SIM-CH01',
    osBuild: '20348',
    psEdition: ps === '5.1' ? 'Desktop' : 'Core',
    psVersion: ps === '5.1' ? '5.1.20348.2849' : '7.4.6',
    takenAt: ps === '5.1' ? '/Date(1767225600000)/' : '2026-01-01T00:00:00.000Z',
    simulated: true,
    commands: {
      'Get-NetCompartment': [
        { CompartmentId: 1, CompartmentGuid: '{b1062982-2b18-4b4f-b3d5-a78ddb9cdd49}', CompartmentDescription: 'Default Compartment', CompartmentType: ps === '5.1' ? 1 : 'Native' },
        ...[C.web, C.api, C.db, C.cache].map((c, i) => ({ CompartmentId: c.comp, CompartmentGuid: `{3f0c6d2a-9b61-4a7e-8c0f-5a1d2e7b9c4${i}}`, CompartmentDescription: `Compartment for container ${c.id.slice(0, 12)}` })),
      ],
      'Get-NetIPInterface': [
        ipif(1, 'Loopback Pseudo-Interface 1', 1), ipif(6, 'Ethernet', 1), ipif(12, 'vEthernet (nat)', 1),
        ipif(C.web.ifIndex, vnic, 2), ipif(C.api.ifIndex, vnic, 3), ipif(C.db.ifIndex, vnic, 4), ipif(C.cache.ifIndex, vnic, 5),
      ],
      'Get-NetIPAddress': [
        addr('127.0.0.1', 1, 'Loopback Pseudo-Interface 1', 8), addr('10.0.0.4', 6, 'Ethernet', 24), addr('172.28.176.1', 12, 'vEthernet (nat)', 20),
        addr(C.web.ip, C.web.ifIndex, vnic, 20), addr(C.api.ip, C.api.ifIndex, vnic, 20), addr(C.db.ip, C.db.ifIndex, vnic, 24), addr(C.cache.ip, C.cache.ifIndex, vnic, 24),
      ],
      'Get-NetAdapter': [
        { Name: 'Ethernet', InterfaceIndex: 6, InterfaceDescription: 'Microsoft Hyper-V Network Adapter', MacAddress: HOST_MAC.replace(/:/g, '-').toUpperCase(), Virtual: false, Hidden: false, Status: 'Up' },
        { Name: 'vEthernet (nat)', InterfaceIndex: 12, InterfaceDescription: 'Hyper-V Virtual Ethernet Adapter', MacAddress: NAT_MAC.replace(/:/g, '-').toUpperCase(), Virtual: true, Hidden: false, Status: 'Up' },
      ],
      'Get-HnsNetwork': [
        { ID: NAT_NET, Name: 'nat', Type: 'nat', Subnets: [{ AddressPrefix: '172.28.176.0/20', GatewayAddress: '172.28.176.1' }] },
        { ID: OVL1, Name: 'overlay-blue', Type: 'Overlay', Subnets: [{ AddressPrefix: '10.244.1.0/24', Policies: [{ Type: 'VSID', VSID: 4096 }] }] },
        { ID: OVL2, Name: 'overlay-green', Type: 'Overlay', Subnets: [{ AddressPrefix: '10.244.1.0/24', Policies: [{ Type: 'VSID', VSID: 4097 }] }] },
      ],
      // PowerShell 5.1 hands a single remote endpoint back as an object, not an array: see the 7 form.
      'Get-HnsEndpoint': [
        ep(C.web, NAT_NET, 'nat', 'nat', 20), ep(C.api, NAT_NET, 'nat', 'nat', 20), ep(C.db, OVL1, 'overlay-blue', 'Overlay', 24), ep(C.cache, OVL2, 'overlay-green', 'Overlay', 24),
        { ID: 'ffff0000-1111-4222-8333-444455556666', Name: 'remote', VirtualNetwork: OVL1, Type: 'Overlay', IPAddress: REMOTE_POD, MacAddress: REMOTE_MAC.replace(/:/g, '-'), IsRemoteEndpoint: true, State: 2 },
      ],
      // Schema v1 namespaces on 5.1 (CompartmentId, ResourceList), v2 on 7 (NamespaceId, Resources).
      'Get-HnsNamespace': [C.web, C.api, C.db, C.cache].map((c) => (ps === '5.1'
        ? { ID: `ns-${c.name}`, IsDefault: false, CompartmentId: c.comp, ResourceList: [{ Type: 'Endpoint', Data: { ID: c.ep } }] }
        : { ID: `ns-${c.name}`, NamespaceId: c.comp, Type: 'Host', Resources: [{ Type: 'Container', Data: { ID: c.id } }, { Type: 'Endpoint', Data: { ID: c.ep } }] })),
      'Get-VMNetworkAdapter': null,
      // One switch: 5.1 emits the object itself, 7 was asked for -AsArray.
      'Get-VMSwitch': ps === '5.1' ? { Name: 'nat', Id: '11111111-2222-4333-8444-555566667777', SwitchType: 1 } : [{ Name: 'nat', Id: '11111111-2222-4333-8444-555566667777', SwitchType: 'Internal' }],
      'docker network inspect': [{
        Name: 'nat', Driver: 'nat', IPAM: { Config: [{ Subnet: '172.28.176.0/20', Gateway: '172.28.176.1' }] },
        Containers: {
          [C.web.id]: { Name: 'web', EndpointID: 'baf11fc0', MacAddress: C.web.mac, IPv4Address: `${C.web.ip}/20`, IPv6Address: '' },
          [C.api.id]: { Name: 'api', EndpointID: 'c0ffee00', MacAddress: C.api.mac, IPv4Address: `${C.api.ip}/20`, IPv6Address: '' },
        },
        Options: { 'com.docker.network.windowsshim.hnsid': NAT_NET },
      }, {
        Name: 'overlay-blue', Driver: 'overlay', Containers: { [C.db.id]: { Name: 'db', MacAddress: C.db.mac, IPv4Address: `${C.db.ip}/24` } },
      }, {
        Name: 'overlay-green', Driver: 'overlay', Containers: { [C.cache.id]: { Name: 'cache', MacAddress: C.cache.mac, IPv4Address: `${C.cache.ip}/24` } },
      }],
    },
    warnings: [],
  };
}

function dnsMessage(id: number, name: string, response: boolean, rcode: number, answerIp?: string): Uint8Array {
  const labels = name.split('.').flatMap((l) => [l.length, ...[...l].map((ch) => ch.charCodeAt(0))]);
  const q = [...labels, 0, 0, 1, 0, 1];
  const ans = answerIp ? [0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, ...answerIp.split('.').map(Number)] : [];
  return new Uint8Array([id >> 8, id & 0xff, response ? 0x81 : 0x01, response ? 0x80 | rcode : 0, 0, 1, 0, answerIp ? 1 : 0, 0, 0, 0, 0, ...q, ...ans]);
}

function vxlan(inner: Uint8Array, vni: number, outerSrc: string, outerDst: string, srcMac: string, dstMac: string, srcPort: number): Uint8Array {
  const hdr = new Uint8Array(8 + inner.length);
  hdr[0] = 0x08;
  hdr[4] = (vni >> 16) & 0xff;
  hdr[5] = (vni >> 8) & 0xff;
  hdr[6] = vni & 0xff;
  hdr.set(inner, 8);
  return ipv4Frame(srcMac, dstMac, outerSrc, outerDst, { protocol: 'udp', srcPort, dstPort: 4789, payload: hdr });
}

interface Appearance {
  where: { ndis: number } | { pktmonDrop: number; reason: number };
  /** Outbound from the interface's point of view. */
  send: boolean;
  frame: Uint8Array;
  compartment: number;
}

/**
 * flushEvery: the session has a flush timer (Update-EtwTraceSession -FlushTimer): every CPU's
 * buffer is written after this many packets, as ETW does each time the timer expires, so that the
 * file's buffers come in time slices (follow mode reads them so).
 */
export function containerHostCapture(opts: { ps?: Ps; seed?: number; scale?: number; startTime?: bigint; flushEvery?: number } = {}): ContainerHostCapture {
  const ps = opts.ps ?? '7';
  const scale = opts.scale ?? 1;
  const chunks: Uint8Array[] = [];
  let written = 0;
  const w = new EtlWriter({ cpus: 2, bufferSize: 32768, osBuild: 20348, ...(opts.startTime !== undefined ? { startTime: opts.startTime } : {}), loggerName: 'wnvcap-sim', logFileName: 'C:\\ProgramData\\wnvcap\\runs\\sim\\capture.etl' }, (c) => { chunks.push(c); written += c.length; });
  const truth: ContainerHostTruth = {
    compartments: {}, flows: {}, packets: 0, retransmissions: 0, resets: 0, synUnanswered: 0, dnsQueries: 0, nxdomain: [], drops: [], paths: {}, overlayFlowCompartments: {},
  };
  // The report names each place by the snapshot: the host NIC (alias Ethernet), each container's vNIC, api's vSwitch port (PktMon 70).
  const placeName = new Map<number, string>([[6, 'Ethernet (compartment 1) NIC ifIndex 6'], ...Object.values(C).map((c): [number, string] => [c.ifIndex, `${c.name} (compartment ${c.comp}) vNIC ifIndex ${c.ifIndex}`])]);
  const ifName = (a: Appearance): string => ('ndis' in a.where ? placeName.get(a.where.ndis) ?? `eth:${a.where.ndis}:0` : `api (compartment 3) PktMon vmswitch.sys:${a.where.pktmonDrop}`);
  let t = 10000;
  let cpuTurn = 0;
  const flushedAt: number[] = [];
  const flowKey = (proto: string, s: string, sp: number, d: string, dp: number, vni: number): string => {
    const fwd = s < d || (s === d && sp <= dp);
    return fwd ? `${proto}|${s}:${sp}|${d}:${dp}|${vni}` : `${proto}|${d}:${dp}|${s}:${sp}|${vni}`;
  };
  const dropCounts = new Map<string, { reasonCode: number; componentId: number; compartmentId: number; packets: number }>();
  /** Emits one logical packet at all its appearances, 20 us apart, and books the truth. */
  const packet = (apps: Appearance[], flow: string): void => {
    if (opts.flushEvery && cpuTurn > 0 && cpuTurn % opts.flushEvery === 0) {
      for (let c = 0; c < 2; c++) w.flushCpu(c);
      flushedAt.push(written);
    }
    t += 1000 + (cpuTurn % 7) * 37;
    const cpu = cpuTurn++ % 2;
    apps.forEach((a, k) => {
      const ticks = t + k * 200;
      if ('ndis' in a.where) {
        w.addEvent({
          cpu, ticks, provider: NDIS_PACKET_CAPTURE, id: 1001, processId: 4, threadId: 0x100 + cpu,
          keywordLo: (NDIS_KW.ETHERNET | NDIS_KW.START | NDIS_KW.END) >>> 0, keywordHi: (a.send ? NDIS_KW_HI.SEND : NDIS_KW_HI.RECEIVE) | 0x600,
          payload: ndisFragment(a.where.ndis, a.where.ndis, a.frame),
        });
      } else {
        w.addEvent({
          cpu, ticks, provider: PKTMON, id: 170, keywordLo: 0x10,
          payload: pktmonPacket({ groupId: BigInt(0x200000 + cpuTurn), pktNumber: 1, appearance: 0, dirTag: a.send ? 4 : 3, packetType: 1, componentId: a.where.pktmonDrop,
            edgeId: 0, filterId: 0, dropReason: a.where.reason, dropLocation: 0xe0001234, originalSize: a.frame.length }, a.frame),
        });
        const k2 = `${a.where.reason}|${a.where.pktmonDrop}|${a.compartment}`;
        const e = dropCounts.get(k2) ?? { reasonCode: a.where.reason, componentId: a.where.pktmonDrop, compartmentId: a.compartment, packets: 0 };
        e.packets++;
        dropCounts.set(k2, e);
      }
      const c = (truth.compartments[a.compartment] ??= { packets: 0, bytes: 0 });
      c.packets++;
      c.bytes += a.frame.length;
      const f = (truth.flows[flow] ??= { packets: 0, bytes: 0 });
      f.packets++;
      f.bytes += a.frame.length;
      truth.packets++;
    });
    const sig = apps.map(ifName).join('>') + (apps.some((a) => 'pktmonDrop' in a.where) ? '!' : '');
    truth.paths[sig] = (truth.paths[sig] ?? 0) + 1;
  };
  const frame = (s: typeof C.web | { ip: string; mac: string }, d: { ip: string; mac: string }, l4: L4): Uint8Array => ipv4Frame(s.mac, d.mac, s.ip, d.ip, l4);
  const web = C.web, api = C.api;
  // 1. web -> api:8080: handshake, requests with retransmissions, close. Seen at both vNICs.
  for (let conn = 0; conn < 3 * scale; conn++) {
    const sp = 50000 + conn;
    const fk = flowKey('TCP', web.ip, sp, api.ip, 8080, -1);
    const both = (src: typeof C.web, dst: typeof C.web, l4: L4): void => {
      const f = frame(src, dst, l4);
      const [first, second] = src === web ? [web, api] : [api, web];
      packet([{ where: { ndis: first.ifIndex }, send: true, frame: f, compartment: first.comp }, { where: { ndis: second.ifIndex }, send: false, frame: f, compartment: second.comp }], fk);
    };
    let cs = 1000 * (conn + 1);
    let ss = 900000 * (conn + 1);
    both(web, api, { protocol: 'tcp', srcPort: sp, dstPort: 8080, seq: cs, flags: TCP_FLAG.SYN, options: new Uint8Array([2, 4, 5, 180]) });
    both(api, web, { protocol: 'tcp', srcPort: 8080, dstPort: sp, seq: ss, ack: cs + 1, flags: TCP_FLAG.SYN | TCP_FLAG.ACK, options: new Uint8Array([2, 4, 5, 180]) });
    cs++;
    ss++;
    both(web, api, { protocol: 'tcp', srcPort: sp, dstPort: 8080, seq: cs, ack: ss, flags: TCP_FLAG.ACK });
    for (let i = 0; i < 4; i++) {
      const body = new TextEncoder().encode(`GET /item/${i} HTTP/1.1\r\nHost: api\r\n\r\n`);
      const req: L4 = { protocol: 'tcp', srcPort: sp, dstPort: 8080, seq: cs, ack: ss, flags: TCP_FLAG.ACK | TCP_FLAG.PSH, payload: body };
      both(web, api, req);
      if (i === 2) {
        t += 3000000; // 300 ms later: the retransmission timer fired
        both(web, api, req); // retransmission of the same segment
        truth.retransmissions++;
      }
      cs += body.length;
      const resp = new Uint8Array(300 + i * 100).fill(0x41);
      both(api, web, { protocol: 'tcp', srcPort: 8080, dstPort: sp, seq: ss, ack: cs, flags: TCP_FLAG.ACK | TCP_FLAG.PSH, payload: resp });
      ss += resp.length;
    }
    both(web, api, { protocol: 'tcp', srcPort: sp, dstPort: 8080, seq: cs, ack: ss, flags: TCP_FLAG.ACK | TCP_FLAG.FIN });
    both(api, web, { protocol: 'tcp', srcPort: 8080, dstPort: sp, seq: ss, ack: cs + 1, flags: TCP_FLAG.ACK | TCP_FLAG.FIN });
    both(web, api, { protocol: 'tcp', srcPort: sp, dstPort: 8080, seq: cs + 1, ack: ss + 1, flags: TCP_FLAG.ACK });
  }
  // 2. api -> external 93.184.216.34:443: SYN, SYN-ACK, then the server resets. Seen at api's vNIC.
  {
    const ext = { ip: '93.184.216.34', mac: NAT_MAC };
    const fk = flowKey('TCP', api.ip, 51000, ext.ip, 443, -1);
    const one = (out: boolean, l4: L4): void => {
      packet([{ where: { ndis: api.ifIndex }, send: out, frame: out ? frame(api, ext, l4) : frame(ext, api, l4), compartment: api.comp }], fk);
    };
    one(true, { protocol: 'tcp', srcPort: 51000, dstPort: 443, seq: 1, flags: TCP_FLAG.SYN });
    one(false, { protocol: 'tcp', srcPort: 443, dstPort: 51000, seq: 7000, ack: 2, flags: TCP_FLAG.SYN | TCP_FLAG.ACK });
    one(true, { protocol: 'tcp', srcPort: 51000, dstPort: 443, seq: 2, ack: 7001, flags: TCP_FLAG.ACK });
    one(false, { protocol: 'tcp', srcPort: 443, dstPort: 51000, seq: 7001, ack: 2, flags: TCP_FLAG.RST | TCP_FLAG.ACK });
    truth.resets++;
  }
  // 3. DNS from web to the nat gateway: one answered, one NXDOMAIN.
  {
    const gw = { ip: '172.28.176.1', mac: NAT_MAC };
    const ask = (id: number, name: string, rcode: number, answer?: string): void => {
      const fk = flowKey('UDP', web.ip, 53000 + id, gw.ip, 53, -1);
      packet([{ where: { ndis: web.ifIndex }, send: true, frame: frame(web, gw, { protocol: 'udp', srcPort: 53000 + id, dstPort: 53, payload: dnsMessage(id, name, false, 0) }), compartment: web.comp }], fk);
      packet([{ where: { ndis: web.ifIndex }, send: false, frame: frame(gw, web, { protocol: 'udp', srcPort: 53, dstPort: 53000 + id, payload: dnsMessage(id, name, true, rcode, answer) }), compartment: web.comp }], fk);
      truth.dnsQueries++;
      if (rcode === 3) truth.nxdomain.push(name);
    };
    ask(1, 'api.internal', 0, api.ip);
    ask(2, 'doesnotexist.example', 3);
  }
  // 4. db <-> remote pod over VXLAN 4096: at db's vNIC and (encapsulated) at the host NIC.
  // 5. cache <-> remote pod over VXLAN 4097, same IP as db: only at the host NIC.
  const overlay = (c: typeof C.db, vni: number, port: number, atVnic: boolean): void => {
    const remote = { ip: REMOTE_POD, mac: REMOTE_MAC };
    const fk = flowKey('TCP', c.ip, port, REMOTE_POD, 6379, vni);
    truth.overlayFlowCompartments[fk] = c.comp;
    const seq = [100, 90000];
    for (let i = 0; i < 6 * scale; i++) {
      const out = i % 2 === 0;
      const s0 = seq[out ? 0 : 1]!;
      seq[out ? 0 : 1] = s0 + 50;
      const l4: L4 = { protocol: 'tcp', srcPort: out ? port : 6379, dstPort: out ? 6379 : port, seq: s0, ack: seq[out ? 1 : 0]!, flags: TCP_FLAG.ACK | TCP_FLAG.PSH, payload: new Uint8Array(50).fill(i) };
      const inner = out ? frame(c, remote, l4) : frame(remote, c, l4);
      const outer = out ? vxlan(inner, vni, '10.0.0.4', REMOTE_HOST, HOST_MAC, GW_MAC, 40000 + i) : vxlan(inner, vni, REMOTE_HOST, '10.0.0.4', GW_MAC, HOST_MAC, 40000 + i);
      const vnicApp: Appearance = { where: { ndis: c.ifIndex }, send: out, frame: inner, compartment: c.comp };
      const nicApp: Appearance = { where: { ndis: 6 }, send: out, frame: outer, compartment: c.comp };
      packet(atVnic ? (out ? [vnicApp, nicApp] : [nicApp, vnicApp]) : [nicApp], fk);
    }
  };
  overlay(C.db, 4096, 45000, true);
  overlay(C.cache, 4097, 46000, false);
  // 6. web -> api:9999 SYN that nobody answers (seen leaving web only).
  {
    const fk = flowKey('TCP', web.ip, 52000, api.ip, 9999, -1);
    packet([{ where: { ndis: web.ifIndex }, send: true, frame: frame(web, api, { protocol: 'tcp', srcPort: 52000, dstPort: 9999, seq: 5, flags: TCP_FLAG.SYN }), compartment: web.comp }], fk);
    truth.synUnanswered++;
  }
  // 7. web -> api UDP 7000, dropped by api's vSwitch port (PktMon 170, reason 20).
  for (let i = 0; i < 3 * scale; i++) {
    const fk = flowKey('UDP', web.ip, 54000, api.ip, 7000, -1);
    const f = frame(web, api, { protocol: 'udp', srcPort: 54000, dstPort: 7000, payload: new Uint8Array(20 + i).fill(9) });
    packet([{ where: { ndis: web.ifIndex }, send: true, frame: f, compartment: web.comp }, { where: { pktmonDrop: 70, reason: 20 }, send: false, frame: f, compartment: api.comp }], fk);
  }
  truth.drops = [...dropCounts.values()];
  // PktMon rundown for the component that reported the drops (api's vSwitch port, ifIndex 27).
  t += 5000;
  w.addEvent({ cpu: 0, ticks: t, provider: PKTMON, id: 20, keywordLo: 2, payload: pktmonComponent(70, 5, 'vmswitch.sys', 'api container port') });
  w.addEvent({ cpu: 0, ticks: t + 1, provider: PKTMON, id: 30, keywordLo: 2, payload: pktmonPropUint(70, 1, C.api.ifIndex) });
  const header = w.finish();
  chunks[0] = header;
  const etl = concatBytes(chunks);
  flushedAt.push(etl.length);
  return { snapshot: containerHostSnapshot(ps), etl, truth, flushedAt };
}

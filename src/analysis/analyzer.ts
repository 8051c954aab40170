/**
 * Pure aggregation of decoded packets into the report data (schema wnvcap.report/1): per
 * compartment / interface / container counters over time, flows with TCP and DNS health, drops,
 * packet paths, unattributed traffic and capture health. Packets in, one ReportData out.
 */
import { dissect } from '../packets/dissect.js';
import { Dissection, formatMacNumber } from '../packets/dissection.js';
import { DNS_RCODE } from '../packets/dns.js';
import type { DecodeStats, EtlSummary } from '../providers/capture-decoder.js';
import type { CaptureInterface } from '../providers/interfaces.js';
import { DIRECTION, SOURCE, type PacketRecord } from '../providers/packet-record.js';
import { pktmonDropReasonName } from '../providers/pktmon-tables.js';
import type { PktmonComponent } from '../providers/pktmon.js';
import { compartmentLabel, type Topology } from '../topology/topology.js';
import { Attributor } from './attribution.js';
import { FlowTable, type Flow } from './flows.js';
import { interfaceTitle } from './labels.js';
import { PathTracker } from './paths.js';
import type { ReportData, ReportFlow, TrafficCounts } from './report-data.js';
import type { CaptureFilters } from '../util/filters.js';
import { filetimeToIso } from '../util/time.js';

export interface AnalyzerOptions {
  /** Only this compartment's traffic in flows/paths/drops (counters still cover all). */
  compartment?: number;
  /** Flows listed in full (sorted by bytes); the rest are summarised. */
  topFlows?: number;
  filters?: CaptureFilters;
  application: string;
}

interface Counter extends TrafficCounts {
  protocols: Map<string, number>;
  bins: Map<number, [number, number]>;
}

function counts(c: Counter): TrafficCounts {
  return { packets: c.packets, bytes: c.bytes, packetsIn: c.packetsIn, packetsOut: c.packetsOut, bytesIn: c.bytesIn, bytesOut: c.bytesOut };
}

function counter(): Counter {
  return { packets: 0, bytes: 0, packetsIn: 0, packetsOut: 0, bytesIn: 0, bytesOut: 0, protocols: new Map(), bins: new Map() };
}

function bump(c: Counter, p: PacketRecord, proto: string, sec: number): void {
  const b = p.originalLength;
  c.packets++;
  c.bytes += b;
  if (p.direction === DIRECTION.INBOUND) {
    c.packetsIn++;
    c.bytesIn += b;
  } else if (p.direction === DIRECTION.OUTBOUND) {
    c.packetsOut++;
    c.bytesOut += b;
  }
  c.protocols.set(proto, (c.protocols.get(proto) ?? 0) + 1);
  const bin = c.bins.get(sec);
  if (bin) {
    bin[0]++;
    bin[1] += b;
  } else c.bins.set(sec, [1, b]);
}

function protoLabel(d: Dissection): string {
  if (d.isDns) return 'DNS';
  if (d.ipProtocol === 6) return 'TCP';
  if (d.ipProtocol === 17) return 'UDP';
  if (d.ipProtocol === 1) return 'ICMP';
  if (d.ipProtocol === 58) return 'ICMPv6';
  if (d.arpOp) return 'ARP';
  if (d.ipVersion) return `IP-${d.ipProtocol}`;
  return d.etherType ? `0x${d.etherType.toString(16).padStart(4, '0')}` : 'other';
}

export class Analyzer {
  private readonly d = new Dissection();
  private readonly attributor: Attributor;
  private readonly flows = new FlowTable();
  private readonly paths = new PathTracker();
  private readonly byCompartment = new Map<number, Counter>();
  private readonly byInterface = new Map<number, Counter & { compartmentId: number | undefined }>();
  private readonly byContainer = new Map<string, Counter & { compartmentId: number }>();
  private readonly drops = new Map<string, { reasonCode: number; location: number; componentId: number; compartmentId: number | null; packets: number; bytes: number }>();
  private readonly flowCompartment = new Map<number, number>();
  private startTicks = Number.NaN;
  private packets = 0;
  private bytes = 0;
  private truncated = 0;
  private malformed = 0;
  private overlayPackets = 0;

  /** startTime: the session's StartTime (FILETIME), the zero of packet ticks. */
  constructor(private readonly topo: Topology | undefined, private readonly o: AnalyzerOptions, private readonly startTime: bigint) {
    this.attributor = new Attributor(topo);
  }

  add(p: PacketRecord, iface: CaptureInterface): void {
    this.addFrame(p, iface, p.data, 0, p.data.length);
  }

  /** add() of a packet whose frame is `bytes[start, end)` (p.data is not read). */
  addFrame(p: PacketRecord, iface: CaptureInterface, bytes: Uint8Array, start: number, end: number): void {
    const d = dissect(bytes, p.linkType, this.d, start, end);
    if (Number.isNaN(this.startTicks)) this.startTicks = p.ticks;
    const sec = Math.floor((p.ticks - this.startTicks) / 1e7);
    this.packets++;
    this.bytes += p.originalLength;
    if (p.truncated) this.truncated++;
    if (d.status === 'malformed') this.malformed++;
    if (d.overlay) this.overlayPackets++;
    const a = this.attributor.attribute(p, iface, d);
    const proto = protoLabel(d);
    let ic = this.byInterface.get(iface.id);
    if (!ic) {
      ic = { ...counter(), compartmentId: a?.compartmentId };
      this.byInterface.set(iface.id, ic);
    }
    bump(ic, p, proto, sec);
    if (a) {
      let cc = this.byCompartment.get(a.compartmentId);
      if (!cc) {
        cc = counter();
        this.byCompartment.set(a.compartmentId, cc);
      }
      bump(cc, p, proto, sec);
      if (a.containerName) {
        let ct = this.byContainer.get(a.containerName);
        if (!ct) {
          ct = { ...counter(), compartmentId: a.compartmentId };
          this.byContainer.set(a.containerName, ct);
        }
        bump(ct, p, proto, sec);
      }
    }
    if (this.o.compartment !== undefined && a?.compartmentId !== this.o.compartment) return;
    let vni = -1;
    if (!d.overlay && a?.endpoint && this.topo) {
      const id = a.endpoint.networkId;
      vni = this.topo.networks.find((n) => n.id === id)?.virtualNetworkId ?? -1;
    }
    const f = this.flows.add(d, p.ticks, p.originalLength, iface.id, a?.compartmentId, p.dropped, vni);
    if (f && a && !this.flowCompartment.has(f.id)) this.flowCompartment.set(f.id, a.compartmentId);
    this.paths.add(p, d, f ? f.id : -1, bytes, end);
    if (p.dropped) {
      const k = `${p.dropReason}|${p.dropLocation}|${p.componentId}|${a?.compartmentId ?? ''}`;
      const e = this.drops.get(k) ?? { reasonCode: p.dropReason, location: p.dropLocation, componentId: p.componentId, compartmentId: a?.compartmentId ?? null, packets: 0, bytes: 0 };
      e.packets++;
      e.bytes += p.originalLength;
      this.drops.set(k, e);
    }
  }

  finish(summary: EtlSummary, stats: DecodeStats, components: ReadonlyMap<number, PktmonComponent>): ReportData {
    this.paths.finish();
    const iso = (t: number): string => ticksIso(this.startTime, t);
    const ifaceName = new Map(stats.interfaces.map((i) => [i.id, interfaceTitle(i, this.attributor.interfaceOwner(i))]));
    const topo = this.topo;
    const compIds = new Set<number>([...this.byCompartment.keys(), ...(topo ? topo.compartments.keys() : [])]);
    const timeline = (c: Counter): Array<[number, number, number]> => [...c.bins.entries()].sort((x, y) => x[0] - y[0]).map(([s, [n, b]]) => [s, n, b]);
    const protocols = (c: Counter): Record<string, number> => Object.fromEntries([...c.protocols.entries()].sort((x, y) => y[1] - x[1]));
    const compartments = [...compIds].sort((x, y) => x - y).map((id) => {
      const ci = topo?.compartments.get(id);
      const c = this.byCompartment.get(id) ?? counter();
      return {
        id,
        name: ci ? compartmentLabel(ci) : `compartment ${id}`,
        description: ci?.description ?? '',
        kind: ci?.kind ?? (id === 1 ? 'host' : 'container'),
        interfaces: (ci?.interfaces ?? []).map((ifIndex) => {
          const x = topo?.interfaces.get(ifIndex);
          return { ifIndex, alias: x?.alias ?? '', mac: x?.mac !== undefined ? formatMacNumber(x.mac) : null, addresses: x?.addresses ?? [] };
        }),
        addresses: ci?.addresses ?? [],
        containers: (ci?.containers ?? []).map((x) => ({ id: x.id, name: x.name, ip: x.ip ?? null, mac: x.mac !== undefined ? formatMacNumber(x.mac) : null })),
        endpoints: ci?.endpoints ?? [],
        ...counts(c),
        protocols: protocols(c), timeline: timeline(c),
      };
    });
    const allFlows = [...this.flows.flows.values()];
    const byBytes = allFlows.sort((x, y) => y.bytes - x.bytes || x.id - y.id);
    const top = this.o.topFlows ?? 1000;
    const flowOut = (f: Flow): ReportFlow => {
      const flowPaths = [...(this.paths.flowPaths.get(f.id)?.values() ?? [])];
      const stops = new Map<number, { packets: number; dropped: number }>();
      for (const p of flowPaths) {
        const last = p.hops[p.hops.length - 1]!;
        const e = stops.get(last) ?? { packets: 0, dropped: 0 };
        e.packets += p.packets;
        if (p.dropped) e.dropped += p.packets;
        stops.set(last, e);
      }
      return {
        id: f.id, protocol: f.protocol, a: f.a, b: f.b, virtualNetworkId: f.virtualNetworkId,
        packets: f.packets, bytes: f.bytes, aToB: { packets: f.packetsAtoB, bytes: f.bytesAtoB }, bToA: { packets: f.packetsBtoA, bytes: f.bytesBtoA },
        first: iso(f.firstTicks), last: iso(f.lastTicks), durationSeconds: (f.lastTicks - f.firstTicks) / 1e7,
        compartments: [...f.compartments].sort((x, y) => x - y), interfaces: [...f.interfaces].sort((x, y) => x - y), dropped: f.dropped, tcp: f.tcp,
        path: {
          signatures: flowPaths.sort((x, y) => y.packets - x.packets).slice(0, 5).map((p) => ({
            hops: p.hops.map((h) => ifaceName.get(h) ?? String(h)), dropped: p.dropped, packets: p.packets,
          })),
          stops: [...stops.entries()].sort((x, y) => y[1].packets - x[1].packets).map(([i, e]) => ({ interface: ifaceName.get(i) ?? String(i), packets: e.packets, dropped: e.dropped })),
        },
      };
    };
    const tcpFlows = allFlows.filter((f) => f.tcp);
    const rtts = tcpFlows.map((f) => f.tcp!.handshakeRttMicros).filter((x): x is number => x !== null).sort((x, y) => x - y);
    const dnsDone = this.flows.dns.filter((q) => q.responseTicks !== null).map((q) => (q.responseTicks! - q.queryTicks) / 10).sort((x, y) => x - y);
    const dropsOut = [...this.drops.values()].sort((x, y) => y.packets - x.packets).map((e) => {
      const comp = components.get(e.componentId);
      return {
        reason: pktmonDropReasonName(e.reasonCode), reasonCode: e.reasonCode, location: `0x${e.location.toString(16).padStart(8, '0')}`,
        componentId: e.componentId, component: comp ? `${comp.name} ${comp.description}`.trim() : `component ${e.componentId}`,
        compartmentId: e.compartmentId, packets: e.packets, bytes: e.bytes,
      };
    });
    const unattributed = [...this.attributor.unattributed.entries()].map(([reason, v]) => ({ reason, ...v })).sort((x, y) => y.packets - x.packets);
    const interfaces = stats.interfaces.map((i) => {
      const c = this.byInterface.get(i.id);
      return {
        id: i.id, name: i.name, description: i.description, source: i.source === SOURCE.PKTMON ? 'pktmon' : i.source === SOURCE.NDIS_VMSWITCH ? 'vswitch' : 'ndis',
        ifIndex: i.ifIndex ?? null, componentId: i.componentId ?? null, compartmentId: c?.compartmentId ?? null,
        ...counts(c ?? counter()), protocols: c ? protocols(c) : {}, timeline: c ? timeline(c) : [],
      };
    });
    const warnings: string[] = [...(topo?.warnings ?? [])];
    if (!topo) warnings.push('no host snapshot: packets cannot be attributed to compartments (pass --snapshot or a run folder)');
    if (summary.lost.eventsLost + summary.lost.buffersLost + summary.lost.buffersFlaggedEventsLost + summary.lost.buffersFlaggedBufferLost > 0) {
      warnings.push('the capture lost events: counts are lower bounds');
    }
    if (stats.lateEvents > 0) warnings.push(`${stats.lateEvents} events arrived out of time order`);
    const rc: Record<string, number> = {};
    for (const [code, n] of this.flows.dnsByRcode) rc[DNS_RCODE[code] ?? `RCODE${code}`] = n;
    const pick = <T>(a: T[], q: number): T | null => (a.length ? a[Math.min(a.length - 1, Math.floor(a.length * q))]! : null);
    return {
      schema: 'wnvcap.report/1',
      generatedBy: this.o.application,
      simulated: topo?.simulated === true,
      capture: {
        file: summary.file.name, host: topo?.host ?? null, osBuild: summary.header.osBuild, loggerName: summary.header.loggerName,
        start: summary.time.firstEvent, end: summary.time.lastEvent, durationSeconds: summary.time.durationSeconds,
        packets: this.packets, bytes: this.bytes, interfaces: stats.interfaces.length,
        providers: summary.providers.map((p) => ({ guid: p.guid, name: p.name, events: p.events })),
      },
      health: {
        firstEvent: summary.time.firstEvent, lastEvent: summary.time.lastEvent, durationSeconds: summary.time.durationSeconds,
        eventsLost: summary.lost.eventsLost, buffersLost: summary.lost.buffersLost,
        buffersFlaggedLost: summary.lost.buffersFlaggedEventsLost + summary.lost.buffersFlaggedBufferLost,
        truncatedPackets: this.truncated, malformedPackets: this.malformed + stats.malformed, lateEvents: stats.lateEvents,
        decodeIssues: summary.issues.counts, filters: this.o.filters ?? null, warnings,
        captured: describeCaptured(summary, this.packets, this.truncated),
      },
      compartments,
      containers: [...this.byContainer.entries()].map(([name, c]) => ({
        name, compartmentId: c.compartmentId, ...counts(c),
        protocols: protocols(c), timeline: timeline(c),
      })).sort((x, y) => y.packets - x.packets),
      interfaces,
      flows: byBytes.slice(0, top).map(flowOut),
      flowsTotal: allFlows.length,
      tcp: {
        flows: tcpFlows.length,
        handshakes: rtts.length,
        medianHandshakeRttMicros: pick(rtts, 0.5),
        retransmissions: tcpFlows.reduce((s, f) => s + f.tcp!.retransmissions, 0),
        outOfOrder: tcpFlows.reduce((s, f) => s + f.tcp!.outOfOrder, 0),
        zeroWindows: tcpFlows.reduce((s, f) => s + f.tcp!.zeroWindows, 0),
        resets: tcpFlows.reduce((s, f) => s + f.tcp!.resets, 0),
        synUnanswered: tcpFlows.filter((f) => f.tcp!.synUnanswered).length,
        problemFlows: tcpFlows.filter((f) => { const t = f.tcp!; return t.retransmissions + t.resets + t.zeroWindows + t.outOfOrder > 0 || t.synUnanswered; }).map((f) => f.id),
      },
      dns: {
        queries: this.flows.dnsQueries, responses: this.flows.dnsResponses, unanswered: this.flows.dnsUnanswered, byRcode: rc,
        medianResponseMicros: pick(dnsDone, 0.5),
        failures: this.flows.dns.filter((q) => q.rcode !== null && q.rcode !== 0).slice(0, 200).map((q) => ({
          name: q.name, type: q.type, rcode: DNS_RCODE[q.rcode!] ?? String(q.rcode), client: q.client, server: q.server, compartmentId: q.compartmentId, at: iso(q.queryTicks),
        })),
        unansweredQueries: this.flows.dns.filter((q) => q.responseTicks === null).slice(0, 200).map((q) => ({
          name: q.name, type: q.type, client: q.client, server: q.server, compartmentId: q.compartmentId, at: iso(q.queryTicks),
        })),
      },
      drops: dropsOut,
      paths: {
        multiHopPackets: this.paths.multiHopPackets,
        top: [...this.paths.paths.values()].sort((x, y) => y.packets - x.packets).slice(0, 50).map((s) => ({
          hops: s.hops.map((h) => ifaceName.get(h) ?? String(h)), packets: s.packets, dropped: s.dropped,
          hopLatencyMicros: s.hopLatencyTicks.map((t) => Math.round(t / s.packets / 10)),
        })),
      },
      unattributed: { packets: unattributed.reduce((s, x) => s + x.packets, 0), bytes: unattributed.reduce((s, x) => s + x.bytes, 0), reasons: unattributed },
      totals: { packets: this.packets, bytes: this.bytes, overlayPackets: this.overlayPackets },
    };
  }
}

/** StartTime + ticks as ISO text to 100 ns ('' where the header's time is no date). */
function ticksIso(startTime: bigint, ticks: number): string {
  const iso = filetimeToIso(startTime + BigInt(ticks));
  return iso === 'invalid' ? '' : iso;
}

function describeCaptured(s: EtlSummary, packets: number, truncated: number): string {
  const parts = [`${packets} packets`];
  if (s.packets.ndis) parts.push(`${s.packets.ndis} from NDIS-PacketCapture`);
  if (s.packets.pktmon) parts.push(`${s.packets.pktmon} PktMon events (${s.packets.drops} drops)`);
  parts.push(truncated > 0 ? `${truncated} truncated by the capture` : 'full packets (payloads included: the capture may hold secrets)');
  return parts.join(', ');
}

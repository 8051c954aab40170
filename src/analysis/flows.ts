/**
 * Bidirectional flows (5-tuple; the inner tuple of overlay traffic) with per-direction packet and
 * byte counts (bytes = original frame lengths, as tshark counts them), first/last seen, and TCP
 * health (handshake RTT, retransmissions, out-of-order, zero windows, resets, SYN never answered)
 * and DNS (queries, rcodes, response time, unanswered). TCP and DNS are judged at one vantage
 * point per flow (the first interface that saw it): the same segment seen at several layers of
 * the host is not a retransmission.
 */
import type { Dissection } from '../packets/dissection.js';
import { IP_PROTO } from '../packets/dissect.js';
import { TCP_FLAGS } from '../packets/tcp.js';

export interface Endpoint {
  ip: string;
  port: number;
}

export interface TcpHealth {
  handshakeRttMicros: number | null;
  retransmissions: number;
  outOfOrder: number;
  zeroWindows: number;
  resets: number;
  synUnanswered: boolean;
}

export interface Flow {
  id: number;
  protocol: string;
  a: Endpoint;
  b: Endpoint;
  /** Overlay VNI/VSID for tunnelled flows. */
  virtualNetworkId: number | null;
  packets: number;
  bytes: number;
  packetsAtoB: number;
  bytesAtoB: number;
  packetsBtoA: number;
  bytesBtoA: number;
  firstTicks: number;
  lastTicks: number;
  /** Small sets kept as arrays (a flow has one or a few). */
  compartments: number[];
  interfaces: number[];
  vantage: number;
  tcp: TcpHealth | null;
  dropped: number;
}

interface TcpDir {
  maxEnd: number;
  seen: boolean;
  lastTicks: number;
}

interface TcpState {
  synTicks: number;
  synAckTicks: number;
  synFromA: boolean;
  dirs: [TcpDir, TcpDir];
}

export interface DnsQuery {
  name: string;
  type: number;
  client: string;
  server: string;
  queryTicks: number;
  responseTicks: number | null;
  rcode: number | null;
  compartmentId: number | null;
}

const MAX_DNS_KEPT = 5000;
/** Slots of the recent-flows cache (a power of two). */
const RECENT = 256;
/** A query without an answer after this long is unanswered (and forgotten: memory stays bounded). */
const DNS_TIMEOUT_TICKS = 30 * 10000000;
const MAX_DNS_PENDING = 10000;

function protoName(p: number): string {
  return p === IP_PROTO.TCP ? 'TCP' : p === IP_PROTO.UDP ? 'UDP' : p === IP_PROTO.ICMP ? 'ICMP' : p === IP_PROTO.ICMPV6 ? 'ICMPv6' : p === IP_PROTO.GRE ? 'GRE' : `IP-${p}`;
}

/** Sequence-number comparison modulo 2^32. */
function seqGt(a: number, b: number): boolean {
  return ((a - b) | 0) > 0;
}

export class FlowTable {
  readonly flows = new Map<string, Flow>();
  private readonly tcp = new Map<number, TcpState>();
  readonly dns: DnsQuery[] = [];
  private readonly pendingDns = new Map<string, DnsQuery>();
  /** Pending queries in arrival order, for O(1) expiry. */
  private pendingQueue: Array<{ key: string; q: DnsQuery }> = [];
  private pendingHead = 0;
  private expiredUnanswered = 0;
  dnsQueries = 0;
  dnsResponses = 0;
  dnsByRcode = new Map<number, number>();
  dnsDropped = 0;
  private nextId = 0;
  /** IPv4 flows seen lately, by a hash of their tuple (flows are never removed, so never stale). */
  private readonly recent: Array<Flow | undefined> = new Array<Flow | undefined>(RECENT).fill(undefined);
  private readonly recentA = new Float64Array(RECENT);
  private readonly recentB = new Float64Array(RECENT);
  private readonly recentPorts = new Float64Array(RECENT);
  private readonly recentProto = new Float64Array(RECENT);
  /** Any number a snapshot gives (not only 24-bit VNIs/VSIDs), compared exactly. */
  private readonly recentVni = new Float64Array(RECENT);

  /** Adds one dissected IP packet. Returns the flow (or undefined for non-IP frames). */
  /**
   * `virtualNetworkId`: the overlay VNI/VSID of the packet, or of the attributed endpoint's network
   * for its un-encapsulated view (so both views of one overlay flow are one flow), else -1.
   */
  add(d: Dissection, ticks: number, bytes: number, interfaceId: number, compartmentId: number | undefined, dropped: boolean, virtualNetworkId = -1): Flow | undefined {
    if (d.ipVersion === 0 || d.ipProtocol < 0) return undefined;
    const sp = d.srcPort < 0 ? 0 : d.srcPort;
    const dp = d.dstPort < 0 ? 0 : d.dstPort;
    // Which end is "a": the lower address (numerically for IPv4, as text for IPv6), then port.
    const forward = d.srcIp4 >= 0
      ? d.srcIp4 < d.dstIp4 || (d.srcIp4 === d.dstIp4 && sp <= dp)
      : d.srcIp < d.dstIp || (d.srcIp === d.dstIp && sp <= dp);
    const vni = d.overlay ? d.virtualNetworkId : virtualNetworkId;
    let key: string | undefined;
    let f: Flow | undefined;
    let slot = -1;
    // IPv4 ends as numbers: a (the lower end), b, and both ports in one.
    const a = forward ? d.srcIp4 : d.dstIp4;
    const b = forward ? d.dstIp4 : d.srcIp4;
    const ports = forward ? sp * 65536 + dp : dp * 65536 + sp;
    if (d.srcIp4 >= 0) {
      // The recent flows first: a packet of one of them needs no key text.
      slot = (Math.imul(a ^ Math.imul(b, 0x9e3779b1) ^ Math.imul(ports, 0x85ebca6b) ^ d.ipProtocol ^ vni, 0xc2b2ae35) >>> 24) & (RECENT - 1);
      const r = this.recent[slot];
      if (r && this.recentA[slot] === a && this.recentB[slot] === b && this.recentPorts[slot] === ports && this.recentProto[slot] === d.ipProtocol && this.recentVni[slot] === vni) f = r;
      // IPv4: a short flat string of UTF-16 code units hashes fast (no number-to-text).
      else {
        const v = vni + 1;
        key = String.fromCharCode(d.ipProtocol, a >>> 16, a & 0xffff, b >>> 16, b & 0xffff, forward ? sp : dp, forward ? dp : sp, v >>> 16, v & 0xffff);
      }
    } else {
      key = forward ? `${d.ipProtocol}|${d.srcIp}|${sp}|${d.dstIp}|${dp}|${vni}` : `${d.ipProtocol}|${d.dstIp}|${dp}|${d.srcIp}|${sp}|${vni}`;
    }
    if (key !== undefined) f = this.flows.get(key);
    if (!f) {
      f = {
        id: this.nextId++, protocol: protoName(d.ipProtocol),
        a: forward ? { ip: d.srcIp, port: sp } : { ip: d.dstIp, port: dp },
        b: forward ? { ip: d.dstIp, port: dp } : { ip: d.srcIp, port: sp },
        virtualNetworkId: vni >= 0 ? vni : null,
        packets: 0, bytes: 0, packetsAtoB: 0, bytesAtoB: 0, packetsBtoA: 0, bytesBtoA: 0, firstTicks: ticks, lastTicks: ticks,
        compartments: [], interfaces: [], vantage: interfaceId,
        tcp: d.ipProtocol === IP_PROTO.TCP ? { handshakeRttMicros: null, retransmissions: 0, outOfOrder: 0, zeroWindows: 0, resets: 0, synUnanswered: false } : null,
        dropped: 0,
      };
      this.flows.set(key!, f);
    }
    if (slot >= 0 && key !== undefined) {
      this.recent[slot] = f;
      this.recentA[slot] = a;
      this.recentB[slot] = b;
      this.recentPorts[slot] = ports;
      this.recentProto[slot] = d.ipProtocol;
      this.recentVni[slot] = vni;
    }
    const aToB = forward; // the packet's source is end a
    f.packets++;
    f.bytes += bytes;
    if (aToB) {
      f.packetsAtoB++;
      f.bytesAtoB += bytes;
    } else {
      f.packetsBtoA++;
      f.bytesBtoA += bytes;
    }
    if (ticks < f.firstTicks) f.firstTicks = ticks;
    if (ticks > f.lastTicks) f.lastTicks = ticks;
    if (compartmentId !== undefined && !f.compartments.includes(compartmentId)) f.compartments.push(compartmentId);
    if (!f.interfaces.includes(interfaceId)) f.interfaces.push(interfaceId);
    if (dropped) f.dropped++;
    if (interfaceId === f.vantage && !dropped) {
      if (f.tcp) this.tcpUpdate(f, d, ticks, aToB);
      if (d.isDns) this.dnsUpdate(d, ticks, compartmentId);
    }
    return f;
  }

  private tcpUpdate(f: Flow, d: Dissection, ticks: number, aToB: boolean): void {
    const h = f.tcp!;
    let s = this.tcp.get(f.id);
    if (!s) {
      s = { synTicks: -1, synAckTicks: -1, synFromA: true, dirs: [{ maxEnd: 0, seen: false, lastTicks: 0 }, { maxEnd: 0, seen: false, lastTicks: 0 }] };
      this.tcp.set(f.id, s);
    }
    const fl = d.tcpFlags;
    const syn = (fl & TCP_FLAGS.SYN) !== 0;
    const ack = (fl & TCP_FLAGS.ACK) !== 0;
    if (fl & TCP_FLAGS.RST) h.resets++;
    if (syn && !ack && s.synTicks < 0) {
      s.synTicks = ticks;
      s.synFromA = aToB;
      h.synUnanswered = true;
    }
    if (syn && ack && s.synTicks >= 0 && aToB !== s.synFromA && s.synAckTicks < 0) {
      s.synAckTicks = ticks;
      h.synUnanswered = false;
      h.handshakeRttMicros = Math.round((ticks - s.synTicks) / 10);
    }
    if (d.tcpWindow === 0 && !(fl & (TCP_FLAGS.RST | TCP_FLAGS.SYN | TCP_FLAGS.FIN))) h.zeroWindows++;
    const dir = s.dirs[aToB ? 0 : 1];
    const len = d.payloadLength + (syn ? 1 : 0) + (fl & TCP_FLAGS.FIN ? 1 : 0);
    const end = (d.tcpSeq + len) >>> 0;
    if (!dir.seen) {
      dir.seen = true;
      dir.maxEnd = end;
    } else if (len > 0) {
      if (!seqGt(end, dir.maxEnd)) {
        // Entirely at or below data already seen: a retransmission, unless it is a keep-alive
        // (one byte just below the next expected sequence number).
        const keepAlive = d.payloadLength <= 1 && ((dir.maxEnd - d.tcpSeq) >>> 0) === 1;
        if (!keepAlive) h.retransmissions++;
      } else if (seqGt(dir.maxEnd, d.tcpSeq)) {
        h.retransmissions++; // partly old data
        dir.maxEnd = end;
      } else {
        if (seqGt(d.tcpSeq, dir.maxEnd)) h.outOfOrder++; // a gap: earlier data missing here
        dir.maxEnd = end;
      }
    }
    dir.lastTicks = ticks;
  }

  private dnsUpdate(d: Dissection, ticks: number, compartmentId: number | undefined): void {
    if (!d.dnsResponse) {
      this.dnsQueries++;
      const q: DnsQuery = {
        name: d.dnsQuestionName, type: d.dnsQuestionType, client: `${d.srcIp}:${d.srcPort}`, server: `${d.dstIp}:${d.dstPort}`,
        queryTicks: ticks, responseTicks: null, rcode: null, compartmentId: compartmentId ?? null,
      };
      const k = `${d.srcIp}|${d.srcPort}|${d.dstIp}|${d.dnsId}`;
      this.expireDns(ticks);
      if (!this.pendingDns.has(k)) {
        this.pendingDns.set(k, q);
        this.pendingQueue.push({ key: k, q });
      }
      if (this.dns.length < MAX_DNS_KEPT) this.dns.push(q);
      else this.dnsDropped++;
      return;
    }
    this.dnsResponses++;
    this.dnsByRcode.set(d.dnsRcode, (this.dnsByRcode.get(d.dnsRcode) ?? 0) + 1);
    const k = `${d.dstIp}|${d.dstPort}|${d.srcIp}|${d.dnsId}`;
    const q = this.pendingDns.get(k);
    if (q) {
      q.responseTicks = ticks;
      q.rcode = d.dnsRcode;
      this.pendingDns.delete(k);
    }
  }

  private expireDns(now: number): void {
    const q = this.pendingQueue;
    while (this.pendingHead < q.length) {
      const e = q[this.pendingHead]!;
      const live = this.pendingDns.get(e.key) === e.q;
      if (live && e.q.queryTicks > now - DNS_TIMEOUT_TICKS && this.pendingDns.size <= MAX_DNS_PENDING) break;
      this.pendingHead++;
      if (live) {
        this.pendingDns.delete(e.key);
        this.expiredUnanswered++;
      }
    }
    if (this.pendingHead > 4096 && this.pendingHead * 2 > q.length) {
      this.pendingQueue = q.slice(this.pendingHead);
      this.pendingHead = 0;
    }
  }

  /** Unanswered DNS queries: timed out during the capture, or still pending at its end. */
  get dnsUnanswered(): number {
    return this.pendingDns.size + this.expiredUnanswered;
  }
}

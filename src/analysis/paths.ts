/**
 * Packet paths: the same packet seen at several places of the host, hop by hop with latency.
 * PktMon (Windows 10 / Server 2022) gives all appearances one PktGroupId; otherwise (PktMon on
 * Windows 11 26100+, NDIS multi-layer and vSwitch captures) identical IP packets (hashed without
 * TTL and checksum, innermost header for overlay traffic) seen within a short window are one
 * packet. A path ends where the packet was last seen, or where PktMon reports its drop.
 *
 * Packets in flight live in a ring of typed arrays (no object per packet: millions of short-lived
 * objects would be promoted and grow the old generation); only multi-hop packets get arrays.
 */
import type { Dissection } from '../packets/dissection.js';
import type { PacketRecord } from '../providers/packet-record.js';
import { IntTable } from './int-table.js';

export const PATH_WINDOW_TICKS = 500000; // 50 ms
const HASH_BYTES = 96;

/** The second hash of the last packetHash() call: a 32-bit check against collisions of the first. */
let hashCheck = 0;

/**
 * A 30-bit hash of the first HASH_BYTES bytes of the IP packet `data[start, frameEnd)` without its
 * TTL (hop limit) and IPv4 checksum, which change from hop to hop; its 32-bit check in hashCheck.
 * Four bytes a step (Murmur3's mixing), the bytes after the last whole word one by one.
 */
function packetHash(data: Uint8Array, start: number, ipVersion: number, frameEnd: number): number {
  const end = Math.min(frameEnd, start + HASH_BYTES);
  // The word holding TTL and checksum (IPv4: bytes 8-11, keep the protocol), or the hop limit
  // (IPv6: bytes 4-7, keep payload length and next header); little-endian words.
  const maskAt = start + (ipVersion === 4 ? 8 : 4);
  const mask = ipVersion === 4 ? 0x0000ff00 : 0x00ffffff;
  let h = 0x811c9dc5;
  let c = frameEnd - start;
  let i = start;
  for (; i + 4 <= end; i += 4) {
    let w = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    if (i === maskAt) w &= mask;
    c = (Math.imul(c, 31) + w) | 0;
    w = Math.imul(w, 0xcc9e2d51);
    w = Math.imul((w << 15) | (w >>> 17), 0x1b873593);
    h ^= w;
    h = (Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64) | 0;
  }
  // The bytes after the last whole word (a packet cut short): the same bytes skipped one by one.
  const ttl = start + (ipVersion === 4 ? 8 : 7);
  const ck = ipVersion === 4 ? start + 10 : -2; // IPv6 has no checksum (-2: matches no byte)
  for (; i < end; i++) {
    if (i === ttl || i === ck || i === ck + 1) continue;
    c = (Math.imul(c, 31) + data[i]!) | 0;
    h = Math.imul(h ^ data[i]!, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  hashCheck = c;
  return h & 0x3fffffff;
}

export interface PathStats {
  hops: number[];
  packets: number;
  dropped: number;
  /** Sum of the latency of each hop transition (ticks), divided by `packets` for the mean. */
  hopLatencyTicks: number[];
}

/** One path of one flow: where its packets went, and how many went so. */
export interface FlowPath {
  hops: number[];
  dropped: boolean;
  packets: number;
}

export class PathTracker {
  /** Hash (31-bit, a small integer for V8) -> ring slot. */
  private byHash = new IntTable(65536);
  private readonly byGroup = new Map<string, number>();
  private cap = 65536;
  private head = 0;
  private tail = 0;
  private check = new Int32Array(this.cap);
  private hashKey = new Int32Array(this.cap);
  private groupKey: Array<string | undefined> = new Array<string | undefined>(this.cap);
  private firstTicks = new Float64Array(this.cap);
  private lastTicks = new Float64Array(this.cap);
  private hop0 = new Int32Array(this.cap);
  private lastHop = new Int32Array(this.cap);
  private flow = new Int32Array(this.cap);
  private dropped = new Uint8Array(this.cap);
  private readonly extra = new Map<number, { hops: number[]; ticks: number[] }>();
  /** 1 where the slot's packet has an entry in `extra` (seen at more than one place). */
  private multi = new Uint8Array(this.cap);
  /** Single-hop paths by interface, and per flow (the same objects as in paths and flowPaths). */
  private readonly single: Array<PathStats | undefined> = [];
  private readonly flowSingle: Array<Array<FlowPath | undefined> | undefined> = [];
  private readonly singleSig: string[] = [];
  readonly paths = new Map<string, PathStats>();
  /** flow id -> its paths (keyed by an internal signature of hops and drop). */
  readonly flowPaths = new Map<number, Map<string, FlowPath>>();
  multiHopPackets = 0;
  hashCollisions = 0;

  /**
   * A packet whose frame was dissected into `d` from `frame` (p.data, or its batch on the analysis
   * thread, where p.data is empty), up to `frameEnd`; d's offsets count from the start of `frame`.
   */
  add(p: PacketRecord, d: Dissection, flowId: number, frame: Uint8Array, frameEnd: number): void {
    this.expire(p.ticks);
    let group: string | undefined;
    let h1 = 0;
    let h2 = 0;
    if (p.appearance > 0 && (p.pktGroupIdHi !== 0 || p.pktGroupIdLo !== 0)) group = `${p.pktGroupIdHi}:${p.pktGroupIdLo}:${p.pktNumber}`;
    else if (d.ipOffset >= 0) {
      h1 = packetHash(frame, d.ipOffset, d.ipVersion, frameEnd);
      h2 = hashCheck;
    } else return;
    const found = group !== undefined ? this.byGroup.get(group) : this.byHash.get(h1);
    const slot = found === -1 ? undefined : found;
    if (slot !== undefined && (group !== undefined || this.check[slot] === h2)) {
      if (this.lastHop[slot] !== p.interfaceId) {
        let x = this.multi[slot] === 1 ? this.extra.get(slot) : undefined;
        if (!x) {
          x = { hops: [this.hop0[slot]!], ticks: [this.firstTicks[slot]!] };
          this.extra.set(slot, x);
          this.multi[slot] = 1;
        }
        x.hops.push(p.interfaceId);
        x.ticks.push(p.ticks);
        this.lastHop[slot] = p.interfaceId;
      }
      this.lastTicks[slot] = p.ticks;
      if (p.dropped) this.dropped[slot] = 1;
      return;
    }
    if (slot !== undefined) {
      this.hashCollisions++;
      this.byHash.delete(h1); // the older packet keeps its slot until it expires, unreachable
    }
    if (this.tail - this.head === this.cap) this.grow();
    const s = this.tail++ & (this.cap - 1);
    this.check[s] = h2;
    this.hashKey[s] = h1;
    this.groupKey[s] = group;
    this.firstTicks[s] = p.ticks;
    this.lastTicks[s] = p.ticks;
    this.hop0[s] = p.interfaceId;
    this.lastHop[s] = p.interfaceId;
    this.flow[s] = flowId;
    this.dropped[s] = p.dropped ? 1 : 0;
    this.multi[s] = 0;
    if (group !== undefined) this.byGroup.set(group, s);
    else this.byHash.set(h1, s);
  }

  finish(): void {
    this.expire(Infinity);
  }

  private expire(now: number): void {
    const cutoff = now - PATH_WINDOW_TICKS;
    const mask = this.cap - 1;
    while (this.head < this.tail) {
      const s = this.head & mask;
      if (this.firstTicks[s]! >= cutoff) break;
      this.head++;
      const g = this.groupKey[s];
      if (g !== undefined) {
        if (this.byGroup.get(g) === s) this.byGroup.delete(g);
        this.groupKey[s] = undefined;
      } else if (this.byHash.get(this.hashKey[s]!) === s) this.byHash.delete(this.hashKey[s]!);
      this.record(s);
    }
  }

  private record(s: number): void {
    const flowId = this.flow[s]!;
    if (this.multi[s] === 0 && this.dropped[s] === 0) {
      // Most packets: seen once, not dropped. Their path and flow path are found by index.
      const i = this.hop0[s]!;
      const st = (this.single[i] ??= this.pathStats(this.singleSig[i] ??= String(i), [i]));
      st.packets++;
      if (flowId >= 0) {
        const row = (this.flowSingle[flowId] ??= []);
        (row[i] ??= this.flowPath(flowId, this.singleSig[i]!, [i], false)).packets++;
      }
      return;
    }
    const dropped = this.dropped[s] === 1;
    let sig: string;
    let hops: number[];
    let ticks: number[] | undefined;
    const x = this.multi[s] === 1 ? this.extra.get(s) : undefined;
    if (x) {
      this.extra.delete(s);
      this.multi[s] = 0;
      this.multiHopPackets++;
      hops = x.hops;
      ticks = x.ticks;
      sig = `${hops.join('>')}${dropped ? '!' : ''}`;
    } else {
      const i = this.hop0[s]!;
      hops = [i];
      sig = `${i}!`;
    }
    const st = this.pathStats(sig, hops);
    st.packets++;
    if (dropped) st.dropped++;
    if (ticks) for (let i = 1; i < ticks.length; i++) st.hopLatencyTicks[i - 1]! += ticks[i]! - ticks[i - 1]!;
    if (flowId >= 0) this.flowPath(flowId, sig, hops, dropped).packets++;
  }

  private pathStats(sig: string, hops: number[]): PathStats {
    let st = this.paths.get(sig);
    if (!st) {
      st = { hops, packets: 0, dropped: 0, hopLatencyTicks: new Array<number>(Math.max(0, hops.length - 1)).fill(0) };
      this.paths.set(sig, st);
    }
    return st;
  }

  private flowPath(flowId: number, sig: string, hops: number[], dropped: boolean): FlowPath {
    let m = this.flowPaths.get(flowId);
    if (!m) {
      m = new Map();
      this.flowPaths.set(flowId, m);
    }
    let fp = m.get(sig);
    if (!fp) {
      fp = { hops, dropped, packets: 0 };
      m.set(sig, fp);
    }
    return fp;
  }

  private grow(): void {
    const old = this.cap;
    const cap = old * 2;
    const remap = <T extends Int32Array | Float64Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(cap);
      for (let i = this.head; i < this.tail; i++) b[i & (cap - 1)] = a[i & (old - 1)]!;
      return b;
    };
    this.check = remap(this.check, (n) => new Int32Array(n));
    this.hashKey = remap(this.hashKey, (n) => new Int32Array(n));
    this.firstTicks = remap(this.firstTicks, (n) => new Float64Array(n));
    this.lastTicks = remap(this.lastTicks, (n) => new Float64Array(n));
    this.hop0 = remap(this.hop0, (n) => new Int32Array(n));
    this.lastHop = remap(this.lastHop, (n) => new Int32Array(n));
    this.flow = remap(this.flow, (n) => new Int32Array(n));
    this.dropped = remap(this.dropped, (n) => new Uint8Array(n));
    this.multi = remap(this.multi, (n) => new Uint8Array(n));
    const g = new Array<string | undefined>(cap);
    const extra = new Map<number, { hops: number[]; ticks: number[] }>();
    const byHash = new IntTable(cap);
    for (let i = this.head; i < this.tail; i++) {
      const o = i & (old - 1);
      const n = i & (cap - 1);
      g[n] = this.groupKey[o];
      const e = this.extra.get(o);
      if (e) extra.set(n, e);
      if (g[n] !== undefined) this.byGroup.set(g[n]!, n);
      else if (this.byHash.get(this.hashKey[n]!) === o) byHash.set(this.hashKey[n]!, n);
    }
    this.byHash = byHash;
    this.groupKey = g;
    this.extra.clear();
    for (const [k, v] of extra) this.extra.set(k, v);
    this.cap = cap;
  }
}

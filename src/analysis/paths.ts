/**
 * Packet paths: the same packet seen at several places of the host, hop by hop with latency.
 * PktMon (Windows 10 / Server 2022) gives all appearances one PktGroupId; otherwise (PktMon on
 * Windows 11 26100+, NDIS multi-layer and vSwitch captures) identical IP packets (hashed without
 * TTL and checksum, innermost header for overlay traffic) seen within a short window are one
 * packet. A path ends where the packet was last seen, or where PktMon reports its drop.
 */
import type { Dissection } from '../packets/dissection.js';
import type { PacketRecord } from '../providers/packet-record.js';

export const PATH_WINDOW_TICKS = 500000; // 50 ms
const HASH_BYTES = 96;

interface Live {
  firstTicks: number;
  hops: number[];
  hopTicks: number[];
  dropped: boolean;
  flowId: number;
}

export interface PathStats {
  hops: number[];
  packets: number;
  dropped: number;
  /** Sum of the latency of each hop transition (ticks), divided by `packets` for the mean. */
  hopLatencyTicks: number[];
}

function contentHash(d: Uint8Array, ipOff: number, version: number): string {
  let h = 0x811c9dc5;
  const end = Math.min(d.length, ipOff + HASH_BYTES);
  const ttl = ipOff + (version === 4 ? 8 : 7);
  const ck0 = version === 4 ? ipOff + 10 : -1;
  for (let i = ipOff; i < end; i++) {
    if (i === ttl || i === ck0 || i === ck0 + 1) continue;
    h ^= d[i]!;
    h = Math.imul(h, 0x01000193);
  }
  return `${(h >>> 0).toString(36)}:${d.length - ipOff}`;
}

export class PathTracker {
  private readonly live = new Map<string, Live>();
  readonly paths = new Map<string, PathStats>();
  /** flow id -> path signature -> packets. */
  readonly flowPaths = new Map<number, Map<string, number>>();
  multiHopPackets = 0;

  add(p: PacketRecord, d: Dissection, flowId: number): void {
    let key: string;
    if (p.appearance > 0 && (p.pktGroupIdHi !== 0 || p.pktGroupIdLo !== 0)) key = `g${p.pktGroupIdHi}:${p.pktGroupIdLo}:${p.pktNumber}`;
    else if (d.ipOffset >= 0) key = contentHash(p.data, d.ipOffset, d.ipVersion);
    else return;
    this.expire(p.ticks);
    const l = this.live.get(key);
    if (l) {
      if (l.hops[l.hops.length - 1] !== p.interfaceId) {
        l.hops.push(p.interfaceId);
        l.hopTicks.push(p.ticks);
      }
      if (p.dropped) l.dropped = true;
      return;
    }
    this.live.set(key, { firstTicks: p.ticks, hops: [p.interfaceId], hopTicks: [p.ticks], dropped: p.dropped, flowId });
  }

  finish(): void {
    this.expire(Infinity);
  }

  private expire(now: number): void {
    const cutoff = now - PATH_WINDOW_TICKS;
    for (const [k, l] of this.live) {
      if (l.firstTicks >= cutoff) break;
      this.live.delete(k);
      this.record(l);
    }
  }

  private record(l: Live): void {
    if (l.hops.length > 1) this.multiHopPackets++;
    const sig = `${l.hops.join('>')}${l.dropped ? '!' : ''}`;
    let s = this.paths.get(sig);
    if (!s) {
      s = { hops: l.hops, packets: 0, dropped: 0, hopLatencyTicks: new Array<number>(Math.max(0, l.hops.length - 1)).fill(0) };
      this.paths.set(sig, s);
    }
    s.packets++;
    if (l.dropped) s.dropped++;
    for (let i = 1; i < l.hopTicks.length; i++) s.hopLatencyTicks[i - 1]! += l.hopTicks[i]! - l.hopTicks[i - 1]!;
    if (l.flowId >= 0) {
      let m = this.flowPaths.get(l.flowId);
      if (!m) {
        m = new Map();
        this.flowPaths.set(l.flowId, m);
      }
      m.set(sig, (m.get(sig) ?? 0) + 1);
    }
  }
}

/**
 * Each packet's comment in the pcapng, which is what Wireshark users read: where the packet was
 * seen (interface, PktMon component and edge, vSwitch port), by which process, thread and CPU,
 * and what happened to it. build() spells the text; encoded() gives its UTF-8 bytes without
 * building it for the packets whose comment repeats (issue 13):
 * - a plain NDIS packet's comment is the same for every packet of one interface, CPU, process and
 *   thread: kept encoded whole;
 * - a vSwitch packet's comment, up to its hash, is the same for one port, VLAN and destination
 *   count too; a PktMon packet's, up to its counters, for one edge and direction: those heads are
 *   kept encoded, and the numbers after them written as digits.
 */
import type { CaptureInterface } from '../providers/interfaces.js';
import { SOURCE, type PacketRecord, type VmSwitchInfo } from '../providers/packet-record.js';
import type { PktmonComponents } from '../providers/pktmon.js';
import { lookupName, PKTMON_DIRECTION, pktmonDropReasonName } from '../providers/pktmon-tables.js';

/**
 * A comment is cut at this many bytes (whole characters), as it always was: pcapng gives an
 * option 65,535 bytes at most, and a port or component name has no limit.
 */
const MAX_COMMENT_BYTES = 2048;
/** At most this many encoded comments and heads are kept (then the caches start again). */
const CACHE_SIZE = 8192;
/** Heads kept per interface, CPU, process and thread (ports' strings, edges and directions). */
const HEADS_PER_THREAD = 8;

const utf8 = new TextEncoder();
const HEX = utf8.encode('0123456789abcdef');
const TRUNCATED = utf8.encode(' truncated');
const APPEARANCE = utf8.encode(' appearance=');
const PKT = utf8.encode(' pkt=');
const FILTER = utf8.encode(' filter=');
const RELABELLED = utf8.encode(' (PacketType 2, Ethernet II frame)');

/** A comment's head: the packet fields it was made from, and its bytes. */
interface VmHead extends VmSwitchInfo {
  bytes: Uint8Array;
}
interface PktmonHead {
  componentId: number;
  edgeId: number;
  dirTag: number;
  bytes: Uint8Array;
}

/** Values per interface and CPU, process and thread: the keys that repeat for thousands of packets. */
class PerThread<V> {
  private readonly m = new Map<number, Map<number, Map<number, V>>>();

  get(p: PacketRecord, i: CaptureInterface): V | undefined {
    return this.m.get(i.id * 65536 + p.cpu)?.get(p.processId)?.get(p.threadId);
  }

  set(p: PacketRecord, i: CaptureInterface, v: V): void {
    const where = i.id * 65536 + p.cpu; // CPU < 2048 (buffer-reader.ts): no two keys meet
    let byProcess = this.m.get(where);
    if (!byProcess) this.m.set(where, (byProcess = new Map()));
    let byThread = byProcess.get(p.processId);
    if (!byThread) byProcess.set(p.processId, (byThread = new Map()));
    byThread.set(p.threadId, v);
  }

  clear(): void {
    this.m.clear();
  }
}

export class PacketComments {
  private readonly prefix = new Map<number, string>();
  private readonly edges = new Map<number, Map<number, string>>();
  private readonly plainBytes = new PerThread<Uint8Array>();
  private readonly vmHeads = new PerThread<VmHead[]>();
  private readonly pktmonHeads = new PerThread<PktmonHead[]>();
  /** ` DROPPED reason="…" (code) location=0x`, encoded, per drop reason code. */
  private readonly dropBytes = new Map<number, Uint8Array>();
  private cached = 0;
  private readonly scratch = new Uint8Array(MAX_COMMENT_BYTES);

  constructor(components: PktmonComponents) {
    for (const c of components.components.values()) {
      const m = new Map<number, string>();
      for (const f of c.flowCounters) m.set(f.edgeId, f.edgeName);
      this.edges.set(c.id, m);
    }
  }

  build(p: PacketRecord, i: CaptureInterface): string {
    if (p.source === SOURCE.PKTMON) {
      let s = this.pktmonHead(p, i);
      if (p.appearance) s += ` appearance=${p.appearance}`;
      if (p.pktNumber > 1) s += ` pkt=${p.pktNumber}`;
      if (p.filterId) s += ` filter=${p.filterId}`;
      if (p.dropped) s += dropText(p.dropReason) + hex8(p.dropLocation);
      if (p.relabelled) s += ' (PacketType 2, Ethernet II frame)';
      return s;
    }
    let s = p.vmswitch ? this.vmHead(p, i, p.vmswitch) + hex8(p.vmswitch.hashValue) : this.ndisHead(p, i);
    if (p.truncated) s += ' truncated';
    if (p.metadata) s += ` ${p.metadata}`;
    return s;
  }

  /** An NDIS packet's comment up to its CPU. */
  private ndisHead(p: PacketRecord, i: CaptureInterface): string {
    return `${this.prefixOf(p, i)} PID=${p.processId} TID=${p.threadId} CPU=${p.cpu}`;
  }

  /** A vSwitch packet's comment up to `HashValue=`. */
  private vmHead(p: PacketRecord, i: CaptureInterface, vm: VmSwitchInfo): string {
    let s = `${this.ndisHead(p, i)} VlanId=${vm.vlanId} SrcPortId=${vm.portId} SrcNicType=${vm.nicType} SrcNicName=${vm.nicName} SrcPortName=${vm.portName}`;
    if (vm.destinationCount > 0) s += ` DstNicCount=${vm.destinationCount}`;
    return `${s} HashValue=`;
  }

  /** A PktMon packet's comment up to its CPU. */
  private pktmonHead(p: PacketRecord, i: CaptureInterface): string {
    const edge = this.edges.get(p.componentId)?.get(p.edgeId);
    return `${this.prefixOf(p, i)} edge=${edge ?? p.edgeId} ${lookupName(PKTMON_DIRECTION, p.dirTag)} PID=${p.processId} TID=${p.threadId} CPU=${p.cpu}`;
  }

  /** build()'s text, encoded: valid until the next call. */
  encoded(p: PacketRecord, i: CaptureInterface): Uint8Array {
    if (p.source === SOURCE.PKTMON) return this.pktmon(p, i);
    if (p.metadata) return this.encode(this.build(p, i));
    if (p.vmswitch) return this.vmswitch(p, i, p.vmswitch);
    if (p.truncated) return this.encode(this.build(p, i));
    return this.plain(p, i);
  }

  /** Any text, encoded and cut at MAX_COMMENT_BYTES (whole characters): valid until the next call. */
  encode(text: string): Uint8Array {
    const { written } = utf8.encodeInto(text, this.scratch);
    return this.scratch.subarray(0, written);
  }

  /** An NDIS packet whose comment is its interface, process, thread and CPU alone: kept whole (shared; never modified). */
  private plain(p: PacketRecord, i: CaptureInterface): Uint8Array {
    let b = this.plainBytes.get(p, i);
    if (b) return b;
    this.count();
    b = utf8.encode(this.build(p, i));
    this.plainBytes.set(p, i, b);
    return b;
  }

  /** A vSwitch packet: the head up to HashValue=, the hash, ' truncated'. */
  private vmswitch(p: PacketRecord, i: CaptureInterface, vm: VmSwitchInfo): Uint8Array {
    const heads = this.vmHeads.get(p, i);
    let e: VmHead | undefined;
    if (heads) {
      for (const h of heads) {
        if (h.destinationCount === vm.destinationCount && h.portName === vm.portName && h.nicName === vm.nicName && h.nicType === vm.nicType &&
          h.portId === vm.portId && h.vlanId === vm.vlanId) {
          e = h;
          break;
        }
      }
    }
    if (!e) {
      e = { ...vm, bytes: utf8.encode(this.vmHead(p, i, vm)) };
      this.remember(this.vmHeads, p, i, e);
    }
    const out = this.scratch;
    if (e.bytes.length + 8 + TRUNCATED.length > out.length) return this.encode(this.build(p, i)); // cut: as encode() cuts it
    let n = put(out, 0, e.bytes);
    n = writeHex8(out, n, vm.hashValue);
    if (p.truncated) n = put(out, n, TRUNCATED);
    return out.subarray(0, n);
  }

  /** A PktMon packet: the head up to CPU=n, then appearance, pkt, filter, the drop and the relabelling. */
  private pktmon(p: PacketRecord, i: CaptureInterface): Uint8Array {
    const heads = this.pktmonHeads.get(p, i);
    let e: PktmonHead | undefined;
    if (heads) {
      for (const h of heads) {
        if (h.edgeId === p.edgeId && h.dirTag === p.dirTag && h.componentId === p.componentId) {
          e = h;
          break;
        }
      }
    }
    if (!e) {
      e = { componentId: p.componentId, edgeId: p.edgeId, dirTag: p.dirTag, bytes: utf8.encode(this.pktmonHead(p, i)) };
      this.remember(this.pktmonHeads, p, i, e);
    }
    let drop: Uint8Array | undefined;
    if (p.dropped) {
      drop = this.dropBytes.get(p.dropReason);
      if (!drop) this.dropBytes.set(p.dropReason, (drop = utf8.encode(dropText(p.dropReason))));
    }
    const out = this.scratch;
    // The tail is at most 82 bytes and the drop's text: past the limit, cut as encode() cuts it.
    if (e.bytes.length + 100 + (drop?.length ?? 0) > out.length) return this.encode(this.build(p, i));
    let n = put(out, 0, e.bytes);
    if (p.appearance) n = writeDecimal(out, put(out, n, APPEARANCE), p.appearance);
    if (p.pktNumber > 1) n = writeDecimal(out, put(out, n, PKT), p.pktNumber);
    if (p.filterId) n = writeDecimal(out, put(out, n, FILTER), p.filterId);
    if (drop) n = writeHex8(out, put(out, n, drop), p.dropLocation);
    if (p.relabelled) n = put(out, n, RELABELLED);
    return out.subarray(0, n);
  }

  /** Keeps a new head for this interface, CPU, process and thread (a few at most). */
  private remember<H>(cache: PerThread<H[]>, p: PacketRecord, i: CaptureInterface, e: H): void {
    this.count(); // may start every cache again
    const heads = cache.get(p, i);
    if (!heads) cache.set(p, i, [e]);
    else if (heads.length < HEADS_PER_THREAD) heads.push(e);
    else heads[this.cached % HEADS_PER_THREAD] = e;
  }

  /** Counts one more kept comment or head; at CACHE_SIZE, every cache starts again. */
  private count(): void {
    if (this.cached >= CACHE_SIZE) {
      this.plainBytes.clear();
      this.vmHeads.clear();
      this.pktmonHeads.clear();
      this.dropBytes.clear();
      this.cached = 0;
    }
    this.cached++;
  }

  private prefixOf(p: PacketRecord, i: CaptureInterface): string {
    let pre = this.prefix.get(i.id);
    if (pre === undefined) {
      pre = makePrefix(p, i);
      this.prefix.set(i.id, pre);
    }
    return pre;
  }
}

function makePrefix(p: PacketRecord, i: CaptureInterface): string {
  if (p.source === SOURCE.PKTMON) return `component=${p.componentId}${i.name.includes(':') ? ` ${i.name.slice(0, i.name.lastIndexOf(':'))}` : ''}`;
  return p.lowerIfIndex !== p.miniportIfIndex ? `ifIndex=${p.lowerIfIndex} miniport=${p.miniportIfIndex}` : `ifIndex=${p.lowerIfIndex}`;
}

function dropText(reason: number): string {
  return ` DROPPED reason="${pktmonDropReasonName(reason)}" (${reason}) location=0x`;
}

function hex8(v: number): string {
  return (v >>> 0).toString(16).padStart(8, '0');
}

function put(out: Uint8Array, n: number, bytes: Uint8Array): number {
  out.set(bytes, n);
  return n + bytes.length;
}

function writeHex8(out: Uint8Array, n: number, v: number): number {
  const h = v >>> 0;
  for (let k = 28; k >= 0; k -= 4) out[n++] = HEX[(h >>> k) & 15]!;
  return n;
}

/** A non-negative integer's decimal digits (as `${v}` spells it). */
function writeDecimal(out: Uint8Array, n: number, v: number): number {
  let digits = 1;
  for (let x = v; x >= 10; x = Math.floor(x / 10)) digits++;
  let x = v;
  for (let k = n + digits - 1; k >= n; k--) {
    out[k] = 0x30 + (x % 10);
    x = Math.floor(x / 10);
  }
  return n + digits;
}

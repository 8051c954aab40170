/**
 * ETL -> pcapng: one EPB per packet (per reassembled NDIS packet, per PktMon 160/170 appearance,
 * drops included and marked), one IDB per interface written just before its first packet, times
 * in 100 ns (if_tsresol 7). Same input, same bytes out, on every OS.
 */
import type { ByteSource } from '../etl/byte-source.js';
import { FILETIME_UNIX_EPOCH } from '../util/time.js';
import type { DecodeStats, EtlSummary } from '../providers/capture-decoder.js';
import { decodeCapture, type CaptureConsumer, type DecodeCaptureOptions, type DecodeStart } from '../providers/decode-capture.js';
import type { CaptureInterface } from '../providers/interfaces.js';
import type { PktmonComponents } from '../providers/pktmon.js';
import { SOURCE, type PacketRecord, type VmSwitchInfo } from '../providers/packet-record.js';
import { lookupName, PKTMON_DIRECTION, pktmonDropReasonName } from '../providers/pktmon-tables.js';
import type { ChunkSink } from './file-sink.js';
import { PcapngWriter } from './pcapng-writer.js';

export interface ConvertOptions extends DecodeCaptureOptions {
  application: string;
  /** Names from the host's snapshot (decode --snapshot). */
  labels?: CaptureLabels;
}

export interface ConvertResult {
  summary: EtlSummary;
  stats: DecodeStats;
  bytesWritten: number;
  /** 1 when the file had no PktMon packets (one read), else 2. */
  passes: 1 | 2;
}

const TWO32 = 4294967296;

/**
 * What the host's snapshot says of the capture (analysis/labels.ts): an interface's name and
 * description, and words added to a packet's comment.
 */
export interface CaptureLabels {
  interface(i: CaptureInterface): { name: string; description: string } | undefined;
  /** Appended to the packet's comment ('' for nothing). */
  packet(p: PacketRecord, i: CaptureInterface): string;
  /** False: the packet is left out (asked before packet()). */
  keep?(p: PacketRecord, i: CaptureInterface): boolean;
  /** The decode starts over (PktMon packets met in the one-read attempt): forget what was counted. */
  restart?(): void;
}

/** Writes the decoded capture as pcapng to a sink (one of decodeCapture's consumers). */
export class PcapngConsumer implements CaptureConsumer {
  private out: Output | undefined;
  constructor(private readonly sink: ChunkSink, private readonly application: string, private readonly labels?: CaptureLabels) {}

  start(s: DecodeStart): void {
    this.out = new Output(this.sink, this.application, s, this.labels);
  }

  addInterface(i: CaptureInterface): void {
    this.out!.addInterface(i);
  }

  packet(p: PacketRecord, i: CaptureInterface): void {
    this.out!.packet(p, i);
  }

  afterBuffer(): Promise<void> {
    return this.out!.flush(false);
  }

  idle(): Promise<void> {
    return this.out!.flush(true);
  }

  async restart(): Promise<void> {
    await this.out?.drain();
    await this.sink.reset();
    this.out = undefined;
    this.labels?.restart?.();
  }

  /** Writes what is left; the bytes written in all. */
  async finish(): Promise<number> {
    await this.out!.flush(true);
    return this.out!.writer.bytesWritten;
  }
}

export async function convertEtlToPcapng(openSource: () => Promise<ByteSource>, sink: ChunkSink, opts: ConvertOptions): Promise<ConvertResult> {
  const pcapng = new PcapngConsumer(sink, opts.application, opts.labels);
  const { application: _a, labels: _l, ...decode } = opts;
  const r = await decodeCapture(openSource, [pcapng], decode);
  return { summary: r.summary, stats: r.stats, bytesWritten: await pcapng.finish(), passes: r.passes };
}

/** The pcapng being written: section header, interfaces, packets with comments, flushing. */
class Output {
  readonly writer = new PcapngWriter();
  private readonly baseHi: number;
  private readonly baseLo: number;
  private readonly comments: CommentBuilder;
  private readonly scratch = new Uint8Array(2048);
  private readonly enc = new TextEncoder();
  private readonly epb: { direction: number; packetIdHi: number; packetIdLo: number; comment: Uint8Array } = { direction: 0, packetIdHi: 0, packetIdLo: 0, comment: new Uint8Array(0) };
  private pending: Promise<void> = Promise.resolve();

  constructor(private readonly sink: ChunkSink, application: string, info: DecodeStart, private readonly labels?: CaptureLabels) {
    this.comments = new CommentBuilder(info.components);
    this.writer.writeSectionHeader({
      application,
      os: `Windows ${info.osVersion} build ${info.header.osBuild}`,
      comment: `converted from ${baseName(info.fileName)} (${info.header.loggerName || 'ETW session'})`,
    });
    const base = info.header.startTime - FILETIME_UNIX_EPOCH;
    this.baseHi = Number(base >> 32n);
    this.baseLo = Number(base & 0xffffffffn);
  }

  async flush(partial: boolean): Promise<void> {
    const p = (async () => {
      for (const c of this.writer.takeReady(partial)) await this.sink.write(c, () => this.writer.recycle(c));
    })();
    this.pending = p;
    await p;
  }

  /** Waits for a flush in progress (before a reset). */
  async drain(): Promise<void> {
    await this.pending.catch(() => undefined);
  }

  addInterface(i: CaptureInterface): void {
    const l = this.labels?.interface(i);
    this.writer.addInterface({ linkType: i.linkType, name: l?.name ?? i.name, description: l?.description ?? i.description, ipv4: i.ipv4, ipv6: i.ipv6, ...(i.mac ? { mac: i.mac } : {}) });
  }

  packet(p: PacketRecord, i: CaptureInterface): void {
    if (this.labels?.keep && !this.labels.keep(p, i)) return;
    const ts = this.baseLo + p.ticks;
    const carry = Math.floor(ts / TWO32);
    this.epb.direction = p.direction;
    this.epb.packetIdHi = p.pktGroupIdHi;
    this.epb.packetIdLo = p.pktGroupIdLo;
    this.epb.comment = this.labels ? this.encoded(p, i) : this.comments.plain(p) ? this.comments.cached(p, i) : this.comments.vmswitch(p, i) ?? this.encoded(p, i);
    this.writer.writePacket(p.interfaceId, this.baseHi + carry, ts - carry * TWO32, p.data, p.originalLength, this.epb);
  }

  /** The comment built and encoded for this packet (valid until the next packet). */
  private encoded(p: PacketRecord, i: CaptureInterface): Uint8Array {
    const comment = this.comments.build(p, i);
    const { written } = this.enc.encodeInto(this.labels ? comment + this.labels.packet(p, i) : comment, this.scratch);
    return this.scratch.subarray(0, written);
  }
}

function baseName(p: string): string {
  return p.split(/[\\/]/).pop() ?? p;
}

/** A vSwitch comment's head: the packet fields it was made from, and its bytes up to HashValue=. */
interface VmHead extends VmSwitchInfo {
  bytes: Uint8Array;
}

/** Heads kept per interface, CPU, process and thread (ports' strings, destination counts). */
const VM_HEADS_PER_THREAD = 8;

const HEX = new TextEncoder().encode('0123456789abcdef');
const TRUNCATED = new TextEncoder().encode(' truncated');

/** At most this many encoded comments are kept (then the caches start again). */
const COMMENT_CACHE_SIZE = 8192;

/**
 * Builds EPB comments, caching the per-interface part. Most NDIS packets have a plain comment
 * (`ifIndex=6 PID=4 TID=256 CPU=0`) that repeats for thousands of packets: those are kept
 * encoded, by interface, CPU, process and thread, so a packet costs a lookup, not a string and
 * its UTF-8 (scripts/bench/RESULTS.md, issue 13).
 */
class CommentBuilder {
  private readonly prefix = new Map<number, string>();
  private readonly edges = new Map<number, Map<number, string>>();
  /** interface and CPU -> process -> thread -> the encoded comment. */
  private readonly plainBytes = new Map<number, Map<number, Map<number, Uint8Array>>>();
  /** interface and CPU -> process -> thread -> a vSwitch comment's head (vmswitch()). */
  private readonly vmHeads = new Map<number, Map<number, Map<number, VmHead[]>>>();
  private vmScratch = new Uint8Array(1024);
  private cachedCount = 0;
  private readonly enc = new TextEncoder();
  constructor(components: PktmonComponents) {
    for (const c of components.components.values()) {
      const m = new Map<number, string>();
      for (const f of c.flowCounters) m.set(f.edgeId, f.edgeName);
      this.edges.set(c.id, m);
    }
  }

  build(p: PacketRecord, i: CaptureInterface): string {
    let pre = this.prefix.get(i.id);
    if (pre === undefined) {
      pre = this.makePrefix(p, i);
      this.prefix.set(i.id, pre);
    }
    if (p.source === SOURCE.PKTMON) {
      const edge = this.edges.get(p.componentId)?.get(p.edgeId);
      let s = `${pre} edge=${edge ?? p.edgeId} ${lookupName(PKTMON_DIRECTION, p.dirTag)} PID=${p.processId} TID=${p.threadId} CPU=${p.cpu}`;
      if (p.appearance) s += ` appearance=${p.appearance}`;
      if (p.pktNumber > 1) s += ` pkt=${p.pktNumber}`;
      if (p.filterId) s += ` filter=${p.filterId}`;
      if (p.dropped) s += ` DROPPED reason="${pktmonDropReasonName(p.dropReason)}" (${p.dropReason}) location=0x${p.dropLocation.toString(16).padStart(8, '0')}`;
      if (p.relabelled) s += ' (PacketType 2, Ethernet II frame)';
      return s;
    }
    let s = `${pre} PID=${p.processId} TID=${p.threadId} CPU=${p.cpu}`;
    if (p.vmswitch) {
      const vm = p.vmswitch;
      s += ` VlanId=${vm.vlanId} SrcPortId=${vm.portId} SrcNicType=${vm.nicType} SrcNicName=${vm.nicName} SrcPortName=${vm.portName}`;
      if (vm.destinationCount > 0) s += ` DstNicCount=${vm.destinationCount}`;
      s += ` HashValue=${vm.hashValue.toString(16).padStart(8, '0')}`;
    }
    if (p.truncated) s += ' truncated';
    if (p.metadata) s += ` ${p.metadata}`;
    return s;
  }

  /** An NDIS packet whose comment is its interface, process, thread and CPU alone. */
  plain(p: PacketRecord): boolean {
    return p.source !== SOURCE.PKTMON && !p.vmswitch && !p.truncated && !p.metadata;
  }

  /** A plain packet's comment, encoded (build()'s text, byte for byte); shared: never modified. */
  cached(p: PacketRecord, i: CaptureInterface): Uint8Array {
    const where = i.id * 65536 + p.cpu;
    let b = this.plainBytes.get(where)?.get(p.processId)?.get(p.threadId);
    if (b) return b;
    if (this.cachedCount >= COMMENT_CACHE_SIZE) this.clear();
    let byProcess = this.plainBytes.get(where);
    if (!byProcess) this.plainBytes.set(where, (byProcess = new Map()));
    let byThread = byProcess.get(p.processId);
    if (!byThread) byProcess.set(p.processId, (byThread = new Map()));
    b = this.enc.encode(this.build(p, i));
    byThread.set(p.threadId, b);
    this.cachedCount++;
    return b;
  }

  /**
   * A vSwitch packet's comment (build()'s text, byte for byte) from its encoded part up to
   * HashValue=, kept per interface, CPU, process and thread for the port's strings and
   * destination count, then the hash in hex and ' truncated'; undefined for a packet with WLAN
   * metadata (built in full). Valid until the next packet.
   */
  vmswitch(p: PacketRecord, i: CaptureInterface): Uint8Array | undefined {
    const vm = p.vmswitch;
    if (!vm || p.metadata || p.source === SOURCE.PKTMON) return undefined;
    const where = i.id * 65536 + p.cpu;
    const heads = this.vmHeads.get(where)?.get(p.processId)?.get(p.threadId);
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
    e ??= this.vmHead(p, i, where);
    const out = this.vmScratch;
    const head = e.bytes;
    out.set(head, 0);
    let n = head.length;
    const h = vm.hashValue >>> 0;
    for (let k = 28; k >= 0; k -= 4) out[n++] = HEX[(h >>> k) & 15]!;
    if (p.truncated) {
      out.set(TRUNCATED, n);
      n += TRUNCATED.length;
    }
    return out.subarray(0, n);
  }

  private vmHead(p: PacketRecord, i: CaptureInterface, where: number): VmHead {
    const vm = p.vmswitch!;
    const text = this.build(p, i);
    const head = text.slice(0, text.lastIndexOf(' HashValue=') + ' HashValue='.length);
    const e: VmHead = { ...vm, bytes: this.enc.encode(head) };
    if (this.cachedCount >= COMMENT_CACHE_SIZE) this.clear();
    let byProcess = this.vmHeads.get(where);
    if (!byProcess) this.vmHeads.set(where, (byProcess = new Map()));
    let byThread = byProcess.get(p.processId);
    if (!byThread) byProcess.set(p.processId, (byThread = new Map()));
    const heads = byThread.get(p.threadId);
    if (!heads) byThread.set(p.threadId, [e]);
    else if (heads.length < VM_HEADS_PER_THREAD) heads.push(e);
    else heads[this.cachedCount % VM_HEADS_PER_THREAD] = e;
    this.cachedCount++;
    if (this.vmScratch.length < e.bytes.length + 32) this.vmScratch = new Uint8Array(e.bytes.length * 2 + 32);
    return e;
  }

  private clear(): void {
    this.plainBytes.clear();
    this.vmHeads.clear();
    this.cachedCount = 0;
  }

  private makePrefix(p: PacketRecord, i: CaptureInterface): string {
    if (p.source === SOURCE.PKTMON) return `component=${p.componentId}${i.name.includes(':') ? ` ${i.name.slice(0, i.name.lastIndexOf(':'))}` : ''}`;
    return p.lowerIfIndex !== p.miniportIfIndex ? `ifIndex=${p.lowerIfIndex} miniport=${p.miniportIfIndex}` : `ifIndex=${p.lowerIfIndex}`;
  }
}

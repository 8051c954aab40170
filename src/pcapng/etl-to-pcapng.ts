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
import type { PacketRecord } from '../providers/packet-record.js';
import type { ChunkSink } from './file-sink.js';
import { PacketComments } from './packet-comments.js';
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
  private readonly comments: PacketComments;
  private readonly epb: { direction: number; packetIdHi: number; packetIdLo: number; comment: Uint8Array } = { direction: 0, packetIdHi: 0, packetIdLo: 0, comment: new Uint8Array(0) };
  private pending: Promise<void> = Promise.resolve();

  constructor(private readonly sink: ChunkSink, application: string, info: DecodeStart, private readonly labels?: CaptureLabels) {
    this.comments = new PacketComments(info.components);
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
    this.epb.comment = this.labels ? this.comments.encode(this.comments.build(p, i) + this.labels.packet(p, i)) : this.comments.encoded(p, i);
    this.writer.writePacket(p.interfaceId, this.baseHi + carry, ts - carry * TWO32, p.data, p.originalLength, this.epb);
  }
}

function baseName(p: string): string {
  return p.split(/[\\/]/).pop() ?? p;
}

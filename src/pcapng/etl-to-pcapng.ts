/**
 * ETL -> pcapng: one EPB per packet (per reassembled NDIS packet, per PktMon 160/170 appearance,
 * drops included and marked), one IDB per interface written just before its first packet, times
 * in 100 ns (if_tsresol 7). Same input, same bytes out, on every OS.
 */
import type { ByteSource } from '../etl/byte-source.js';
import { FILETIME_UNIX_EPOCH } from '../util/time.js';
import { decodePackets, summarizeEtl, type DecodeStats, type EtlSummary } from '../providers/capture-decoder.js';
import type { CaptureInterface } from '../providers/interfaces.js';
import { SOURCE, type PacketRecord } from '../providers/packet-record.js';
import { lookupName, PKTMON_DIRECTION, pktmonDropReasonName } from '../providers/pktmon-tables.js';
import type { PktmonComponents } from '../providers/pktmon.js';
import type { ChunkSink } from './file-sink.js';
import { PcapngWriter } from './pcapng-writer.js';

export interface ConvertOptions {
  application: string;
  compat?: boolean;
  budgetBytes?: number;
  onProgress?: (pass: 1 | 2, position: number, size: number) => void;
}

export interface ConvertResult {
  summary: EtlSummary;
  stats: DecodeStats;
  bytesWritten: number;
}

const TWO32 = 4294967296;

export async function convertEtlToPcapng(openSource: () => Promise<ByteSource>, sink: ChunkSink, opts: ConvertOptions): Promise<ConvertResult> {
  const { summary, header, components } = await summarizeEtl(openSource, opts.onProgress ? { onProgress: opts.onProgress } : {});
  const w = new PcapngWriter();
  w.writeSectionHeader({
    application: opts.application,
    os: `Windows ${summary.header.osVersion} build ${summary.header.osBuild}`,
    comment: `converted from ${baseName(summary.file.name)} (${summary.header.loggerName || 'ETW session'})`,
  });
  const base = header.startTime - FILETIME_UNIX_EPOCH;
  const baseHi = Number(base >> 32n);
  const baseLo = Number(base & 0xffffffffn);
  const comments = new CommentBuilder(components);
  const scratch = new Uint8Array(2048);
  const enc = new TextEncoder();
  const flush = async (partial: boolean): Promise<void> => {
    for (const c of w.takeReady(partial)) await sink.write(c, () => w.recycle(c));
  };
  const epb = { direction: 0, packetIdHi: 0, packetIdLo: 0, comment: scratch.subarray(0, 0) };
  const stats = await decodePackets(
    openSource,
    components,
    {
      ...(opts.compat !== undefined ? { compat: opts.compat } : {}),
      ...(opts.budgetBytes !== undefined ? { budgetBytes: opts.budgetBytes } : {}),
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      afterBuffer: () => flush(false),
    },
    (i) => {
      w.addInterface({ linkType: i.linkType, name: i.name, description: i.description, ipv4: i.ipv4, ipv6: i.ipv6, ...(i.mac ? { mac: i.mac } : {}) });
    },
    (p, i) => {
      const ts = baseLo + p.ticks;
      const carry = Math.floor(ts / TWO32);
      const text = comments.build(p, i);
      const { written } = enc.encodeInto(text, scratch);
      epb.direction = p.direction;
      epb.packetIdHi = p.pktGroupIdHi;
      epb.packetIdLo = p.pktGroupIdLo;
      epb.comment = scratch.subarray(0, written);
      w.writePacket(p.interfaceId, baseHi + carry, ts - carry * TWO32, p.data, p.originalLength, epb);
    },
  );
  await flush(true);
  return { summary, stats, bytesWritten: w.bytesWritten };
}

function baseName(p: string): string {
  return p.split(/[\\/]/).pop() ?? p;
}

/** Builds EPB comments, caching the per-interface part. */
class CommentBuilder {
  private readonly prefix = new Map<number, string>();
  private readonly edges = new Map<number, Map<number, string>>();
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

  private makePrefix(p: PacketRecord, i: CaptureInterface): string {
    if (p.source === SOURCE.PKTMON) return `component=${p.componentId}${i.name.includes(':') ? ` ${i.name.slice(0, i.name.lastIndexOf(':'))}` : ''}`;
    return p.lowerIfIndex !== p.miniportIfIndex ? `ifIndex=${p.lowerIfIndex} miniport=${p.miniportIfIndex}` : `ifIndex=${p.lowerIfIndex}`;
  }
}

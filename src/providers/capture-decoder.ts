/**
 * Decodes a capture ETL in two passes over the file:
 *  1. summarizeEtl: every record in file order: header, record and event counts per provider,
 *     lost events, the PktMon rundown (component names, which Windows logs after the packets),
 *     packet counts and first/last event times. This is all `wnvcap info` needs.
 *  2. decodePackets: packet events in timestamp order (bounded merge), reassembled and attributed
 *     to interfaces named from pass 1.
 * Memory is bounded by the merge budget, not by the file size.
 */
import type { ByteSource } from '../etl/byte-source.js';
import { CLOCK_TYPE_NAMES, LOGFILE_MODE_COMPRESSED, LOGFILE_MODE_NAMES, RECORD_KIND, RECORD_KIND_NAMES } from '../etl/constants.js';
import type { EtlBufferReader } from '../etl/buffer-reader.js';
import { openEtl, readOrdered, scanRecords } from '../etl/etl-reader.js';
import { IssueLog } from '../etl/issues.js';
import type { LogfileHeader } from '../etl/logfile-header.js';
import type { EtlRecord } from '../etl/record.js';
import { formatGuid, guidEquals } from '../util/guid.js';
import { filetimeToIso } from '../util/time.js';
import { NDIS_PACKET_CAPTURE, PKTMON, providerName } from './guids.js';
import { InterfaceTable, type CaptureInterface } from './interfaces.js';
import { NDIS_EVENT, NDIS_KW, NdisDecoder, type NdisCounters } from './ndiscap.js';
import { PacketRecord } from './packet-record.js';
import { decodePktmonPacket, PKTMON_EVENT, PktmonComponents, type PktmonComponent, type PktmonFilter } from './pktmon.js';
import { lookupName, PKTMON_COMPONENT_TYPE } from './pktmon-tables.js';

export interface EventCount {
  id: number;
  version: number;
  count: number;
}

export interface ProviderCount {
  guid: string;
  name: string | null;
  events: number;
  byEvent: EventCount[];
}

export interface EtlSummary {
  schema: 'wnvcap.info/1';
  file: { name: string; sizeBytes: number };
  header: {
    osVersion: string;
    osBuild: number;
    pointerSize: number;
    clockType: number;
    clock: string;
    perfFreq: string;
    cpuSpeedMHz: number;
    numberOfProcessors: number;
    bufferSize: number;
    logFileMode: number;
    logFileModeFlags: string[];
    compressedMode: boolean;
    loggerName: string;
    logFileName: string;
    startTime: string;
    endTime: string | null;
    bootTime: string;
    timeZoneBiasMinutes: number;
    buffersWritten: number;
  };
  buffers: {
    count: number;
    compressed: number;
    compressedBytes: number;
    expandedBytes: number;
    cpus: number[];
    bad: number;
    skippedBytes: number;
  };
  lost: { eventsLost: number; buffersLost: number; buffersFlaggedEventsLost: number; buffersFlaggedBufferLost: number };
  records: { total: number; byKind: Record<string, number>; problems: number };
  providers: ProviderCount[];
  classicGuids: Array<{ guid: string; name: string | null; count: number }>;
  packets: { total: number; ndis: number; ndisFragments: number; vmswitch: number; pktmon: number; drops: number };
  interfaces: SummaryInterface[];
  pktmon: { components: PktmonComponent[]; filters: PktmonFilter[] } | null;
  time: { firstEvent: string | null; lastEvent: string | null; durationSeconds: number | null };
  issues: { counts: Record<string, number>; samples: Array<{ severity: string; kind: string; offset: number; message: string }> };
}

export interface SummaryInterface {
  source: 'ndis' | 'pktmon';
  ifIndex?: number;
  miniportIfIndex?: number;
  componentId?: number;
  name?: string;
  description?: string;
  type?: string;
  packets: number;
}

interface NdisIfCount {
  lower: number;
  miniport: number;
  packets: number;
}

/** Adds a provider's current run of one event key to its counts (a Map update per event was a tenth of a decode's time). */
function endRun(p: ProviderAcc): void {
  if (p.run > 0) p.counts.set(p.runKey, (p.counts.get(p.runKey) ?? 0) + p.run);
  p.run = 0;
}

interface ProviderAcc {
  guid: Uint8Array;
  /** Events by id * 256 + version, but for the current run of one key (runKey, run): see endRun(). */
  counts: Map<number, number>;
  runKey: number;
  run: number;
  total: number;
  /** The GUID compared once: PktMon, NDIS-PacketCapture or neither. */
  isPktmon: boolean;
  isNdis: boolean;
}

export interface SummaryResult {
  summary: EtlSummary;
  header: LogfileHeader;
  components: PktmonComponents;
}

export interface PassOptions {
  onProgress?: (pass: 1 | 2, position: number, size: number) => void;
}

/**
 * Counts what a file holds from its records in file order (pass 1, or the single pass of an
 * NDIS-only decode): kinds, events per provider, packets, PktMon rundown, first/last times.
 */
export class SummaryBuilder {
  readonly components = new PktmonComponents();
  private readonly kinds = new Array<number>(RECORD_KIND_NAMES.length).fill(0);
  private readonly providers: ProviderAcc[] = [];
  private last: ProviderAcc | undefined;
  private readonly classic = new Map<string, number>();
  private first = Infinity;
  private lastT = -Infinity;
  private ndisPackets = 0;
  private ndisFragments = 0;
  private vmPackets = 0;
  private pkt = 0;
  private drops = 0;
  /** PktMon events (any id) seen so far. */
  pktmonEvents = 0;
  private readonly ndisIf = new Map<number, NdisIfCount>();
  /** The interface of the last NDIS packet (most packets follow one of the same interface). */
  private lastIf: NdisIfCount | undefined;
  private readonly pktComp = new Map<number, number>();

  visit(rec: EtlRecord): void {
    const k = rec.kind;
    this.kinds[k]!++;
    if (k === RECORD_KIND.EVENT || k === RECORD_KIND.CLASSIC || k === RECORD_KIND.INSTANCE) {
      if (rec.ticks < this.first) this.first = rec.ticks;
      if (rec.ticks > this.lastT) this.lastT = rec.ticks;
    }
    if (k === RECORD_KIND.EVENT) {
      const b = rec.data;
      const g = rec.guidOffset;
      let acc = this.last;
      if (!acc || !guidEquals(b, g, acc.guid)) {
        acc = this.providers.find((p) => guidEquals(b, g, p.guid));
        if (!acc) {
          acc = { guid: b.slice(g, g + 16), counts: new Map(), runKey: -1, run: 0, total: 0, isPktmon: guidEquals(b, g, PKTMON), isNdis: guidEquals(b, g, NDIS_PACKET_CAPTURE) };
          this.providers.push(acc);
        }
        this.last = acc;
      }
      const key = rec.eventId * 256 + rec.version;
      if (key === acc.runKey) acc.run++;
      else {
        endRun(acc);
        acc.runKey = key;
        acc.run = 1;
      }
      acc.total++;
      if (acc.isPktmon) {
        this.pktmonEvents++;
        const id = rec.eventId;
        if (id === PKTMON_EVENT.PACKET || id === PKTMON_EVENT.DROP) {
          if (rec.userLength >= 34) {
            this.pkt++;
            if (id === PKTMON_EVENT.DROP) this.drops++;
            const c = rec.view.getUint16(rec.userOffset + 16, true);
            this.pktComp.set(c, (this.pktComp.get(c) ?? 0) + 1);
          }
        } else if (id >= 20 && id <= 110) this.components.add(rec);
      } else if (acc.isNdis) {
        const id = rec.eventId;
        if ((id === NDIS_EVENT.FRAGMENT || id === NDIS_EVENT.VMSWITCH_FRAGMENT) && rec.userLength >= 12) {
          this.ndisFragments++;
          if (rec.keywordLo & NDIS_KW.END) {
            this.ndisPackets++;
            if (id === NDIS_EVENT.VMSWITCH_FRAGMENT) this.vmPackets++;
            const lower = rec.view.getUint32(rec.userOffset + 4, true);
            let e = this.lastIf;
            if (e?.lower !== lower) {
              e = this.ndisIf.get(lower);
              if (!e) this.ndisIf.set(lower, (e = { lower, miniport: rec.view.getUint32(rec.userOffset, true), packets: 0 }));
              this.lastIf = e;
            }
            e.packets++;
          }
        }
      }
    } else if (k === RECORD_KIND.CLASSIC || k === RECORD_KIND.INSTANCE) {
      const gs = formatGuid(rec.data, rec.guidOffset);
      this.classic.set(gs, (this.classic.get(gs) ?? 0) + 1);
    }
  }

  finish(reader: EtlBufferReader, src: ByteSource, issues: IssueLog, recordProblems: number): EtlSummary {
    for (const p of this.providers) endRun(p);
    const h = reader.header;
    const st = reader.stats;
    const components = this.components;
    if (h.eventsLost > 0) issues.add('warning', 'events-lost', 0, `the logger reports ${h.eventsLost} events lost (logfile header)`);
    if (h.buffersLost > 0) issues.add('warning', 'buffer-lost', 0, `the logger reports ${h.buffersLost} buffers lost (logfile header)`);
    const iso = (t: number): string | null => (Number.isFinite(t) ? filetimeToIso(reader.clock.filetime(t)) : null);
    const byKind: Record<string, number> = {};
    this.kinds.forEach((n, i) => { if (n > 0) byKind[RECORD_KIND_NAMES[i]!] = n; });
    const interfaces: SummaryInterface[] = [];
    for (const e of [...this.ndisIf.values()].sort((a, b) => a.lower - b.lower)) {
      interfaces.push({ source: 'ndis', ifIndex: e.lower, miniportIfIndex: e.miniport, packets: e.packets });
    }
    for (const [id, n] of [...this.pktComp.entries()].sort((a, b) => a[0] - b[0])) {
      const c = components.components.get(id);
      interfaces.push({
        source: 'pktmon', componentId: id, packets: n,
        ...(c ? { name: c.name, description: c.description, type: lookupName(PKTMON_COMPONENT_TYPE, c.type) } : {}),
        ...(c?.props[1] !== undefined ? { ifIndex: c.props[1] } : {}),
        ...(c?.props[2] !== undefined ? { miniportIfIndex: c.props[2] } : {}),
      });
    }
    if (components.malformed > 0) issues.add('warning', 'malformed-event', 0, `${components.malformed} PktMon rundown events did not fit their layout`);
    const first = this.first;
    const lastT = this.lastT;
    return {
      schema: 'wnvcap.info/1',
      file: { name: src.name, sizeBytes: src.size },
      header: {
        osVersion: `${h.version[0]}.${h.version[1]}`,
        osBuild: h.osBuild,
        pointerSize: h.pointerSize,
        clockType: h.clockType,
        clock: CLOCK_TYPE_NAMES[h.clockType] ?? `unknown (${h.clockType})`,
        perfFreq: h.perfFreq.toString(),
        cpuSpeedMHz: h.cpuSpeedMHz,
        numberOfProcessors: h.numberOfProcessors,
        bufferSize: h.bufferSize,
        logFileMode: h.logFileMode,
        logFileModeFlags: LOGFILE_MODE_NAMES.filter(([bit]) => (h.logFileMode & bit) >>> 0 !== 0).map(([, n]) => n),
        compressedMode: (h.logFileMode & LOGFILE_MODE_COMPRESSED) !== 0,
        loggerName: h.loggerName,
        logFileName: h.logFileName,
        startTime: filetimeToIso(h.startTime),
        endTime: h.endTime > 0n ? filetimeToIso(h.endTime) : null,
        bootTime: filetimeToIso(h.bootTime),
        timeZoneBiasMinutes: h.timeZoneBiasMinutes,
        buffersWritten: h.buffersWritten,
      },
      buffers: {
        count: st.buffers, compressed: st.compressedBuffers, compressedBytes: st.compressedBytes, expandedBytes: st.expandedBytes,
        cpus: [...st.cpus].sort((a, b) => a - b), bad: st.badBuffers, skippedBytes: st.skippedBytes,
      },
      lost: { eventsLost: h.eventsLost, buffersLost: h.buffersLost, buffersFlaggedEventsLost: st.eventsLostFlags, buffersFlaggedBufferLost: st.bufferLostFlags },
      records: { total: this.kinds.reduce((a, b) => a + b, 0), byKind, problems: recordProblems },
      providers: this.providers.map((p) => {
        const guid = formatGuid(p.guid, 0);
        return {
          guid, name: providerName(guid) ?? null, events: p.total,
          byEvent: [...p.counts.entries()].map(([k, count]) => ({ id: Math.floor(k / 256), version: k % 256, count })).sort((a, b) => a.id - b.id || a.version - b.version),
        };
      }).sort((a, b) => b.events - a.events || a.guid.localeCompare(b.guid)),
      classicGuids: [...this.classic.entries()].map(([guid, count]) => ({ guid, name: providerName(guid) ?? null, count })).sort((a, b) => b.count - a.count || a.guid.localeCompare(b.guid)),
      packets: { total: this.ndisPackets + this.pkt, ndis: this.ndisPackets, ndisFragments: this.ndisFragments, vmswitch: this.vmPackets, pktmon: this.pkt, drops: this.drops },
      interfaces,
      pktmon: components.components.size > 0 || components.filters.length > 0
        ? { components: [...components.components.values()].sort((a, b) => a.id - b.id), filters: components.filters }
        : null,
      time: {
        firstEvent: iso(first),
        lastEvent: iso(lastT),
        durationSeconds: Number.isFinite(first) && Number.isFinite(lastT) ? (lastT - first) / 1e7 : null,
      },
      issues: issues.toJSON(),
    };
  }
}

/** Pass 1. Throws InputError when the file is not an ETL file; damage becomes issues. */
export async function summarizeEtl(openSource: () => Promise<ByteSource>, opts: PassOptions = {}): Promise<SummaryResult> {
  const issues = new IssueLog();
  const src = await openSource();
  const reader = await openEtl(src, issues);
  const builder = new SummaryBuilder();
  let result;
  try {
    result = await scanRecords(reader, { issues, ...(opts.onProgress ? { onProgress: (p, s) => opts.onProgress!(1, p, s) } : {}) }, (rec: EtlRecord) => builder.visit(rec));
  } finally {
    await reader.close();
  }
  return { summary: builder.finish(reader, src, issues, result.recordProblems), header: reader.header, components: builder.components };
}

export interface DecodeStats {
  packets: number;
  bytes: number;
  drops: number;
  /** PktMon PacketType-2 frames written as Ethernet (etl-format.md 4.4). */
  relabelled: number;
  /** PktMon packet types that start above L2/L3 (4-11), not written. */
  unsupportedPacketTypes: number;
  malformed: number;
  lateEvents: number;
  maxHeldBytes: number;
  /** Buffers whose record walk stopped early (single pass). */
  recordProblems: number;
  ndis: NdisCounters;
  interfaces: CaptureInterface[];
}

export interface DecodeOptions extends PassOptions {
  /** etl2pcapng compatibility: keep PktMon PacketType 2 as 802.11. */
  compat?: boolean;
  budgetBytes?: number;
  /** Awaited after each buffer so the caller can flush output. */
  afterBuffer?: () => Promise<void>;
  /** The file is still being written (etl-reader.ts ReadOptions.follow). */
  follow?: { latencyMs: number; idle: () => Promise<void> };
  /**
   * Single pass: an already-open reader, a SummaryBuilder fed every record, and the issue log to
   * report damage in. With abortOnPktmon the pass throws PKTMON_SEEN at the first PktMon packet
   * (its interfaces need the rundown, logged last: the caller falls back to two passes).
   */
  single?: { reader: EtlBufferReader; summary: SummaryBuilder; issues: IssueLog; abortOnPktmon: boolean };
}

/** Thrown by a single pass that met a PktMon packet. */
export const PKTMON_SEEN = new Error('PktMon packets need the two-pass decode');

/** Pass 2: packets in timestamp order. `onPacket` gets a reused record (data valid during the call). */
export async function decodePackets(
  openSource: () => Promise<ByteSource>,
  components: PktmonComponents,
  opts: DecodeOptions,
  onInterface: (i: CaptureInterface) => void,
  onPacket: (p: PacketRecord, i: CaptureInterface) => void,
): Promise<DecodeStats> {
  const single = opts.single;
  const issues = single?.issues ?? new IssueLog(); // two passes: problems were reported by pass 1
  const reader = single?.reader ?? (await openEtl(await openSource(), issues));
  const table = new InterfaceTable(components.components);
  const ndis = new NdisDecoder();
  const pkt = new PacketRecord();
  const compat = opts.compat === true;
  const stats: DecodeStats = {
    packets: 0, bytes: 0, drops: 0, relabelled: 0, unsupportedPacketTypes: 0, malformed: 0, lateEvents: 0, maxHeldBytes: 0, recordProblems: 0,
    ndis: ndis.counters, interfaces: table.list,
  };
  const emit = (): void => {
    const id = table.idFor(pkt, onInterface);
    pkt.interfaceId = id;
    const i = table.list[id]!;
    i.packets++;
    i.bytes += pkt.data.length;
    stats.packets++;
    stats.bytes += pkt.data.length;
    onPacket(pkt, i);
  };
  try {
    const r = await readOrdered(
      reader,
      {
        issues, reportRecords: single !== undefined,
        ...(opts.budgetBytes ? { budgetBytes: opts.budgetBytes } : {}),
        ...(opts.onProgress ? { onProgress: (p: number, s: number) => opts.onProgress!(2, p, s) } : {}),
        ...(opts.afterBuffer ? { afterBuffer: opts.afterBuffer } : {}),
        ...(opts.follow ? { follow: opts.follow } : {}),
      },
      (rec) => {
        single?.summary.visit(rec);
        if (rec.kind !== RECORD_KIND.EVENT) return false;
        const b = rec.data;
        const g = rec.guidOffset;
        if (b[g] === NDIS_PACKET_CAPTURE[0] && guidEquals(b, g, NDIS_PACKET_CAPTURE)) return rec.eventId >= 1001 && rec.eventId <= 1003;
        if (b[g] === PKTMON[0] && guidEquals(b, g, PKTMON)) {
          const packet = rec.eventId === PKTMON_EVENT.PACKET || rec.eventId === PKTMON_EVENT.DROP;
          if (packet && single?.abortOnPktmon) throw PKTMON_SEEN;
          return packet;
        }
        return false;
      },
      (rec) => {
        if (rec.eventId >= 1001 && rec.eventId <= 1003) {
          if (ndis.decode(rec, pkt)) emit();
          return;
        }
        if (!decodePktmonPacket(rec, pkt, compat)) {
          stats.malformed++;
          return;
        }
        if (pkt.pktmonPacketType >= 4) {
          stats.unsupportedPacketTypes++;
          return;
        }
        if (pkt.relabelled) stats.relabelled++;
        if (pkt.dropped) stats.drops++;
        emit();
      },
    );
    stats.lateEvents = r.lateEvents;
    stats.maxHeldBytes = r.maxHeldBytes;
    stats.recordProblems = r.recordProblems;
  } finally {
    await reader.close();
  }
  stats.malformed += ndis.counters.malformed;
  return stats;
}

/**
 * One decode of a capture feeding every consumer (the pcapng writer, the analyzer, ...): one
 * read of the file when it holds no PktMon packets (NDIS captures: the big ones); a PktMon packet
 * needs its component's name, which the rundown logs last, so a file with one is read twice
 * (summary first, then packets), after every consumer was told to restart.
 */
import type { ByteSource } from '../etl/byte-source.js';
import type { FollowSource } from '../etl/follow-source.js';
import { openEtl } from '../etl/etl-reader.js';
import { IssueLog } from '../etl/issues.js';
import type { LogfileHeader } from '../etl/logfile-header.js';
import { decodePackets, PKTMON_SEEN, SummaryBuilder, summarizeEtl, type DecodeOptions, type DecodeStats, type EtlSummary } from './capture-decoder.js';
import type { CaptureInterface } from './interfaces.js';
import type { PacketRecord } from './packet-record.js';
import type { PktmonComponents } from './pktmon.js';

export interface DecodeStart {
  header: LogfileHeader;
  fileName: string;
  osVersion: string;
  components: PktmonComponents;
}

export interface CaptureConsumer {
  /** Before the first interface and packet (again after restart()). */
  start(s: DecodeStart): void;
  addInterface(i: CaptureInterface): void;
  /** A reused record: its data is valid during the call only. */
  packet(p: PacketRecord, i: CaptureInterface): void;
  /** Awaited after each ETL buffer (output back-pressure). */
  afterBuffer?(): Promise<void>;
  /** The one-read attempt met a PktMon packet: drop what was received; start() comes again. */
  restart(): Promise<void>;
  /** Follow mode: the reader waits for the file to grow; send out everything received. */
  idle?(): Promise<void>;
}

export interface DecodeCaptureOptions {
  /** etl2pcapng compatibility: keep PktMon PacketType 2 as 802.11. */
  compat?: boolean;
  budgetBytes?: number;
  onProgress?: (pass: 1 | 2, position: number, size: number) => void;
  /** Read the file twice even without PktMon packets (both ways must give the same output). */
  forceTwoPasses?: boolean;
}

export interface DecodeCaptureResult {
  summary: EtlSummary;
  stats: DecodeStats;
  components: PktmonComponents;
  /** 1 when the file was read once, else 2. */
  passes: 1 | 2;
}

interface FanOut {
  options: DecodeOptions;
  onInterface: (i: CaptureInterface) => void;
  onPacket: (p: PacketRecord, i: CaptureInterface) => void;
}

function fanOut(consumers: readonly CaptureConsumer[], o: DecodeCaptureOptions): FanOut {
  const waiting = consumers.filter((c) => c.afterBuffer);
  return {
    options: {
      ...(o.compat !== undefined ? { compat: o.compat } : {}),
      ...(o.budgetBytes !== undefined ? { budgetBytes: o.budgetBytes } : {}),
      ...(waiting.length ? { afterBuffer: async () => { for (const c of waiting) await c.afterBuffer!(); } } : {}),
    },
    onInterface: (i) => { for (const c of consumers) c.addInterface(i); },
    onPacket: consumers.length === 1 ? (p, i) => consumers[0]!.packet(p, i) : (p, i) => { for (const c of consumers) c.packet(p, i); },
  };
}

/** Decodes the capture once into every consumer; see the module comment for when it reads twice. */
export async function decodeCapture(openSource: () => Promise<ByteSource>, consumers: readonly CaptureConsumer[], o: DecodeCaptureOptions = {}): Promise<DecodeCaptureResult> {
  const feed = fanOut(consumers, o);
  if (!o.forceTwoPasses) {
    const issues = new IssueLog();
    const src = await openSource();
    const reader = await openEtl(src, issues);
    const builder = new SummaryBuilder();
    const start: DecodeStart = { header: reader.header, fileName: src.name, osVersion: `${reader.header.version[0]}.${reader.header.version[1]}`, components: builder.components };
    for (const c of consumers) c.start(start);
    try {
      const stats = await decodePackets(openSource, builder.components, {
        ...feed.options, single: { reader, summary: builder, issues, abortOnPktmon: true },
        ...(o.onProgress ? { onProgress: (_p: 1 | 2, pos: number, size: number) => o.onProgress!(2, pos, size) } : {}),
      }, feed.onInterface, feed.onPacket);
      return { summary: builder.finish(reader, src, issues, stats.recordProblems), stats, components: builder.components, passes: 1 };
    } catch (e) {
      if (e !== PKTMON_SEEN) throw e;
      for (const c of consumers) await c.restart();
    }
  }
  const { summary, header, components } = await summarizeEtl(openSource, o.onProgress ? { onProgress: o.onProgress } : {});
  for (const c of consumers) c.start({ header, fileName: summary.file.name, osVersion: summary.header.osVersion, components });
  const stats = await decodePackets(openSource, components, { ...feed.options, ...(o.onProgress ? { onProgress: o.onProgress } : {}) }, feed.onInterface, feed.onPacket);
  return { summary, stats, components, passes: 2 };
}

export interface FollowCaptureOptions {
  /** How long each ETW buffer's events wait for older events in other CPUs' buffers. */
  latencyMs: number;
  compat?: boolean;
  budgetBytes?: number;
  /** Where problems are reported as they are found (lost events, damage). */
  issues?: IssueLog;
}

/**
 * Follow mode: one pass over a capture its session still writes, each packet out within about
 * latencyMs of its buffer reaching the file. Never restarts: a PktMon packet met before the
 * rundown (logged at the stop) is named by its component id; the run folder's decode, after the
 * stop, has the names.
 */
export async function followCapture(source: FollowSource, consumers: readonly CaptureConsumer[], o: FollowCaptureOptions): Promise<DecodeCaptureResult> {
  const feed = fanOut(consumers, o);
  const issues = o.issues ?? new IssueLog();
  const reader = await openEtl(source, issues);
  const builder = new SummaryBuilder();
  const start: DecodeStart = { header: reader.header, fileName: source.name, osVersion: `${reader.header.version[0]}.${reader.header.version[1]}`, components: builder.components };
  for (const c of consumers) c.start(start);
  const idlers = consumers.filter((c) => c.idle);
  const stats = await decodePackets(() => Promise.resolve(source), builder.components, {
    ...feed.options,
    follow: { latencyMs: o.latencyMs, idle: async () => { for (const c of idlers) await c.idle!(); } },
    single: { reader, summary: builder, issues, abortOnPktmon: false },
  }, feed.onInterface, feed.onPacket);
  return { summary: builder.finish(reader, source, issues, stats.recordProblems), stats, components: builder.components, passes: 1 };
}

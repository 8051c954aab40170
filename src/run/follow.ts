/**
 * Follow mode: the capture decoded while its session writes it, each packet out (to stdout,
 * Wireshark's fifo or a file) within a few seconds of ETW writing its buffer. A sniff follows its
 * target's packets alone, named by the snapshot. Lost events and damage go into the stream (the
 * next packet's comment says so) and to the log as they are found, never silently. The run
 * folder is finished as always after the stop (run/finish.ts): follow mode only adds the stream.
 */
import { join } from 'node:path';
import { SnapshotLabels, TargetLabels } from '../analysis/labels.js';
import { followFile } from '../etl/follow-source.js';
import { IssueLog } from '../etl/issues.js';
import { PcapngConsumer, type CaptureLabels } from '../pcapng/etl-to-pcapng.js';
import type { ChunkSink } from '../pcapng/file-sink.js';
import type { CaptureInterface } from '../providers/interfaces.js';
import type { PacketRecord } from '../providers/packet-record.js';
import { followCapture } from '../providers/decode-capture.js';
import { loadTopology } from '../topology/snapshot-file.js';
import type { Target } from '../topology/target.js';
import type { LiveReader } from '../capture/lifecycle.js';

/** How long a buffer's events wait for older events in other CPUs' buffers (ETW flushes each CPU's buffer on its own). */
export const FOLLOW_LATENCY_MS = 1000;

export interface FollowRequest {
  /** Where the stream goes; closed by finish(). */
  sink: ChunkSink;
  application: string;
  /** Only this target's packets (sniff); else every packet. */
  target?: Target;
  latencyMs?: number;
  /** Told of lost events and damage as they are found. */
  warn: (message: string) => void;
  /** Told what is worth knowing but wrong with nothing (events out of time order): not a warning. */
  note?: (message: string) => void;
}

export interface FollowCounts {
  /** Packets decoded, and written to the stream. */
  packets: number;
  written: number;
  /** Events delivered after a later one had gone out (a buffer later than the latency window). */
  lateEvents: number;
  /** Bytes that reached the stream. */
  bytes: number;
  /** Why the stream ended before the capture did. */
  stopped?: string;
}

/** Adds what went wrong since the last packet to the next packet's comment. */
class NotedLabels implements CaptureLabels {
  private pending = '';
  written = 0;
  constructor(private readonly inner: CaptureLabels | undefined) {}

  note(text: string): void {
    this.pending += ` | wnvcap: ${text}`;
  }

  interface(i: CaptureInterface): { name: string; description: string } | undefined {
    return this.inner?.interface(i);
  }

  keep(p: PacketRecord, i: CaptureInterface): boolean {
    return this.inner?.keep ? this.inner.keep(p, i) : true;
  }

  packet(p: PacketRecord, i: CaptureInterface): string {
    this.written++;
    const s = (this.inner ? this.inner.packet(p, i) : '') + this.pending;
    this.pending = '';
    return s;
  }
}

/** The snapshot's labels for the stream: the target's alone (attributing each packet itself), or the whole capture's. */
async function streamLabels(runDir: string, r: FollowRequest): Promise<CaptureLabels | undefined> {
  let all: SnapshotLabels | undefined;
  try {
    all = new SnapshotLabels(await loadTopology(join(runDir, 'snapshot.json')));
  } catch (e) {
    r.warn(`follow: ${(e as Error).message}: the stream has no names${r.target ? `, and the packets of ${r.target.label} cannot be told apart` : ''}`);
    return r.target ? { interface: () => undefined, packet: () => '', keep: () => false } : undefined;
  }
  return r.target ? new TargetLabels(all, r.target, { attribute: true }) : all;
}

/**
 * Starts following `etl` (written by the session, or by the remote tail: capture/lifecycle.ts);
 * the run folder's snapshot.json names the packets. finish(), after the stop, reads to the end.
 */
export function startFollow(runDir: string, etl: string, r: FollowRequest): LiveReader & { counts: FollowCounts } {
  const source = followFile(etl);
  const issues = new IssueLog();
  const counts: FollowCounts = { packets: 0, written: 0, lateEvents: 0, bytes: 0 };
  const sink: ChunkSink = {
    write: (chunk, written) => { counts.bytes += chunk.length; return r.sink.write(chunk, written); },
    close: () => r.sink.close(),
    reset: () => r.sink.reset(),
  };
  const warnings: string[] = [];
  let labels: NotedLabels | undefined;
  issues.onIssue = (i) => {
    if (i.severity !== 'warning') return;
    labels?.note(i.message);
    r.warn(`follow: ${i.message}`);
  };
  const done = (async () => {
    labels = new NotedLabels(await streamLabels(runDir, r));
    const pcapng = new PcapngConsumer(sink, r.application, labels);
    const res = await followCapture(source, [pcapng], { latencyMs: r.latencyMs ?? FOLLOW_LATENCY_MS, issues });
    await pcapng.finish();
    counts.packets = res.stats.packets;
    counts.lateEvents = res.stats.lateEvents;
    // Wireshark sorts nothing and loses nothing for it: a note, not a warning (an extcap's warnings are errors to Wireshark).
    if (res.stats.lateEvents) r.note?.(`follow: ${res.stats.lateEvents} events reached the stream after later ones (a buffer written later than the ${r.latencyMs ?? FOLLOW_LATENCY_MS} ms window); the run folder's pcapng has them in order`);
  })().catch((e: unknown) => {
    source.end();
    counts.stopped = (e as Error).message;
    warnings.push(`follow stopped: ${counts.stopped}; the run folder still gets the whole capture`);
  });
  return {
    counts,
    async finish() {
      source.end();
      await done;
      counts.written = labels?.written ?? 0;
      await r.sink.close().catch((e: unknown) => { if (!counts.stopped) warnings.push(`follow: the stream could not be closed: ${(e as Error).message}`); });
      await source.close();
      return warnings;
    },
  };
}

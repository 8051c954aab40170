/** `wnvcap decode <capture.etl> -o <out.pcapng>`: ETL to pcapng. */
import { rm } from 'node:fs/promises';
import type { CaptureLabels } from '../../pcapng/etl-to-pcapng.js';
import type { ChunkSink } from '../../pcapng/file-sink.js';
import { InputError, UsageError } from '../../util/errors.js';
import { parseDurationMs } from '../../util/time.js';
import { defineCommand } from '../command.js';
import type { CliContext } from '../context.js';
import { makeProgress } from '../progress.js';
import { reportIssues } from './issues-output.js';

export interface DecodeArgs {
  input: string;
  output: string;
  compat: boolean;
  json: boolean;
  snapshot?: string;
  /** Follow mode: read the file while it is written; stop after idleMs without growth (else at Ctrl-C). */
  follow?: { latencyMs: number; idleMs?: number };
}

export default defineCommand({
  command: 'decode <input>',
  describe: 'convert an ETL capture (NDIS-PacketCapture, PktMon) to pcapng',
  options: (y) => y
    .positional('input', { type: 'string', demandOption: true, describe: '<capture.etl>' })
    .option('output', { alias: 'o', type: 'string', demandOption: true, describe: '<out.pcapng>' })
    .option('compat', { type: 'boolean', default: false, describe: 'keep PktMon PacketType 2 as 802.11, as etl2pcapng does' })
    .option('snapshot', { type: 'string', describe: '<snapshot.json> of the host: interfaces named by container and compartment, packets commented with theirs' })
    .option('json', { type: 'boolean', default: false, describe: 'print the result as JSON' })
    .option('follow', { alias: 'f', type: 'boolean', default: false, describe: 'read the file while a session writes it, packets out within seconds (-o - for stdout); Ctrl-C ends' })
    .option('idle', { type: 'string', describe: '<time> with --follow: end once the file has not grown for this long' })
    .option('latency', { type: 'string', default: '1s', describe: '<time> with --follow: how long events wait for older ones in other CPUs\' buffers' })
    .example('wnvcap decode capture.etl -o capture.pcapng', '')
    .example('wnvcap decode C:\\traces\\live.etl --follow -o - | wireshark -k -i -', ''),
  args: (a): DecodeArgs => {
    if (!a.output) throw new UsageError('decode needs an output file: -o <out.pcapng>');
    if (a.output === '-' && !a.follow) throw new UsageError('-o - (stdout) is for --follow; give a file');
    const base = { input: a.input, output: a.output, compat: a.compat, json: a.json, ...(a.snapshot !== undefined ? { snapshot: a.snapshot } : {}) };
    if (!a.follow) return base;
    return { ...base, follow: { latencyMs: time('--latency', a.latency), ...(a.idle !== undefined ? { idleMs: time('--idle', a.idle) } : {}) } };
  },
  run: runDecode,
});

function time(flag: string, text: string): number {
  const ms = parseDurationMs(text);
  if (ms === undefined) throw new UsageError(`${flag} ${text}: not a time`, { hint: 'e.g. 500ms, 2s, 1m' });
  return ms;
}

export async function runDecode(a: DecodeArgs, ctx: CliContext): Promise<number> {
  if (a.follow) return followDecode(a, a.follow, ctx);
  const { openFileSource } = await import('../../etl/file-source.js');
  const { convertEtlToPcapng } = await import('../../pcapng/etl-to-pcapng.js');
  const { openFileSink } = await import('../../pcapng/file-sink.js');
  const { APPLICATION } = await import('../../version.js');
  const labels = a.snapshot !== undefined ? await snapshotLabels(a.snapshot) : undefined;
  const progress = makeProgress(ctx.stderrIsTTY && !a.json, ctx.stderr);
  // The output file is created only once the input has proved to be an ETL file (pass 1 done).
  let sink: ChunkSink | undefined;
  const lazy: ChunkSink = {
    async write(c, written) {
      sink ??= await openFileSink(a.output);
      await sink.write(c, written);
    },
    async close() {
      await sink?.close();
    },
    async reset() {
      await sink?.reset();
    },
  };
  let result;
  try {
    result = await convertEtlToPcapng(() => openFileSource(a.input), lazy, {
      application: APPLICATION,
      compat: a.compat,
      ...(labels ? { labels } : {}),
      onProgress: (pass, pos, size) => progress.update(pass === 1 ? 'reading' : 'decoding', pos, size),
    });
  } catch (e) {
    progress.end();
    await lazy.close();
    if (sink) await rm(a.output, { force: true });
    throw e;
  }
  progress.end();
  await lazy.close();
  const { summary, stats } = result;
  const damaged = summary.issues.counts;
  const hasDamage = Object.keys(damaged).some((k) => !['events-lost', 'buffer-lost', 'zero-buffer'].includes(k));
  if (stats.packets === 0 && hasDamage) {
    reportIssues(summary, ctx);
    await rm(a.output, { force: true });
    throw new InputError(`${a.input}: no packets could be decoded`, { hint: 'the file is damaged before any packet; see the warnings above' });
  }
  if (a.json) {
    ctx.stdout(`${JSON.stringify({
      output: a.output, packets: stats.packets, drops: stats.drops, interfaces: stats.interfaces.length, bytesWritten: result.bytesWritten,
      relabelled80211: stats.relabelled, lateEvents: stats.lateEvents, issues: summary.issues,
    }, null, 2)}\n`);
  } else {
    reportIssues(summary, ctx);
    if (stats.packets === 0) ctx.logger.info(`no packet events in ${a.input} (${summary.records.total} records): nothing to convert`);
    ctx.stdout(`${a.output}: ${stats.packets} packets (${stats.drops} dropped) on ${stats.interfaces.length} interfaces\n`);
    if (stats.relabelled > 0) ctx.logger.info(`${stats.relabelled} PktMon PacketType-2 frames were Ethernet II and are written as Ethernet (use --compat to keep 802.11)`);
    if (stats.lateEvents > 0) ctx.logger.warn(`${stats.lateEvents} events arrived after later ones had been written (buffers flushed very late); they are out of time order`);
    const n = stats.ndis;
    if (n.incompletePackets + n.oversize + n.missingStart > 0) {
      ctx.logger.warn(`NDIS reassembly: ${n.incompletePackets} incomplete, ${n.missingStart} without start, ${n.oversize} over 65535 bytes`);
    }
  }
  return 0;
}

/** The snapshot's names for the pcapng (read before the output is created: a bad snapshot writes nothing). */
async function snapshotLabels(path: string): Promise<CaptureLabels> {
  const { loadTopology } = await import('../../topology/snapshot-file.js');
  const { SnapshotLabels } = await import('../../analysis/labels.js');
  return new SnapshotLabels(await loadTopology(path));
}

/**
 * decode --follow: the file read while a session (ours or anyone's: pktmon, netsh, logman) writes
 * it, like tail -f. Ends at Ctrl-C or SIGTERM, or once the file has not grown for --idle; what
 * the file holds by then is read to its end first.
 */
async function followDecode(a: DecodeArgs, f: NonNullable<DecodeArgs['follow']>, ctx: CliContext): Promise<number> {
  const { followFile } = await import('../../etl/follow-source.js');
  const { IssueLog } = await import('../../etl/issues.js');
  const { followCapture } = await import('../../providers/decode-capture.js');
  const { PcapngConsumer } = await import('../../pcapng/etl-to-pcapng.js');
  const { openFileSink, streamSink } = await import('../../pcapng/file-sink.js');
  const { APPLICATION } = await import('../../version.js');
  if (a.output === '-' && process.stdout.isTTY) throw new UsageError('decode --follow -o - writes pcapng: not to a terminal', { hint: 'pipe it: ... | wireshark -k -i -' });
  const labels = a.snapshot !== undefined ? await snapshotLabels(a.snapshot) : undefined;
  const source = followFile(a.input);
  const end = (): void => source.end();
  // The output first: one that cannot be opened fails before any handler or timer is set.
  const sink = a.output === '-' ? streamSink(process.stdout, { end: false, onBroken: end }) : await openFileSink(a.output);
  process.once('SIGINT', end);
  process.once('SIGTERM', end);
  let lastSize = -1;
  let grewAt = Date.now();
  const idle = f.idleMs === undefined ? undefined : setInterval(() => {
    if (source.size !== lastSize) [lastSize, grewAt] = [source.size, Date.now()];
    else if (Date.now() - grewAt >= f.idleMs!) end();
  }, Math.min(1000, f.idleMs));
  const issues = new IssueLog();
  issues.onIssue = (i) => { if (i.severity === 'warning') ctx.logger.warn(i.message); };
  let closed = false;
  try {
    const pcapng = new PcapngConsumer(sink, APPLICATION, labels);
    const r = await followCapture(source, [pcapng], { latencyMs: f.latencyMs, compat: a.compat, issues });
    await pcapng.finish();
    closed = true;
    await sink.close(); // a write that failed at the end (a full disk) is an error
    const where = a.output === '-' ? 'stdout' : a.output;
    if (a.json) ctx.stderr(`${JSON.stringify({ output: where, packets: r.stats.packets, lateEvents: r.stats.lateEvents, issues: r.summary.issues })}\n`);
    else ctx.stderr(`${where}: ${r.stats.packets} packets followed${r.stats.lateEvents ? `, ${r.stats.lateEvents} arrived after later ones (out of time order)` : ''}\n`);
    return 0;
  } finally {
    clearInterval(idle);
    process.off('SIGINT', end);
    process.off('SIGTERM', end);
    if (!closed) await sink.close().catch(() => undefined); // after a failure: that one is reported
    await source.close();
  }
}

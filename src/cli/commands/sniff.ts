/**
 * `wnvcap sniff <target> [-w file | -w -]`: one container, compartment, VM or MAC of a host,
 * captured with a filter on its MACs and written as pcapng with only its packets (those the
 * snapshot attributes to it), named by container and compartment. The run folder keeps the whole
 * capture and target.pcapng. Packets are followed: written within a few seconds of being
 * captured (run/follow.ts); --no-follow writes them when the capture ends (--duration or Ctrl-C).
 */
import { createReadStream } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { CaptureRunExtra } from '../../run/capture-run.js';
import type { Target } from '../../topology/target.js';
import { EXIT, UsageError } from '../../util/errors.js';
import { defaultOutDir } from '../../util/paths.js';
import { defineCommand } from '../command.js';
import type { CliContext } from '../context.js';
import { hostArgs, hostOptions, type HostArgs } from '../host-options.js';

interface SniffArgs extends HostArgs {
  target: string;
  write: string;
  duration: string;
  profile: string | undefined;
  out: string;
  follow: boolean;
}

/** Where a sniff's packets go: a stream as they come (follow mode), else the finished file at the end. */
export interface SniffOutput {
  /** The stream for follow mode; onBroken: its reader went away (the capture then stops, as on Ctrl-C). */
  stream?: (onBroken: (e: Error) => void) => Promise<import('../../pcapng/file-sink.js').ChunkSink>;
  /** Hands over target.pcapng (the capture has ended); says where it went. */
  deliver(file: string): Promise<string>;
  /** Says where the stream went (' to Wireshark'). */
  streamed?: string;
}

export default defineCommand({
  command: 'sniff <target>',
  describe: 'capture one container, pod, compartment, VM or MAC: pcapng of its packets alone, named by container',
  options: (y, ctx) => hostOptions(y)
    .positional('target', { type: 'string', demandOption: true, describe: '<container name or id | pod namespace/name | compartment id | VM name | MAC>' })
    .option('write', { alias: 'w', type: 'string', default: '-', describe: '<file | -> the pcapng (- is stdout: pipe it into wireshark -k -i -)' })
    .option('duration', { type: 'string', default: '60s', describe: '<time> how long to capture (Ctrl-C stops sooner)' })
    .option('profile', { type: 'string', describe: '<name | file.yaml> (default container)' })
    .option('out', { type: 'string', default: defaultOutDir(process.platform, ctx.env), describe: '<dir> where the run folder is made' })
    .option('follow', { type: 'boolean', default: true, describe: 'write packets within seconds of capture (--no-follow: when the capture ends)' })
    .example('wnvcap sniff web -w web.pcapng --duration 2m', '')
    .example('wnvcap sniff web --duration 5m | wireshark -k -i -', ''),
  args: (a): SniffArgs => ({ ...hostArgs(a), target: a.target, write: a.write, duration: a.duration, profile: a.profile, out: a.out, follow: a.follow }),
  run: runSniff,
});

async function runSniff(a: SniffArgs, ctx: CliContext): Promise<number> {
  if (a.write === '-' && process.stdout.isTTY) throw new UsageError('sniff writes pcapng: not to a terminal', { hint: 'give -w <file>, or pipe it: wnvcap sniff <target> | wireshark -k -i -' });
  const { openFileSink, streamSink } = await import('../../pcapng/file-sink.js');
  return sniff(a, ctx, {
    stream: async (onBroken) => (a.write === '-' ? streamSink(process.stdout, { end: false, onBroken }) : openFileSink(a.write)),
    streamed: a.write === '-' ? '' : ` in ${a.write}`,
    async deliver(file) {
      if (a.write === '-') await pipeline(createReadStream(file), process.stdout, { end: false });
      else await copyFile(file, a.write);
      return a.write === '-' ? '' : ` in ${a.write}`;
    },
  });
}

/**
 * Captures the target and hands its pcapng (target.pcapng in the run folder) to deliver, which
 * says where it went. The extcap delivers to Wireshark's fifo.
 */
export async function sniff(a: Omit<SniffArgs, 'write'> & { truncate?: string }, ctx: CliContext, output: SniffOutput, opts: { summary?: boolean } = {}): Promise<number> {
  const { hostNames, openRunner, remoteRunners, stateDirFor, untilStopped } = await import('../hosts.js');
  const names = await hostNames(a);
  if (names.length > 1) throw new UsageError('sniff watches one host: give one --computer');
  const runner = names.length === 1 ? (await remoteRunners(a, names, ctx, 1))[0]! : await openRunner(a, ctx);
  try {
    const target = await findTarget(runner, a.target);
    ctx.logger.info(`sniffing ${target.label} on ${runner.host}${target.macs.length ? ` (MAC filter ${target.macs.join(', ')})` : ''}`);
    const { loadProfile, DEFAULT_PROFILE } = await import('../../capture/profiles.js');
    const { resolveCaptureOptions } = await import('../../capture/options.js');
    const flags = { duration: a.duration, ...(target.macs.length ? { mac: target.macs } : {}), ...(a.truncate !== undefined ? { truncate: a.truncate } : {}) };
    const o = resolveCaptureOptions(await loadProfile(a.profile ?? DEFAULT_PROFILE), flags, { out: a.out, dryRun: false, force: false });
    const { captureRun } = await import('../../run/capture-run.js');
    const { APPLICATION } = await import('../../version.js');
    const only: { target: Target; kept?: number } = { target };
    // The reader of the stream went away (| head, Wireshark closed): stop as on Ctrl-C, session removed first.
    const gone = new AbortController();
    const onBroken = (e: Error): void => {
      if (gone.signal.aborted) return;
      ctx.logger.warn(`the output's reader went away (${e.message}): stopping the capture (the session is stopped and removed first)`);
      gone.abort();
    };
    const follow = a.follow && output.stream
      ? { sink: await output.stream(onBroken), application: APPLICATION, target, warn: (m: string) => ctx.logger.warn(m), note: (m: string) => ctx.logger.info(m) } as NonNullable<CaptureRunExtra['follow']>
      : undefined;
    const res = await untilStopped((signal) => captureRun(o, { runner, logger: ctx.logger, signal, stateDir: stateDirFor(a, ctx), application: APPLICATION }, { only, ...(follow ? { follow } : {}) }),
      (sig) => ctx.logger.warn(`${sig}: stopping the capture (the session is stopped and removed first)`), gone.signal);
    for (const w of res.record.warnings) if (!w.startsWith('follow')) ctx.logger.warn(w);
    const streamed = follow?.counts && follow.counts.bytes > 0 ? follow.counts : undefined;
    if (follow && !follow.counts) await follow.sink.close().catch(() => undefined); // the capture never started
    if (streamed) {
      if (streamed.stopped) ctx.logger.warn(`the stream stopped early (${streamed.stopped}): all of ${target.label}'s packets are in the run folder's target.pcapng`);
      if (opts.summary !== false) ctx.stderr(`${streamed.written} packets of ${target.label}${output.streamed ?? ''}, followed; run folder ${res.runDir}\n`);
      return res.exitCode;
    }
    // Not followed, or the stream never got going (a host that cannot read its file while ETW writes it): the file at the end.
    if (follow?.counts) ctx.logger.warn(`the packets could not be followed${follow.counts.stopped ? ` (${follow.counts.stopped})` : ''}: they are written now that the capture has ended`);
    if (!res.record.files['target']) {
      // Nothing to hand over (no snapshot, a decode that failed): never a quiet success.
      ctx.stderr(`error: ${res.record.error?.message ?? `no packets of ${target.label} could be written`}; run folder ${res.runDir}\n`);
      return res.exitCode !== EXIT.OK ? res.exitCode : EXIT.REMOTE;
    }
    const where = await output.deliver(join(res.runDir, 'target.pcapng'));
    if (opts.summary !== false) ctx.stderr(`${only.kept ?? 0} packets of ${target.label}${where}; run folder ${res.runDir}\n`);
    return res.exitCode;
  } finally {
    await runner.dispose();
  }
}

/** The target, from the host's inventory now; an unknown or ambiguous one lists the candidates. */
async function findTarget(runner: import('../../remote/runner.js').PsRunner, query: string): Promise<Target> {
  const { inventoryStep } = await import('../../capture/steps.js');
  const { parseInventory } = await import('../../capture/step-results.js');
  const { SNAPSHOT_SCHEMA } = await import('../../topology/snapshot.js');
  const { buildTopology } = await import('../../topology/topology.js');
  const { resolveTarget } = await import('../../topology/target.js');
  const inv = parseInventory(await runner.run(inventoryStep()), runner.host);
  const topo = buildTopology({ schema: SNAPSHOT_SCHEMA, host: runner.host, takenAt: new Date().toISOString(), commands: inv.commands, warnings: inv.warnings });
  const m = resolveTarget(topo, query);
  if ('target' in m) return m.target;
  throw new UsageError(m.problem, { hint: m.candidates.length ? `targets on ${runner.host}: ${m.candidates.join('; ')}` : 'the host has no containers, compartments or VMs in its inventory' });
}

/**
 * `wnvcap capture`: a capture on this Windows host, on the built-in simulated host (--simulate,
 * WNVCAP_SIMULATE=1), or on --computer hosts at once (a fleet run with one merged report).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CaptureOptions, RawCaptureOptions } from '../../capture/options.js';
import type { FetchingRunner } from '../../remote/remote-runner.js';
import { UsageError } from '../../util/errors.js';
import { defaultOutDir } from '../../util/paths.js';
import { defineCommand, given } from '../command.js';
import type { CliContext } from '../context.js';
import { hostArgs, hostOptions, simulateRequested, type HostArgs } from '../host-options.js';

export interface CaptureArgs extends HostArgs {
  profile: string | undefined;
  /** The flags that override the profile's values. */
  flags: RawCaptureOptions;
  out: string;
  dryRun: boolean;
  force: boolean;
  /** Fleet: hosts at once. */
  throttle: number;
  /** Fleet: one JSON document on stdout. */
  json: boolean;
  /** Retention after the run (scheduled captures): keep n run folders, at most maxDisk GB. */
  keep?: number;
  maxDisk?: number;
}

export default defineCommand({
  command: 'capture',
  describe: 'capture on this Windows host (or --simulate): preflight, snapshot, session, report',
  options: (y, ctx) => hostOptions(y)
    .option('profile', { type: 'string', describe: '<name | file.yaml> (default container; see wnvcap profiles list)' })
    .option('duration', { type: 'string', describe: '<time> e.g. 60s, 5m (profile default)' })
    .option('max-size', { type: 'string', describe: '<size> ETL size cap, e.g. 512MB' })
    .option('truncate', { type: 'string', describe: '<bytes> per packet, 0 = whole packets' })
    .option('ip', { type: 'string', array: true, describe: '<address> capture only these IPs (repeat or comma list)' })
    .option('protocol', { type: 'string', array: true, describe: '<tcp | udp | icmp | number>' })
    .option('mac', { type: 'string', array: true, describe: '<MAC address>' })
    .option('ethertype', { type: 'string', array: true, describe: '<0x0800 | number>' })
    .option('capture-type', { type: 'string', describe: '{physical | switch | both}' })
    .option('backend', { type: 'string', describe: '{auto | netevent | pktmon | netsh}' })
    .option('out', { type: 'string', default: defaultOutDir(process.platform, ctx.env), describe: '<dir> where the run folder is made (Windows: %ProgramData%\\wnvcap\\runs)' })
    .option('dry-run', { type: 'boolean', default: false, describe: 'print the PowerShell scripts, in order, and change nothing' })
    .option('force', { type: 'boolean', default: false, describe: 'remove a capture session wnvcap did not start; ignore low disk space' })
    .option('computers-file', { type: 'string', describe: '<file> host names, one per line' })
    .option('throttle', { type: 'number', default: 8, describe: '<n> hosts at once' })
    .option('json', { type: 'boolean', default: false, describe: 'fleet: print one JSON document { hosts: [...] }' })
    .option('keep', { type: 'number', describe: '<n> keep only the newest n run folders in --out (scheduled captures)' })
    .option('max-disk', { type: 'number', describe: '<GB> keep the run folders in --out under this size' })
    .example('wnvcap capture --profile container --duration 2m --ip 172.28.183.201', '')
    .example('wnvcap capture --dry-run --backend pktmon', ''),
  args: (a): CaptureArgs => {
    if (!Number.isInteger(a.throttle) || a.throttle < 1 || a.throttle > 256) throw new UsageError('--throttle must be a whole number from 1 to 256');
    const list = (v: Array<string | number> | undefined): string[] | undefined => v?.map(String);
    return {
      ...hostArgs(a), profile: a.profile, out: a.out, dryRun: a.dryRun, force: a.force, throttle: a.throttle, json: a.json,
      flags: given({
        duration: a.duration, maxSize: a.maxSize, truncate: a.truncate, ip: list(a.ip), protocol: list(a.protocol), mac: list(a.mac), ethertype: list(a.ethertype),
        captureType: a.captureType, backend: a.backend,
      }),
      ...given({ keep: a.keep, maxDisk: a.maxDisk }),
    };
  },
  run: runCapture,
});

async function runCapture(a: CaptureArgs, ctx: CliContext): Promise<number> {
  const { loadProfile, DEFAULT_PROFILE } = await import('../../capture/profiles.js');
  const { resolveCaptureOptions } = await import('../../capture/options.js');
  const profile = await loadProfile(a.profile ?? DEFAULT_PROFILE);
  const o = resolveCaptureOptions(profile, a.flags, { out: a.out, dryRun: a.dryRun, force: a.force });
  if (o.dryRun) return printPlan(o, profile.name, ctx);
  const { hostNames, remoteRunners } = await import('../hosts.js');
  const names = await hostNames(a);
  if (names.length > 0) return runFleetCapture(a, o, await remoteRunners(a, names, ctx, a.throttle), ctx);
  return runOneCapture(a, o, ctx);
}

/** --dry-run: the scripts a capture runs, in order. */
async function printPlan(o: CaptureOptions, profile: string, ctx: CliContext): Promise<number> {
  const { newRunId, planScripts } = await import('../../capture/lifecycle.js');
  const runId = newRunId();
  ctx.stdout(`# wnvcap capture --dry-run: the scripts a capture with profile "${profile}" runs, in order (nothing is changed)\n`);
  ctx.stdout(`# backend: ${o.backend === 'auto' ? 'auto (netevent shown; the preflight picks pktmon or netsh where NetEventPacketCapture is missing)' : o.backend}\n\n`);
  for (const { step, text } of planScripts(o, runId, join(o.out, `run-${runId}`))) {
    ctx.stdout(`# ---- step ${step.name}: ${step.description.replace(/[\r\n]+/g, ' ')}\n${text}\n\n`);
  }
  return 0;
}

/** One host: the run folder, its report on stdout, retention afterwards when asked. */
async function runOneCapture(a: CaptureArgs, o: CaptureOptions, ctx: CliContext): Promise<number> {
  const { openRunner, stateDirFor, untilStopped } = await import('../hosts.js');
  const { captureRun } = await import('../../run/capture-run.js');
  const { APPLICATION } = await import('../../version.js');
  const runner = await openRunner(a, ctx);
  try {
    const res = await untilStopped((signal) => captureRun(o, {
      runner, logger: ctx.logger, signal, stateDir: stateDirFor(a, ctx), application: APPLICATION, freeBytes,
      ...(ctx.stderrIsTTY ? { progress: (t: string) => ctx.stderr(`\r${t}   `) } : {}),
    }), (sig) => ctx.logger.warn(`${sig}: stopping the capture (the session is stopped and removed first)`));
    if (ctx.stderrIsTTY) ctx.stderr('\r\x1b[K');
    const r = res.record;
    ctx.stdout(`${r.simulated ? 'simulated host ' : ''}${r.host}: ${r.outcome}${r.stopReason ? ` (${r.stopReason})` : ''}; run folder ${res.runDir}\n`);
    for (const w of r.warnings) ctx.logger.warn(w);
    if (r.error) {
      ctx.stderr(`error: ${r.error.message}\n`);
      if (r.error.hint) ctx.stderr(`hint: ${r.error.hint}\n`);
    }
    if (a.keep !== undefined || a.maxDisk !== undefined) await retain(a, o.out, res.runDir, ctx);
    if (r.files['report']) {
      ctx.stdout(`\n${await readFile(join(res.runDir, 'report.txt'), 'utf8')}`);
    }
    return res.exitCode;
  } finally {
    await runner.dispose();
  }
}

/** Free bytes on the disk holding path, when systeminformation can tell. */
async function freeBytes(path: string): Promise<number | undefined> {
  try {
    const si = await import('systeminformation');
    const best = (await si.fsSize()).filter((f) => path.startsWith(f.mount)).sort((x, y) => y.mount.length - x.mount.length)[0];
    return best?.available;
  } catch {
    return undefined;
  }
}

/** --keep / --max-disk: the oldest run folders in out go; this run's stays. */
async function retain(a: CaptureArgs, out: string, runDir: string, ctx: CliContext): Promise<void> {
  const { enforceRetention } = await import('../../schedule/agent.js');
  const { listRunFolders, removeRunFolder } = await import('../../schedule/fs-retention.js');
  const removed = await enforceRetention({ out, ...given({ keep: a.keep, maxDiskGB: a.maxDisk }) }, { listRuns: listRunFolders, removeRun: removeRunFolder }, runDir);
  for (const p of removed) ctx.logger.info(`retention: removed ${p}`);
}

/** --computer hosts: one fleet run, its merged report in the fleet folder and on stdout. */
async function runFleetCapture(a: CaptureArgs, o: CaptureOptions, runners: FetchingRunner[], ctx: CliContext): Promise<number> {
  const { runFleet } = await import('../../fleet/fleet.js');
  const { renderFleetHtml, renderFleetText } = await import('../../fleet/render.js');
  const { stateDirFor, untilStopped } = await import('../hosts.js');
  const { APPLICATION } = await import('../../version.js');
  const r = await untilStopped((signal) => runFleet(runners, o, { throttle: a.throttle, logger: ctx.logger, signal, stateDir: stateDirFor(a, ctx), application: APPLICATION }));
  if (r.report) {
    await writeFile(join(r.fleetDir, 'report.txt'), renderFleetText(r, 20));
    await writeFile(join(r.fleetDir, 'report.html'), renderFleetHtml(r));
    await writeFile(join(r.fleetDir, 'report.json'), `${JSON.stringify(r.report, null, 2)}\n`);
  }
  if (a.json) {
    const hosts = r.hosts.map((h) => ({ host: h.host, status: h.status, phase: h.phase, files: h.files, packets: h.packets, error: h.error }));
    ctx.stdout(`${JSON.stringify({ schema: r.schema, simulated: simulateRequested(a, ctx), fleetDir: r.fleetDir, maxConcurrent: r.maxConcurrent, hosts }, null, 2)}\n`);
  } else ctx.stdout(renderFleetText(r, 20));
  return r.exitCode;
}

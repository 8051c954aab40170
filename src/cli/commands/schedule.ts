/**
 * `wnvcap schedule add|list|remove|run-now` (Windows Task Scheduler) and `wnvcap agent --plan`
 * (windows opened by wnvcap itself, with cron, no overlap and retention).
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { captureRun } from '../../run/capture-run.js';
import { resolveCaptureOptions } from '../../capture/options.js';
import { DEFAULT_PROFILE, loadProfile } from '../../capture/profiles.js';
import { runAgent } from '../../schedule/agent.js';
import { listRunFolders, removeRunFolder } from '../../schedule/fs-retention.js';
import { parsePlan } from '../../schedule/plan.js';
import { cronToTrigger, isAbsoluteWindowsPath, listTasksStep, registerTaskStep, removeTaskStep, runTaskNowStep, type TaskTrigger } from '../../schedule/task.js';
import { RemoteError, UsageError } from '../../util/errors.js';
import { defaultOutDir } from '../../util/paths.js';
import { parseDurationMs } from '../../util/time.js';
import { APPLICATION } from '../../version.js';
import type { CliContext } from '../context.js';
import { openRunner, stateDirFor, STOP_SIGNALS } from './capture.js';

export interface ScheduleArgs {
  action: 'add' | 'list' | 'remove' | 'run-now';
  name: string | undefined;
  at: string | undefined;
  every: string | undefined;
  cron: string | undefined;
  duration: string | undefined;
  profile: string | undefined;
  keep: number | undefined;
  maxDisk: number | undefined;
  captureComputers: string[] | undefined;
  out: string;
  simulate: boolean;
  json: boolean;
}

/** How the scheduled task starts this same wnvcap: the packed executable, or node + script. */
function selfCommand(): { execute: string; prefix: string[] } {
  const packed = (process as unknown as { pkg?: unknown }).pkg !== undefined || !/node(\.exe)?$/i.test(process.execPath);
  return packed ? { execute: process.execPath, prefix: [] } : { execute: process.execPath, prefix: [resolve(process.argv[1] ?? 'wnvcap')] };
}

export async function runSchedule(a: ScheduleArgs, ctx: CliContext): Promise<number> {
  const runner = await openRunner(a, ctx);
  try {
    if (a.action === 'list') {
      const r = await runner.run(listTasksStep());
      const tasks = (r.result['tasks'] ?? []) as Array<Record<string, unknown>>;
      if (a.json) ctx.stdout(`${JSON.stringify({ host: runner.host, simulated: runner.simulated, tasks }, null, 2)}\n`);
      else {
        ctx.stdout(`${runner.simulated ? 'simulated host ' : ''}${runner.host}: ${tasks.length} scheduled capture(s)\n`);
        for (const t of tasks) ctx.stdout(`  ${String(t['TaskPath'])}${String(t['TaskName'])}  ${String(t['State'] ?? '')}\n`);
      }
      return 0;
    }
    if (!a.name) throw new UsageError(`schedule ${a.action} needs a name`);
    if (a.action === 'remove' || a.action === 'run-now') {
      const r = await runner.run(a.action === 'remove' ? removeTaskStep(a.name) : runTaskNowStep(a.name));
      if (!r.ok) throw new RemoteError(`${a.action} ${a.name}: ${r.error?.message ?? 'failed'}`, { host: runner.host });
      ctx.stdout(`${a.action === 'remove' ? 'removed' : 'started'} scheduled capture ${a.name}${runner.simulated ? ' (simulated host)' : ''}\n`);
      return 0;
    }
    const kinds = [a.at, a.every, a.cron].filter((x) => x !== undefined).length;
    if (kinds !== 1) throw new UsageError('schedule add needs exactly one of --at <time>, --every <duration>, --cron <expr>');
    // The task runs as SYSTEM, in --out: a relative folder would be resolved against
    // C:\Windows\System32 (where SYSTEM starts), not against the folder wnvcap runs in now.
    if (!isAbsoluteWindowsPath(a.out)) {
      throw new UsageError(`--out "${a.out}" is not a full Windows path: the scheduled task runs as SYSTEM, which would resolve it against C:\\Windows\\System32`, { hint: 'give a full path on the host, e.g. --out C:\\ProgramData\\wnvcap\\runs or --out \\\\server\\share\\runs' });
    }
    const windowMs = parseDurationMs(a.duration ?? '');
    if (!windowMs) throw new UsageError('--duration <window> is required, e.g. 10m');
    let trigger: TaskTrigger;
    if (a.cron !== undefined) trigger = cronToTrigger(a.cron);
    else {
      // Task Scheduler reads a time without a zone as the host's local time: the default start
      // (in a minute) carries its zone (UTC, "Z"); an --at without a zone is meant as local time.
      const at = a.at ?? new Date(Date.now() + 60000).toISOString().replace(/\.\d{3}Z$/, 'Z');
      if (Number.isNaN(Date.parse(at))) throw new UsageError(`--at: "${at}" is not a date-time (e.g. 2026-11-23T03:00:00 for the host's local time, or 2026-11-23T03:00:00Z)`);
      if (a.every !== undefined) {
        const every = parseDurationMs(a.every);
        if (!every || every < 60000) throw new UsageError('--every must be at least 1m');
        if (every < windowMs) throw new UsageError('--every is shorter than --duration: windows would overlap');
        trigger = { kind: 'every', at, everyMinutes: every / 60000 };
      } else trigger = { kind: 'once', at };
    }
    await loadProfile(a.profile ?? DEFAULT_PROFILE); // fail now, not at 3 a.m.
    if (a.keep !== undefined && (!Number.isInteger(a.keep) || a.keep < 1)) throw new UsageError('--keep must be 1 or more');
    if (a.maxDisk !== undefined && !(a.maxDisk > 0)) throw new UsageError('--max-disk must be a positive number of GB');
    const self = selfCommand();
    const args = [...self.prefix, 'capture', '--profile', a.profile ?? DEFAULT_PROFILE, '--duration', `${Math.round(windowMs / 1000)}s`, '--out', a.out,
      ...(a.keep !== undefined ? ['--keep', String(a.keep)] : []), ...(a.maxDisk !== undefined ? ['--max-disk', String(a.maxDisk)] : []),
      ...(a.captureComputers?.length ? ["--computer", a.captureComputers.join(",")] : []), ...(runner.simulated ? ['--simulate'] : [])];
    const r = await runner.run(registerTaskStep({ name: a.name, trigger, windowSeconds: windowMs / 1000, execute: self.execute, args, workingDirectory: a.out }));
    if (!r.ok) throw new RemoteError(`registering ${a.name} failed: ${r.error?.message ?? ''}`, { host: runner.host, hint: /denied/i.test(r.error?.message ?? '') ? 'run as Administrator' : undefined });
    const local = !/(Z|[+-]\d{2}:?\d{2})$/i.test(trigger.at) ? ", the host's local time" : '';
    ctx.stdout(`scheduled capture ${a.name} registered on ${runner.simulated ? 'simulated host ' : ''}${runner.host} (${trigger.kind} at ${trigger.at}${local})\n`);
    return 0;
  } finally {
    await runner.dispose();
  }
}

export async function runAgentCommand(a: { plan: string; simulate: boolean }, ctx: CliContext): Promise<number> {
  let text: string;
  try {
    text = await readFile(a.plan, 'utf8');
  } catch {
    throw new UsageError(`cannot read plan ${a.plan}`);
  }
  const plan = parsePlan(text, a.plan, defaultOutDir(process.platform, ctx.env));
  for (const w of plan.windows) await loadProfile(w.profile ?? DEFAULT_PROFILE);
  const ac = new AbortController();
  const stop = (): void => {
    ctx.logger.warn('stopping the agent: the running window is stopped and its session removed');
    ac.abort();
  };
  for (const sig of STOP_SIGNALS) process.on(sig, stop);
  try {
    ctx.logger.info(`agent: ${plan.windows.length} window(s), output ${plan.out}${a.simulate ? ' (simulated host)' : ''}`);
    const events = await runAgent(plan, {
      now: () => new Date(),
      sleepUntil: (t, signal) => new Promise((res) => {
        const ms = Math.max(0, t.getTime() - Date.now());
        const timer = setTimeout(() => { signal.removeEventListener('abort', on); res(); }, Math.min(ms, 2 ** 31 - 1));
        const on = (): void => { clearTimeout(timer); res(); };
        signal.addEventListener('abort', on, { once: true });
      }),
      runWindow: async (w, until, signal) => {
        const runner = await openRunner(a, ctx);
        try {
          const remaining = Math.max(1000, until.getTime() - Date.now());
          const o = resolveCaptureOptions(await loadProfile(w.spec.profile ?? DEFAULT_PROFILE), { duration: `${Math.round(remaining / 1000)}s` }, { out: plan.out, dryRun: false, simulate: a.simulate, force: false });
          const r = await captureRun(o, { runner, logger: ctx.logger, signal, stateDir: stateDirFor(a, ctx), application: APPLICATION });
          return { runDir: r.runDir, ok: r.exitCode === 0 };
        } finally {
          await runner.dispose();
        }
      },
      listRuns: listRunFolders,
      removeRun: removeRunFolder,
      log: (level, m) => ctx.logger[level](m),
    }, ac.signal);
    ctx.stdout(`${JSON.stringify({ windows: events.filter((e) => e.kind === 'window').length, skipped: events.filter((e) => e.kind === 'skipped').length, removed: events.filter((e) => e.kind === 'retention').length })}\n`);
    return 0;
  } finally {
    for (const sig of STOP_SIGNALS) process.off(sig, stop);
  }
}

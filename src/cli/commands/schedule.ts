/**
 * `wnvcap schedule add|list|remove|run-now`: capture windows run by Windows Task Scheduler (as
 * SYSTEM, a `wnvcap capture` each), on this host or the --simulate host.
 */
import type { TaskTrigger } from '../../schedule/task.js';
import { RemoteError, UsageError } from '../../util/errors.js';
import { defaultOutDir } from '../../util/paths.js';
import { parseDurationMs } from '../../util/time.js';
import { defineCommand } from '../command.js';
import type { CliContext } from '../context.js';
import { simulateOption } from '../host-options.js';
import { selfCommand } from '../self-command.js';

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

export default defineCommand({
  command: 'schedule <action> [name]',
  describe: 'capture windows with Windows Task Scheduler: add, list, remove, run-now',
  options: (y, ctx) => simulateOption(y)
    .positional('action', { choices: ['add', 'list', 'remove', 'run-now'] as const, demandOption: true })
    .positional('name', { type: 'string' })
    .option('at', { type: 'string', describe: '<date-time> one window (or the first of --every); with Z or +hh:mm, else the host\'s local time' })
    .option('every', { type: 'string', describe: '<duration> repeat, e.g. 6h' })
    .option('cron', { type: 'string', describe: '<expr> "M H * * *" or "M H * * DOW" (other crons: wnvcap agent)' })
    .option('duration', { type: 'string', describe: '<window> e.g. 10m' })
    .option('profile', { type: 'string' })
    .option('keep', { type: 'number', describe: '<n> run folders kept' })
    .option('max-disk', { type: 'number', describe: '<GB> disk budget for run folders' })
    .option('computer', { type: 'string', array: true, describe: '<host> capture on these hosts' })
    .option('out', { type: 'string', default: defaultOutDir('win32', ctx.env), describe: '<dir> for the run folders: a full path on the host (C:\\... or \\\\server\\share\\...)' })
    .option('json', { type: 'boolean', default: false }),
  args: (a): ScheduleArgs => ({
    action: a.action, name: a.name, at: a.at, every: a.every, cron: a.cron, duration: a.duration, profile: a.profile,
    keep: a.keep, maxDisk: a.maxDisk, captureComputers: a.computer?.map(String), out: a.out, simulate: a.simulate, json: a.json,
  }),
  run: runSchedule,
});

async function runSchedule(a: ScheduleArgs, ctx: CliContext): Promise<number> {
  const { openRunner } = await import('../hosts.js');
  const { cronToTrigger, isAbsoluteWindowsPath, listTasksStep, registerTaskStep, removeTaskStep, runTaskNowStep } = await import('../../schedule/task.js');
  const { DEFAULT_PROFILE, loadProfile } = await import('../../capture/profiles.js');
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
      ...(a.captureComputers?.length ? ['--computer', a.captureComputers.join(',')] : []), ...(runner.simulated ? ['--simulate'] : [])];
    const r = await runner.run(registerTaskStep({ name: a.name, trigger, windowSeconds: windowMs / 1000, execute: self.execute, args, workingDirectory: a.out }));
    if (!r.ok) throw new RemoteError(`registering ${a.name} failed: ${r.error?.message ?? ''}`, { host: runner.host, hint: /denied/i.test(r.error?.message ?? '') ? 'run as Administrator' : undefined });
    const local = !/(Z|[+-]\d{2}:?\d{2})$/i.test(trigger.at) ? ", the host's local time" : '';
    ctx.stdout(`scheduled capture ${a.name} registered on ${runner.simulated ? 'simulated host ' : ''}${runner.host} (${trigger.kind} at ${trigger.at}${local})\n`);
    return 0;
  } finally {
    await runner.dispose();
  }
}

/**
 * Windows Task Scheduler registration of capture windows (windows-capture.md 4): the output
 * folder created first (it is the action's working directory, and Task Scheduler fails a task
 * whose working directory does not exist with 0x8007010B), an action that runs wnvcap capture, a
 * trigger (once, repeating every N, daily or weekly: what a cron expression maps to), principal
 * NT AUTHORITY\SYSTEM (by its SID) with the highest run level, settings with an execution time limit of the
 * window plus a margin and MultipleInstances IgnoreNew. Tasks live under \wnvcap\.
 */
import { STEP_TIMEOUT_MS } from '../capture/steps.js';
import { raw, renderValue } from '../powershell/quote.js';
import { cmd, stmt, type Statement, type Step } from '../powershell/script.js';
import { UsageError } from '../util/errors.js';

export const TASK_PATH = '\\wnvcap\\';
/** Seconds added to the window for start-up, stop, decode and report. */
export const TASK_MARGIN_SECONDS = taskMarginSeconds();

/**
 * Task Scheduler hard-terminates a task at its ExecutionTimeLimit, and a killed capture may leave
 * its session: the limit must cover the worst case around the window, every step at its timeout
 * (preflight, inventory, start, two stop attempts of the slowest backend, netsh, each with a
 * verification) plus 10 minutes to decode and report. 3120 s today.
 */
function taskMarginSeconds(): number {
  const t = STEP_TIMEOUT_MS;
  return (t.preflight + t.inventory + t.start + 2 * (t.netshStop + t.status)) / 1000 + 600;
}

export type TaskTrigger =
  | { kind: 'once'; at: string }
  | { kind: 'every'; at: string; everyMinutes: number }
  | { kind: 'daily'; at: string }
  | { kind: 'weekly'; at: string; days: string[] };

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const DAY_NAMES: Record<string, number> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };

/** Maps a 5-field cron expression to a daily or weekly trigger, or says it cannot. */
export function cronToTrigger(expr: string): TaskTrigger {
  const f = expr.trim().split(/\s+/);
  const fail = (): never => {
    throw new UsageError(`Task Scheduler cannot express the cron "${expr}" (only "M H * * *" and "M H * * DOW")`, { hint: 'run wnvcap agent --plan plan.yaml for full cron support' });
  };
  if (f.length !== 5) fail();
  const [m, h, dom, mon, dow] = f as [string, string, string, string, string];
  if (!/^\d{1,2}$/.test(m) || !/^\d{1,2}$/.test(h) || dom !== '*' || mon !== '*' || Number(m) > 59 || Number(h) > 23) fail();
  const at = `${h.padStart(2, '0')}:${m.padStart(2, '0')}`;
  if (dow === '*') return { kind: 'daily', at };
  const days = dow.split(',').map((d) => {
    const n = /^\d$/.test(d) ? Number(d) % 7 : DAY_NAMES[d.toLowerCase().slice(0, 3)];
    if (n === undefined || Number.isNaN(n)) fail();
    return DAYS[n!]!;
  });
  return { kind: 'weekly', at, days };
}

/** Windows command-line quoting (the rules CreateProcess / the C runtime use to split arguments). */
export function windowsCommandLine(args: readonly string[]): string {
  return args.map((a) => {
    if (a !== '' && !/[\s"]/.test(a)) return a;
    let out = '"';
    let bs = 0;
    for (const ch of a) {
      if (ch === '\\') bs++;
      else if (ch === '"') {
        out += '\\'.repeat(bs * 2 + 1) + '"';
        bs = 0;
      } else {
        out += '\\'.repeat(bs) + ch;
        bs = 0;
      }
    }
    return `${out}${'\\'.repeat(bs * 2)}"`;
  }).join(' ');
}

/**
 * True for a fully qualified Windows path: a drive and a backslash (C:\runs, C:/runs) or a UNC
 * path (\\server\share\runs). Not for relative paths, nor for C:runs or \runs, which depend on the
 * current drive and folder (for a SYSTEM task: C:\Windows\System32).
 */
export function isAbsoluteWindowsPath(p: string): boolean {
  return /^[A-Za-z]:[\\/]/.test(p) || /^[\\/]{2}[^\\/]+[\\/][^\\/]+/.test(p);
}

/** NT AUTHORITY\\SYSTEM, as Task Scheduler's own XML writes it. */
export const SYSTEM_SID = 'S-1-5-18';

/**
 * Daily and weekly windows are wall-clock times on the host: New-ScheduledTaskTrigger writes the
 * start with a UTC offset, which makes Task Scheduler "synchronize across time zones" and keeps
 * the window at the same UTC time, an hour off after a daylight-saving change. The start is
 * written again without an offset. A window given with a zone (--at ...Z) is an instant and keeps it.
 */
function localStartStatements(tr: TaskTrigger): Statement[] {
  if (tr.kind !== 'daily' && tr.kind !== 'weekly') return [];
  return [{ stages: [], expression: `($wnvcapTrigger.StartBoundary = ([datetime]${renderValue(tr.at)}).ToString('s'))` }];
}

export interface TaskSpec {
  name: string;
  trigger: TaskTrigger;
  windowSeconds: number;
  execute: string;
  args: string[];
  workingDirectory: string;
}

export function taskName(name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(name)) throw new UsageError(`schedule name "${name}" must be letters, digits, - and _ (up to 64)`);
  return `wnvcap-${name}`;
}

export function registerTaskStep(t: TaskSpec): Step {
  const trig = cmd('New-ScheduledTaskTrigger');
  if (t.trigger.kind === 'once' || t.trigger.kind === 'every') trig.flag('Once').param('At', t.trigger.at);
  if (t.trigger.kind === 'every') {
    trig.param('RepetitionInterval', raw(`(New-TimeSpan -Minutes ${Math.round(t.trigger.everyMinutes)})`)).param('RepetitionDuration', raw('(New-TimeSpan -Days 3650)'));
  }
  if (t.trigger.kind === 'daily') trig.flag('Daily').param('At', t.trigger.at);
  if (t.trigger.kind === 'weekly') trig.flag('Weekly').param('DaysOfWeek', t.trigger.days).param('At', t.trigger.at);
  const limit = Math.round(t.windowSeconds + TASK_MARGIN_SECONDS);
  return {
    name: 'schedule-add',
    description: `register scheduled task ${TASK_PATH}${taskName(t.name)}`,
    statements: [
      // The working directory must exist when the task starts (else 0x8007010B): create it now.
      stmt(cmd('New-Item').param('ItemType', 'Directory').flag('Force').param('Path', t.workingDirectory), { assign: 'wnvcapDir' }),
      stmt(cmd('New-ScheduledTaskAction').param('Execute', t.execute).param('Argument', windowsCommandLine(t.args)).param('WorkingDirectory', t.workingDirectory), { assign: 'wnvcapAction' }),
      stmt(trig, { assign: 'wnvcapTrigger' }),
      ...localStartStatements(t.trigger),
      // SYSTEM by its SID: the account name is localized ("NT-AUTORITÄT\\SYSTEM"), the SID is not.
      stmt(cmd('New-ScheduledTaskPrincipal').param('UserId', SYSTEM_SID).param('LogonType', 'ServiceAccount').param('RunLevel', 'Highest'), { assign: 'wnvcapPrincipal' }),
      stmt(cmd('New-ScheduledTaskSettingsSet').param('ExecutionTimeLimit', raw(`(New-TimeSpan -Seconds ${limit})`)).param('MultipleInstances', 'IgnoreNew').flag('StartWhenAvailable'), { assign: 'wnvcapSettings' }),
      stmt([cmd('Register-ScheduledTask').param('TaskName', taskName(t.name)).param('TaskPath', TASK_PATH).param('Action', raw('$wnvcapAction')).param('Trigger', raw('$wnvcapTrigger'))
        .param('Principal', raw('$wnvcapPrincipal')).param('Settings', raw('$wnvcapSettings')).param('Description', `wnvcap capture window ${t.name}`).flag('Force'),
      cmd('Select-Object').param('Property', ['TaskName', 'TaskPath', raw("@{n='State';e={[string]$_.State}}")])], { resultKey: 'task' }),
    ],
  };
}

export function listTasksStep(): Step {
  return {
    name: 'schedule-list', description: `list tasks under ${TASK_PATH}`,
    statements: [stmt([cmd('Get-ScheduledTask').param('TaskPath', TASK_PATH), cmd('Select-Object').param('Property', ['TaskName', 'TaskPath', raw("@{n='State';e={[string]$_.State}}")])], { resultKey: 'tasks', tolerateErrors: true })],
  };
}

export function removeTaskStep(name: string): Step {
  return {
    name: 'schedule-remove', description: `unregister ${TASK_PATH}${taskName(name)}`,
    statements: [stmt(cmd('Unregister-ScheduledTask').param('TaskName', taskName(name)).param('TaskPath', TASK_PATH).switchValue('Confirm', false))],
  };
}

export function runTaskNowStep(name: string): Step {
  return { name: 'schedule-run-now', description: `start ${TASK_PATH}${taskName(name)} now`, statements: [stmt(cmd('Start-ScheduledTask').param('TaskName', taskName(name)).param('TaskPath', TASK_PATH))] };
}

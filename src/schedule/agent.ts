/**
 * The capture agent: opens the plan's windows itself, one at a time (a window whose start passes
 * while another runs is skipped and logged: windows never overlap), and enforces retention after
 * each window (keep the newest N run folders, and stay under a disk budget). Everything that
 * touches time, captures or files comes in through AgentDeps, so a fake clock can drive a week.
 */
import type { Plan, PlannedWindow } from './plan.js';
import { nextWindow } from './plan.js';

export interface RunFolder {
  path: string;
  /** Sorts oldest first (run ids are time-ordered). */
  name: string;
  bytes: number;
}

export interface AgentDeps {
  now(): Date;
  /** Resolves at `t` or when the signal aborts. */
  sleepUntil(t: Date, signal: AbortSignal): Promise<void>;
  /** Runs one capture window until `until` (or the signal); returns its run folder. */
  runWindow(w: PlannedWindow, until: Date, signal: AbortSignal): Promise<{ runDir: string | null; ok: boolean }>;
  listRuns(out: string): Promise<RunFolder[]>;
  removeRun(path: string): Promise<void>;
  log(level: 'info' | 'warn', message: string): void;
}

export interface AgentEvent {
  kind: 'window' | 'skipped' | 'retention';
  name: string;
  plannedStart?: string;
  start?: string;
  end?: string;
  runDir?: string | null;
  ok?: boolean;
  removed?: string;
}

/** What retention needs of a plan: the output folder and its limits (a scheduled capture's --keep / --max-disk too). */
export type Retention = Pick<Plan, 'out' | 'keep' | 'maxDiskGB'>;

export async function enforceRetention(plan: Retention, deps: Pick<AgentDeps, 'listRuns' | 'removeRun'>, keepPath: string | null): Promise<string[]> {
  const runs = (await deps.listRuns(plan.out)).sort((a, b) => a.name.localeCompare(b.name));
  const removed: string[] = [];
  const victims = new Set<RunFolder>();
  if (plan.keep !== undefined && runs.length > plan.keep) for (const r of runs.slice(0, runs.length - plan.keep)) victims.add(r);
  if (plan.maxDiskGB !== undefined) {
    const budget = plan.maxDiskGB * 1024 ** 3;
    let total = runs.filter((r) => !victims.has(r)).reduce((s, r) => s + r.bytes, 0);
    for (const r of runs) {
      if (total <= budget) break;
      if (victims.has(r) || r.path === keepPath) continue; // the newest run is always kept
      victims.add(r);
      total -= r.bytes;
    }
  }
  for (const r of runs) {
    if (!victims.has(r) || r.path === keepPath) continue;
    await deps.removeRun(r.path);
    removed.push(r.path);
  }
  return removed;
}

export async function runAgent(plan: Plan, deps: AgentDeps, signal: AbortSignal, opts: { anchor?: Date; until?: Date } = {}): Promise<AgentEvent[]> {
  const events: AgentEvent[] = [];
  const start = deps.now();
  // `every` windows are aligned to midnight UTC of the day the agent started.
  const anchor = opts.anchor ?? new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate()));
  let after = new Date(start.getTime() - 1);
  while (!signal.aborted) {
    const w = nextWindow(plan, after, anchor);
    if (!w) {
      deps.log('info', 'no more windows in the plan');
      break;
    }
    if (opts.until && w.start >= opts.until) break;
    await deps.sleepUntil(w.start, signal);
    if (signal.aborted) break;
    const t = deps.now();
    if (t >= w.end) {
      events.push({ kind: 'skipped', name: w.name, plannedStart: w.start.toISOString() });
      deps.log('warn', `window ${w.name} at ${w.start.toISOString()} missed (agent busy or asleep until ${t.toISOString()})`);
      after = w.start;
      continue;
    }
    deps.log('info', `window ${w.name}: ${t.toISOString()} .. ${w.end.toISOString()}`);
    const r = await deps.runWindow(w, w.end, signal);
    const end = deps.now();
    events.push({ kind: 'window', name: w.name, plannedStart: w.start.toISOString(), start: t.toISOString(), end: end.toISOString(), runDir: r.runDir, ok: r.ok });
    // Windows that would have started while this one ran are skipped: no overlap.
    let probe = w.start;
    for (;;) {
      const n = nextWindow(plan, probe, anchor);
      if (!n || n.start >= end) break;
      events.push({ kind: 'skipped', name: n.name, plannedStart: n.start.toISOString() });
      deps.log('warn', `window ${n.name} at ${n.start.toISOString()} skipped: it would overlap ${w.name}`);
      probe = n.start;
    }
    for (const removed of await enforceRetention(plan, deps, r.runDir)) events.push({ kind: 'retention', name: w.name, removed });
    after = new Date(Math.max(end.getTime() - 1, w.start.getTime()));
  }
  return events;
}

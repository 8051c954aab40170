/**
 * Capture plans: windows opened at a time (`at`), every N (`every`, aligned to an anchor), or by
 * cron expression (`cron`, in a time zone, daylight-saving aware through croner). Pure planning:
 * the agent asks for the next window after a moment. Plans are YAML:
 *
 *   out: C:\ProgramData\wnvcap\runs
 *   keep: 24            # run folders kept
 *   maxDiskGB: 20       # and at most this much
 *   windows:
 *     - name: nightly
 *       cron: "0 3 * * *"
 *       timezone: Europe/Berlin
 *       duration: 10m
 *       profile: container
 */
import { Cron } from 'croner';
import { parse as parseYaml } from 'yaml';
import { UsageError } from '../util/errors.js';
import { parseDurationMs } from '../util/time.js';

export interface WindowSpec {
  name: string;
  at?: string;
  every?: string;
  cron?: string;
  timezone?: string;
  duration: string;
  profile?: string;
}

export interface Plan {
  out: string;
  keep?: number;
  maxDiskGB?: number;
  windows: WindowSpec[];
}

export interface PlannedWindow {
  name: string;
  start: Date;
  end: Date;
  spec: WindowSpec;
}

/** `defaultOut`: where run folders go when the plan has no "out" (the CLI passes defaultOutDir()); without it "out" is required. */
export function validatePlan(doc: unknown, source = 'plan', defaultOut?: string): Plan {
  const bad = (m: string): never => {
    throw new UsageError(`${source}: ${m}`);
  };
  if (typeof doc !== 'object' || doc === null) bad('must be a mapping with out and windows');
  const d = doc as Record<string, unknown>;
  for (const k of Object.keys(d)) if (!['out', 'keep', 'maxDiskGB', 'windows'].includes(k)) bad(`unknown key "${k}"`);
  const out = d['out'] ?? defaultOut;
  if (typeof out !== 'string' || out === '') bad('"out" (where run folders go) is required');
  if (d['keep'] !== undefined && (!Number.isInteger(d['keep']) || (d['keep'] as number) < 1)) bad('"keep" must be a whole number of runs, 1 or more');
  if (d['maxDiskGB'] !== undefined && (typeof d['maxDiskGB'] !== 'number' || (d['maxDiskGB'] as number) <= 0)) bad('"maxDiskGB" must be a positive number');
  if (!Array.isArray(d['windows']) || d['windows'].length === 0) bad('"windows" must list at least one window');
  const names = new Set<string>();
  const windows = (d['windows'] as unknown[]).map((w, i) => {
    if (typeof w !== 'object' || w === null) bad(`window ${i + 1} must be a mapping`);
    const x = w as Record<string, unknown>;
    for (const k of Object.keys(x)) if (!['name', 'at', 'every', 'cron', 'timezone', 'duration', 'profile', 'computers'].includes(k)) bad(`window ${i + 1}: unknown key "${k}"`);
    const name = x['name'];
    if (typeof name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(name)) bad(`window ${i + 1}: "name" must be a short identifier`);
    if (names.has(name as string)) bad(`window name "${name}" is used twice`);
    names.add(name as string);
    const kinds = ['at', 'every', 'cron'].filter((k) => x[k] !== undefined);
    if (kinds.length !== 1) bad(`window ${name}: give exactly one of at, every, cron`);
    if (typeof x['duration'] !== 'string' || !parseDurationMs(x['duration'])) bad(`window ${name}: "duration" like 10m is required`);
    const spec: WindowSpec = { name: name as string, duration: x['duration'] as string };
    if (x['at'] !== undefined) {
      if (typeof x['at'] !== 'string' || Number.isNaN(Date.parse(x['at']))) bad(`window ${name}: "at" must be an ISO date-time`);
      spec.at = x['at'] as string;
    }
    if (x['every'] !== undefined) {
      if (typeof x['every'] !== 'string' || !parseDurationMs(x['every'])) bad(`window ${name}: "every" must be a duration like 1h`);
      if (parseDurationMs(x['every'] as string)! < parseDurationMs(spec.duration)!) bad(`window ${name}: "every" is shorter than the window: windows would overlap`);
      spec.every = x['every'] as string;
    }
    if (x['cron'] !== undefined) {
      if (typeof x['cron'] !== 'string') bad(`window ${name}: "cron" must be a string`);
      try {
        new Cron(x['cron'] as string, { paused: true, ...(typeof x['timezone'] === 'string' ? { timezone: x['timezone'] } : {}) });
      } catch (e) {
        bad(`window ${name}: bad cron expression "${x['cron']}": ${(e as Error).message}`);
      }
      spec.cron = x['cron'] as string;
    }
    if (x['timezone'] !== undefined) spec.timezone = String(x['timezone']);
    if (x['profile'] !== undefined) spec.profile = String(x['profile']);
    // The agent captures on the host it runs on; a fleet window is a scheduled task with
    // --computer, which carries the remoting options a plan has no place for.
    if (x['computers'] !== undefined) bad(`window ${name}: "computers" is not supported by wnvcap agent (it captures on its own host); schedule a fleet with: wnvcap schedule add <name> --computer a,b --ssh|--credential ...`);
    return spec;
  });
  return { out: out as string, ...(d['keep'] !== undefined ? { keep: d['keep'] as number } : {}), ...(d['maxDiskGB'] !== undefined ? { maxDiskGB: d['maxDiskGB'] as number } : {}), windows };
}

export function parsePlan(text: string, source = 'plan', defaultOut?: string): Plan {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new UsageError(`${source} is not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  return validatePlan(doc, source, defaultOut);
}

/** The first start of this window strictly after `after` (undefined when none, e.g. a past `at`). */
export function nextStart(spec: WindowSpec, after: Date, anchor: Date): Date | undefined {
  if (spec.at) {
    const t = new Date(spec.at);
    return t > after ? t : undefined;
  }
  if (spec.every) {
    const every = parseDurationMs(spec.every)!;
    const n = Math.floor((after.getTime() - anchor.getTime()) / every) + 1;
    return new Date(anchor.getTime() + Math.max(0, n) * every);
  }
  const c = new Cron(spec.cron!, { paused: true, ...(spec.timezone ? { timezone: spec.timezone } : {}) });
  return c.nextRun(after) ?? undefined;
}

/** The next window of the plan after `after` (the earliest of all its windows). */
export function nextWindow(plan: Plan, after: Date, anchor: Date): PlannedWindow | undefined {
  let best: PlannedWindow | undefined;
  for (const spec of plan.windows) {
    const s = nextStart(spec, after, anchor);
    if (!s) continue;
    if (!best || s < best.start) best = { name: spec.name, start: s, end: new Date(s.getTime() + parseDurationMs(spec.duration)!), spec };
  }
  return best;
}

/**
 * A fake clock drives the agent through a week of windows for at-, every- and cron-plans, across
 * the daylight-saving change in Europe (2026-03-29) and the US (2026-03-08): every window opens
 * and closes when it should, none overlap, retention holds. Expected times are written out from
 * the time-zone rules, not computed with the library under test.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runAgent, type AgentDeps, type RunFolder } from '../../src/schedule/agent.js';
import { parsePlan, type Plan } from '../../src/schedule/plan.js';

function fakeDeps(startIso: string, bytesPerRun: number): AgentDeps & { runs: RunFolder[]; opened: Array<[string, string, string]> } {
  let now = new Date(startIso).getTime();
  const runs: RunFolder[] = [];
  const opened: Array<[string, string, string]> = [];
  let n = 0;
  return {
    runs, opened,
    now: () => new Date(now),
    sleepUntil: async (t) => { if (t.getTime() > now) now = t.getTime(); },
    runWindow: async (w, until) => {
      const s = new Date(now).toISOString();
      now = until.getTime(); // the capture runs to the end of its window
      const name = `run-${String(++n).padStart(4, '0')}`;
      runs.push({ path: `/runs/${name}`, name, bytes: bytesPerRun });
      opened.push([w.name, s, new Date(now).toISOString()]);
      return { runDir: `/runs/${name}`, ok: true };
    },
    listRuns: async () => [...runs],
    removeRun: async (p) => { runs.splice(runs.findIndex((r) => r.path === p), 1); },
    log: () => {},
  };
}

async function week(plan: Plan, startIso: string, bytesPerRun = 1e6): Promise<ReturnType<typeof fakeDeps> & { events: Awaited<ReturnType<typeof runAgent>> }> {
  const d = fakeDeps(startIso, bytesPerRun);
  const until = new Date(new Date(startIso).getTime() + 7 * 86400000);
  const events = await runAgent(plan, d, new AbortController().signal, { until });
  return { ...d, events };
}

function assertNoOverlap(opened: Array<[string, string, string]>): void {
  for (let i = 1; i < opened.length; i++) assert.ok(opened[i]![1] >= opened[i - 1]![2], `${opened[i]![0]} at ${opened[i]![1]} overlaps ${opened[i - 1]![0]} ending ${opened[i - 1]![2]}`);
}

test('cron in Europe/Berlin across the spring-forward night: 03:00 local every day', async () => {
  const plan = parsePlan('out: /runs\nwindows:\n  - name: nightly\n    cron: "0 3 * * *"\n    timezone: Europe/Berlin\n    duration: 10m\n');
  const r = await week(plan, '2026-03-26T12:00:00Z');
  // CET (UTC+1) until 2026-03-29 02:00 local, then CEST (UTC+2).
  assert.deepEqual(r.opened.map((x) => x[1]), [
    '2026-03-27T02:00:00.000Z', '2026-03-28T02:00:00.000Z', '2026-03-29T01:00:00.000Z', '2026-03-30T01:00:00.000Z',
    '2026-03-31T01:00:00.000Z', '2026-04-01T01:00:00.000Z', '2026-04-02T01:00:00.000Z',
  ]);
  for (const [, s, e] of r.opened) assert.equal(new Date(e).getTime() - new Date(s).getTime(), 10 * 60000);
});

test('cron in America/New_York at 02:30 on the day 02:30 does not exist (2026-03-08)', async () => {
  const plan = parsePlan('out: /runs\nwindows:\n  - name: early\n    cron: "30 2 * * *"\n    timezone: America/New_York\n    duration: 5m\n');
  const r = await week(plan, '2026-03-05T12:00:00Z');
  const starts = r.opened.map((x) => x[1]);
  // EST (UTC-5) 02:30 = 07:30Z until the 7th; the 8th has no 02:30 (clocks jump from 02:00 EST
  // to 03:00 EDT): the window opens once that day, at the first moment after the gap, 03:00 EDT
  // (UTC-4) = 07:00Z; then EDT 02:30 = 06:30Z.
  assert.deepEqual(starts.slice(0, 3), ['2026-03-06T07:30:00.000Z', '2026-03-07T07:30:00.000Z', '2026-03-08T07:00:00.000Z']);
  assert.deepEqual(starts.slice(3), ['2026-03-09T06:30:00.000Z', '2026-03-10T06:30:00.000Z', '2026-03-11T06:30:00.000Z', '2026-03-12T06:30:00.000Z']);
});

test('every 6h aligned to midnight UTC, plus one-off at-windows, retention keep 5 and a disk budget', async () => {
  const plan = parsePlan(`out: /runs
keep: 5
maxDiskGB: 0.003
windows:
  - name: sixhourly
    every: 6h
    duration: 30m
  - name: incident
    at: "2026-10-25T01:10:00Z"
    duration: 15m
  - name: past
    at: "2020-01-01T00:00:00Z"
    duration: 15m
`);
  const r = await week(plan, '2026-10-22T01:00:00Z', 1e6);
  const six = r.opened.filter((x) => x[0] === 'sixhourly').map((x) => x[1]);
  assert.equal(six.length, 28, '4 a day for 7 days');
  assert.equal(six[0], '2026-10-22T06:00:00.000Z');
  assert.ok(six.every((s) => /T(00|06|12|18):00:00\.000Z$/.test(s)), 'aligned to 6h in UTC, unaffected by the European fall-back on 10-25');
  assert.deepEqual(r.opened.filter((x) => x[0] === 'incident').map((x) => x[1]), ['2026-10-25T01:10:00.000Z']);
  assert.equal(r.opened.filter((x) => x[0] === 'past').length, 0, 'a past one-off never runs');
  assertNoOverlap(r.opened);
  // Retention: at most 5 runs, and 3 MB budget with 1 MB runs -> 3 runs remain, the newest.
  assert.equal(r.runs.length, 3);
  assert.deepEqual(r.runs.map((x) => x.name), ['run-0027', 'run-0028', 'run-0029']);
  assert.equal(r.events.filter((e) => e.kind === 'retention').length, 26);
});

test('overlapping windows: the later one is skipped, never run at the same time', async () => {
  const plan = parsePlan(`out: /runs
windows:
  - name: hourly
    every: 1h
    duration: 45m
  - name: half-past
    cron: "30 * * * *"
    duration: 10m
`);
  const r = await week(plan, '2026-06-01T00:00:00Z');
  assertNoOverlap(r.opened);
  const hourly = r.opened.filter((x) => x[0] === 'hourly');
  assert.equal(hourly.length, 7 * 24);
  assert.equal(r.opened.filter((x) => x[0] === 'half-past').length, 0);
  assert.equal(r.events.filter((e) => e.kind === 'skipped' && e.name === 'half-past').length, 7 * 24);
});

test('plan validation: clear errors', () => {
  assert.throws(() => parsePlan('out: x\nwindows:\n  - name: a\n    every: 10m\n    duration: 1h\n'), /windows would overlap/);
  assert.throws(() => parsePlan('out: x\nwindows:\n  - name: a\n    cron: "61 * * * *"\n    duration: 1m\n'), /bad cron expression/);
  assert.throws(() => parsePlan('out: x\nwindows:\n  - name: a\n    at: "2026-01-01T00:00:00Z"\n    every: 1h\n    duration: 1m\n'), /exactly one of at, every, cron/);
  assert.throws(() => parsePlan('windows: []\n'), /"out"/);
});

test('plan without "out": the default the CLI passes (defaultOutDir), else an error', () => {
  const text = 'windows:\n  - name: a\n    every: 1h\n    duration: 5m\n';
  assert.equal(parsePlan(text, 'p', 'C:\\ProgramData\\wnvcap\\runs').out, 'C:\\ProgramData\\wnvcap\\runs');
  assert.equal(parsePlan(`out: D:\\runs\n${text}`, 'p', 'C:\\ProgramData\\wnvcap\\runs').out, 'D:\\runs', 'the plan\'s own out wins');
  assert.throws(() => parsePlan(text, 'p'), /"out" \(where run folders go\) is required/);
});

test('a plan window with "computers" is rejected with the way to schedule a fleet (the agent captures on its own host)', () => {
  assert.throws(() => parsePlan('out: /runs\nwindows:\n  - name: fleet\n    cron: "0 3 * * *"\n    duration: 10m\n    computers: [ch01, ch02]\n'),
    (e: unknown) => /window fleet: "computers" is not supported by wnvcap agent .*wnvcap schedule add <name> --computer/.test((e as Error).message));
});

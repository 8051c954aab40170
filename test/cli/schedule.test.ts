/** CLI: schedule add/list/run-now/remove on the simulated host; the agent runs a real window. */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { registerTaskStep } from '../../src/schedule/task.js';
import { SimHost, type SimTask } from '../../src/sim/sim-host.js';

const run = runCli;

test('schedule add/list/run-now/remove: a SYSTEM task with the right trigger, limit and command line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wnvcap-sched-'));
  const env = { WNVCAP_STATE_DIR: dir };
  const add = await run(['schedule', 'add', 'nightly', '--cron', '0 3 * * 1,5', '--duration', '10m', '--keep', '5', '--out', 'C:\\Cap Runs', '--simulate'], env);
  assert.equal(add.code, 0, add.err);
  assert.match(add.out, /registered on simulated host SIM-CH01 \(weekly at 03:00, the host's local time\)/);
  assert.ok(!existsSync(join(process.cwd(), 'C:\\Cap Runs')), 'the simulated host made no folder named after a Windows path here');
  const state = new SimHost({ stateFile: join(dir, 'sim-host.json') }).snapshotState();
  const task = state.tasks![0]!;
  assert.equal(task.name, 'wnvcap-nightly');
  assert.equal(task.path, '\\wnvcap\\');
  assert.deepEqual(task.principal, { UserId: 'S-1-5-18', LogonType: 'ServiceAccount', RunLevel: 'Highest' });
  // The limit the host computed from the New-TimeSpan it received: window 600 s + margin 3120 s = 3720 s.
  assert.deepEqual(task.settings, { MultipleInstances: 'IgnoreNew', ExecutionTimeLimit: 'PT1H2M', StartWhenAvailable: true });
  assert.deepEqual(task.trigger['DaysOfWeek'], ['Monday', 'Friday']);
  assert.match(task.argument, /capture --profile container --duration 600s --out "C:\\Cap Runs" --keep 5 --simulate$/);
  const list = await run(['schedule', 'list', '--simulate', '--json'], env);
  assert.deepEqual((JSON.parse(list.out) as { tasks: Array<{ TaskName: string }> }).tasks.map((t) => t.TaskName), ['wnvcap-nightly']);
  assert.equal((await run(['schedule', 'run-now', 'nightly', '--simulate'], env)).code, 0);
  assert.equal(new SimHost({ stateFile: join(dir, 'sim-host.json') }).snapshotState().tasks![0]!.runs, 1);
  assert.equal((await run(['schedule', 'remove', 'nightly', '--simulate'], env)).code, 0);
  assert.equal((await run(['schedule', 'remove', 'nightly', '--simulate'], env)).code, 4, 'removing twice fails clearly');
  const bad = await run(['schedule', 'add', 'x', '--cron', '*/5 * * * *', '--duration', '1m', '--simulate'], env);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /wnvcap agent/);
  assert.equal((await run(['schedule', 'add', 'x', '--every', '5m', '--duration', '10m', '--simulate'], env)).code, 2);
  assert.equal((await run(['schedule', 'add', 'bad;name', '--at', '2026-12-01T00:00:00', '--duration', '1m', '--simulate'], env)).code, 2);
});

function tasks(dir: string): SimTask[] {
  return new SimHost({ stateFile: join(dir, 'sim-host.json') }).snapshotState().tasks ?? [];
}

test('the registration creates the output folder first: it is the task\'s working directory (0x8007010B when missing)', async () => {
  const out = 'C:\\Cap Runs\\nightly';
  const host = new SimHost({});
  const r = await host.run(registerTaskStep({ name: 'nightly', trigger: { kind: 'daily', at: '03:00' }, windowSeconds: 600, execute: 'C:\\wnvcap\\wnvcap.exe', args: ['capture', '--out', out], workingDirectory: out }));
  assert.equal(r.ok, true, JSON.stringify(r.error));
  const names = host.executed.map((c) => c.name);
  const mk = names.indexOf('New-Item');
  assert.ok(mk >= 0 && mk < names.indexOf('New-ScheduledTaskAction') && mk < names.indexOf('Register-ScheduledTask'), names.join(', '));
  assert.deepEqual(host.executed[mk]!.params, [
    { name: 'ItemType', value: { kind: 'string', value: 'Directory' } },
    { name: 'Force', value: undefined },
    { name: 'Path', value: { kind: 'string', value: out } },
  ]);
  const action = host.executed.find((c) => c.name === 'New-ScheduledTaskAction')!;
  assert.deepEqual(action.params.find((x) => x.name === 'WorkingDirectory')!.value, { kind: 'string', value: out });
});

test('schedule add: --out must be a full Windows path (a SYSTEM task would resolve a relative one against System32)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wnvcap-sched-out-'));
  const env = { WNVCAP_STATE_DIR: dir };
  for (const out of ['runs', '.\\runs', '..\\runs', 'C:runs', '\\runs', '/var/runs', '.']) {
    const r = await run(['schedule', 'add', 'rel', '--at', '2026-12-01T00:00:00Z', '--duration', '1m', '--out', out, '--simulate'], env);
    assert.equal(r.code, 2, `${out}: ${r.err}`);
    assert.ok(r.err.includes(`error: --out "${out}" is not a full Windows path: the scheduled task runs as SYSTEM, which would resolve it against C:\\Windows\\System32`), r.err);
  }
  assert.deepEqual(tasks(dir), [], 'nothing registered');
  for (const [name, out] of [['drive', 'D:\\captures'], ['slash', 'D:/captures'], ['unc', '\\\\fs01\\captures\\wnvcap']]) {
    const r = await run(['schedule', 'add', name!, '--at', '2026-12-01T00:00:00Z', '--duration', '1m', '--out', out!, '--simulate'], env);
    assert.equal(r.code, 0, `${out}: ${r.err}`);
  }
  assert.deepEqual(tasks(dir).map((t) => t.name), ['wnvcap-drive', 'wnvcap-slash', 'wnvcap-unc']);
});

test('schedule add --every without --at starts in a minute, with the time zone; --at without a zone is the host\'s local time', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wnvcap-sched-at-'));
  const env = { WNVCAP_STATE_DIR: dir };
  const t0 = Date.now();
  const every = await run(['schedule', 'add', 'sixhourly', '--every', '6h', '--duration', '30m', '--simulate'], env);
  const t1 = Date.now();
  assert.equal(every.code, 0, every.err);
  const task = tasks(dir).find((t) => t.name === 'wnvcap-sixhourly')!;
  const at = String(task.trigger['At']);
  // What the host received carries its zone (UTC), so no host reads it as its own local time.
  assert.match(at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
  assert.ok(Date.parse(at) >= Math.floor((t0 + 60000) / 1000) * 1000 && Date.parse(at) <= t1 + 60000, `${at}: a minute from now`);
  assert.equal(task.trigger['Repetition'], true);
  assert.deepEqual(task.settings, { MultipleInstances: 'IgnoreNew', ExecutionTimeLimit: 'PT1H22M', StartWhenAvailable: true }, '1800 s + 3120 s');
  assert.ok(every.out.includes(`(every at ${at})`), every.out);
  const local = await run(['schedule', 'add', 'once', '--at', '2026-12-01T03:00:00', '--duration', '10m', '--simulate'], env);
  assert.equal(local.code, 0, local.err);
  assert.equal(tasks(dir).find((t) => t.name === 'wnvcap-once')!.trigger['At'], '2026-12-01T03:00:00');
  assert.ok(local.out.includes("(once at 2026-12-01T03:00:00, the host's local time)"), local.out);
  const offset = await run(['schedule', 'add', 'berlin', '--at', '2026-12-01T03:00:00+01:00', '--duration', '10m', '--simulate'], env);
  assert.equal(offset.code, 0, offset.err);
  assert.equal(tasks(dir).find((t) => t.name === 'wnvcap-berlin')!.trigger['At'], '2026-12-01T03:00:00+01:00');
  assert.ok(offset.out.includes('(once at 2026-12-01T03:00:00+01:00)'), offset.out);
});

test('agent --plan on the simulated host: a real window, then no more windows', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wnvcap-agent-'));
  const at = new Date(Date.now() + 500).toISOString();
  writeFileSync(join(dir, 'plan.yaml'), `out: ${JSON.stringify(join(dir, 'runs'))}\nkeep: 3\nwindows:\n  - name: soon\n    at: "${at}"\n    duration: 2s\n`);
  const r = await run(['agent', '--plan', join(dir, 'plan.yaml'), '--simulate'], { WNVCAP_STATE_DIR: join(dir, 'state') });
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(JSON.parse(r.out), { windows: 1, skipped: 0, removed: 0 });
  const runs = readdirSync(join(dir, 'runs'));
  assert.equal(runs.length, 1);
  assert.ok(existsSync(join(dir, 'runs', runs[0]!, 'report.html')));
});

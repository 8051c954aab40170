/** CLI: schedule add/list/run-now/remove on the simulated host; the agent runs a real window. */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { SimHost } from '../../src/sim/sim-host.js';

const run = runCli;

test('schedule add/list/run-now/remove: a SYSTEM task with the right trigger, limit and command line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wnvcap-sched-'));
  const env = { WNVCAP_STATE_DIR: dir };
  const add = await run(['schedule', 'add', 'nightly', '--cron', '0 3 * * 1,5', '--duration', '10m', '--keep', '5', '--out', 'C:\\Cap Runs', '--simulate'], env);
  assert.equal(add.code, 0, add.err);
  assert.match(add.out, /registered on simulated host SIM-CH01 \(weekly at 03:00\)/);
  const state = new SimHost({ stateFile: join(dir, 'sim-host.json') }).snapshotState();
  const task = state.tasks![0]!;
  assert.equal(task.name, 'wnvcap-nightly');
  assert.equal(task.path, '\\wnvcap\\');
  assert.deepEqual(task.principal, { UserId: 'NT AUTHORITY\\SYSTEM', LogonType: 'ServiceAccount', RunLevel: 'Highest' });
  assert.deepEqual(task.settings, { MultipleInstances: 'IgnoreNew', ExecutionTimeLimit: true });
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

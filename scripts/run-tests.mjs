#!/usr/bin/env node
// Runs the node:test suites with tsx: `test` (unit and end-to-end, the README's command),
// `pwsh` (the real-PowerShell suite in test-pwsh/: needs pwsh on PATH) or `interop`
// (test-interop/: tshark, Chromium, wine). Node 20 has no glob support in --test, so the files
// are listed here.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

const suite = process.argv[2] ?? 'test';
const root = { interop: 'test-interop', pwsh: 'test-pwsh' }[suite] ?? 'test';
const files = [];
const walk = (d) => {
  for (const n of readdirSync(d).sort()) {
    const p = join(d, n);
    if (statSync(p).isDirectory()) walk(p);
    else if (n.endsWith('.test.ts')) files.push(p);
  }
};
walk(root);
if (files.length === 0) {
  console.error(`no test files under ${root}/`);
  process.exit(1);
}

const hasPwsh = (process.env.PATH ?? '').split(delimiter).some((d) => d && existsSync(join(d, process.platform === 'win32' ? 'pwsh.exe' : 'pwsh')));
const tallyFile = join('test-output', 'pwsh-tally.jsonl');
const sshTallyFile = join('test-output', 'ssh-tally.jsonl');
if (suite === 'pwsh') for (const f of [tallyFile, sshTallyFile]) rmSync(f, { force: true });

// The real-PowerShell files spend most of their time waiting (step timeouts, pwsh start-up: about
// a quarter of the wall time is CPU), so six run at once, the long fault and SSH files first (with
// four, the suite took 14.9 min on 2 cores once the SSH fleet tests came).
const concurrency = suite === 'pwsh' ? 6 : 2;
if (suite === 'pwsh') files.sort((a, b) => Number(/faults|ssh/.test(b)) - Number(/faults|ssh/.test(a)));
const args = ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...process.argv.slice(3), ...files];
const r = spawnSync(process.execPath, args, { stdio: 'inherit' });

if (suite === 'test') {
  const n = existsSync('test-pwsh') ? readdirSync('test-pwsh').filter((f) => f.endsWith('.test.ts')).length : 0;
  console.log(hasPwsh
    ? `note: the real-PowerShell suite (test-pwsh/, ${n} files) is separate: npm run test:pwsh`
    : `skipped: the real-PowerShell suite (test-pwsh/, ${n} files): pwsh is not on PATH; install it (dotnet tool install --tool-path /opt/pwsh-tool PowerShell --version 7.6.9), add it to PATH, then npm run test:pwsh`);
}
if (suite === 'pwsh' && existsSync(tallyFile)) {
  const rows = readFileSync(tallyFile, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const scripts = rows.reduce((a, x) => a + x.scripts, 0);
  const hosts = new Set(rows.filter((x) => x.scripts > 0).map((x) => x.host));
  console.log(`real PowerShell: ${scripts} wnvcap scripts ran in pwsh on ${hosts.size} fake Windows host types (${[...hosts].sort().join(', ')})`);
}
if (suite === 'pwsh') {
  // Written by test-pwsh/ssh-fleet.test.ts: the hosts each run reached over SSH, the failure kinds it proved.
  const rows = existsSync(sshTallyFile) ? readFileSync(sshTallyFile, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
  const reached = rows.reduce((a, x) => a + x.reached.length, 0);
  const kinds = [...new Set(rows.flatMap((x) => x.failureKinds))];
  console.log(`remoting over SSH: ${reached} hosts reached (real sshd, New-PSSession -HostName) in ${rows.length} fleet runs; ${kinds.length} failure kinds exercised (${kinds.join(', ')})`);
}
process.exit(r.status ?? 1);

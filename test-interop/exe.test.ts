/**
 * Interop: the single executables (npm run build:exe). The Linux build and the npm build print the
 * version and the commit of this checkout; the Windows build carries no (broken) Authenticode
 * signature; the Linux build and, under wine, the Windows build run --version,
 * `info <fixture> --json` and `decode <fixture> -o out.pcapng`, and the Windows build's outputs
 * are byte-identical to the Linux build's. Under wine a stdout that is a pipe can fail with EBADF,
 * so every output goes to a file.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { FIXTURES, REPO } from '../test/helpers/fixtures.js';
import { readSecurityDirectory } from '../scripts/pe-strip-signature.mjs';

const LINUX = join(REPO, 'dist', 'wnvcap-linux-x64');
const WIN = join(REPO, 'dist', 'wnvcap-win-x64.exe');
const dir = mkdtempSync(join(tmpdir(), 'wnvcap-exe-'));
const env = { ...process.env, WINEDEBUG: '-all', WINEPREFIX: join(dir, 'wineprefix') };
// What --version must print: package.json's version and the commit the executables were built from.
const HEAD = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO, encoding: 'utf8' }).stdout.trim();
const VERSION_LINE = `${(JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version} (commit ${HEAD})\n`;

function runTo(cmd: string, args: string[], outFile: string, extraEnv: Record<string, string> = {}): number {
  const out = openSync(outFile, 'w');
  const err = openSync(`${outFile}.err`, 'w');
  try {
    const r = spawnSync(cmd, args, { stdio: ['ignore', out, err], env: { ...env, ...extraEnv }, cwd: REPO, timeout: 240000 });
    if (r.error) throw r.error;
    return r.status ?? -1;
  } finally {
    closeSync(out);
    closeSync(err);
  }
}

test('the executables exist (npm run build:exe)', () => {
  assert.ok(existsSync(LINUX), `${LINUX} missing: run npm run build:exe`);
  assert.ok(existsSync(WIN), `${WIN} missing: run npm run build:exe`);
});

test('--version of the Linux executable and of the npm build: the version and the commit of this checkout', () => {
  assert.match(HEAD, /^[0-9a-f]{7,}$/, 'the tests run in a git checkout');
  for (const [what, cmd, args] of [['linux executable', LINUX, []], ['npm build', process.execPath, [join(REPO, 'dist', 'cli', 'bin.js')]]] as const) {
    const file = join(dir, `version-${what.replace(/ /g, '-')}.out`);
    assert.equal(runTo(cmd, [...args, '--version'], file), 0, what);
    assert.equal(readFileSync(file, 'utf8'), VERSION_LINE, what);
  }
});

test('the Linux executable captures on the simulated host and on a simulated fleet of two (the simulated host runs the typed steps: no PowerShell grammar inside)', () => {
  const stateDir = { WNVCAP_STATE_DIR: join(dir, 'sim-state') };
  const one = join(dir, 'sim-one');
  assert.equal(runTo(LINUX, ['capture', '--simulate', '--duration', '2s', '--out', one], `${one}.out`, stateDir), 0, readFileSync(`${one}.out.err`, 'utf8'));
  const runs = readdirSync(one).filter((n) => n.startsWith('run-'));
  assert.equal(runs.length, 1);
  assert.ok(JSON.parse(readFileSync(join(one, runs[0]!, 'report.json'), 'utf8')).totals.packets > 0, 'the run folder has its report');
  const fleet = join(dir, 'sim-fleet');
  assert.equal(runTo(LINUX, ['capture', '--simulate', '--computer', 'ch01,ch02', '--duration', '2s', '--out', fleet, '--json'], `${fleet}.out`, stateDir), 0, readFileSync(`${fleet}.out.err`, 'utf8'));
  const doc = JSON.parse(readFileSync(`${fleet}.out`, 'utf8')) as { hosts: Array<{ host: string; status: string }> };
  assert.deepEqual(doc.hosts.map((h) => `${h.host} ${h.status}`), ['ch01 ok', 'ch02 ok']);
});

test('the Windows executable has an empty security directory (node.exe\'s signature was removed before the injection)', () => {
  assert.deepEqual(readSecurityDirectory(readFileSync(WIN)), { offset: 0, size: 0 });
});

test('Linux and Windows (wine) executables: --version, info --json, decode: identical outputs', () => {
  const fixture = relative(REPO, join(FIXTURES, 'pktmon-ws2022-icmp-demikernel.etl'));
  const wine = spawnSync('wine', ['--version'], { encoding: 'utf8', env });
  assert.equal(wine.status, 0, 'wine is installed (apt-get install wine)');
  // A fresh prefix reports Windows 7, which Node refuses: say Windows 10.
  spawnSync('winecfg', ['-v', 'win10'], { env, timeout: 240000 });
  const cases: Array<[string, string[]]> = [
    ['version', ['--version']],
    ['info', ['info', fixture, '--json']],
    ['decode', ['decode', fixture, '-o', '@OUT@', '--json']],
  ];
  for (const [name, args] of cases) {
    const outs: Record<string, { stdout: Buffer; pcap?: Buffer }> = {};
    for (const [which, cmd, pre] of [['linux', LINUX, []], ['windows', 'wine', [WIN]]] as const) {
      const pcap = join(dir, `${name}-${which}.pcapng`);
      const file = join(dir, `${name}-${which}.out`);
      const code = runTo(cmd, [...pre, ...args.map((a) => (a === '@OUT@' ? (which === 'windows' ? relative(REPO, pcap) : pcap) : a))], file);
      assert.equal(code, 0, `${which} ${name}: ${readFileSync(`${file}.err`, 'utf8').slice(0, 500)}`);
      outs[which] = { stdout: readFileSync(file), ...(name === 'decode' ? { pcap: readFileSync(pcap) } : {}) };
    }
    if (name === 'decode') {
      assert.ok(outs['linux']!.pcap!.length > 1000);
      assert.deepEqual(outs['windows']!.pcap, outs['linux']!.pcap, 'the pcapng files are byte-identical');
    } else {
      assert.equal(outs['windows']!.stdout.toString('utf8').replace(/\r\n/g, '\n'), outs['linux']!.stdout.toString('utf8'), `${name} output`);
      assert.ok(outs['linux']!.stdout.length > 0);
    }
    if (name === 'version') assert.equal(outs['linux']!.stdout.toString(), VERSION_LINE);
  }
});

test('Linux and Windows (wine) executables analyse on a second thread, started from the embedded bundle: the same report as on one', () => {
  // A PktMon file: the one-pass attempt restarts into two passes, on the thread too.
  const fixture = relative(REPO, join(FIXTURES, 'pktmon-ws2022-icmp-demikernel.etl'));
  const reports: string[] = [];
  for (const [which, cmd, pre] of [['linux', LINUX, []], ['windows', 'wine', [WIN]]] as const) {
    for (const threads of ['1', '2']) {
      const json = join(dir, `report-${which}-${threads}.json`);
      const file = join(dir, `report-${which}-${threads}.out`);
      const code = runTo(cmd, [...pre, 'report', fixture, '--format', 'json', '-o', which === 'windows' ? relative(REPO, json) : json, '--threads', threads], file);
      const stderr = readFileSync(`${file}.err`, 'utf8');
      assert.equal(code, 0, `${which} --threads ${threads}: ${stderr.slice(0, 500)}`);
      assert.doesNotMatch(stderr, /no analysis thread/, `${which}: the thread started`);
      reports.push(readFileSync(json, 'utf8'));
    }
  }
  assert.ok((JSON.parse(reports[0]!) as { totals: { packets: number } }).totals.packets > 0);
  for (const r of reports.slice(1)) assert.equal(r, reports[0]);
});

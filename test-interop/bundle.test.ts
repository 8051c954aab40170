/**
 * Interop: the npm build's start (npm run build; issue 13: start-up). dist/cli/bin.js runs the
 * bundle dist/bundle/wnvcap.cjs with the V8 code cache made beside it, and V8 takes the cache; the
 * bundle prints what the sources print (run by tsx, no bundle) for the version, help, a usage
 * error, a fixture's info, the shipped profiles and an HTML report (the charting library found
 * from the bundle's place).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { availableParallelism } from 'node:os';
import { THREAD_MIN_BYTES } from '../src/analysis/thread-start.js';
import { writeNdisScenario } from '../src/sim/scenarios.js';
import { assemble, FIXTURES, REPO } from '../test/helpers/fixtures.js';

const BUNDLE = join(REPO, 'dist', 'bundle', 'wnvcap.cjs');
const dir = mkdtempSync(join(tmpdir(), 'wnvcap-bundle-'));
// Preloaded into the built CLI: says on stderr how it started (src/cli/bundle.ts).
const preload = join(dir, 'start.mjs');
writeFileSync(preload, "process.on('exit', () => process.stderr.write(`start: ${JSON.stringify(globalThis[Symbol.for('wnvcap.bundle-start')] ?? null)}\\n`));\n");

function built(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, ['--import', preload, join(REPO, 'dist', 'cli', 'bin.js'), ...args], { encoding: 'utf8', cwd: REPO, env: { ...process.env, ...env } });
}
function sources(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, ['--import', 'tsx', join(REPO, 'src', 'cli', 'bin.ts'), ...args], { encoding: 'utf8', cwd: REPO, env: { ...process.env, ...env } });
}
function start(stderr: string): { file: string; cacheAccepted: boolean } | null {
  const line = stderr.split('\n').find((l) => l.startsWith('start: '));
  assert.ok(line, stderr);
  return JSON.parse(line.slice('start: '.length)) as { file: string; cacheAccepted: boolean } | null;
}

test('npm run build made the bundle and its code cache', () => {
  assert.ok(existsSync(BUNDLE), `${BUNDLE} missing: run npm run build`);
  assert.ok(existsSync(`${BUNDLE}.cache`), `${BUNDLE}.cache missing: run npm run build`);
});

test('a code cache is used only with the bundle of its own build: another bundle of the same length (another id) runs its own code, without the cache', () => {
  const root = mkdtempSync(join(tmpdir(), 'wnvcap-stale-'));
  for (const d of ['cli', 'bundle', 'analysis']) mkdirSync(join(root, d));
  // What bin.js loads before the bundle.
  for (const f of ['cli/bin.js', 'cli/bundle.js', 'cli/v8-flags.js', 'analysis/thread-start.js']) copyFileSync(join(REPO, 'dist', f), join(root, f));
  copyFileSync(`${BUNDLE}.cache`, join(root, 'bundle', 'wnvcap.cjs.cache'));
  const text = readFileSync(BUNDLE, 'latin1');
  const run = (): { status: number | null; stdout: string; stderr: string } =>
    spawnSync(process.execPath, ['--import', preload, join(root, 'cli', 'bin.js'), '--version'], { encoding: 'utf8', cwd: REPO });
  writeFileSync(join(root, 'bundle', 'wnvcap.cjs'), text, 'latin1');
  const same = run();
  assert.equal(same.status, 0, same.stderr);
  assert.equal(start(same.stderr)?.cacheAccepted, true, 'the copy of this build takes its cache');
  // Another build: another id and another version text, the same length as this build's bundle.
  const id = /wnvcap-build ([0-9a-f]{32})/.exec(text)![1]!;
  const version = same.stdout.trim().split(' ')[0]!;
  const other = version.replace(/\d$/, (d) => String((Number(d) + 1) % 10));
  const changed = text.replace(id, id.split('').reverse().join('')).split(`"${version}"`).join(`"${other}"`);
  assert.equal(changed.length, text.length);
  writeFileSync(join(root, 'bundle', 'wnvcap.cjs'), changed, 'latin1');
  const stale = run();
  assert.equal(stale.status, 0, stale.stderr);
  assert.equal(start(stale.stderr)?.cacheAccepted, false);
  assert.equal(stale.stdout.split(' ')[0], other, 'the new bundle\'s code ran, not the cached one');
});

test('the bundle has no dynamic import(): code run from a V8 code cache has no callback for it (Node 20), so esbuild turns each into require()', () => {
  const text = readFileSync(BUNDLE, 'latin1');
  const found = [...text.matchAll(/\bimport\(/g)].map((m) => text.slice(m.index, m.index + 60));
  assert.deepEqual(found, []);
});

test('the built CLI starts from the bundle and V8 takes its code cache; the sources start without one', () => {
  const b = built(['--version']);
  assert.equal(b.status, 0, b.stderr);
  assert.deepEqual(start(b.stderr), { file: BUNDLE, cacheAccepted: true });
  const s = spawnSync(process.execPath, ['--import', 'tsx', '--import', preload, join(REPO, 'src', 'cli', 'bin.ts'), '--version'], { encoding: 'utf8', cwd: REPO });
  assert.equal(s.status, 0, s.stderr);
  assert.equal(start(s.stderr), null);
  assert.equal(b.stdout.split(' ')[0], s.stdout.split(' ')[0], 'the same version');
});

test('the bundle and the sources print the same: help, a command\'s help, a usage error, info of a fixture, the profiles', () => {
  const fixture = join(FIXTURES, 'pktmon-win11-26200-mdns-triton.etl');
  const cases = [['--help'], ['decode', '--help'], ['decode', 'x.etl', '-o', '-'], ['info', fixture, '--json'], ['info', fixture], ['profiles', 'list'], ['nonsense']];
  // A German locale too: yargs' own words must not depend on where yargs is loaded from.
  const runs = [...cases.map((args) => [args, {}] as const), [['--help'], { LANG: 'de_DE.UTF-8', LC_ALL: 'de_DE.UTF-8' }] as const, [['nonsense'], { LANG: 'de_DE.UTF-8' }] as const];
  for (const [args, env] of runs) {
    const b = built([...args], env);
    const s = sources([...args], env);
    assert.equal(b.status, s.status, `exit code of ${args.join(' ')}`);
    assert.equal(b.stdout, s.stdout, `stdout of ${args.join(' ')}`);
    assert.equal(b.stderr.split('\n').filter((l) => !l.startsWith('start: ')).join('\n'), s.stderr, `stderr of ${args.join(' ')}`);
  }
});

test('the bundle analyses on a second thread (dist/bundle/analysis-worker.cjs) to the same report as on one', () => {
  assert.ok(existsSync(join(REPO, 'dist', 'bundle', 'analysis-worker.cjs')), 'npm run build writes the analysis thread\'s bundle');
  // A PktMon file: the one-pass attempt restarts into two passes, on the thread too.
  const fixture = join(FIXTURES, 'pktmon-win11-26100-wifi-eth-drops-dookisan.etl');
  const outs = ['1', '2'].map((n) => {
    const out = join(dir, `threads-${n}.json`);
    const b = built(['report', fixture, '--format', 'json', '-o', out, '--threads', n]);
    assert.equal(b.status, 0, b.stderr);
    assert.doesNotMatch(b.stderr, /no analysis thread/);
    assert.equal(start(b.stderr)?.cacheAccepted, true);
    return readFileSync(out, 'utf8');
  });
  assert.equal(outs[1], outs[0]);
  assert.ok((JSON.parse(outs[0]!) as { totals: { packets: number } }).totals.packets > 1000);
});

test('a report of a big capture: bin.js starts the analysis thread before the bundle runs, and the report takes it over', { skip: availableParallelism() < 2 && 'one core: no second thread' }, () => {
  const chunks: Uint8Array[] = [];
  const s = writeNdisScenario({ seed: 13, packets: 20_000, cpus: 2, bufferSize: 65536, fragmentEvery: 0, vmswitchEvery: 7, maxFrame: 1514 }, (c) => chunks.push(c));
  const capture = join(dir, 'big.etl');
  writeFileSync(capture, assemble(chunks, s.header));
  assert.ok(readFileSync(capture).length >= THREAD_MIN_BYTES, 'the capture is big enough for a second thread');
  // Preloaded: says on stderr, at the end, for each thread made, whether the bundle had started
  // then and how many messages the thread sent (an adopted thread sends acks and the report).
  const threads = join(dir, 'threads.cjs');
  writeFileSync(threads, `const wt = require('node:worker_threads'); const W = wt.Worker; const made = [];
wt.Worker = class extends W { constructor(...a) { super(...a); const t = { when: globalThis[Symbol.for('wnvcap.bundle-start')] ? 'after' : 'before', messages: 0 }; made.push(t); this.on('message', () => { t.messages++; }); } };
process.on('exit', () => { for (const t of made) process.stderr.write('thread: ' + t.when + ' the bundle, ' + (t.messages > 0 ? 'answered' : 'silent') + '\\n'); });\n`);
  const run = (extra: string[]): { stderr: string; report: string } => {
    const out = join(dir, `big-${extra.join('')}.json`);
    const r = spawnSync(process.execPath, ['--require', threads, join(REPO, 'dist', 'cli', 'bin.js'), 'report', capture, '--format', 'json', '-o', out, ...extra], { encoding: 'utf8', cwd: REPO });
    assert.equal(r.status, 0, r.stderr);
    return { stderr: r.stderr, report: readFileSync(out, 'utf8') };
  };
  const two = run([]);
  assert.deepEqual(two.stderr.split('\n').filter((l) => l.startsWith('thread: ')), ['thread: before the bundle, answered'], two.stderr);
  const one = run(['--threads', '1']);
  assert.deepEqual(one.stderr.split('\n').filter((l) => l.startsWith('thread: ')), [], one.stderr);
  assert.equal(two.report, one.report);
  assert.equal((JSON.parse(two.report) as { totals: { packets: number } }).totals.packets, 20_000);
});

test('an HTML report from the bundle inlines the charting library', () => {
  const out = join(dir, 'report.html');
  const b = built(['report', join(FIXTURES, 'pktmon-win11-26200-mdns-triton.etl'), '--format', 'html', '-o', out]);
  assert.equal(b.status, 0, b.stderr);
  const html = readFileSync(out, 'utf8');
  assert.match(html, /uPlot/);
  assert.ok(html.length > 40_000, `the library is inlined (${html.length} characters)`);
});

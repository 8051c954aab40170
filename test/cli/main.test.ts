/** End-to-end CLI runs: main(argv, ctx) with captured stdout/stderr, exit codes, files. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { readPcapng } from '../../src/pcapng/pcapng-reader.js';
import { FIXTURES, NEEDS_SHARED, REPO } from '../helpers/fixtures.js';

const run = runCli;

const dir = mkdtempSync(join(tmpdir(), 'wnvcap-cli-'));
const demik = join(FIXTURES, 'pktmon-ws2022-icmp-demikernel.etl');

test('cli: info --json prints wnvcap.info/1 on stdout only', NEEDS_SHARED, async () => {
  const r = await run(['info', demik, '--json']);
  assert.equal(r.code, 0);
  const j = JSON.parse(r.out) as { schema: string; packets: { pktmon: number }; header: { osBuild: number } };
  assert.equal(j.schema, 'wnvcap.info/1');
  assert.equal(j.packets.pktmon, 114);
  assert.equal(j.header.osBuild, 20348);
});

test('cli: decode writes the pcapng and says how many packets', NEEDS_SHARED, async () => {
  const out = join(dir, 'd.pcapng');
  const r = await run(['decode', demik, '-o', out]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /114 packets \(0 dropped\) on 4 interfaces/);
  assert.equal(readPcapng(new Uint8Array(readFileSync(out))).packets.length, 114);
});

test('cli: usage errors exit 2 with the usage; not-ETL exits 3 with a hint and no output file', async () => {
  const u = await run(['decode', demik]);
  assert.equal(u.code, 2);
  assert.match(u.err, /Missing required argument: output/);
  const bad = join(dir, 'bad.etl');
  writeFileSync(bad, 'definitely not an etl file'.repeat(100));
  const out = join(dir, 'bad.pcapng');
  const r = await run(['decode', bad, '-o', out]);
  assert.equal(r.code, 3);
  assert.match(r.err, /not an ETL file/);
  assert.match(r.err, /hint:/);
  assert.ok(!r.err.includes('    at '), 'no stack trace');
  assert.equal(existsSync(out), false);
  const missing = await run(['info', join(dir, 'missing.etl'), '--json']);
  assert.equal(missing.code, 3);
  assert.match(JSON.parse(missing.out).error.message, /no such file/);
  assert.equal((await run(['frobnicate'])).code, 2);
});

test('cli: a truncated capture decodes what is there, warns, exits 0', NEEDS_SHARED, async () => {
  const cut = join(dir, 'cut.etl');
  const bytes = readFileSync(join(FIXTURES, 'pktmon-win11-26100-wifi-eth-drops-dookisan.etl'));
  writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.7)));
  const r = await run(['decode', cut, '-o', join(dir, 'cut.pcapng')]);
  assert.equal(r.code, 0);
  assert.match(r.err, /warn: file ends inside the buffer at offset \d+/);
  const n = Number(/(\d+) packets/.exec(r.out)![1]);
  assert.ok(n > 1000 && n < 30132, `packets: ${n}`);
});

test('cli: --help and --version', async () => {
  const h = await run(['--help']);
  assert.equal(h.code, 0);
  assert.match(h.out, /Exit codes: 0 ok/);
  const v = await run(['--version']);
  // Run from the sources of a git checkout: the checkout's commit (a build writes dist/build-info.json).
  const head = execFileSync('git', ['rev-parse', '--short=7', 'HEAD'], { cwd: REPO, encoding: 'utf8' }).trim();
  assert.equal(v.out.trim(), `${JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).version} (commit ${head})`);
});

test('cli: an output path that cannot be written is a clear error (exit 2), not a stack trace', NEEDS_SHARED, async () => {
  for (const argv of [['decode', demik, '-o', join(dir, 'no-such-folder', 'x.pcapng')], ['report', demik, '--format', 'html', '-o', join(dir, 'no-such-folder', 'r.html')]]) {
    const r = await run(argv);
    assert.equal(r.code, 2, argv.join(' '));
    assert.match(r.err, /error: cannot write .*no-such-folder.*: no such file or folder/);
    assert.ok(!r.err.includes('    at '), 'no stack trace');
  }
});

test('cli: yargs speaks English whatever the locale (LANG=de_DE), as wnvcap does, from the modules and the bundle alike', async () => {
  const saved = { LANG: process.env['LANG'], LC_ALL: process.env['LC_ALL'] };
  process.env['LANG'] = 'de_DE.UTF-8';
  process.env['LC_ALL'] = 'de_DE.UTF-8';
  try {
    const r = await run(['decode', 'x.etl']);
    assert.equal(r.code, 2);
    assert.match(r.err, /Missing required argument: output/);
    assert.match(r.err, /Options:/);
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
});

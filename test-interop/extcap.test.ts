/**
 * Interop: wnvcap as a Wireshark extcap, driven by real tshark (Debian's Wireshark 4.0). The
 * interface list, DLTs and config are checked line by line against extcap's syntax (as
 * Wireshark's own extcap tests do); `wnvcap extcap install` puts the launcher into the extcap
 * folder tshark names (the global one on Debian's 4.0: these tests run as root in CI and remove
 * it afterwards); then `tshark -i wnvcap` captures one container of the simulated host and of a
 * fake Windows Server 2022 in a real pwsh, and the packets it reads are that container's, named by
 * it. A wrong target fails at once with the host's targets.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createFakeHost, findPwsh } from '../test-pwsh/fake-windows/fake-host.js';
import { REPO } from '../test/helpers/fixtures.js';

const BIN = join(REPO, 'dist', 'cli', 'bin.js');
const dir = mkdtempSync(join(tmpdir(), 'wnvcap-extcap-'));

function wnvcap(args: string[]): { out: string; err: string; status: number } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  return { out: r.stdout, err: r.stderr, status: r.status ?? -1 };
}

function tshark(args: string[], o: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): { out: string; err: string; status: number } {
  const r = spawnSync('tshark', args, { encoding: 'utf8', timeout: 180_000, env: o.env ?? process.env, ...(o.cwd ? { cwd: o.cwd } : {}) });
  if (r.error) throw new Error(`tshark not runnable: ${r.error.message} (apt-get install tshark)`);
  return { out: r.stdout, err: r.stderr, status: r.status ?? -1 };
}

/** Every line is `<kind> {key=value}...` with a known kind. */
function assertExtcapLines(text: string, kinds: string[]): string[] {
  const lines = text.split('\n').filter(Boolean);
  assert.ok(lines.length > 0);
  for (const l of lines) assert.match(l, new RegExp(`^(${kinds.join('|')}) (\\{[a-z]+=[^{}]*\\})+$`), l);
  return lines;
}

const field = (line: string, key: string): string | undefined => new RegExp(`\\{${key}=([^}]*)\\}`).exec(line)?.[1];

test('extcap queries: interfaces, DLTs and config in extcap syntax; the selector values name their argument', () => {
  assert.ok(existsSync(BIN), `${BIN} missing: npm run build`);
  const ifs = assertExtcapLines(wnvcap(['extcap', '--extcap-interfaces', '--extcap-version=4.0']).out, ['extcap', 'interface']);
  assert.deepEqual(ifs.filter((l) => l.startsWith('interface')).map((l) => field(l, 'value')), ['wnvcap']);
  assertExtcapLines(wnvcap(['extcap', '--extcap-dlts', '--extcap-interface', 'wnvcap']).out, ['dlt']);
  assert.match(wnvcap(['extcap', '--extcap-interface', 'wnvcap', '--extcap-capture-filter', 'tcp port 80']).out, /no capture filter/, 'a capture filter is refused with the reason');
  const cfg = assertExtcapLines(wnvcap(['extcap', '--extcap-config', '--extcap-interface', 'wnvcap']).out, ['arg', 'value']);
  const args = cfg.filter((l) => l.startsWith('arg '));
  assert.deepEqual(args.map((l) => Number(field(l, 'number'))), args.map((_, i) => i), 'arguments numbered from 0');
  assert.ok(args.some((l) => field(l, 'call') === '--target' && field(l, 'required') === 'true'));
  for (const v of cfg.filter((l) => l.startsWith('value '))) assert.equal(field(args[Number(field(v, 'arg'))]!, 'type'), 'selector', v);
  assert.notEqual(wnvcap(['extcap', '--extcap-config', '--extcap-interface', 'other']).status, 0, 'an interface that is not ours');
});

test('extcap install: tshark lists the interface, captures one container of the simulated host, names it; a wrong target fails at once', () => {
  const r = wnvcap(['extcap', 'install']);
  assert.equal(r.status, 0, r.err);
  const launcher = /^installed (.+?): /m.exec(r.out)?.[1] ?? '';
  after(() => rmSync(launcher, { force: true }));
  assert.ok(existsSync(launcher), r.out);
  const folders = tshark(['-G', 'folders']).out;
  assert.ok(folders.split('\n').some((l) => /Extcap path:/.test(l) && l.trim().endsWith(join(launcher, '..'))), `into a folder tshark names: ${folders}`);
  assert.match(tshark(['-D']).out, /\d+\. wnvcap \(wnvcap: a Windows container, compartment or VM\)/);
  const out = join(dir, 'db.pcapng');
  const env = { ...process.env, WNVCAP_STATE_DIR: join(dir, 'state') };
  const cap = tshark(['-i', 'wnvcap', '-o', 'extcap.wnvcap.target:db', '-o', 'extcap.wnvcap.simulate:true', '-o', 'extcap.wnvcap.duration:2s', '-o', `extcap.wnvcap.out:${dir}`, '-a', 'duration:120', '-w', out], { env });
  assert.equal(cap.status, 0, cap.err);
  assert.doesNotMatch(cap.err, /Error by extcap pipe/, 'nothing on stderr: Wireshark would show it as an error');
  const rows = tshark(['-r', out, '-T', 'fields', '-e', 'frame.interface_name', '-e', 'frame.comment']).out.split('\n').filter(Boolean);
  assert.ok(rows.length > 0, cap.err);
  assert.ok(rows.some((l) => l.startsWith('db (compartment 4) vNIC ifIndex 31\t')), rows[0]);
  assert.ok(rows.every((l) => l.includes('compartment=4 container=db')), rows.find((l) => !l.includes('container=db')));
  const t0 = Date.now();
  const bad = tshark(['-i', 'wnvcap', '-o', 'extcap.wnvcap.target:nosuch', '-o', 'extcap.wnvcap.simulate:true', '-a', 'duration:120', '-w', join(dir, 'x.pcapng')], { env });
  assert.match(bad.err, /no container, pod, compartment, VM or MAC "nosuch"/);
  assert.match(bad.err, /container web \(f82c3ec1d0fe\)/, 'the host\'s targets');
  assert.ok(Date.now() - t0 < 60_000, 'Wireshark is told at once (the pipe is closed), not at its own time limit');

  // The same through a real pwsh on a fake Windows Server 2022 (its inventory, its capture cmdlets).
  const pwsh = findPwsh();
  assert.ok(pwsh, 'pwsh on PATH (the real-PowerShell suite installs it)');
  return createFakeHost('ws2022-docker').then((fake) => {
    try {
      const fout = join(dir, 'fake-db.pcapng');
      const fcap = tshark(['-i', 'wnvcap', '-o', 'extcap.wnvcap.target:db', '-o', 'extcap.wnvcap.duration:2s', '-o', `extcap.wnvcap.out:${dir}`, '-a', 'duration:120', '-w', fout],
        { env: { ...fake.env, WNVCAP_PWSH: pwsh, WNVCAP_STATE_DIR: join(dir, 'state-fake') }, cwd: fake.dir });
      assert.equal(fcap.status, 0, fcap.err);
      assert.doesNotMatch(fcap.err, /Error by extcap pipe/, 'nothing on stderr');
      const frows = tshark(['-r', fout, '-T', 'fields', '-e', 'frame.comment']).out.split('\n').filter(Boolean);
      assert.ok(frows.length > 0 && frows.every((l) => l.includes('container=db')), fcap.err);
      assert.deepEqual(fake.executed().find((c) => c.command === 'Add-NetEventPacketCaptureProvider')?.params['LinkLayerAddress'], ['00-15-5D-AA-BB-01']);
      assert.deepEqual(fake.state().sessions, [], 'the session was removed');
    } finally {
      fake.dispose();
    }
  });
});

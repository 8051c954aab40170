/**
 * Interop: tshark (Debian package) reads every pcapng we write, fixtures and synthetic, with no
 * warnings and the same packet count; direction and comments are visible in -T fields.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeNdisScenario, writePktmonScenario } from '../src/sim/scenarios.js';
import { assemble, convertBytes, fixtureNames, readFixture } from '../test/helpers/fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'wnvcap-tshark-'));

function tshark(args: string[]): { out: string; err: string; status: number } {
  const r = spawnSync('tshark', args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.error) throw new Error(`tshark not runnable: ${r.error.message} (apt-get install tshark)`);
  // The only line tshark prints about its environment (running as root in CI) is not about our file.
  const err = r.stderr.split('\n').filter((l) => l.trim() !== '' && !/^Running as user "root"/.test(l)).join('\n');
  return { out: r.stdout, err, status: r.status ?? -1 };
}

const cases: Array<[string, () => Uint8Array]> = fixtureNames().map((n) => [n, () => readFixture(n)] as [string, () => Uint8Array]);
cases.push(['synthetic NDIS (fragments, vSwitch, truncation)', () => {
  const c: Uint8Array[] = [];
  const r = writeNdisScenario({ seed: 4, packets: 1500, cpus: 4, bufferSize: 16384, fragmentEvery: 9, vmswitchEvery: 6, truncateEvery: 10 }, (x) => c.push(x));
  return assemble(c, r.header);
}]);
cases.push(['synthetic PktMon (drops, raw IP)', () => {
  const c: Uint8Array[] = [];
  const r = writePktmonScenario({ seed: 4, packets: 1500, cpus: 4 }, (x) => c.push(x));
  return assemble(c, r.header);
}]);

for (const [name, make] of cases) {
  test(`tshark reads our pcapng of ${name}`, async () => {
    const { raw, stats } = await convertBytes(make());
    const file = join(dir, `${name.replace(/[^a-z0-9]+/gi, '_')}.pcapng`);
    writeFileSync(file, raw);
    const r = tshark(['-r', file, '-T', 'fields', '-e', 'frame.number', '-e', 'frame.interface_id', '-e', 'frame.comment', '-e', 'pkt_comment', '-e', 'frame.packet_flags_direction']);
    assert.equal(r.status, 0, r.err);
    assert.equal(r.err.trim(), '', `tshark warnings: ${r.err}`);
    const lines = r.out.split('\n').filter((l) => l.length > 0);
    assert.equal(lines.length, stats.packets);
    if (stats.packets > 0) {
      assert.ok(lines.every((l) => /\t0x0000000[12]$/.test(l) || /\t(1|2)$/.test(l)), `direction in every packet: ${lines[0]}`);
      assert.ok(lines.some((l) => /(component|ifIndex)=\d+/.test(l)), 'comments are visible');
    }
  });
}

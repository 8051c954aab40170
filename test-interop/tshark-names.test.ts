/**
 * Interop: the snapshot's names in the pcapng, as Wireshark shows them. A capture of the simulated
 * container host decoded with its snapshot: tshark reads interface names that say container and
 * compartment, and filters packets by the compartment and container in their comments; the counts
 * are the simulator's own (each packet's compartment as it wrote it). Without the snapshot the
 * names are the decoder's own and the comments carry no compartment.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { containerHostCapture } from '../src/sim/container-host.js';
import { runCli } from '../test/helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'wnvcap-names-'));
const cap = containerHostCapture({ seed: 5 });
writeFileSync(join(dir, 'capture.etl'), cap.etl);
writeFileSync(join(dir, 'snapshot.json'), JSON.stringify(cap.snapshot));

function tshark(args: string[]): string {
  const r = spawnSync('tshark', args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw new Error(`tshark not runnable: ${r.error.message} (apt-get install tshark)`);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

/** Packets tshark shows for a display filter. */
function count(file: string, filter: string): number {
  return tshark(['-r', file, '-Y', filter, '-T', 'fields', '-e', 'frame.number']).split('\n').filter(Boolean).length;
}

test('decode --snapshot: Wireshark sees interfaces by container and compartment, and filters packets by them', async () => {
  const out = join(dir, 'named.pcapng');
  const r = await runCli(['decode', join(dir, 'capture.etl'), '-o', out, '--snapshot', join(dir, 'snapshot.json')]);
  assert.equal(r.code, 0, r.err);
  const names = new Set(tshark(['-r', out, '-T', 'fields', '-e', 'frame.interface_name']).split('\n').filter(Boolean));
  for (const n of ['web (compartment 2) vNIC ifIndex 23', 'api (compartment 3) vNIC ifIndex 27', 'db (compartment 4) vNIC ifIndex 31', 'Ethernet (compartment 1) NIC ifIndex 6']) {
    assert.ok(names.has(n), `interface "${n}" in ${[...names].join(' | ')}`);
  }
  const total = count(out, 'frame');
  assert.equal(total, cap.truth.packets);
  let attributed = 0;
  for (const [id, c] of Object.entries(cap.truth.compartments)) {
    assert.equal(count(out, `frame.comment matches "compartment=${id}( |$)"`), c.packets, `compartment ${id}`);
    attributed += c.packets;
  }
  assert.equal(attributed, total, 'every packet of the simulated host has its compartment');
  // Containers by name: web is compartment 2's only container; cache's overlay packets cross the host NIC.
  assert.equal(count(out, 'frame.comment contains "container=web"'), cap.truth.compartments['2']!.packets);
  assert.ok(count(out, 'frame.interface_name == "Ethernet (compartment 1) NIC ifIndex 6" && frame.comment contains "container=cache"') > 0, 'overlay packets on the host NIC name their container');
});

test('decode without a snapshot: the decoder\'s own interface names, no compartment in the comments', async () => {
  const out = join(dir, 'plain.pcapng');
  const r = await runCli(['decode', join(dir, 'capture.etl'), '-o', out]);
  assert.equal(r.code, 0, r.err);
  const names = new Set(tshark(['-r', out, '-T', 'fields', '-e', 'frame.interface_name']).split('\n').filter(Boolean));
  assert.ok(names.has('eth:23:0'), [...names].join(' | '));
  assert.equal(count(out, 'frame.comment contains "compartment="'), 0);
});

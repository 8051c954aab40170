/**
 * sniff on the simulated container host, where db (compartment 4) and cache (compartment 5) share
 * the IP 10.244.1.5: the output holds one target's packets alone, exactly those the whole capture
 * attributes to it; unknown targets list the candidates.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readPcapng } from '../../src/pcapng/pcapng-reader.js';
import { containerHostSnapshot } from '../../src/sim/container-host.js';
import { resolveTarget } from '../../src/topology/target.js';
import { buildTopology } from '../../src/topology/topology.js';
import { runCli } from '../helpers/cli.js';

const comments = (file: string): string[] => readPcapng(readFileSync(file)).packets.map((p) => p.comments.join(' '));

for (const [target, compartment, other] of [['db', 4, 'cache'], ['cache', 5, 'db']] as const) {
  test(`sniff ${target}: only ${target}'s packets (compartment ${compartment}), not ${other}'s at the same IP`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wnvcap-sniff-'));
    const out = join(dir, `${target}.pcapng`);
    const r = await runCli(['sniff', target, '--simulate', '--duration', '2s', '-w', out, '--out', dir], { WNVCAP_STATE_DIR: join(dir, 'state') });
    assert.equal(r.code, 0, r.err);
    const mine = comments(out);
    assert.ok(mine.length > 0, 'packets were kept');
    assert.ok(mine.every((c) => c.includes(`compartment=${compartment} container=${target}`)), mine.find((c) => !c.includes(`container=${target}`)));
    // The same packets the whole capture (the run folder's pcapng) attributes to the target.
    const runDir = join(dir, readdirSync(dir).find((n) => n.startsWith('run-'))!);
    const all = comments(join(runDir, 'capture.pcapng'));
    assert.equal(mine.length, all.filter((c) => c.includes(`compartment=${compartment} `)).length);
    assert.ok(all.some((c) => c.includes(`container=${other}`)), `the capture also held ${other}'s packets`);
    assert.match(r.err, new RegExp(`${mine.length} packets of container ${target} \\(compartment ${compartment}\\)`));
  });
}

test('sniff of an unknown target: exit 2, the targets listed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wnvcap-sniff-'));
  const r = await runCli(['sniff', 'nosuch', '--simulate', '-w', join(dir, 'x.pcapng'), '--out', dir], { WNVCAP_STATE_DIR: join(dir, 'state') });
  assert.equal(r.code, 2);
  assert.match(r.err, /no container, compartment, VM or MAC "nosuch"/);
  assert.match(r.err, /container web \(f82c3ec1d0fe\); container api/);
});

test('targets: a container by name or id prefix, a compartment id, a MAC; the MAC filter is the compartment\'s own', () => {
  const t = buildTopology(containerHostSnapshot('7'));
  const web = resolveTarget(t, 'web');
  assert.ok('target' in web);
  assert.deepEqual(web.target, { label: 'container web (compartment 2)', compartmentId: 2, macs: ['00:15:5d:2a:7c:11'] });
  assert.deepEqual(resolveTarget(t, 'f82c3ec1'), web, 'an id prefix');
  assert.deepEqual(resolveTarget(t, 'f82c3ec1d0fe'), web, 'the 12 hex digits docker ps prints are an id, not a MAC');
  const c4 = resolveTarget(t, '4');
  assert.ok('target' in c4 && c4.target.compartmentId === 4 && c4.target.macs.includes('00:15:5d:aa:bb:01'));
  const mac = resolveTarget(t, '00-15-5D-AA-BB-02');
  assert.ok('target' in mac && mac.target.compartmentId === 5, JSON.stringify(mac));
  const none = resolveTarget(t, '99');
  assert.ok('problem' in none && none.candidates.length >= 8);
});

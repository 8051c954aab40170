/**
 * sniff on the simulated container host, where db (compartment 4) and cache (compartment 5) share
 * the IP 10.244.1.5: the output holds one target's packets alone, exactly those the whole capture
 * attributes to it; unknown targets list the candidates.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { readPcapng } from '../../src/pcapng/pcapng-reader.js';
import { containerHostSnapshot } from '../../src/sim/container-host.js';
import { resolveTarget } from '../../src/topology/target.js';
import { buildTopology } from '../../src/topology/topology.js';
import { runCli } from '../helpers/cli.js';

const REPO = resolve(import.meta.dirname, '..', '..');
const comments = (file: string): string[] => readPcapng(readFileSync(file)).packets.map((p) => p.comments.join(' '));

for (const [target, compartment, other, follow] of [['db', 4, 'cache', true], ['cache', 5, 'db', false]] as const) {
  test(`sniff ${target}${follow ? ' (followed)' : ' --no-follow'}: only ${target}'s packets (compartment ${compartment}), not ${other}'s at the same IP`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wnvcap-sniff-'));
    const out = join(dir, `${target}.pcapng`);
    const r = await runCli(['sniff', target, '--simulate', '--duration', '2s', '-w', out, '--out', dir, ...(follow ? [] : ['--no-follow'])], { WNVCAP_STATE_DIR: join(dir, 'state') });
    assert.equal(r.code, 0, r.err);
    const mine = comments(out);
    assert.ok(mine.length > 0, 'packets were kept');
    assert.ok(mine.every((c) => c.includes(`compartment=${compartment} container=${target}`)), mine.find((c) => !c.includes(`container=${target}`)));
    // The same packets the whole capture (the run folder's pcapng) attributes to the target.
    const runDir = join(dir, readdirSync(dir).find((n) => n.startsWith('run-'))!);
    const all = comments(join(runDir, 'capture.pcapng'));
    assert.equal(mine.length, all.filter((c) => c.includes(`compartment=${compartment} `)).length);
    assert.ok(all.some((c) => c.includes(`container=${other}`)), `the capture also held ${other}'s packets`);
    assert.match(r.err, new RegExp(`${mine.length} packets of container ${target} \\(compartment ${compartment}\\)${follow ? ' in .*, followed' : ''}`));
    // Followed or not, the stream holds what the run folder's target.pcapng holds.
    assert.deepEqual(mine, comments(join(runDir, 'target.pcapng')));
  });
}

test('sniff -w -: the packets reach stdout while the capture still runs (follow mode), the session removed after', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wnvcap-sniff-'));
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), join(REPO, 'src', 'cli', 'bin.ts'), 'sniff', 'web', '--simulate', '--duration', '8s', '--out', dir, '-w', '-'], {
    cwd: dir, env: { ...process.env, WNVCAP_STATE_DIR: join(dir, 'state') }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  let err = '';
  let packetsBeforeEnd = -1;
  child.stdout.on('data', (d: Buffer) => out.push(d));
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
    // The run's last line: the capture has ended. What stdout had by then came while it ran.
    if (packetsBeforeEnd < 0 && /run folder .*: completed/.test(err)) packetsBeforeEnd = readPcapng(Buffer.concat(out)).packets.length;
  });
  const code = await new Promise<number | null>((res) => child.on('close', res));
  assert.equal(code, 0, err);
  const all = readPcapng(Buffer.concat(out)).packets;
  assert.ok(packetsBeforeEnd > 0, `${packetsBeforeEnd} packets before the capture ended: ${err}`);
  assert.ok(all.length >= packetsBeforeEnd && all.every((p) => p.comments.join(' ').includes('container=web')));
  const runDir = join(dir, readdirSync(dir).find((n) => n.startsWith('run-'))!);
  const run = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as { cleanup: { sessionRemoved: boolean }; steps: Array<{ name: string }> };
  assert.equal(run.cleanup.sessionRemoved, true);
  assert.ok(run.steps.some((s) => s.name === 'flush-timer'), 'the session\'s flush timer was set');
});

test('sniff of an unknown target: exit 2, the targets listed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wnvcap-sniff-'));
  const r = await runCli(['sniff', 'nosuch', '--simulate', '-w', join(dir, 'x.pcapng'), '--out', dir], { WNVCAP_STATE_DIR: join(dir, 'state') });
  assert.equal(r.code, 2);
  assert.match(r.err, /no container, pod, compartment, VM or MAC "nosuch"/);
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

test('targets on a Kubernetes node: a pod by namespace/name or by name (crictl pods names the sandbox ids HNS lists); a name two namespaces share lists both', () => {
  const snap = containerHostSnapshot('7');
  const endpoints = snap.commands['Get-HnsEndpoint'] as Array<{ SharedContainers: string[] }>;
  const ids = endpoints.flatMap((e) => e.SharedContainers);
  const pod = (id: string, namespace: string, name: string): object => ({ id, metadata: { name, uid: 'u', namespace, attempt: 0 }, state: 'SANDBOX_READY' });
  // containerd: no Docker networks; crictl names the sandboxes (two pods named app-0 in different namespaces).
  const { 'docker network inspect': _docker, ...commands } = snap.commands;
  const t = buildTopology({ ...snap, commands: { ...commands, 'crictl pods': [pod(ids[0]!, 'shop', 'web-1'), pod(ids[1]!, 'shop', 'app-0'), pod(ids[2]!, 'data', 'app-0')] } });
  const web = resolveTarget(t, 'shop/web-1');
  assert.ok('target' in web, JSON.stringify(web));
  assert.equal(web.target.label, 'pod shop/web-1 (compartment 2)');
  assert.deepEqual(resolveTarget(t, 'web-1'), web, 'the name alone, where unique');
  const app = resolveTarget(t, 'app-0');
  assert.ok('problem' in app && app.candidates.length === 2 && app.candidates.every((c) => c.startsWith('pod ')), JSON.stringify(app));
  const data = resolveTarget(t, 'data/app-0');
  assert.ok('target' in data && data.target.compartmentId === 4, JSON.stringify(data));
  // A sandbox crictl does not list is still a target, by its id.
  const unnamed = resolveTarget(t, ids[3]!.slice(0, 12));
  assert.ok('target' in unnamed && unnamed.target.label.startsWith(`container ${ids[3]!.slice(0, 12)}`), JSON.stringify(unnamed));
});

test('sniff -w - whose reader goes away (| head): the capture stops at once and its session is removed, not left running', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wnvcap-sniff-'));
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), join(REPO, 'src', 'cli', 'bin.ts'), 'sniff', 'web', '--simulate', '--duration', '10m', '--out', dir, '-w', '-'], {
    cwd: dir, env: { ...process.env, WNVCAP_STATE_DIR: join(dir, 'state') }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  // As head -c 300: read a little, then close the pipe.
  let got = 0;
  child.stdout.on('data', (d: Buffer) => {
    got += d.length;
    if (got >= 300) child.stdout.destroy();
  });
  const code = await new Promise<number | null>((res) => child.on('close', res));
  assert.equal(code, 0, err);
  assert.match(err, /the output's reader went away/);
  const runDir = join(dir, readdirSync(dir).find((n) => n.startsWith('run-'))!);
  const run = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as { outcome: string; cleanup: { sessionRemoved: boolean } };
  assert.equal(run.outcome, 'stopped-by-signal', 'stopped long before its 10 minutes');
  assert.equal(run.cleanup.sessionRemoved, true);
  assert.deepEqual(readdirSync(join(dir, 'state', 'leases')), [], 'no lease left');
});

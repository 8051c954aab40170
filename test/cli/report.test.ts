/** CLI: report over a run folder in every format, compartments, and their usage errors. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { containerHostCapture } from '../../src/sim/container-host.js';

const run = runCli;

const dir = mkdtempSync(join(tmpdir(), 'wnvcap-report-'));
const cap = containerHostCapture({});
writeFileSync(join(dir, 'capture.etl'), cap.etl);
writeFileSync(join(dir, 'snapshot.json'), JSON.stringify(cap.snapshot));
writeFileSync(join(dir, 'run.json'), JSON.stringify({ filters: { ips: ['172.28.183.201'], protocols: [], macs: [], etherTypes: [], truncate: 256, captureType: 'both' } }));

test('cli report: run folder as text names the compartments, the filters and says simulated', async () => {
  const r = await run(['report', dir]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /SIMULATED host/);
  assert.match(r.out, /filters {2}\{"ips":\["172\.28\.183\.201"\],"protocols":\[\],"macs":\[\],"etherTypes":\[\],"truncate":256,/);
  assert.match(r.out, /^ +2 web +172\.28\.183\.201 +\d+/m);
  assert.match(r.out, /NXDOMAIN doesnotexist\.example/);
  assert.equal(r.out.includes('\x1b['), false, 'no colour when not a terminal');
});

test('cli report: json and html to files, --compartment', async () => {
  const j = join(dir, 'r.json');
  assert.equal((await run(['report', join(dir, 'capture.etl'), '--snapshot', join(dir, 'snapshot.json'), '--format', 'json', '-o', j])).code, 0);
  const doc = JSON.parse(readFileSync(j, 'utf8')) as { schema: string; compartments: Array<{ id: number; packets: number }> };
  assert.equal(doc.schema, 'wnvcap.report/1');
  assert.equal(doc.compartments.find((c) => c.id === 2)!.packets, cap.truth.compartments[2]!.packets);
  const h = join(dir, 'r.html');
  assert.equal((await run(['report', dir, '--format', 'html', '-o', h])).code, 0);
  const html = readFileSync(h, 'utf8');
  assert.match(html, /^<!DOCTYPE html>/);
  assert.doesNotMatch(html, /<script[^>]+src=|<link[^>]+href=|url\(\s*["']?https?:|@import|<img[^>]+src=["']?https?:/i); // nothing that loads a resource
  const only = await run(['report', dir, '--format', 'json', '--compartment', '4']);
  const flows = (JSON.parse(only.out) as { flows: Array<{ compartments: number[] }> }).flows;
  assert.ok(flows.length > 0 && flows.every((f) => f.compartments.includes(4)));
  // --json is --format json (every command takes --json); with another format it is a usage error.
  assert.equal((await run(['report', dir, '--json', '--compartment', '4'])).out, only.out);
  assert.equal((await run(['report', dir, '--json', '--format', 'html'])).code, 2);
});

test('cli compartments: ipconfig-style text and JSON', async () => {
  const t = await run(['compartments', '--snapshot', join(dir, 'snapshot.json')]);
  assert.equal(t.code, 0);
  assert.match(t.out, /Network Information for Compartment 5: cache/);
  assert.match(t.out, /HNS endpoint +2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e on overlay-green \(Overlay\) 10\.244\.1\.5 00:15:5d:aa:bb:02/);
  const j = JSON.parse((await run(['compartments', '--snapshot', join(dir, 'snapshot.json'), '--json'])).out) as { compartments: Array<{ id: number; containers: Array<{ name: string }> }> };
  assert.deepEqual(j.compartments.map((c) => [c.id, c.containers.map((x) => x.name)]), [[1, []], [2, ['web']], [3, ['api']], [4, ['db']], [5, ['cache']]]);
});

test('cli report/compartments: bad input is a clear error', async () => {
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, '{"schema":"nope"}');
  const r = await run(['compartments', '--snapshot', bad]);
  assert.equal(r.code, 3);
  assert.match(r.err, /schema "nope", expected "wnvcap\.snapshot\/1"/);
  assert.equal((await run(['report', dir, '--format', 'pdf'])).code, 2);
  assert.equal((await run(['report', join(dir, 'nothing-here')])).code, 3);
  assert.equal((await run(['report', dir, '--compartment', '1.5'])).code, 2);
});

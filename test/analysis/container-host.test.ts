/**
 * The simulated container host's capture and snapshot through the whole report. Expectations come
 * from the generator's ground truth (ContainerHostTruth), never from the report.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyzeCapture } from '../../src/analysis/run-analysis.js';
import type { ReportData } from '../../src/analysis/report-data.js';
import { memorySource } from '../../src/etl/byte-source.js';
import { renderText } from '../../src/report/text.js';
import { containerHostCapture, type ContainerHostTruth } from '../../src/sim/container-host.js';
import { parseSnapshot } from '../../src/topology/snapshot.js';
import { buildTopology } from '../../src/topology/topology.js';

async function report(ps: '5.1' | '7', scale = 1): Promise<{ r: ReportData; truth: ContainerHostTruth }> {
  const cap = containerHostCapture({ ps, scale });
  const topo = buildTopology(parseSnapshot(JSON.stringify(cap.snapshot)));
  const r = await analyzeCapture(async () => memorySource(cap.etl), topo, { application: 'test' });
  return { r, truth: cap.truth };
}

/** The generator's key: ends ordered as text (the report orders IPv4 ends numerically). */
const flowKey = (f: ReportData['flows'][number]): string => {
  const [x, y] = [`${f.a.ip}:${f.a.port}`, `${f.b.ip}:${f.b.port}`];
  const fwd = f.a.ip < f.b.ip || (f.a.ip === f.b.ip && f.a.port <= f.b.port);
  return `${f.protocol}|${fwd ? x : y}|${fwd ? y : x}|${f.virtualNetworkId ?? -1}`;
};

for (const ps of ['5.1', '7'] as const) {
  test(`container host (PowerShell ${ps} snapshot): every count matches the ground truth`, async () => {
    const { r, truth } = await report(ps, 2);
    assert.equal(r.simulated, true);
    assert.equal(r.totals.packets, truth.packets);
    // Per compartment: packets and bytes; at least 3 compartments, two sharing 10.244.1.0/24.
    const comps = Object.fromEntries(r.compartments.filter((c) => c.packets > 0).map((c) => [c.id, { packets: c.packets, bytes: c.bytes }]));
    assert.deepEqual(comps, truth.compartments);
    assert.ok(Object.keys(truth.compartments).length >= 3);
    assert.deepEqual(r.compartments.find((c) => c.id === 4)!.addresses, r.compartments.find((c) => c.id === 5)!.addresses);
    assert.equal(r.unattributed.packets, 0);
    // Flows: every flow, packets and bytes.
    const flows = Object.fromEntries(r.flows.map((f) => [flowKey(f), { packets: f.packets, bytes: f.bytes }]));
    assert.deepEqual(flows, truth.flows);
    assert.equal(r.flowsTotal, Object.keys(truth.flows).length);
    // Overlay flows land in the right compartment although both use 10.244.1.5 (MAC, not IP).
    for (const [k, comp] of Object.entries(truth.overlayFlowCompartments)) {
      assert.deepEqual(r.flows.find((f) => flowKey(f) === k)!.compartments, [comp], k);
    }
    // TCP anomalies.
    assert.equal(r.tcp.retransmissions, truth.retransmissions);
    assert.equal(r.tcp.resets, truth.resets);
    assert.equal(r.tcp.synUnanswered, truth.synUnanswered);
    assert.equal(r.tcp.outOfOrder, 0);
    assert.equal(r.tcp.zeroWindows, 0);
    // DNS.
    assert.equal(r.dns.queries, truth.dnsQueries);
    assert.equal(r.dns.unanswered, 0);
    assert.deepEqual(r.dns.failures.filter((f) => f.rcode === 'NXDOMAIN').map((f) => f.name), truth.nxdomain);
    assert.equal(r.dns.failures[0]!.compartmentId, 2);
    // Drops: by reason, component and compartment.
    assert.deepEqual(r.drops.map((d) => ({ reasonCode: d.reasonCode, componentId: d.componentId, compartmentId: d.compartmentId, packets: d.packets })), truth.drops);
    assert.equal(r.drops[0]!.reason, 'Virtual Subnet ID does not match');
    // Paths: every path signature and its packet count.
    const paths = Object.fromEntries(r.paths.top.map((p) => [`${p.hops.join('>')}${p.dropped ? '!' : ''}`, p.packets]));
    assert.deepEqual(paths, truth.paths);
    const dropped = r.flows.find((f) => f.protocol === 'UDP' && f.b.port === 54000)!;
    assert.deepEqual(dropped.path.stops.find((s) => s.dropped > 0)?.interface, 'api (compartment 3) PktMon vmswitch.sys:70', 'named by the snapshot: api\'s vSwitch port');
    // The text report stays within 100 columns.
    for (const line of renderText(r, { color: false, top: 20 }).split('\n')) assert.ok(line.length <= 100, line);
  });
}

test('container host: without a snapshot every packet is unattributed, with the reason', async () => {
  const cap = containerHostCapture({});
  const r = await analyzeCapture(async () => memorySource(cap.etl), undefined, { application: 'test' });
  assert.equal(r.unattributed.packets, cap.truth.packets);
  assert.deepEqual(r.unattributed.reasons.map((x) => x.reason), ['no host snapshot']);
  assert.ok(r.health.warnings.some((w) => /no host snapshot/.test(w)));
});

test('container host: --compartment keeps one compartment\'s flows', async () => {
  const cap = containerHostCapture({});
  const topo = buildTopology(parseSnapshot(cap.snapshot));
  const r = await analyzeCapture(async () => memorySource(cap.etl), topo, { application: 'test', compartment: 5 });
  assert.ok(r.flows.length > 0);
  assert.ok(r.flows.every((f) => f.compartments.length === 1 && f.compartments[0] === 5));
});

test('overlay traffic without known MACs: the VNI/VSID picks the compartment of an address two compartments share', async () => {
  const cap = containerHostCapture({});
  const snap = JSON.parse(JSON.stringify(cap.snapshot)) as typeof cap.snapshot;
  for (const e of snap.commands['Get-HnsEndpoint'] as Array<Record<string, unknown>>) delete e['MacAddress'];
  for (const n of snap.commands['docker network inspect'] as Array<{ Containers?: Record<string, Record<string, unknown>> }>) for (const c of Object.values(n.Containers ?? {})) delete c['MacAddress'];
  const r = await analyzeCapture(async () => memorySource(cap.etl), buildTopology(parseSnapshot(snap)), { application: 'test' });
  for (const [k, comp] of Object.entries(cap.truth.overlayFlowCompartments)) {
    assert.deepEqual(r.flows.find((f) => flowKey(f) === k)!.compartments, [comp], k);
  }
  assert.equal(r.compartments.find((c) => c.id === 5)!.packets, cap.truth.compartments[5]!.packets);
});

test('report: one pass for an NDIS-only capture gives the same report as two passes', async () => {
  const { writeNdisScenario } = await import('../../src/sim/scenarios.js');
  const chunks: Uint8Array[] = [];
  const r = writeNdisScenario({ seed: 8, packets: 2000, cpus: 3, bufferSize: 16384, fragmentEvery: 11, vmswitchEvery: 5 }, (c) => chunks.push(c));
  chunks[0] = r.header;
  const bytes = new Uint8Array(Buffer.concat(chunks));
  const one = await analyzeCapture(async () => memorySource(bytes), undefined, { application: 't' });
  const two = await analyzeCapture(async () => memorySource(bytes), undefined, { application: 't', forceTwoPasses: true });
  assert.equal(one.totals.packets, 2000);
  assert.deepEqual(one, two);
});

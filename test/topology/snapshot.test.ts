/** The snapshot loader accepts Windows PowerShell 5.1 and PowerShell 7 output alike. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { containerHostSnapshot } from '../../src/sim/container-host.js';
import { parsePsDate, parseSnapshot } from '../../src/topology/snapshot.js';
import { buildTopology, compartmentLabel } from '../../src/topology/topology.js';
import { isAppError } from '../../src/util/errors.js';

function view(ps: '5.1' | '7'): unknown {
  const t = buildTopology(parseSnapshot(JSON.stringify(containerHostSnapshot(ps))));
  return {
    compartments: [...t.compartments.values()].map((c) => [c.id, compartmentLabel(c), [...c.interfaces].sort(), [...c.addresses].sort(), c.endpoints]),
    interfaces: [...t.interfaces.values()].map((i) => [i.ifIndex, i.compartmentId, i.mac]),
    endpoints: t.endpoints.map((e) => [e.id, e.compartmentId, e.networkName, e.mac, e.portGuid]),
    networks: t.networks,
    byIp: [...t.byIp.entries()],
  };
}

test('5.1 (numeric enums, \\/Date()\\/, v1 namespaces) and 7 (names, ISO, v2 namespaces) give the same topology', () => {
  assert.deepEqual(view('5.1'), view('7'));
  const t = buildTopology(parseSnapshot(containerHostSnapshot('5.1')));
  assert.equal(t.compartments.size, 5);
  assert.equal(compartmentLabel(t.compartments.get(2)!), 'web');
  assert.equal(t.interfaces.get(27)!.compartmentId, 3);
  assert.deepEqual(t.byIp.get('10.244.1.5'), [31, 35]); // one address, two compartments
  assert.equal(t.networks.find((n) => n.name === 'overlay-green')!.virtualNetworkId, 4097);
  assert.equal(t.endpoints.find((e) => e.ips.includes('10.244.2.7'))!.remote, true);
});

test('single objects instead of arrays, null for empty output, case-insensitive fields', () => {
  const s = containerHostSnapshot('5.1');
  s.commands['Get-NetCompartment'] = { compartmentid: 1, CompartmentDescription: 'Default Compartment' };
  s.commands['Get-HnsEndpoint'] = null;
  s.commands['Get-HnsNamespace'] = { ID: 'ns', CompartmentId: 2, ResourceList: { Type: 'Endpoint', Data: { ID: 'x' } } };
  const t = buildTopology(parseSnapshot(s));
  assert.equal(t.compartments.get(1)!.description, 'Default Compartment');
  assert.equal(t.endpoints.length, 0);
  assert.equal(parsePsDate('\\/Date(1767225600000)\\/'), '2026-01-01T00:00:00.000Z'); // left escaped by a double encode
  assert.equal(parsePsDate('/Date(1767225600000)/'), '2026-01-01T00:00:00.000Z');
  assert.equal(parseSnapshot(JSON.stringify({ ...s, takenAt: '/Date(1767225600000)/' })).takenAt, '2026-01-01T00:00:00.000Z');
});

test('a wrong document is a clear InputError', () => {
  for (const bad of ['not json', '[]', JSON.stringify({ schema: 'other/1' }), JSON.stringify({ schema: 'wnvcap.snapshot/1', host: 'h' })]) {
    assert.throws(() => parseSnapshot(bad, 'x.json'), (e: unknown) => isAppError(e) && e.name === 'InputError' && /x\.json/.test(e.message));
  }
});

test('defect 11: Docker container names come from every network, as objects or as the text lines older snapshots kept', () => {
  const snap = containerHostSnapshot('7');
  const nets = snap.commands['docker network inspect'] as unknown[];
  const asText = JSON.stringify(nets, null, 4).split('\n');
  for (const value of [nets, asText]) {
    const t = buildTopology(parseSnapshot(JSON.stringify({ ...snap, commands: { ...snap.commands, 'docker network inspect': value } })));
    assert.deepEqual(t.containers.map((c) => c.name).sort(), ['api', 'cache', 'db', 'web'], Array.isArray(value) && typeof value[0] === 'string' ? 'text lines' : 'objects');
    const named = [...t.compartments.values()].filter((c) => c.containers.length > 0).map((c) => [c.id, c.containers.map((x) => x.name)]);
    assert.deepEqual(named, [[2, ['web']], [3, ['api']], [4, ['db']], [5, ['cache']]]);
  }
});

test('without HNS endpoints (no HostNetworkingService module) Docker containers are found by their vNIC MAC, else a unique IP', () => {
  const snap = containerHostSnapshot('7');
  const { ['Get-HnsEndpoint']: _e, ['Get-HnsNamespace']: _n, ['Get-HnsNetwork']: _w, ...rest } = snap.commands;
  const t = buildTopology(parseSnapshot(JSON.stringify({ ...snap, commands: rest })));
  const named = [...t.compartments.values()].filter((c) => c.containers.length > 0).map((c) => [c.id, c.containers.map((x) => x.name)]);
  // db and cache share 10.244.1.5 in two compartments and Get-NetAdapter lists no MAC for their
  // vNICs: the IP is ambiguous, so neither is guessed.
  assert.deepEqual(named, [[2, ['web']], [3, ['api']]]);
});

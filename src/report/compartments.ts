/**
 * The compartments of a host (what `ipconfig /allcompartments` shows) joined with containers, HNS
 * endpoints and vSwitch ports: text, and wnvcap.compartments/1 JSON.
 */
import { formatMacNumber } from '../packets/dissection.js';
import { compartmentLabel, type Topology } from '../topology/topology.js';

export function compartmentsJson(t: Topology): unknown {
  return {
    schema: 'wnvcap.compartments/1',
    host: t.host,
    simulated: t.simulated,
    compartments: [...t.compartments.values()].sort((a, b) => a.id - b.id).map((c) => ({
      id: c.id, name: compartmentLabel(c), description: c.description, guid: c.guid, kind: c.kind,
      interfaces: c.interfaces.map((i) => {
        const x = t.interfaces.get(i);
        return { ifIndex: i, alias: x?.alias ?? '', mac: x?.mac !== undefined ? formatMacNumber(x.mac) : null, addresses: x?.addresses ?? [] };
      }),
      containers: c.containers.map((x) => ({ id: x.id, name: x.name, ip: x.ip ?? null, mac: x.mac !== undefined ? formatMacNumber(x.mac) : null })),
      endpoints: t.endpoints.filter((e) => e.compartmentId === c.id).map((e) => ({
        id: e.id, network: e.networkName, type: e.networkType, ips: e.ips, mac: e.mac >= 0 ? formatMacNumber(e.mac) : null, vSwitchPort: e.portGuid ?? null,
      })),
    })),
    unplacedEndpoints: t.endpoints.filter((e) => e.compartmentId === undefined).map((e) => ({ id: e.id, network: e.networkName, ips: e.ips, remote: e.remote })),
    warnings: t.warnings,
  };
}

export function renderCompartments(t: Topology): string {
  const out: string[] = [];
  out.push(`Host ${t.host}${t.simulated ? ' (SIMULATED host)' : ''}`);
  for (const c of [...t.compartments.values()].sort((a, b) => a.id - b.id)) {
    out.push('', '='.repeat(72), `Network Information for Compartment ${c.id}: ${compartmentLabel(c)}`, '='.repeat(72));
    if (c.description) out.push(`  description     ${c.description}`);
    for (const i of c.interfaces) {
      const x = t.interfaces.get(i);
      out.push(`  ifIndex ${String(i).padEnd(6)}  ${x?.alias ?? ''}${x?.mac !== undefined ? `  ${formatMacNumber(x.mac)}` : ''}`);
      for (const a of x?.addresses ?? []) out.push(`      address     ${a}`);
    }
    for (const ct of c.containers) out.push(`  container       ${ct.name} (${ct.id.slice(0, 12)})${ct.ip ? ` ${ct.ip}` : ''}`);
    for (const e of t.endpoints.filter((x) => x.compartmentId === c.id)) {
      out.push(`  HNS endpoint    ${e.id} on ${e.networkName || e.networkId} (${e.networkType}) ${e.ips.join(' ')} ${e.mac >= 0 ? formatMacNumber(e.mac) : ''}${e.portGuid ? ` port ${e.portGuid}` : ''}`);
    }
  }
  for (const w of t.warnings) out.push(`warning: ${w}`);
  return `${out.join('\n')}\n`;
}

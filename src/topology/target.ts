/**
 * What `wnvcap sniff <target>` watches, found in the host's inventory: a container (name or id),
 * a Kubernetes pod (namespace/name, or name), a compartment id, a VM (name) or a MAC address. The answer carries what the capture filters on
 * (the target's MACs) and what the output keeps (its compartment, or its VM); an unknown or
 * ambiguous target lists the candidates.
 */
import { formatMacNumber, parseMac } from '../packets/dissection.js';
import { compartmentLabel, type ContainerInfo, type Topology } from './topology.js';

export interface Target {
  /** How it is named to the user: `container web (compartment 2)`. */
  label: string;
  /** Packets attributed to this compartment are the target's. */
  compartmentId?: number;
  /** Packets attributed to this VM are the target's. */
  vmName?: string;
  /** The capture's MAC filter (xx:xx:xx:xx:xx:xx). */
  macs: string[];
}

export type TargetMatch = { target: Target } | { problem: string; candidates: string[] };

/** `container web`, `pod shop/web-7d9f8`. */
function containerWord(c: ContainerInfo): string {
  return `${c.pod ? 'pod' : 'container'} ${c.name}`;
}

/** Every target the inventory offers, as a user would type it. */
export function targetCandidates(t: Topology): string[] {
  return [
    ...t.containers.map((c) => `${containerWord(c)} (${c.id.slice(0, 12)})`),
    ...[...t.compartments.values()].filter((c) => c.kind !== 'host').map((c) => `compartment ${c.id} (${compartmentLabel(c)})`),
    ...[...new Set(t.vmAdapters.map((a) => a.vmName))].map((n) => `vm ${n}`),
  ];
}

function compartmentTarget(t: Topology, id: number, label: string): Target {
  const macs = new Set<number>();
  for (const [mac, o] of t.byMac) {
    if ((o.kind === 'interface' && o.compartmentId === id) || (o.kind === 'endpoint' && o.endpoint.compartmentId === id && !o.endpoint.remote)) macs.add(mac);
  }
  for (const c of t.compartments.get(id)?.containers ?? []) if (c.mac !== undefined) macs.add(c.mac);
  return { label, compartmentId: id, macs: [...macs].map(formatMacNumber) };
}

export function resolveTarget(t: Topology, query: string): TargetMatch {
  const q = query.trim();
  const unknown = (problem: string): TargetMatch => ({ problem, candidates: targetCandidates(t) });
  if (/^\d+$/.test(q)) {
    const c = t.compartments.get(Number(q));
    if (!c) return unknown(`no compartment ${q} on ${t.host}`);
    return { target: compartmentTarget(t, c.id, `compartment ${c.id} (${compartmentLabel(c)})`) };
  }
  // A MAC is written with separators: 12 bare hex digits are a container id (as docker ps prints it).
  const mac = /[-:.]/.test(q) ? parseMac(q) : -1;
  if (mac >= 0) {
    const o = t.byMac.get(mac);
    const cid = o?.kind === 'interface' ? o.compartmentId : o?.kind === 'endpoint' ? o.endpoint.compartmentId : undefined;
    const base = { label: `MAC ${formatMacNumber(mac)}`, macs: [formatMacNumber(mac)] };
    if (o?.kind === 'vm') return { target: { ...base, vmName: o.adapter.vmName } };
    return { target: cid !== undefined ? { ...base, compartmentId: cid } : base };
  }
  const lower = q.toLowerCase();
  // A pod by namespace/name, or by its name alone where that is enough.
  const byName = t.containers.filter((c) => c.name.toLowerCase() === lower || c.pod?.name.toLowerCase() === lower || (lower.length >= 4 && c.id.toLowerCase().startsWith(lower)));
  const vms = [...new Set(t.vmAdapters.filter((a) => a.vmName.toLowerCase() === lower).map((a) => a.vmName))];
  if (byName.length + vms.length > 1) {
    return { problem: `"${q}" names ${byName.length + vms.length} targets`, candidates: [...byName.map((c) => `${containerWord(c)} (${c.id.slice(0, 12)})`), ...vms.map((n) => `vm ${n}`)] };
  }
  const ct = byName[0];
  if (ct) {
    const comp = [...t.compartments.values()].find((c) => c.containers.some((x) => x.id === ct.id));
    if (!comp) return unknown(`${containerWord(ct)} is in no compartment of the snapshot`);
    return { target: compartmentTarget(t, comp.id, `${containerWord(ct)} (compartment ${comp.id})`) };
  }
  const vm = vms[0];
  if (vm) return { target: { label: `vm ${vm}`, vmName: vm, macs: t.vmAdapters.filter((a) => a.vmName === vm && a.mac >= 0).map((a) => formatMacNumber(a.mac)) } };
  return unknown(`no container, pod, compartment, VM or MAC "${q}" on ${t.host}`);
}

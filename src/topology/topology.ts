/**
 * Joins the snapshot's inventories into one model (windows-capture.md 2.8 "join recipe"):
 * ifIndex -> compartment (Get-NetIPInterface), ifIndex -> alias/MAC (Get-NetAdapter),
 * IP -> interface (Get-NetIPAddress), MAC -> HNS endpoint / VM adapter / container, HNS
 * namespace -> compartment, overlay VSID/VNI -> HNS network. Pure: values in, values out.
 */
import { parseMac } from '../packets/dissection.js';
import { addressFamily, asArray, field, INVENTORY, isObject, num, str, type Snapshot } from './snapshot.js';

export interface ContainerInfo {
  id: string;
  /** The runtime's name; a Kubernetes pod's is namespace/name. */
  name: string;
  /** A Kubernetes pod (crictl pods): its sandbox id is the container id HNS lists. */
  pod?: { namespace: string; name: string };
  ip?: string;
  mac?: number;
  network?: string;
}

export interface EndpointInfo {
  id: string;
  name: string;
  networkId: string;
  networkName: string;
  networkType: string;
  ips: string[];
  mac: number;
  compartmentId?: number;
  containerIds: string[];
  portGuid?: string;
  state?: number;
  remote: boolean;
}

export interface NetworkInfo {
  id: string;
  name: string;
  type: string;
  /** Overlay VSID / VNI when the network has one. */
  virtualNetworkId?: number;
  subnets: string[];
}

export interface InterfaceInfo {
  ifIndex: number;
  alias: string;
  description: string;
  compartmentId?: number;
  mac?: number;
  addresses: string[];
  hidden: boolean;
  virtual: boolean;
}

export interface VmAdapterInfo {
  vmName: string;
  name: string;
  mac: number;
  switchName: string;
  ips: string[];
  managementOs: boolean;
}

export interface CompartmentInfo {
  id: number;
  guid: string;
  description: string;
  kind: 'host' | 'container';
  interfaces: number[];
  addresses: string[];
  endpoints: string[];
  containers: ContainerInfo[];
}

export interface Topology {
  host: string;
  simulated: boolean;
  compartments: Map<number, CompartmentInfo>;
  interfaces: Map<number, InterfaceInfo>;
  endpoints: EndpointInfo[];
  networks: NetworkInfo[];
  vmAdapters: VmAdapterInfo[];
  containers: ContainerInfo[];
  /** MAC -> what owns it. */
  byMac: Map<number, MacOwner>;
  /** IP -> interfaces holding it (several when compartments reuse a subnet). */
  byIp: Map<string, number[]>;
  /** Endpoint vSwitch port GUID (lower case) -> endpoint. */
  byPortGuid: Map<string, EndpointInfo>;
  warnings: string[];
}

export type MacOwner =
  | { kind: 'interface'; ifIndex: number; compartmentId?: number }
  | { kind: 'endpoint'; endpoint: EndpointInfo }
  | { kind: 'vm'; adapter: VmAdapterInfo };

function stripZone(ip: string): string {
  return ip.replace(/%.*$/, '').toLowerCase();
}

export function buildTopology(s: Snapshot): Topology {
  const c = s.commands;
  const warnings = [...(s.warnings ?? [])];
  const t: Topology = {
    host: s.host, simulated: s.simulated === true, compartments: new Map(), interfaces: new Map(), endpoints: [], networks: [],
    vmAdapters: [], containers: [], byMac: new Map(), byIp: new Map(), byPortGuid: new Map(), warnings,
  };
  const comp = (id: number): CompartmentInfo => {
    let x = t.compartments.get(id);
    if (!x) {
      x = { id, guid: '', description: '', kind: id === 1 ? 'host' : 'container', interfaces: [], addresses: [], endpoints: [], containers: [] };
      t.compartments.set(id, x);
    }
    return x;
  };
  for (const o of asArray(c[INVENTORY.COMPARTMENT])) {
    const id = num(o, 'CompartmentId');
    if (id === undefined) continue;
    const x = comp(id);
    x.guid = (str(o, 'CompartmentGuid') ?? '').replace(/[{}]/g, '').toLowerCase();
    x.description = str(o, 'CompartmentDescription') ?? '';
  }
  const iface = (ifIndex: number): InterfaceInfo => {
    let x = t.interfaces.get(ifIndex);
    if (!x) {
      x = { ifIndex, alias: '', description: '', addresses: [], hidden: false, virtual: false };
      t.interfaces.set(ifIndex, x);
    }
    return x;
  };
  for (const o of asArray(c[INVENTORY.IP_INTERFACE])) {
    const ifIndex = num(o, 'InterfaceIndex') ?? num(o, 'ifIndex');
    const cid = num(o, 'CompartmentId');
    if (ifIndex === undefined) continue;
    const x = iface(ifIndex);
    x.alias ||= str(o, 'InterfaceAlias') ?? '';
    if (cid !== undefined) {
      if (x.compartmentId !== undefined && x.compartmentId !== cid) warnings.push(`ifIndex ${ifIndex} is listed in compartments ${x.compartmentId} and ${cid}`);
      x.compartmentId ??= cid;
      const cc = comp(cid);
      if (!cc.interfaces.includes(ifIndex)) cc.interfaces.push(ifIndex);
    }
  }
  for (const o of asArray(c[INVENTORY.IP_ADDRESS])) {
    const ifIndex = num(o, 'InterfaceIndex') ?? num(o, 'ifIndex');
    const ipText = str(o, 'IPAddress');
    if (ifIndex === undefined || !ipText) continue;
    const ip = stripZone(ipText);
    const x = iface(ifIndex);
    x.alias ||= str(o, 'InterfaceAlias') ?? '';
    if (!x.addresses.includes(ip)) x.addresses.push(ip);
    const cid = x.compartmentId ?? num(o, 'CompartmentId');
    if (cid !== undefined) {
      const cc = comp(cid);
      if (!cc.addresses.includes(ip)) cc.addresses.push(ip);
      if (!cc.interfaces.includes(ifIndex)) cc.interfaces.push(ifIndex);
      x.compartmentId ??= cid;
    }
    const list = t.byIp.get(ip) ?? [];
    if (!list.includes(ifIndex)) list.push(ifIndex);
    t.byIp.set(ip, list);
    void addressFamily;
  }
  for (const o of asArray(c[INVENTORY.ADAPTER])) {
    const ifIndex = num(o, 'InterfaceIndex') ?? num(o, 'ifIndex');
    if (ifIndex === undefined) continue;
    const x = iface(ifIndex);
    x.alias ||= str(o, 'Name') ?? '';
    x.description = str(o, 'InterfaceDescription') ?? x.description;
    const mac = parseMac(str(o, 'MacAddress') ?? '');
    if (mac >= 0) x.mac = mac;
    x.hidden = field(o, 'Hidden') === true;
    x.virtual = field(o, 'Virtual') === true;
  }
  for (const x of t.interfaces.values()) {
    if (x.mac !== undefined && !t.byMac.has(x.mac)) t.byMac.set(x.mac, { kind: 'interface', ifIndex: x.ifIndex, ...(x.compartmentId !== undefined ? { compartmentId: x.compartmentId } : {}) });
  }
  for (const o of asArray(c[INVENTORY.HNS_NETWORK])) {
    const id = (str(o, 'ID') ?? str(o, 'Id') ?? '').toLowerCase();
    let vnid: number | undefined;
    const pols = [...asArray(field(o, 'Policies'))];
    const subnets: string[] = [];
    for (const sn of asArray(field(o, 'Subnets'))) {
      const prefix = str(sn, 'AddressPrefix');
      if (prefix) subnets.push(prefix);
      pols.push(...asArray(field(sn, 'Policies')));
    }
    for (const ipam of asArray(field(o, 'Ipams'))) {
      for (const sn of asArray(field(ipam, 'Subnets'))) {
        const prefix = str(sn, 'IpAddressPrefix');
        if (prefix) subnets.push(prefix);
        pols.push(...asArray(field(sn, 'Policies')));
      }
    }
    for (const p of pols) {
      const type = (str(p, 'Type') ?? '').toUpperCase();
      if (type === 'VSID') vnid = num(p, 'VSID') ?? (isObject(field(p, 'Settings')) ? num(field(p, 'Settings') as Record<string, unknown>, 'IsolationId') : undefined);
    }
    t.networks.push({ id, name: str(o, 'Name') ?? '', type: str(o, 'Type') ?? '', ...(vnid !== undefined ? { virtualNetworkId: vnid } : {}), subnets });
  }
  const nsByEndpoint = new Map<string, number>();
  for (const o of asArray(c[INVENTORY.HNS_NAMESPACE])) {
    const cid = num(o, 'CompartmentId') ?? num(o, 'NamespaceId');
    if (cid === undefined) continue;
    for (const r of [...asArray(field(o, 'ResourceList')), ...asArray(field(o, 'Resources'))]) {
      const type = str(r, 'Type');
      const data = field(r, 'Data');
      const rid = isObject(data) ? str(data, 'ID') ?? str(data, 'Id') : undefined;
      if (type === 'Endpoint' && rid) nsByEndpoint.set(rid.toLowerCase(), cid);
    }
  }
  for (const o of asArray(c[INVENTORY.HNS_ENDPOINT])) {
    const id = (str(o, 'ID') ?? str(o, 'Id') ?? '').toLowerCase();
    const ips: string[] = [];
    for (const k of ['IPAddress', 'IPv6Address']) {
      const v = str(o, k);
      if (v) ips.push(stripZone(v));
    }
    for (const ipc of asArray(field(o, 'IpConfigurations'))) {
      const v = str(ipc, 'IpAddress');
      if (v && !ips.includes(stripZone(v))) ips.push(stripZone(v));
    }
    const ns = field(o, 'Namespace');
    let cid = nsByEndpoint.get(id) ?? (isObject(ns) ? num(ns, 'CompartmentId') : undefined);
    if (cid === undefined) {
      // The container's vNIC holds the endpoint's address inside its compartment; only usable
      // when exactly one container compartment holds it (compartments may reuse a subnet).
      const found = new Set<number>();
      for (const ip of ips) {
        for (const ifi of t.byIp.get(ip) ?? []) {
          const cc = t.interfaces.get(ifi)?.compartmentId;
          if (cc !== undefined && cc !== 1) found.add(cc);
        }
      }
      if (found.size === 1) cid = [...found][0];
      else if (found.size > 1) warnings.push(`HNS endpoint ${id}: address ${ips.join(', ')} is in compartments ${[...found].join(', ')}; compartment left unknown`);
    }
    let portGuid: string | undefined;
    const res = field(o, 'Resources');
    if (isObject(res)) {
      for (const a of asArray(field(res, 'Allocators'))) {
        if (str(a, 'Tag') === 'Endpoint Port') portGuid = str(a, 'EndpointPortGuid')?.toLowerCase();
      }
    }
    const networkId = (str(o, 'VirtualNetwork') ?? str(o, 'HostComputeNetwork') ?? '').toLowerCase();
    const net = t.networks.find((n) => n.id === networkId);
    const shared = field(o, 'SharedContainers');
    const ep: EndpointInfo = {
      id, name: str(o, 'Name') ?? '', networkId, networkName: str(o, 'VirtualNetworkName') ?? net?.name ?? '', networkType: str(o, 'Type') ?? net?.type ?? '',
      ips, mac: parseMac(str(o, 'MacAddress') ?? ''), containerIds: Array.isArray(shared) ? shared.filter((x): x is string => typeof x === 'string') : [],
      ...(cid !== undefined ? { compartmentId: cid } : {}), ...(portGuid ? { portGuid } : {}),
      ...(num(o, 'State') !== undefined ? { state: num(o, 'State')! } : {}),
      remote: field(o, 'IsRemoteEndpoint') === true || (num(o, 'Flags') ?? 0) % 2 === 1,
    };
    t.endpoints.push(ep);
    if (cid !== undefined && !comp(cid).endpoints.includes(id)) comp(cid).endpoints.push(id);
    if (ep.mac >= 0) {
      const prev = t.byMac.get(ep.mac);
      if (!prev || prev.kind === 'interface') t.byMac.set(ep.mac, { kind: 'endpoint', endpoint: ep });
    }
    if (portGuid) t.byPortGuid.set(portGuid, ep);
  }
  for (const o of asArray(c[INVENTORY.VM_ADAPTER])) {
    const mac = parseMac(str(o, 'MacAddress') ?? '');
    const ipsV = field(o, 'IPAddresses');
    const a: VmAdapterInfo = {
      vmName: str(o, 'VMName') ?? '', name: str(o, 'Name') ?? '', mac, switchName: str(o, 'SwitchName') ?? '',
      ips: Array.isArray(ipsV) ? ipsV.filter((x): x is string => typeof x === 'string').map(stripZone) : [], managementOs: field(o, 'IsManagementOs') === true,
    };
    t.vmAdapters.push(a);
    if (mac >= 0 && !a.managementOs && !t.byMac.has(mac)) t.byMac.set(mac, { kind: 'vm', adapter: a });
  }
  for (const net of dockerNetworks(c[INVENTORY.DOCKER_NETWORKS])) {
    const containers = field(net, 'Containers');
    if (!isObject(containers)) continue;
    for (const [cidText, v] of Object.entries(containers)) {
      if (!isObject(v)) continue;
      const ip = (str(v, 'IPv4Address') ?? '').replace(/\/\d+$/, '');
      const mac = parseMac(str(v, 'MacAddress') ?? '');
      const info: ContainerInfo = { id: cidText, name: str(v, 'Name') ?? cidText.slice(0, 12), ...(ip ? { ip } : {}), ...(mac >= 0 ? { mac } : {}), network: str(net, 'Name') ?? '' };
      t.containers.push(info);
    }
  }
  // Containers -> endpoints (by MAC, then IP within the same network) -> compartments.
  for (const ct of t.containers) {
    const ep = t.endpoints.find((e) => (ct.mac !== undefined && e.mac === ct.mac) || (ct.ip !== undefined && e.ips.includes(ct.ip) && (!ct.network || e.networkName === ct.network)))
      ?? t.endpoints.find((e) => e.containerIds.includes(ct.id));
    const cid = ep?.compartmentId ?? compartmentByInterface(t, ct);
    if (cid !== undefined) comp(cid).containers.push(ct);
  }
  // Endpoints whose container the runtime did not name: a pod by its namespace/name, else by its id.
  const pods = criPods(c[INVENTORY.CRI_PODS]);
  for (const ep of t.endpoints) {
    if (ep.compartmentId === undefined) continue;
    const cc = comp(ep.compartmentId);
    for (const id of ep.containerIds) {
      if (cc.containers.some((x) => x.id === id)) continue;
      const pod = pods.get(id.toLowerCase());
      const ct: ContainerInfo = { id, name: pod ? `${pod.namespace}/${pod.name}` : id.slice(0, 12), ...(pod ? { pod } : {}), ...(ep.ips[0] ? { ip: ep.ips[0] } : {}), mac: ep.mac };
      cc.containers.push(ct);
      t.containers.push(ct);
    }
  }
  return t;
}

/**
 * Without HNS endpoints (no HostNetworkingService module, as on most Server 2016/2019 hosts) a
 * Docker container is found by its vNIC: the interface with its MAC, else the one non-host
 * compartment interface holding its IP (a host can reuse one subnet in two compartments: then none).
 */
function compartmentByInterface(t: Topology, ct: ContainerInfo): number | undefined {
  const byMac = ct.mac !== undefined ? [...t.interfaces.values()].find((x) => x.mac === ct.mac && x.compartmentId !== undefined && x.compartmentId !== 1) : undefined;
  if (byMac) return byMac.compartmentId;
  const comps = new Set((ct.ip !== undefined ? t.byIp.get(ct.ip) ?? [] : []).map((i) => t.interfaces.get(i)?.compartmentId).filter((c): c is number => c !== undefined && c !== 1));
  return comps.size === 1 ? [...comps][0] : undefined;
}

/** A short label for a compartment: its containers' names, or the description. */
export function compartmentLabel(c: CompartmentInfo): string {
  if (c.kind === 'host') return 'host (default compartment)';
  const names = c.containers.map((x) => x.name);
  return names.length > 0 ? names.join(', ') : c.description || `compartment ${c.id}`;
}

/** crictl pods items by sandbox id (lower case): metadata.name and metadata.namespace [S: the CRI's PodSandbox JSON]. */
function criPods(v: unknown): Map<string, { namespace: string; name: string }> {
  const out = new Map<string, { namespace: string; name: string }>();
  for (const o of asArray(v)) {
    const meta = field(o, 'metadata');
    const id = str(o, 'id');
    const name = isObject(meta) ? str(meta, 'name') : undefined;
    if (id && name) out.set(id.toLowerCase(), { namespace: (isObject(meta) ? str(meta, 'namespace') : undefined) ?? 'default', name });
  }
  return out;
}

/**
 * docker network inspect: objects (snapshots since the inventory parses docker's JSON), or the
 * text lines older snapshots kept, joined and parsed here.
 */
function dockerNetworks(v: unknown): ReturnType<typeof asArray> {
  if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string')) {
    try {
      return asArray(JSON.parse(v.join('\n')) as unknown);
    } catch {
      return [];
    }
  }
  return asArray(v);
}

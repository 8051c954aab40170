/**
 * Who is this packet? Interface -> compartment -> container / VM / HNS endpoint, in this order
 * (issue 3): by ifIndex first (NDIS LowerIfIndex/MiniportIfIndex, PktMon IfIndex properties,
 * vSwitch port -> HNS endpoint port); overlay packets on a host NIC by VNI/VSID and the inner
 * MAC, then inner IP; an interface missing from the snapshot by MAC, then IP. MAC before IP keeps
 * compartments that reuse one subnet apart. Whatever stays unattributed says why.
 */
import type { Dissection } from '../packets/dissection.js';
import { OVERLAY } from '../packets/dissection.js';
import type { CaptureInterface } from '../providers/interfaces.js';
import { DIRECTION, type PacketRecord } from '../providers/packet-record.js';
import { compartmentLabel, type EndpointInfo, type MacOwner, type Topology } from '../topology/topology.js';

export interface Attribution {
  compartmentId: number;
  /** How it was found: 'ifIndex', 'vswitch-port', 'overlay-mac', 'overlay-ip', 'mac', 'ip'. */
  method: string;
  endpoint?: EndpointInfo;
  vmName?: string;
  containerName?: string;
}

export const UNATTRIBUTED = {
  NO_SNAPSHOT: 'no host snapshot',
  UNKNOWN_INTERFACE: 'interface not in the snapshot and no MAC or IP match',
  AMBIGUOUS_IP: 'IP address present in several compartments',
  NO_ADDRESS: 'no MAC or IP to match (non-IP frame)',
} as const;

export interface InterfaceOwner {
  compartmentId: number;
  /** The container(s) behind it, the compartment's name, or (host compartment) the NIC's alias. */
  owner: string;
  alias: string;
  /** In the host (default) compartment. */
  host: boolean;
  /** compartmentLabel of its compartment. */
  compartment: string;
}

interface IfaceResolution {
  compartmentId?: number;
  method: string;
  endpoint?: EndpointInfo;
}

export class Attributor {
  private readonly cache = new Map<number, IfaceResolution | null>();
  readonly unattributed = new Map<string, { packets: number; bytes: number }>();

  constructor(private readonly topo: Topology | undefined) {}

  /** Resolves a packet; returns undefined (and counts the reason) when nothing matches. */
  attribute(p: PacketRecord, iface: CaptureInterface, d: Dissection): Attribution | undefined {
    const t = this.topo;
    if (!t) return this.miss(UNATTRIBUTED.NO_SNAPSHOT, p);
    const r = this.resolved(iface);
    // Overlay traffic on a host NIC belongs to the container behind the inner addresses.
    if (d.overlay !== OVERLAY.NONE) {
      const inner = this.byMacPair(d, p.direction);
      if (inner) return inner.attr('overlay-mac');
      // The inner IP within the virtual network the VNI/VSID names: an address reused in two
      // compartments (two overlay networks) is told apart by its network.
      const byVni = this.byOverlayIp(d, p.direction);
      if (byVni) return byVni;
      const ipHit = this.byIpPair(d.srcIp, d.dstIp, p.direction);
      if (ipHit && typeof ipHit !== 'string') return { ...ipHit, method: 'overlay-ip' };
    }
    if (r && r.compartmentId !== undefined) {
      const a: Attribution = { compartmentId: r.compartmentId, method: r.method };
      const ep = r.endpoint ?? this.endpointByMac(d, p.direction, r.compartmentId);
      if (ep) {
        a.endpoint = ep;
        const name = this.containerName(ep);
        if (name) a.containerName = name;
      } else {
        const name = this.singleContainer(r.compartmentId);
        if (name) a.containerName = name;
      }
      return a;
    }
    const m = this.byMacPair(d, p.direction);
    if (m) return m.attr('mac');
    const ipHit = this.byIpPair(d.srcIp, d.dstIp, p.direction);
    if (typeof ipHit === 'string') return this.miss(ipHit, p);
    if (ipHit) return ipHit;
    return this.miss(d.ipVersion === 0 && !d.hasEthernet ? UNATTRIBUTED.NO_ADDRESS : UNATTRIBUTED.UNKNOWN_INTERFACE, p);
  }

  /**
   * Whose interface this is, from the snapshot: its compartment, the container(s) or compartment
   * it serves, and its alias; undefined when the snapshot does not place it.
   */
  interfaceOwner(i: CaptureInterface): InterfaceOwner | undefined {
    const t = this.topo;
    if (!t) return undefined;
    const r = this.resolved(i);
    if (!r || r.compartmentId === undefined) return undefined;
    const c = t.compartments.get(r.compartmentId);
    const info = [i.ifIndex, i.miniportIfIndex].map((x) => (x === undefined ? undefined : t.interfaces.get(x))).find((x) => x !== undefined);
    const alias = info?.alias ?? '';
    const host = c?.kind === 'host';
    const owner = host ? alias || 'host' : (r.endpoint ? this.containerName(r.endpoint) : undefined) ?? (c ? compartmentLabel(c) : `compartment ${r.compartmentId}`);
    return { compartmentId: r.compartmentId, owner, alias, host, compartment: c ? compartmentLabel(c) : `compartment ${r.compartmentId}` };
  }

  private miss(reason: string, p: PacketRecord): undefined {
    const e = this.unattributed.get(reason) ?? { packets: 0, bytes: 0 };
    e.packets++;
    e.bytes += p.originalLength;
    this.unattributed.set(reason, e);
    return undefined;
  }

  /** The interface's place in the snapshot, worked out once per interface. */
  private resolved(i: CaptureInterface): IfaceResolution | null {
    let r = this.cache.get(i.id);
    if (r === undefined) {
      r = this.resolveInterface(i);
      this.cache.set(i.id, r);
    }
    return r;
  }

  private resolveInterface(i: CaptureInterface): IfaceResolution | null {
    const t = this.topo!;
    if (i.vmswitchPortName) {
      const ep = t.byPortGuid.get(i.vmswitchPortName.replace(/[{}]/g, '').toLowerCase());
      if (ep?.compartmentId !== undefined) return { compartmentId: ep.compartmentId, method: 'vswitch-port', endpoint: ep };
    }
    for (const idx of [i.ifIndex, i.miniportIfIndex]) {
      if (idx === undefined) continue;
      const x = t.interfaces.get(idx);
      if (x?.compartmentId !== undefined) return { compartmentId: x.compartmentId, method: 'ifIndex' };
    }
    if (i.mac) {
      const owner = t.byMac.get(parseInt(i.mac.replace(/:/g, ''), 16));
      const cid = owner ? ownerCompartment(owner) : undefined;
      if (cid !== undefined) return { compartmentId: cid, method: 'mac' };
    }
    return null;
  }

  /** The local end's MAC: source for outbound, destination for inbound, then the other. */
  private byMacPair(d: Dissection, dir: number): { attr: (method: string) => Attribution } | undefined {
    const t = this.topo!;
    const order = dir === DIRECTION.OUTBOUND ? [d.srcMac, d.dstMac] : [d.dstMac, d.srcMac];
    for (const mac of order) {
      if (!d.hasEthernet || mac === 0) continue;
      const owner = t.byMac.get(mac);
      if (!owner) continue;
      if (owner.kind === 'endpoint' && owner.endpoint.remote) continue;
      const cid = ownerCompartment(owner);
      if (cid === undefined) continue;
      return {
        attr: (method) => {
          const a: Attribution = { compartmentId: cid, method };
          if (owner.kind === 'endpoint') {
            a.endpoint = owner.endpoint;
            const n = this.containerName(owner.endpoint);
            if (n) a.containerName = n;
          } else if (owner.kind === 'vm') a.vmName = owner.adapter.vmName;
          return a;
        },
      };
    }
    return undefined;
  }

  private byIpPair(src: string, dst: string, dir: number): Attribution | string | undefined {
    const t = this.topo!;
    const order = dir === DIRECTION.OUTBOUND ? [src, dst] : [dst, src];
    for (const ip of order) {
      if (!ip) continue;
      const ifs = t.byIp.get(ip);
      if (!ifs || ifs.length === 0) continue;
      const comps = new Set(ifs.map((x) => t.interfaces.get(x)?.compartmentId).filter((x): x is number => x !== undefined));
      if (comps.size > 1) return UNATTRIBUTED.AMBIGUOUS_IP;
      const cid = [...comps][0];
      if (cid !== undefined) {
        const a: Attribution = { compartmentId: cid, method: 'ip' };
        const n = this.singleContainer(cid);
        if (n) a.containerName = n;
        return a;
      }
    }
    return undefined;
  }

  private byOverlayIp(d: Dissection, dir: number): Attribution | undefined {
    const t = this.topo!;
    const nets = new Set(t.networks.filter((n) => n.virtualNetworkId === d.virtualNetworkId).map((n) => n.id));
    if (nets.size === 0) return undefined;
    for (const ip of dir === DIRECTION.OUTBOUND ? [d.srcIp, d.dstIp] : [d.dstIp, d.srcIp]) {
      const ep = t.endpoints.find((e) => !e.remote && nets.has(e.networkId) && e.ips.includes(ip) && e.compartmentId !== undefined);
      if (ep) {
        const a: Attribution = { compartmentId: ep.compartmentId!, method: 'overlay-vni-ip', endpoint: ep };
        const n = this.containerName(ep);
        if (n) a.containerName = n;
        return a;
      }
    }
    return undefined;
  }

  private endpointByMac(d: Dissection, dir: number, cid: number): EndpointInfo | undefined {
    if (!d.hasEthernet) return undefined;
    const t = this.topo!;
    for (const mac of dir === DIRECTION.OUTBOUND ? [d.srcMac, d.dstMac] : [d.dstMac, d.srcMac]) {
      const o = t.byMac.get(mac);
      if (o?.kind === 'endpoint' && o.endpoint.compartmentId === cid) return o.endpoint;
    }
    return undefined;
  }

  private containerName(ep: EndpointInfo): string | undefined {
    const t = this.topo!;
    const c = t.containers.find((x) => (x.mac !== undefined && x.mac === ep.mac) || ep.containerIds.includes(x.id));
    if (c) return c.name;
    if (ep.compartmentId !== undefined) return this.singleContainer(ep.compartmentId);
    return undefined;
  }

  private singleContainer(cid: number): string | undefined {
    const c = this.topo!.compartments.get(cid);
    if (!c || c.kind === 'host') return undefined;
    return c.containers.length > 0 ? c.containers.map((x) => x.name).join(', ') : undefined;
  }
}

function ownerCompartment(o: MacOwner): number | undefined {
  if (o.kind === 'interface') return o.compartmentId;
  if (o.kind === 'endpoint') return o.endpoint.compartmentId;
  return undefined;
}

/**
 * Names from the host's snapshot in the pcapng: each interface says whose it is
 * (`web (compartment 2) vNIC ifIndex 23`), and each packet's comment ends with the compartment
 * and container (or VM) it was attributed to, so a Wireshark user can filter on them
 * (`frame.comment contains "container=web"`). The report's packet paths use the same names.
 */
import { Dissection, parseMac } from '../packets/dissection.js';
import { dissect } from '../packets/dissect.js';
import type { CaptureLabels } from '../pcapng/etl-to-pcapng.js';
import type { CaptureInterface } from '../providers/interfaces.js';
import { SOURCE, type PacketRecord } from '../providers/packet-record.js';
import type { Topology } from '../topology/topology.js';
import type { Target } from '../topology/target.js';
import { Attributor, type Attribution, type InterfaceOwner } from './attribution.js';

/** An interface's name where the snapshot places it, else its own. */
export function interfaceTitle(i: CaptureInterface, o: InterfaceOwner | undefined): string {
  if (!o) return i.name;
  const where = `${o.owner} (compartment ${o.compartmentId})`;
  if (i.source === SOURCE.PKTMON) return `${where} PktMon ${i.name}`;
  if (i.vmswitchPortId !== undefined) return `${where} vSwitch port ${i.vmswitchPortId}${i.vlanId ? ` VLAN ${i.vlanId}` : ''}`;
  return `${where} ${o.host ? 'NIC' : 'vNIC'} ifIndex ${i.ifIndex}`;
}

/** A value in a packet comment: quoted when it holds a space or a quote. */
function commentValue(v: string): string {
  return /[\s"]/.test(v) ? JSON.stringify(v) : v;
}

/**
 * The snapshot's names; with a target (sniff), only the target's packets are kept: those
 * attributed to its compartment, or to its VM.
 */
export class SnapshotLabels implements CaptureLabels {
  private readonly attributor: Attributor;
  private readonly d = new Dissection();
  /** The attribution keep() made, for the packet() call that follows it. */
  private kept: Attribution | undefined | null = null;
  /** Packets kept (with a target), or seen. */
  packets = 0;

  /** A target without a compartment (a VM, a MAC the snapshot does not place): its frames by MAC. */
  private readonly targetMacs: Set<number>;

  constructor(topo: Topology, private readonly target?: Target) {
    this.attributor = new Attributor(topo);
    this.targetMacs = new Set((target?.macs ?? []).map(parseMac));
  }

  restart(): void {
    this.kept = null;
    this.packets = 0;
  }

  keep(p: PacketRecord, i: CaptureInterface): boolean {
    const a = this.attribute(p, i);
    this.kept = a;
    const t = this.target;
    if (!t) return true;
    if (t.compartmentId !== undefined) return a?.compartmentId === t.compartmentId;
    return this.d.hasEthernet && (this.targetMacs.has(this.d.srcMac) || this.targetMacs.has(this.d.dstMac));
  }

  private attribute(p: PacketRecord, i: CaptureInterface): Attribution | undefined {
    return this.attributor.attribute(p, i, dissect(p.data, p.linkType, this.d));
  }

  interface(i: CaptureInterface): { name: string; description: string } | undefined {
    const o = this.attributor.interfaceOwner(i);
    if (!o) return undefined;
    const alias = o.alias ? `${o.alias} in ` : '';
    return { name: interfaceTitle(i, o), description: `${i.description}; ${alias}${o.compartment} (compartment ${o.compartmentId})` };
  }

  packet(p: PacketRecord, i: CaptureInterface): string {
    const a = this.kept !== null ? this.kept : this.attribute(p, i);
    this.kept = null;
    this.packets++;
    if (!a) return '';
    let s = ` compartment=${a.compartmentId}`;
    if (a.containerName) s += ` container=${commentValue(a.containerName)}`;
    if (a.vmName) s += ` vm=${commentValue(a.vmName)}`;
    return s;
  }
}

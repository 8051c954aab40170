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

/** A packet's compartment and container (or VM) for its comment: ` compartment=2 container=web`. */
function note(a: Attribution | undefined): string {
  if (!a) return '';
  let s = ` compartment=${a.compartmentId}`;
  if (a.containerName) s += ` container=${commentValue(a.containerName)}`;
  if (a.vmName) s += ` vm=${commentValue(a.vmName)}`;
  return s;
}

/** The snapshot's names for the whole capture: every packet attributed once, here. */
export class SnapshotLabels implements CaptureLabels {
  private readonly attributor: Attributor;
  /** The packet last attributed, dissected: what a TargetLabels after this one reads. */
  readonly d = new Dissection();
  last: Attribution | undefined;

  constructor(topo: Topology) {
    this.attributor = new Attributor(topo);
  }

  interface(i: CaptureInterface): { name: string; description: string } | undefined {
    const o = this.attributor.interfaceOwner(i);
    if (!o) return undefined;
    const alias = o.alias ? `${o.alias} in ` : '';
    return { name: interfaceTitle(i, o), description: `${i.description}; ${alias}${o.compartment} (compartment ${o.compartmentId})` };
  }

  packet(p: PacketRecord, i: CaptureInterface): string {
    this.last = this.attributor.attribute(p, i, dissect(p.data, p.linkType, this.d));
    return note(this.last);
  }
}

/**
 * One target's packets alone (sniff): those attributed to its compartment, or (a VM, a MAC the
 * snapshot does not place) those to or from its MACs. It reads the attribution the whole
 * capture's labels made of the same packet, so its consumer must come after theirs in
 * decodeCapture's list: no packet is dissected twice for it.
 */
export class TargetLabels implements CaptureLabels {
  private readonly macs: Set<number>;
  /** Packets kept. */
  packets = 0;

  /**
   * attribute: no consumer with the whole capture's labels comes first (follow mode writes the
   * target alone): this one has them attribute each packet.
   */
  constructor(private readonly all: SnapshotLabels, private readonly target: Target, private readonly o: { attribute?: boolean } = {}) {
    this.macs = new Set(target.macs.map(parseMac));
  }

  restart(): void {
    this.packets = 0;
  }

  interface(i: CaptureInterface): { name: string; description: string } | undefined {
    return this.all.interface(i);
  }

  keep(p: PacketRecord, i: CaptureInterface): boolean {
    if (this.o.attribute) this.all.packet(p, i);
    const t = this.target;
    if (t.compartmentId !== undefined) return this.all.last?.compartmentId === t.compartmentId;
    const d = this.all.d;
    return d.hasEthernet && (this.macs.has(d.srcMac) || this.macs.has(d.dstMac));
  }

  packet(): string {
    this.packets++;
    return note(this.all.last);
  }
}

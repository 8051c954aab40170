/**
 * The capture's interfaces, one per pcapng IDB: NDIS (LowerIfIndex, media), NDIS vSwitch port
 * (LowerIfIndex, port, VLAN, media) and PktMon (component, link type), as etl2pcapng keys them
 * (etl-format.md 6.1). Each gets the best name known: PktMon component names come from the
 * rundown read in the first pass. Lookups use numeric keys: no string is built per packet.
 */
import { LINKTYPE, type LinkType } from '../util/link-type.js';
import { SOURCE, type PacketRecord, type PacketSource } from './packet-record.js';
import type { PktmonComponent } from './pktmon.js';
import { lookupName, PKTMON_COMPONENT_TYPE } from './pktmon-tables.js';

export interface CaptureInterface {
  id: number;
  source: PacketSource;
  linkType: LinkType;
  name: string;
  description: string;
  /** NDIS: the ifIndexes; PktMon: the component's IfIndex/MiniportIfIndex properties when known. */
  ifIndex?: number;
  miniportIfIndex?: number;
  componentId?: number;
  componentType?: number;
  vmswitchPortId?: number;
  vmswitchPortName?: string;
  vmswitchNicName?: string;
  vmswitchNicType?: string;
  vlanId?: number;
  mac?: string;
  ipv4: string[];
  ipv6: string[];
  packets: number;
  bytes: number;
}

const PKTMON_KEY_BASE = 2 ** 45;

export class InterfaceTable {
  readonly list: CaptureInterface[] = [];
  private readonly byKey = new Map<number, number>();
  private readonly vmByKey = new Map<number, Map<number, number>>();

  constructor(private readonly components: ReadonlyMap<number, PktmonComponent> = new Map()) {}

  /** Returns the interface id for a packet, creating the interface (and calling onNew) on first sight. */
  idFor(p: PacketRecord, onNew?: (i: CaptureInterface) => void): number {
    if (p.source === SOURCE.NDIS_VMSWITCH && p.vmswitch) {
      const k1 = p.lowerIfIndex * 512 + p.linkType;
      let m = this.vmByKey.get(k1);
      if (!m) {
        m = new Map();
        this.vmByKey.set(k1, m);
      }
      const k2 = p.vmswitch.portId * 4096 + p.vmswitch.vlanId;
      const id = m.get(k2);
      if (id !== undefined) return id;
      const created = this.create(p);
      m.set(k2, created.id);
      onNew?.(created);
      return created.id;
    }
    const key = p.source === SOURCE.PKTMON ? PKTMON_KEY_BASE + p.componentId * 512 + p.linkType : p.lowerIfIndex * 512 + p.linkType;
    const id = this.byKey.get(key);
    if (id !== undefined) return id;
    const created = this.create(p);
    this.byKey.set(key, created.id);
    onNew?.(created);
    return created.id;
  }

  private create(p: PacketRecord): CaptureInterface {
    const id = this.list.length;
    const base = { id, source: p.source, linkType: p.linkType, ipv4: [] as string[], ipv6: [] as string[], packets: 0, bytes: 0 };
    let i: CaptureInterface;
    if (p.source === SOURCE.PKTMON) {
      const c = this.components.get(p.componentId);
      const typeName = c ? lookupName(PKTMON_COMPONENT_TYPE, c.type) : 'unknown type';
      const ifIndex = c?.props[1] ?? c?.props[2];
      const parts = [`PktMon component ${p.componentId}`, typeName];
      if (ifIndex !== undefined) parts.push(`ifIndex ${ifIndex}`);
      if (c?.vmSwitchName) parts.push(`vSwitch "${c.vmSwitchName}"`);
      const desc = c?.description && c.description !== 'NULL' ? `${c.description} (${parts.join(', ')})` : parts.join(', ');
      i = {
        ...base,
        name: c?.name && c.name !== 'NULL' ? `${c.name}:${p.componentId}` : `component:${p.componentId}`,
        description: desc,
        componentId: p.componentId,
        ...(c ? { componentType: c.type } : {}),
        ...(ifIndex !== undefined ? { ifIndex } : {}),
        ...(c?.props[2] !== undefined ? { miniportIfIndex: c.props[2] } : {}),
        ...(c?.mac ? { mac: c.mac } : {}),
        ipv4: [...(c?.ipv4 ?? [])],
        ipv6: [...(c?.ipv6 ?? [])],
      };
    } else if (p.source === SOURCE.NDIS_VMSWITCH && p.vmswitch) {
      const vm = p.vmswitch;
      i = {
        ...base,
        name: `vNIC:${vm.nicType}:${vm.portName}:${p.lowerIfIndex}:${vm.vlanId}`,
        description: `vSwitch port ${vm.portId} NIC "${vm.nicName}" (${vm.nicType}) over ifIndex ${p.lowerIfIndex}` +
          (vm.vlanId ? `, VLAN ${vm.vlanId}` : ''),
        ifIndex: p.lowerIfIndex,
        miniportIfIndex: p.miniportIfIndex,
        vmswitchPortId: vm.portId,
        vmswitchPortName: vm.portName,
        vmswitchNicName: vm.nicName,
        vmswitchNicType: vm.nicType,
        vlanId: vm.vlanId,
      };
    } else {
      const prefix = p.linkType === LINKTYPE.IEEE802_11 ? `wifi:${p.lowerIfIndex}` : p.linkType === LINKTYPE.RAW ? `mbb:${p.lowerIfIndex}` : `eth:${p.lowerIfIndex}:0`;
      i = {
        ...base,
        name: prefix,
        description: p.lowerIfIndex !== p.miniportIfIndex
          ? `NDIS ifIndex ${p.lowerIfIndex}, LWF over IfIndex ${p.miniportIfIndex}`
          : `NDIS ifIndex ${p.lowerIfIndex}`,
        ifIndex: p.lowerIfIndex,
        miniportIfIndex: p.miniportIfIndex,
      };
    }
    this.list.push(i);
    return i;
  }
}

import { concatBytes } from '../util/bytes.js';
/** Event payloads of the providers we decode, laid out as Windows writes them (etl-format.md 3, 4). */

function u32(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}
function u16(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff];
}
function u64(n: bigint): number[] {
  const out: number[] = [];
  for (let i = 0n; i < 8n; i++) out.push(Number((n >> (8n * i)) & 0xffn));
  return out;
}
function utf16z(s: string): number[] {
  const out: number[] = [];
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    out.push(c & 0xff, c >> 8);
  }
  out.push(0, 0);
  return out;
}
const cat = concatBytes;

/** NDIS 1001: MiniportIfIndex, LowerIfIndex, FragmentSize, Fragment[, 16-byte GFT tail]. */
export function ndisFragment(miniport: number, lower: number, fragment: Uint8Array, gftTail = false): Uint8Array {
  return cat([u32(miniport), u32(lower), u32(fragment.length), fragment, gftTail ? new Uint8Array(16) : []]);
}

export interface VmSwitchFields {
  portId: number;
  portName: string;
  nicName: string;
  nicType: string;
  destinations: number;
  vlanId: number;
  hashValue: number;
}

/**
 * NDIS 1003. The destination element layout is unknown on Windows (etl-format.md 3.5): we write
 * 8 bytes per destination, which the decoder must find by its length-consistency search.
 */
export function ndisVmSwitchFragment(miniport: number, lower: number, vm: VmSwitchFields, fragment: Uint8Array, pointerSize: 4 | 8): Uint8Array {
  const oob = new Uint8Array(27 * pointerSize);
  const ov = new DataView(oob.buffer);
  ov.setUint32(4 * pointerSize, (vm.vlanId & 0xfff) << 4, true);
  ov.setUint32(8 * pointerSize, vm.hashValue >>> 0, true);
  return cat([
    u32(miniport), u32(lower), u32(vm.portId), utf16z(vm.portName), utf16z(vm.nicName), utf16z(vm.nicType),
    u32(vm.destinations), new Uint8Array(8 * vm.destinations).fill(0x11), u32(fragment.length), fragment, u32(oob.length), oob,
  ]);
}

export interface PktmonPacketFields {
  groupId: bigint;
  pktNumber: number;
  appearance: number;
  dirTag: number;
  packetType: number;
  componentId: number;
  edgeId: number;
  filterId: number;
  dropReason: number;
  dropLocation: number;
  originalSize: number;
}

/** PktMon 160/170: 34-byte head then the logged payload; nothing after it. */
export function pktmonPacket(f: PktmonPacketFields, payload: Uint8Array): Uint8Array {
  return cat([
    u64(f.groupId), u16(f.pktNumber), u16(f.appearance), u16(f.dirTag), u16(f.packetType), u16(f.componentId),
    u16(f.edgeId), u16(f.filterId), u32(f.dropReason), u32(f.dropLocation), u16(f.originalSize), u16(payload.length), payload,
  ]);
}

export function pktmonComponent(id: number, type: number, name: string, description: string): Uint8Array {
  return cat([u16(id), u16(type), utf16z(name), utf16z(description)]);
}
export function pktmonPropUint(id: number, type: number, value: number): Uint8Array {
  return cat([u16(id), u16(type), u32(value)]);
}
export function pktmonPropMac(id: number, mac: number[]): Uint8Array {
  return cat([u16(id), u16(6), u32(6), mac]);
}
export function pktmonPropIpv4(id: number, ip: number[]): Uint8Array {
  return cat([u16(id), u16(13), ip]);
}
export function pktmonFlowCounters(id: number, edgeName: string, edgeId: number, packetsIn: number, packetsOut: number): Uint8Array {
  return cat([u16(id), utf16z(edgeName), u16(edgeId), u16(3), u64(BigInt(packetsIn)), u64(0n), u16(4), u64(BigInt(packetsOut)), u64(0n)]);
}

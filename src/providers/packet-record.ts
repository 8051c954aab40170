/**
 * What crosses from the ETL side (etl/ + providers/) to everything else: one packet, as a
 * reusable mutable object. `data` is a view into the decoder's buffers: valid only until the
 * next packet (copy what must outlive it).
 */
import { LINKTYPE, type LinkType } from '../util/link-type.js';

export const DIRECTION = { UNKNOWN: 0, INBOUND: 1, OUTBOUND: 2 } as const;
export type Direction = (typeof DIRECTION)[keyof typeof DIRECTION];

export const SOURCE = { NDIS: 1, NDIS_VMSWITCH: 2, PKTMON: 3 } as const;
export type PacketSource = (typeof SOURCE)[keyof typeof SOURCE];

export interface VmSwitchInfo {
  portId: number;
  portName: string;
  nicName: string;
  nicType: string;
  destinationCount: number;
  vlanId: number;
  hashValue: number;
}

export class PacketRecord {
  /** 100 ns units since the capture's StartTime. */
  ticks = 0;
  linkType: LinkType = LINKTYPE.ETHERNET;
  /** Frame bytes (view). */
  data: Uint8Array = new Uint8Array(0);
  originalLength = 0;
  /** Index into the decoder's interface table (= pcapng interface id). */
  interfaceId = 0;
  direction: Direction = DIRECTION.UNKNOWN;
  source: PacketSource = SOURCE.NDIS;
  cpu = 0;
  processId = 0;
  threadId = 0;
  /** NDIS: ifIndexes; the fragment was truncated by the capture (PacketTruncated keyword). */
  miniportIfIndex = 0;
  lowerIfIndex = 0;
  truncated = false;
  /** NDIS 1003: vSwitch source port information (null otherwise). */
  vmswitch: VmSwitchInfo | null = null;
  /** NDIS 1002: WLAN receive metadata text for the comment ('' when none). */
  metadata = '';
  /** PktMon fields (0 for NDIS). */
  pktGroupIdHi = 0;
  pktGroupIdLo = 0;
  pktNumber = 0;
  appearance = 0;
  componentId = 0;
  edgeId = 0;
  filterId = 0;
  dirTag = 0;
  pktmonPacketType = 0;
  /** True for PktMon 170 (dropped packet). */
  dropped = false;
  dropReason = 0;
  dropLocation = 0;
  /** PktMon PacketType 2 frame that is really Ethernet II (etl-format.md 4.4). */
  relabelled = false;
}

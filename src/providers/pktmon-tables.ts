/**
 * PktMon value tables (etl-format.md 4.4). Sources: Microsoft's PktMon NPL parser (2018), the
 * DDK PKTMON_* definitions, and names Windows' `pktmon format` prints. Unknown values are
 * printed as numbers by the lookups below.
 */

export const PKTMON_COMPONENT_TYPE: Readonly<Record<number, string>> = {
  1: 'NDIS',
  2: 'Miniport',
  3: 'Filter',
  4: 'Protocol',
  5: 'VmsVmNic',
  6: 'VmsMiniport',
  7: 'VmsExtMiniport',
  8: 'VmsProtocolNic',
  9: 'NetVsc Miniport',
  10: 'HTTP Protocol',
  11: 'TCPIP L3/L4', // not in the NPL (builds >= 20348)
  13: 'IPSEC', // not in the NPL
  14: 'NetAdapterCx Miniport', // not in the NPL
  15: 'HTTP Message', // not in the NPL
};

export const PKTMON_PROPERTY_TYPE: Readonly<Record<number, string>> = {
  1: 'IfIndex',
  2: 'MiniportIfIndex',
  3: 'LowerIfIndex',
  4: 'IfGuid',
  5: 'NdisMedium',
  6: 'PhysAddress',
  7: 'EtherType',
  8: 'OptDataPath',
  9: 'NdisObject',
  10: 'VMSwitchName',
  11: 'VmsExtIfIndex',
  12: 'LowestIfIndex',
  13: 'IP Address',
  14: 'IpInterfaceIndex', // inferred, etl-format.md 4.4 [U]
  17: 'CompartmentId?', // inferred, probably the compartment id [U]
};

export const PKTMON_DIRECTION: Readonly<Record<number, string>> = {
  0: 'None', 1: 'In', 2: 'Out', 3: 'Rx', 4: 'Tx', 5: 'Ingress', 6: 'Egress',
};

export const PKTMON_PACKET_TYPE: Readonly<Record<number, string>> = {
  0: 'Unknown', 1: 'Ethernet', 2: 'WiFi', 3: 'IP', 4: 'HTTP', 5: 'TCP', 6: 'UDP', 7: 'ARP', 8: 'ICMP',
  9: 'ESP', 10: 'AH', 11: 'L4Payload',
};

export const PKTMON_DROP_REASON: Readonly<Record<number, string>> = {
  0: 'Unspecified',
  1: 'Invalid Data',
  2: 'Invalid Packet',
  3: 'Insufficient resources',
  4: 'Adapter not ready',
  5: 'Media Disconnected',
  6: 'Not accepted',
  7: 'Device busy',
  8: 'Filtered',
  9: 'Filtered VLAN',
  10: 'Unauthorized VLAN',
  11: 'Unauthorized MAC',
  12: 'Failed security policy',
  13: 'Failed pVlan setting',
  14: 'QoS drop',
  15: 'IPSec drop',
  16: 'Spoofed MAC address is not allowed',
  17: 'Failed DHCP guard',
  18: 'Failed Router Guard',
  19: 'Bridge is not allowed inside VM',
  20: 'Virtual Subnet ID does not match',
  21: 'Required vSwitch extension is missing',
  22: 'Creating vSwitch over another vSwitch is not allowed',
  23: 'MTU mismatch',
  24: 'Native forwarding required',
  25: 'Invalid VLAN format',
  26: 'Invalid destination MAC',
  27: 'Invalid source MAC',
  28: 'First NB too small',
  29: 'Windows Network Virtualization error',
  30: 'Storm limit exceeded',
  31: 'ICMP request injected by switch',
  32: 'Failed to update destination list',
  33: 'Destination NIC is disabled',
  34: 'Packet does not match destination NIC packet filter',
  35: 'vSwitch data flow is disabled',
  36: 'Port isolation setting does not allow untagged traffic',
  37: 'Invalid PD queue',
  38: 'Adapter is in low power state',
  101: 'Adapter paused',
  102: 'Adapter reset in progress',
  103: 'Send aborted',
  104: 'Unsupported EtherType',
  201: 'Microport error',
  202: 'VF not ready',
  203: 'Microport not ready',
  204: 'VMBus error',
};

/**
 * Transport-layer discard reasons (Microsoft Learn "Transport layer discard reasons", in page
 * order). Real 12xx PktMon drop reasons match 1200 + this index in every case seen (etl-format.md
 * 4.4); shown with a "?" because the mapping is inferred.
 */
const INET_DISCARD_REASON: readonly string[] = [
  'BadChecksum?', 'HeaderTooShort?', 'ProtocolUnreachable?', 'PortUnreachable?', 'EndpointNotFound',
  'UnsupportedAddressType?', 'SessionState', 'ReceiveInspection', 'AckInvalid?', 'ExpectedSyn?', 'Rst',
  'SynRcvdSyn?', 'SimultaneousConnect?', 'Paws?', 'LandAttack?', 'MissedReset?', 'OutsideWindow?',
  'DuplicateSegment', 'ClosedWindow?', 'TcbRemoved?', 'FinWait2',
];

export function pktmonDropReasonName(code: number): string {
  const known = PKTMON_DROP_REASON[code];
  if (known !== undefined) return known;
  if (code >= 1200 && code < 1200 + INET_DISCARD_REASON.length) return `TCP/IP ${INET_DISCARD_REASON[code - 1200]}`;
  if (code >= 900 && code < 1000) return `TCP/IP drop ${code}`;
  return `drop reason ${code}`;
}

export function lookupName(table: Readonly<Record<number, string>>, code: number): string {
  return table[code] ?? String(code);
}

/** EtherTypes that mark a PktMon PacketType-2 frame as really Ethernet II (etl-format.md 4.4). */
export const ETHERNET_ETHERTYPES: ReadonlySet<number> = new Set([0x0800, 0x86dd, 0x0806, 0x888e, 0x8100, 0x88cc]);

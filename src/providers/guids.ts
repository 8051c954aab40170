/** Provider GUIDs we know by name (etl-format.md 3, 4, 5.1, 7.1), as on-disk bytes. */
import { guidBytes } from '../util/guid.js';

export const NDIS_PACKET_CAPTURE = guidBytes('2ed6006e-4729-4609-b423-3ee7bcd678ef');
export const PKTMON = guidBytes('4d4f80d9-c8bd-4d73-bb5b-19c90402c5ac');
export const HYPERV_VMSWITCH = guidBytes('67dc0d66-3695-47c0-9642-33f76f7bd7ad');

export const PROVIDER_NAMES: Readonly<Record<string, string>> = {
  '2ed6006e-4729-4609-b423-3ee7bcd678ef': 'Microsoft-Windows-NDIS-PacketCapture',
  '4d4f80d9-c8bd-4d73-bb5b-19c90402c5ac': 'Microsoft-Windows-PktMon',
  '67dc0d66-3695-47c0-9642-33f76f7bd7ad': 'Microsoft-Windows-Hyper-V-VmSwitch',
  '1f387cbc-6818-4530-9db6-5f1058cd7e86': 'vmswitch (WPP)',
  '9f2660ea-cfe7-428f-9850-aeca612619b0': 'Microsoft-Windows-Hyper-V-VfpExt',
  '0c885e0d-6eb6-476c-a048-2457eed3a5c1': 'Microsoft-Windows-Host-Network-Service',
  '66c07ecd-6667-43fc-93f8-05cf07f446ec': 'Microsoft-Windows-WinNat',
  '6c28c7e5-331b-4437-9c69-5352a2f7f296': 'Microsoft-Windows-Hyper-V-VmsIf',
  '2f07e2ee-15db-40f1-90ef-9d7ba282188a': 'Microsoft-Windows-TCPIP',
  '0c478c5b-0351-41b1-8c58-4a6737da32e3': 'Microsoft-Windows-WFP',
  'eb004a05-9b1a-11d4-9123-0050047759bc': 'NETIO',
  'd84521f7-2235-4237-a7c0-14e3a9676286': 'Microsoft-Windows-Ras-NdisWanPacketCapture',
  '68fdd900-4a3e-11d1-84f4-0000f80464e3': 'EventTraceEvent',
  '8e805eb3-6a8f-4a1e-90fa-a831d94e54a1': 'Microsoft-Antimalware-Scan-Interface',
};

export function providerName(guid: string): string | undefined {
  return PROVIDER_NAMES[guid];
}

/**
 * The PowerShell steps of a capture, per backend (windows-capture.md 1.12, 2, 3): built from
 * typed commands, every user value through the one quoting function. Each step is one script
 * that prints one JSON envelope; the lifecycle runs them in order.
 */
import { raw } from '../powershell/quote.js';
import { cmd, NativeCall, stmt, type Statement, type Step } from '../powershell/script.js';
import type { CaptureOptions } from './options.js';

export const NDIS_PROVIDER = 'Microsoft-Windows-NDIS-PacketCapture';

const ELEVATED = '([Security.Principal.WindowsPrincipal][Security.Principal.WindowsIdentity]::GetCurrent()).IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)';

/** Statement with no command: an expression written by wnvcap ($r['key'] = @(expr)). */
function expr(key: string, text: string): Statement {
  return { resultKey: key, stages: [], expression: text };
}

export function preflightStep(): Step {
  return {
    name: 'preflight',
    description: 'Windows build, elevation, PowerShell edition, capture cmdlets, existing capture sessions',
    statements: [
      expr('host', '$env:COMPUTERNAME'),
      expr('elevated', ELEVATED),
      expr('psEdition', '$PSVersionTable.PSEdition'),
      expr('psVersion', '$PSVersionTable.PSVersion.ToString()'),
      stmt([cmd('Get-CimInstance').param('ClassName', 'Win32_OperatingSystem'), cmd('Select-Object').param('Property', ['BuildNumber', 'Caption', 'Version'])], { resultKey: 'os' }),
      stmt([cmd('Get-Command').param('Module', ['NetEventPacketCapture']), cmd('Select-Object').param('Property', ['Name'])], { resultKey: 'netEventCmdlets', tolerateErrors: true }),
      stmt([cmd('Get-NetEventSession'), cmd('Select-Object').param('Property', ['Name', raw("@{n='SessionStatus';e={[string]$_.SessionStatus}}"), 'LocalFilePath', 'MaxFileSize'])], { resultKey: 'sessions', tolerateErrors: true }),
      stmt(new NativeCall('pktmon.exe', ['status']), { resultKey: 'pktmonStatus', tolerateErrors: true }),
      stmt(new NativeCall('netsh.exe', ['trace', 'show', 'status']), { resultKey: 'netshStatus', tolerateErrors: true }),
    ],
  };
}

/** The host inventory for snapshot.json: each command's output under its name (windows-capture.md 2.9). */
export function inventoryStep(): Step {
  const s = (key: string, first: ReturnType<typeof cmd>, props: Array<string | ReturnType<typeof raw>>): Statement =>
    stmt([first, cmd('Select-Object').param('Property', props)], { resultKey: key, tolerateErrors: true });
  return {
    name: 'inventory',
    description: 'compartments, IP interfaces and addresses, adapters, HNS networks/endpoints/namespaces, VM adapters and switches, Docker networks',
    statements: [
      s('Get-NetCompartment', cmd('Get-NetCompartment'), ['CompartmentId', 'CompartmentGuid', 'CompartmentDescription', raw("@{n='CompartmentType';e={[string]$_.CompartmentType}}")]),
      s('Get-NetIPInterface', cmd('Get-NetIPInterface').flag('IncludeAllCompartments'), ['InterfaceIndex', 'InterfaceAlias', raw("@{n='AddressFamily';e={[string]$_.AddressFamily}}"), 'CompartmentId', 'NlMtu', raw("@{n='ConnectionState';e={[string]$_.ConnectionState}}")]),
      s('Get-NetIPAddress', cmd('Get-NetIPAddress').flag('IncludeAllCompartments'), ['IPAddress', 'InterfaceIndex', 'InterfaceAlias', raw("@{n='AddressFamily';e={[string]$_.AddressFamily}}"), 'PrefixLength', raw("@{n='AddressState';e={[string]$_.AddressState}}")]),
      s('Get-NetAdapter', cmd('Get-NetAdapter').flag('IncludeHidden'), ['Name', 'InterfaceIndex', 'InterfaceDescription', 'MacAddress', 'InterfaceGuid', 'Virtual', 'Hidden', 'Status']),
      stmt(cmd('Get-HnsNetwork'), { resultKey: 'Get-HnsNetwork', tolerateErrors: true }),
      stmt(cmd('Get-HnsEndpoint'), { resultKey: 'Get-HnsEndpoint', tolerateErrors: true }),
      stmt(cmd('Get-HnsNamespace'), { resultKey: 'Get-HnsNamespace', tolerateErrors: true }),
      s('Get-VMNetworkAdapter', cmd('Get-VMNetworkAdapter').flag('All'), ['VMName', 'Name', 'MacAddress', 'SwitchName', 'IPAddresses', 'IsManagementOs']),
      s('Get-VMSwitch', cmd('Get-VMSwitch'), ['Name', 'Id', raw("@{n='SwitchType';e={[string]$_.SwitchType}}")]),
      stmt([new NativeCall('docker.exe', ['network', 'inspect', 'nat'])], { resultKey: 'docker network inspect', tolerateErrors: true }),
    ],
  };
}

/** Removes a session of ours left from before (never a foreign one). */
export function cleanupStep(sessionName: string): Step {
  return {
    name: 'cleanup-own',
    description: `stop and remove a leftover session named ${sessionName}`,
    statements: [
      stmt(cmd('Stop-NetEventSession').param('Name', sessionName), { tolerateErrors: true }),
      stmt(cmd('Remove-NetEventSession').param('Name', sessionName), { tolerateErrors: true }),
    ],
  };
}

function netEventProviderStatement(sessionName: string, o: CaptureOptions): Statement {
  const ct = o.captureType === 'physical' ? 'Physical' : o.captureType === 'switch' ? 'Switch' : 'BothPhysicalAndSwitch';
  const c = cmd('Add-NetEventPacketCaptureProvider').param('SessionName', sessionName).param('Level', 5).param('CaptureType', ct)
    .param('TruncationLength', o.truncate).param('MultiLayer', o.multiLayer);
  if (o.ips.length) c.param('IpAddresses', o.ips);
  if (o.protocols.length) c.param('IpProtocols', o.protocols);
  if (o.etherTypes.length) c.param('EtherType', o.etherTypes);
  if (o.macs.length) c.param('LinkLayerAddress', o.macs);
  if (o.captureType !== 'physical') c.param('VmCaptureDirection', 'IngressAndEgress');
  return stmt(c);
}

export function startStep(sessionName: string, etlPath: string, o: CaptureOptions, available: { vmSwitchProvider: boolean; vfpProvider: boolean }): Step {
  const statements: Statement[] = [
    stmt(cmd('New-Item').param('ItemType', 'Directory').param('Path', parentOf(etlPath)).flag('Force'), { comment: 'the run folder' }),
    stmt(cmd('New-NetEventSession').param('Name', sessionName).param('CaptureMode', 'SaveToFile').param('LocalFilePath', etlPath).param('MaxFileSize', o.maxSizeMB)),
    netEventProviderStatement(sessionName, o),
  ];
  if (o.vmSwitchProvider && available.vmSwitchProvider) statements.push(stmt(cmd('Add-NetEventVmSwitchProvider').param('SessionName', sessionName).param('Level', 4)));
  if (o.vfpProvider && available.vfpProvider) statements.push(stmt(cmd('Add-NetEventVFPProvider').param('SessionName', sessionName).param('Level', 4)));
  for (const p of o.providers) {
    // Each provider on its own: a provider missing on this host must not abort the capture.
    const c = cmd('Add-NetEventProvider').param('Name', p.name).param('SessionName', sessionName).param('Level', p.level ?? 4);
    if (p.keywords) c.param('MatchAnyKeyword', BigInt(p.keywords));
    statements.push(stmt(c, { tolerateErrors: true, resultKey: `provider:${p.name}` }));
  }
  statements.push(stmt(cmd('Start-NetEventSession').param('Name', sessionName)));
  return { name: 'start', description: `create and start NetEventSession ${sessionName}`, statements };
}

export function statusStep(sessionName: string, etlPath: string): Step {
  return {
    name: 'status',
    description: 'session status and file size',
    statements: [
      stmt([cmd('Get-NetEventSession').param('Name', sessionName), cmd('Select-Object').param('Property', ['Name', raw("@{n='SessionStatus';e={[string]$_.SessionStatus}}")])], { resultKey: 'session' }),
      stmt([cmd('Get-Item').param('LiteralPath', etlPath), cmd('Select-Object').param('Property', ['Length'])], { resultKey: 'file', tolerateErrors: true }),
    ],
  };
}

export function stopStep(sessionName: string): Step {
  return {
    name: 'stop',
    description: `stop and remove NetEventSession ${sessionName}`,
    statements: [
      stmt(cmd('Stop-NetEventSession').param('Name', sessionName), { tolerateErrors: true, resultKey: 'stop' }),
      stmt(cmd('Remove-NetEventSession').param('Name', sessionName)),
    ],
  };
}

/** pktmon (Windows 10 1809 / Server 2019+): one global session; filters then start. */
export function pktmonStartStep(etlPath: string, o: CaptureOptions): Step {
  const statements: Statement[] = [stmt(new NativeCall('pktmon.exe', ['filter', 'remove']), { tolerateErrors: true })];
  const filters: string[][] = [];
  for (const ip of o.ips) filters.push(['--ip', ip]);
  for (const m of o.macs) filters.push(['--mac', m]);
  for (const e of o.etherTypes) filters.push(['--data-link', String(e)]);
  const protos = o.protocols.length ? o.protocols : [undefined];
  let n = 0;
  for (const f of filters.length ? filters : [[]]) {
    for (const p of protos) {
      if (f.length === 0 && p === undefined) continue;
      n++;
      statements.push(stmt(new NativeCall('pktmon.exe', ['filter', 'add', `wnvcap${n}`, ...f, ...(p !== undefined ? ['--transport', String(p)] : [])])));
    }
  }
  statements.push(stmt(new NativeCall('pktmon.exe', [
    'start', '--capture', '--comp', o.captureType === 'physical' ? 'nics' : 'all', '--type', o.pktmonType, '--pkt-size', String(o.truncate),
    '--file-name', etlPath, '--file-size', String(o.maxSizeMB), '--log-mode', 'circular',
  ])));
  return { name: 'start', description: 'start pktmon capture', statements };
}

export function pktmonStopStep(): Step {
  return { name: 'stop', description: 'stop pktmon', statements: [stmt(new NativeCall('pktmon.exe', ['stop'])), stmt(new NativeCall('pktmon.exe', ['filter', 'remove']), { tolerateErrors: true })] };
}

/** netsh trace (2012 R2 / 2016 fallback): report and correlation off, never persistent. */
export function netshStartStep(sessionName: string, etlPath: string, o: CaptureOptions): Step {
  const args = [
    'trace', 'start', `sessionname=${sessionName}`, 'capture=yes', `capturetype=${o.captureType === 'switch' ? 'vmswitch' : o.captureType}`, 'report=disabled',
    'persistent=no', 'correlation=disabled', `tracefile=${etlPath}`, `maxsize=${o.maxSizeMB}`, 'filemode=circular', 'overwrite=yes',
    `PacketTruncateBytes=${o.truncate}`, `CaptureMultiLayer=${o.multiLayer ? 'yes' : 'no'}`,
  ];
  if (o.ips.length) args.push(`IPv4.Address=(${o.ips.filter((x) => x.includes('.')).join(',')})`);
  if (o.protocols.length) args.push(`Protocol=(${o.protocols.join(',')})`);
  if (o.macs.length) args.push(`Ethernet.Address=(${o.macs.join(',')})`);
  for (const p of o.providers) args.push(`provider=${p.name}`);
  return { name: 'start', description: 'start netsh trace', statements: [stmt(new NativeCall('netsh.exe', args))] };
}

export function netshStopStep(sessionName: string): Step {
  return { name: 'stop', description: 'stop netsh trace', statements: [stmt(new NativeCall('netsh.exe', ['trace', 'stop', `sessionname=${sessionName}`]))] };
}

function parentOf(p: string): string {
  const i = Math.max(p.lastIndexOf('\\'), p.lastIndexOf('/'));
  return i > 0 ? p.slice(0, i) : p;
}

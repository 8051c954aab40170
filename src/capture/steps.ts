/**
 * The PowerShell steps of a capture, per backend (windows-capture.md 1.12, 2, 3): built from
 * typed commands, every user value through the one quoting function. Each step is one script
 * that prints one JSON envelope; the lifecycle runs them in order and parses each result with
 * step-results.ts. Commands a host may lack are probed (Statement.optional), never assumed.
 */
import { quoteString, raw } from '../powershell/quote.js';
import { cmd, NativeCall, stmt, type Statement, type Step } from '../powershell/script.js';
import { UsageError } from '../util/errors.js';
import type { CaptureOptions } from './options.js';

export const NDIS_PROVIDER = 'Microsoft-Windows-NDIS-PacketCapture';
/** The ETW session pktmon runs under (windows-capture.md 3.1; the name is [U]: confirm on a host). */
export const PKTMON_TRACE_SESSION = 'PktMon';
/** First build with pktmon's 2004 syntax (start --capture, --pkt-size, --log-mode); 17763-19040 have the 1809 one. */
export const PKTMON_2004_BUILD = 19041;
/** First build with pktmon at all (Windows 10 1809 / Server 2019). */
export const PKTMON_BUILD = 17763;
/** The generic ETW providers the VmSwitch / VFP provider cmdlets add themselves (never add them twice). */
export const VMSWITCH_PROVIDER_GUID = '{67DC0D66-3695-47C0-9642-33F76F7BD7AD}';
export const VFP_PROVIDER_GUID = '{9F2660EA-CFE7-428F-9850-AECA612619B0}';

/** Commands the preflight looks for; each may be missing on some Windows build or role. */
export const PROBED_COMMANDS = [
  'New-NetEventSession', 'Add-NetEventVmSwitchProvider', 'Add-NetEventVFPProvider', 'Get-EtwTraceSession', 'Update-EtwTraceSession',
  'Get-HnsNetwork', 'Get-HnsEndpoint', 'Get-HnsNamespace', 'Get-VMNetworkAdapter', 'Get-VMSwitch', 'pktmon.exe', 'netsh.exe', 'docker.exe',
] as const;

/** Step timeouts: generous where Windows is known to be slow (HNS at depth 20, netsh correlating). */
export const STEP_TIMEOUT_MS = { preflight: 120_000, inventory: 300_000, start: 180_000, status: 60_000, stop: 300_000, netshStop: 900_000 } as const;

// The .NET question "am I elevated"; the preflight asks it after a module command has run.
const ELEVATED = '([Security.Principal.WindowsPrincipal][Security.Principal.WindowsIdentity]::GetCurrent()).IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)';
const SESSION_PROJECTION = ['Name', raw("@{n='SessionStatus';e={[string]$_.SessionStatus}}"), 'LocalFilePath', 'MaxFileSize'];

/** Statement with no command: an expression written by wnvcap ($r['key'] = @(expr)). */
function expr(key: string, text: string): Statement {
  return { resultKey: key, stages: [], expression: text };
}

function select(props: Array<string | ReturnType<typeof raw>>): ReturnType<typeof cmd> {
  return cmd('Select-Object').param('Property', props);
}

/**
 * Which of these ETW sessions run (EventTracingManagement, Windows 10 / Server 2016+): by name,
 * structured, not localized text. -Name is mandatory on the current reference page; a name that
 * does not run is a non-terminating ObjectNotFound, silenced.
 */
function traceSessionsStatement(names: readonly string[]): Statement {
  return stmt([cmd('Get-EtwTraceSession').param('Name', [...names]), select(['Name'])], { resultKey: 'traceSessions', tolerateErrors: true, optional: true });
}

/** Which of these ETW sessions still run: how a pktmon or netsh stop is confirmed when the stop itself failed. */
export function traceSessionsStep(names: readonly string[]): Step {
  return { name: 'verify-stopped', repeatable: true, description: `is any of ${names.join(', ')} still running`, timeoutMs: STEP_TIMEOUT_MS.status, statements: [traceSessionsStatement(names)] };
}

/** The local Administrators group (by its well-known SID, not its localized name) and its direct members. */
export function adminMembersStep(): Step {
  return {
    name: 'admin-members', repeatable: true,
    description: 'direct members of the local Administrators group (S-1-5-32-544)',
    timeoutMs: STEP_TIMEOUT_MS.status,
    statements: [
      stmt(cmd('Get-CimInstance').param('ClassName', 'Win32_Group').param('Filter', "SID='S-1-5-32-544'"), { assign: 'wnvcapAdmins' }),
      stmt([cmd('Get-CimAssociatedInstance').param('InputObject', raw('$wnvcapAdmins')).param('ResultClassName', 'Win32_Account'), select(['Domain', 'Name'])], { resultKey: 'members', tolerateErrors: true, optional: true }),
    ],
  };
}

export function preflightStep(): Step {
  return {
    name: 'preflight', repeatable: true,
    description: 'Windows build, elevation, PowerShell edition, the commands this host has, existing capture sessions',
    timeoutMs: STEP_TIMEOUT_MS.preflight,
    statements: [
      // A module command first: it is ordinary here, and the elevation question below is .NET's.
      stmt([cmd('Get-CimInstance').param('ClassName', 'Win32_OperatingSystem'), select(['BuildNumber', 'Caption', 'Version'])], { resultKey: 'os', tolerateErrors: true }),
      expr('host', '$env:COMPUTERNAME'),
      expr('elevated', ELEVATED),
      expr('psEdition', '$PSVersionTable.PSEdition'),
      expr('psVersion', '$PSVersionTable.PSVersion.ToString()'),
      stmt([cmd('Get-Command').param('Name', [...PROBED_COMMANDS]).param('ErrorAction', 'Ignore'), cmd('Select-Object').param('ExpandProperty', 'Name')], { resultKey: 'commands' }),
      stmt([cmd('Get-NetEventSession'), select(SESSION_PROJECTION)], { resultKey: 'sessions', tolerateErrors: true, optional: true }),
      traceSessionsStatement([PKTMON_TRACE_SESSION]),
    ],
  };
}

/** The host inventory for snapshot.json: each command's output under its name (windows-capture.md 2.9). */
export function inventoryStep(): Step {
  const s = (key: string, first: ReturnType<typeof cmd>, props: Array<string | ReturnType<typeof raw>>, optional = false): Statement =>
    stmt([first, select(props)], { resultKey: key, tolerateErrors: true, optional });
  const docker = (args: Array<string | ReturnType<typeof raw>>, opts: Omit<Statement, 'stages'>): Statement =>
    stmt(new NativeCall('docker.exe', args), { tolerateErrors: true, optional: true, ...opts });
  return {
    name: 'inventory', repeatable: true,
    description: 'compartments, IP interfaces and addresses, adapters, HNS networks/endpoints/namespaces, VM adapters and switches, Docker networks, Kubernetes pods',
    timeoutMs: STEP_TIMEOUT_MS.inventory,
    statements: [
      s('Get-NetCompartment', cmd('Get-NetCompartment'), ['CompartmentId', 'CompartmentGuid', 'CompartmentDescription', raw("@{n='CompartmentType';e={[string]$_.CompartmentType}}")]),
      s('Get-NetIPInterface', cmd('Get-NetIPInterface').flag('IncludeAllCompartments'), ['InterfaceIndex', 'InterfaceAlias', raw("@{n='AddressFamily';e={[string]$_.AddressFamily}}"), 'CompartmentId', 'NlMtu', raw("@{n='ConnectionState';e={[string]$_.ConnectionState}}")]),
      s('Get-NetIPAddress', cmd('Get-NetIPAddress').flag('IncludeAllCompartments'), ['IPAddress', 'InterfaceIndex', 'InterfaceAlias', raw("@{n='AddressFamily';e={[string]$_.AddressFamily}}"), 'PrefixLength', raw("@{n='AddressState';e={[string]$_.AddressState}}")]),
      s('Get-NetAdapter', cmd('Get-NetAdapter').flag('IncludeHidden'), ['Name', 'InterfaceIndex', 'InterfaceDescription', 'MacAddress', 'InterfaceGuid', 'Virtual', 'Hidden', raw("@{n='Status';e={[string]$_.Status}}")]),
      stmt(cmd('Get-HnsNetwork'), { resultKey: 'Get-HnsNetwork', tolerateErrors: true, optional: true }),
      stmt(cmd('Get-HnsEndpoint'), { resultKey: 'Get-HnsEndpoint', tolerateErrors: true, optional: true }),
      stmt(cmd('Get-HnsNamespace'), { resultKey: 'Get-HnsNamespace', tolerateErrors: true, optional: true }),
      s('Get-VMNetworkAdapter', cmd('Get-VMNetworkAdapter').flag('All'), ['VMName', 'Name', 'MacAddress', 'SwitchName', 'IPAddresses', 'IsManagementOs'], true),
      s('Get-VMSwitch', cmd('Get-VMSwitch'), ['Name', 'Id', raw("@{n='SwitchType';e={[string]$_.SwitchType}}")], true),
      // Every Docker network (not only nat): its JSON text, parsed on our side.
      docker(['network', 'ls', '--quiet'], { assign: 'dockerNetworks' }),
      docker(['network', 'inspect', raw('$dockerNetworks')], { resultKey: 'docker network inspect' }),
      // A Kubernetes node: the pod sandboxes (their ids are what HNS endpoints list), to name pods.
      stmt(new NativeCall('crictl.exe', ['pods', '--output', 'json']), { tolerateErrors: true, optional: true, resultKey: 'crictl pods' }),
    ],
  };
}

/** Creates the run folder on the host (every backend writes its file there). */
function runFolderStatement(etlPath: string): Statement {
  return stmt(cmd('New-Item').param('ItemType', 'Directory').param('Path', parentOf(etlPath)).flag('Force'), { comment: 'the run folder' });
}

/** Removes a session of ours left from before (never a foreign one). */
export function cleanupStep(sessionName: string): Step {
  return {
    name: 'cleanup-own',
    description: `stop and remove a leftover session named ${sessionName}`,
    timeoutMs: STEP_TIMEOUT_MS.stop,
    statements: [
      stmt(cmd('Stop-NetEventSession').param('Name', sessionName), { tolerateErrors: true }),
      stmt(cmd('Remove-NetEventSession').param('Name', sessionName), { tolerateErrors: true }),
      remainingStatement(sessionName),
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

export interface ProviderAvailability {
  vmSwitchProvider: boolean;
  vfpProvider: boolean;
}

/** The profile's generic providers, less those the VmSwitch/VFP provider cmdlets add themselves. */
export function genericProviders(o: CaptureOptions, available: ProviderAvailability): CaptureOptions['providers'] {
  const skip = new Set<string>();
  if (o.vmSwitchProvider && available.vmSwitchProvider) skip.add(VMSWITCH_PROVIDER_GUID);
  if (o.vfpProvider && available.vfpProvider) skip.add(VFP_PROVIDER_GUID);
  return o.providers.filter((p) => !skip.has(p.name.toUpperCase()));
}

/** The VmSwitch/VFP provider cmdlet, with the level and keywords the profile gives that provider's GUID. */
function switchProviderStatement(name: 'Add-NetEventVmSwitchProvider' | 'Add-NetEventVFPProvider', sessionName: string, o: CaptureOptions, guid: string): Statement {
  const p = o.providers.find((x) => x.name.toUpperCase() === guid);
  const c = cmd(name).param('SessionName', sessionName).param('Level', p?.level ?? 4);
  if (p?.keywords) c.param('MatchAnyKeyword', BigInt(p.keywords));
  return stmt(c);
}

export function startStep(sessionName: string, etlPath: string, o: CaptureOptions, available: ProviderAvailability): Step {
  const statements: Statement[] = [
    runFolderStatement(etlPath),
    stmt(cmd('New-NetEventSession').param('Name', sessionName).param('CaptureMode', 'SaveToFile').param('LocalFilePath', etlPath).param('MaxFileSize', o.maxSizeMB)),
    netEventProviderStatement(sessionName, o),
  ];
  if (o.vmSwitchProvider && available.vmSwitchProvider) statements.push(switchProviderStatement('Add-NetEventVmSwitchProvider', sessionName, o, VMSWITCH_PROVIDER_GUID));
  if (o.vfpProvider && available.vfpProvider) statements.push(switchProviderStatement('Add-NetEventVFPProvider', sessionName, o, VFP_PROVIDER_GUID));
  for (const p of genericProviders(o, available)) {
    // Each provider on its own: a provider missing on this host must not abort the capture.
    const c = cmd('Add-NetEventProvider').param('Name', p.name).param('SessionName', sessionName).param('Level', p.level ?? 4);
    if (p.keywords) c.param('MatchAnyKeyword', BigInt(p.keywords));
    statements.push(stmt([c, select(['Name'])], { tolerateErrors: true, resultKey: `provider:${p.name}` }));
  }
  statements.push(stmt(cmd('Start-NetEventSession').param('Name', sessionName)));
  return { name: 'start', description: `create and start NetEventSession ${sessionName}`, statements, timeoutMs: STEP_TIMEOUT_MS.start };
}

export function statusStep(sessionName: string, etlPath: string): Step {
  return {
    name: 'status', repeatable: true,
    description: 'session status and file size',
    timeoutMs: STEP_TIMEOUT_MS.status,
    statements: [
      stmt([cmd('Get-NetEventSession').param('Name', sessionName), select(['Name', raw("@{n='SessionStatus';e={[string]$_.SessionStatus}}")])], { resultKey: 'session' }),
      stmt([cmd('Get-Item').param('LiteralPath', etlPath), select(['Length'])], { resultKey: 'file', tolerateErrors: true }),
    ],
  };
}

/** The session if it still exists (empty when it is gone): how a stop is verified, by name. */
function remainingStatement(sessionName: string): Statement {
  return stmt([cmd('Get-NetEventSession').param('Name', sessionName), select(SESSION_PROJECTION)], { resultKey: 'remaining', tolerateErrors: true });
}

export function stopStep(sessionName: string): Step {
  return {
    name: 'stop',
    description: `stop and remove NetEventSession ${sessionName}`,
    timeoutMs: STEP_TIMEOUT_MS.stop,
    statements: [
      stmt([cmd('Stop-NetEventSession').param('Name', sessionName), select(['Name'])], { tolerateErrors: true, resultKey: 'stop' }),
      stmt(cmd('Remove-NetEventSession').param('Name', sessionName)),
      remainingStatement(sessionName),
    ],
  };
}

/**
 * pktmon filters. Within one filter the conditions are AND-ed, filters are OR-ed (pktmon filter
 * add help): one filter per combination of address x MAC x EtherType x protocol gives the same
 * packets as the NetEvent provider's (AND-ed) lists. Short options, which 1809 and 2004+ share.
 */
export function pktmonFilters(o: CaptureOptions): string[][] {
  const axes = [o.ips.map((v) => ['-i', v]), o.macs.map((v) => ['-m', v]), o.etherTypes.map((v) => ['-d', String(v)]), o.protocols.map((v) => ['-t', String(v)])];
  let combos: string[][] = [[]];
  for (const axis of axes.filter((a) => a.length > 0)) combos = combos.flatMap((c) => axis.map((x) => [...c, ...x]));
  return combos.filter((c) => c.length > 0);
}

/** How many filters pktmon holds (8 on 1809, 32 later: windows-capture.md 3.1, [U] per build). */
export function pktmonFilterLimit(build: number): number {
  return build > 0 && build < PKTMON_2004_BUILD ? 8 : 32;
}

/**
 * pktmon (Windows 10 1809 / Server 2019+): one global session; filters, then start. Build 19041
 * (2004) and later take `start --capture --comp --type --pkt-size --file-name --file-size
 * --log-mode`; 17763-19040 take the 1809 form `start --etw -p <bytes> -f <file> -s <MB>` [U],
 * which has no component or drop-only selection (the lifecycle warns).
 */
export function pktmonStartStep(etlPath: string, o: CaptureOptions, build: number): Step {
  const filters = pktmonFilters(o);
  if (filters.length > pktmonFilterLimit(build)) {
    throw new UsageError(`pktmon holds at most ${pktmonFilterLimit(build)} filters here; these --ip/--mac/--ethertype/--protocol lists need ${filters.length} (one per combination)`, { hint: 'narrow the filters, or use --backend netevent' });
  }
  const modern = build >= PKTMON_2004_BUILD || build === 0;
  const statements: Statement[] = [runFolderStatement(etlPath), stmt(new NativeCall('pktmon.exe', ['filter', 'remove']), { tolerateErrors: true })];
  // The filter name exists in the 2004 syntax; 1809-era usage shows none [U].
  filters.forEach((f, i) => statements.push(stmt(new NativeCall('pktmon.exe', ['filter', 'add', ...(modern ? [`wnvcap${i + 1}`] : []), ...f]))));
  const args = modern
    ? ['start', '--capture', '--comp', o.captureType === 'physical' ? 'nics' : 'all', '--type', o.pktmonType, '--pkt-size', String(o.truncate),
      '--file-name', etlPath, '--file-size', String(o.maxSizeMB), '--log-mode', 'circular']
    : ['start', '--etw', '-p', String(o.truncate), '-f', etlPath, '-s', String(o.maxSizeMB)];
  statements.push(stmt(new NativeCall('pktmon.exe', args)));
  return { name: 'start', description: 'start pktmon capture', statements, timeoutMs: STEP_TIMEOUT_MS.start };
}

export function pktmonStopStep(): Step {
  return {
    name: 'stop',
    description: 'stop pktmon',
    timeoutMs: STEP_TIMEOUT_MS.stop,
    statements: [stmt(new NativeCall('pktmon.exe', ['stop'])), stmt(new NativeCall('pktmon.exe', ['filter', 'remove']), { tolerateErrors: true }), traceSessionsStatement([PKTMON_TRACE_SESSION])],
  };
}

const NETSH_ETHERTYPES: Readonly<Record<number, string>> = { 0x0800: 'IPv4', 0x86dd: 'IPv6', 0x0806: 'ARP' };

/** netsh capture filters (netsh trace show capturefilterhelp): IPv4 and IPv6 apart, EtherTypes by name where netsh has one. */
export function netshFilters(o: CaptureOptions): string[] {
  const out: string[] = [];
  const v4 = o.ips.filter((x) => !x.includes(':'));
  const v6 = o.ips.filter((x) => x.includes(':'));
  if (v4.length) out.push(`IPv4.Address=(${v4.join(',')})`);
  if (v6.length) out.push(`IPv6.Address=(${v6.join(',')})`);
  if (o.protocols.length) out.push(`Protocol=(${o.protocols.join(',')})`);
  if (o.macs.length) out.push(`Ethernet.Address=(${o.macs.join(',')})`);
  if (o.etherTypes.length) out.push(`Ethernet.Type=(${o.etherTypes.map((e) => NETSH_ETHERTYPES[e] ?? `0x${e.toString(16).padStart(4, '0')}`).join(',')})`);
  return out;
}

/** netsh trace (2012 R2 / 2016 fallback): report and correlation off, never persistent. */
export function netshStartStep(sessionName: string, etlPath: string, o: CaptureOptions): Step {
  const args = [
    'trace', 'start', `sessionname=${sessionName}`, 'capture=yes', `capturetype=${o.captureType === 'switch' ? 'vmswitch' : o.captureType}`, 'report=disabled',
    'persistent=no', 'correlation=disabled', `tracefile=${etlPath}`, `maxsize=${o.maxSizeMB}`, 'filemode=circular', 'overwrite=yes',
    `PacketTruncateBytes=${o.truncate}`, `CaptureMultiLayer=${o.multiLayer ? 'yes' : 'no'}`, ...netshFilters(o),
  ];
  for (const p of o.providers) {
    args.push(`provider=${p.name}`);
    if (p.keywords) args.push(`keywords=${p.keywords}`);
    args.push(`level=${p.level ?? 4}`);
  }
  return { name: 'start', description: 'start netsh trace', statements: [runFolderStatement(etlPath), stmt(new NativeCall('netsh.exe', args))], timeoutMs: STEP_TIMEOUT_MS.start };
}

export function netshStopStep(sessionName: string): Step {
  return {
    name: 'stop',
    description: 'stop netsh trace',
    timeoutMs: STEP_TIMEOUT_MS.netshStop,
    statements: [stmt(new NativeCall('netsh.exe', ['trace', 'stop', `sessionname=${sessionName}`])), traceSessionsStatement([sessionName])],
  };
}

function parentOf(p: string): string {
  const i = Math.max(p.lastIndexOf('\\'), p.lastIndexOf('/'));
  return i > 0 ? p.slice(0, i) : p;
}

/** Follow mode: how often ETW writes what its buffers hold (seconds), and how much one tail step brings back. */
export const FLUSH_TIMER_SECONDS = 1;
export const TAIL_CHUNK_BYTES = 4 * 1024 * 1024;

/**
 * Follow mode: the ETW session writes its buffers every few seconds, not only when one fills
 * (windows-capture.md 1.13; the session is an ordinary ETW session under its name).
 */
export function flushTimerStep(names: readonly string[], seconds: number): Step {
  return {
    name: 'flush-timer',
    description: `flush ${names.join(', ')} to the file every ${seconds} s`,
    timeoutMs: STEP_TIMEOUT_MS.status,
    statements: [stmt([cmd('Update-EtwTraceSession').param('Name', [...names]).param('FlushTimer', seconds).flag('PassThru'), select(['Name', 'FlushTimer'])], { resultKey: 'flush', optional: true })],
  };
}

/**
 * Follow mode on a remote host: the bytes of the growing capture from `offset` (at most `max`),
 * base64, and the file's length; read with every sharing flag, as ETW holds it open for writing.
 */
export function tailStep(path: string, offset: number, max: number): Step {
  const at = String(Math.max(0, Math.floor(offset)));
  const most = String(Math.max(1, Math.floor(max)));
  const read = [
    `$f = [IO.File]::Open(${quoteString(path)}, [IO.FileMode]::Open, [IO.FileAccess]::Read, [IO.FileShare]'ReadWrite, Delete')`,
    `try { $n = [long]0; if ($f.Length -gt ${at}) { $n = [Math]::Min([long]${most}, $f.Length - ${at}) }`,
    `$b = New-Object byte[] $n; $f.Position = ${at}; $got = 0`,
    'while ($got -lt $n) { $k = $f.Read($b, $got, $n - $got); if ($k -le 0) { break }; $got += $k }',
    '@{ Length = $f.Length; Data = [Convert]::ToBase64String($b, 0, $got) } } finally { $f.Dispose() }',
  ].join('; ');
  return {
    name: 'tail', repeatable: true,
    description: `the capture's bytes from offset ${at}`,
    timeoutMs: STEP_TIMEOUT_MS.status,
    statements: [expr('tail', `& { ${read} }`)],
  };
}

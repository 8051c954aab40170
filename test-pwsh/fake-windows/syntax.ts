/**
 * What windows-capture.md (sections 1.3-1.9, 2.1-2.7, 4) adds to cmdlet-reference.json, which
 * lists each cmdlet's parameters, types, aliases and accepted values but no parameter sets,
 * mandatory flags, positions or pipeline input. generate.ts combines the two; it refuses a
 * parameter named here that the reference does not have.
 *
 * Notation, one string per parameter set (the first is the default set):
 *   'SetName: Param! Param@0 Param|'   ! mandatory in that set, @n position, | value from pipeline,
 *                                       ? documented optional (wins over test/helpers/ps-schema.ts MANDATORY)
 *   '*: Param@1'                        applies to every set (position or flags only)
 * A parameter no set names belongs to every set. A single set needs no name: 'Name!@0'.
 * Positions of switch parameters are left out (PowerShell never binds a switch by position).
 */

export interface CmdletSyntax {
  sets: string[];
  confirmImpact?: 'Low' | 'Medium' | 'High';
}

const session = (): CmdletSyntax => ({ sets: ['Query: Name!@0', 'InputObject: InputObject!|'] });
const provAdd = (...rest: string[]): CmdletSyntax => ({ sets: [['SessionName!@0', ...rest.map((p, i) => `${p}@${i + 1}`)].join(' ')] });
const provGet = (): CmdletSyntax => ({ sets: ['ByName: SessionName@0', 'BySession: AssociatedEventSession!|'] });
const provSet = (): CmdletSyntax => ({ sets: ['ByName: SessionName@0', 'BySession: AssociatedEventSession!', 'InputObject: InputObject!|'] });
const provRemove = (): CmdletSyntax => ({ sets: ['Query: SessionName!@0', 'InputObject: InputObject!|'] });
const targetGet = (): CmdletSyntax => ({ sets: ['ByName: Name@0 ShowInstalled', 'ByProvider: AssociatedPacketCaptureProvider!|'] });
const targetRemove = (): CmdletSyntax => ({ sets: ['Query: Name!@0', 'InputObject: InputObject!|'] });
const taskByName = (): CmdletSyntax => ({ sets: ['ByName: TaskName!@0 TaskPath@1', 'ByObject: InputObject!@0|'] });

export const SYNTAX: Readonly<Record<string, CmdletSyntax>> = {
  // NetEventPacketCapture (1.3-1.9)
  'New-NetEventSession': { sets: ['Name!@0'] },
  'Get-NetEventSession': { sets: ['ByName: Name@0', 'ByProviderOfSession: AssociatedEventProvider!|'] },
  'Set-NetEventSession': { sets: ['ByName: Name@0', 'ByProviderOfSession: AssociatedEventProvider!', 'InputObject: InputObject!|'] },
  'Start-NetEventSession': session(),
  'Stop-NetEventSession': session(),
  'Remove-NetEventSession': { sets: ['Query: Name!@0', 'ByProviderOfSession: AssociatedEventProvider!', 'InputObject: InputObject!|'] },
  'Add-NetEventProvider': { sets: ['Name!@0 SessionName!@1 Level@2 MatchAnyKeyword@3 MatchAllKeyword@4'] },
  'Get-NetEventProvider': { sets: ['ByName: Name@0 ShowInstalled', 'BySession: AssociatedEventSession!|', 'ByTarget: AssociatedCaptureTarget!'] },
  'Set-NetEventProvider': { sets: ['ByName: Name@0', 'BySession: AssociatedEventSession!', 'ByTarget: AssociatedCaptureTarget!', 'InputObject: InputObject!|'] },
  'Remove-NetEventProvider': { sets: ['Query: Name!@0', 'InputObject: InputObject!|'] },
  'Add-NetEventPacketCaptureProvider': provAdd('Level', 'MatchAnyKeyword', 'MatchAllKeyword', 'CaptureType', 'MultiLayer', 'LinkLayerAddress', 'EtherType', 'IpAddresses', 'IpProtocols', 'TruncationLength', 'VmCaptureDirection'),
  'Get-NetEventPacketCaptureProvider': { sets: ['ByName: SessionName@0', 'BySession: AssociatedEventSession!|', 'ByTarget: AssociatedCaptureTarget!'] },
  'Set-NetEventPacketCaptureProvider': { sets: ['ByName: SessionName@0', 'BySession: AssociatedEventSession!', 'ByTarget: AssociatedCaptureTarget!', 'InputObject: InputObject!|'] },
  'Remove-NetEventPacketCaptureProvider': provRemove(),
  'Add-NetEventWFPCaptureProvider': provAdd('Level', 'MatchAnyKeyword', 'MatchAllKeyword', 'CaptureLayerSet', 'IPAddresses', 'TCPPorts', 'UDPPorts'),
  'Get-NetEventWFPCaptureProvider': provGet(),
  'Set-NetEventWFPCaptureProvider': provSet(),
  'Remove-NetEventWFPCaptureProvider': provRemove(),
  'Add-NetEventVmSwitchProvider': provAdd('Level', 'MatchAnyKeyword', 'MatchAllKeywords', 'SwitchName', 'PortIds'),
  'Get-NetEventVmSwitchProvider': provGet(),
  'Set-NetEventVmSwitchProvider': provSet(),
  'Remove-NetEventVmSwitchProvider': provRemove(),
  'Add-NetEventVFPProvider': provAdd('Level', 'MatchAnyKeyword', 'MatchAllKeywords', 'DestinationMACAddresses', 'SourceMACAddresses', 'VLANIds', 'TenantIds', 'GREKeys',
    'SourceIPAddresses', 'DestinationIPAddresses', 'IPProtocols', 'TCPPorts', 'UDPPorts', 'VFPFlowDirection', 'SwitchName', 'PortIds'),
  'Get-NetEventVFPProvider': provGet(),
  'Set-NetEventVFPProvider': provSet(),
  'Remove-NetEventVFPProvider': provRemove(),
  'Add-NetEventNetworkAdapter': { sets: ['Name!@0 PromiscuousMode@1'] },
  'Add-NetEventVmNetworkAdapter': { sets: ['Name!@0'] },
  'Add-NetEventVmSwitch': { sets: ['Name!@0'] },
  'Get-NetEventNetworkAdapter': targetGet(),
  'Get-NetEventVmNetworkAdapter': targetGet(),
  'Get-NetEventVmSwitch': targetGet(),
  'Remove-NetEventNetworkAdapter': { sets: ['Query: Name!@0', 'ByProvider: ProviderName!@0', 'InputObject: InputObject!|'] },
  'Remove-NetEventVmNetworkAdapter': targetRemove(),
  'Remove-NetEventVmSwitch': targetRemove(),
  // Inventory (2.1-2.7)
  'Get-NetIPAddress': { sets: ['IPAddress@0'] },
  'Get-NetIPInterface': { sets: ['ByName: InterfaceAlias@0', 'ByRoute: AssociatedRoute!|', 'ByIPAddress: AssociatedIPAddress!|', 'ByNeighbor: AssociatedNeighbor!|', 'ByAdapter: AssociatedAdapter!|'] },
  'Get-NetAdapter': { sets: ['ByName: Name@0', 'ByInstanceID: InterfaceDescription!', 'ByIfIndex: InterfaceIndex!'] },
  'Get-VMSwitch': { sets: ['Name: Name@0', 'Id: Id@0|', '*: ResourcePoolName@1'] },
  'Get-VMNetworkAdapter': {
    sets: [
      'VMName: VMName!@0| IsLegacy ComputerName Credential CimSession',
      'VMObject: VM!@0| IsLegacy',
      'ManagementOS: ManagementOS! SwitchName ComputerName Credential CimSession',
      'All: All! ComputerName Credential CimSession',
      'VMSnapshot: VMSnapshot!@0 IsLegacy',
      '*: Name@1',
    ],
  },
  // windows-capture.md 2.6: not in the reference (the HostNetworkingService pages are stubs).
  'Get-HnsNetwork': { sets: ['Id@0'] },
  'Get-HnsEndpoint': { sets: ['Id@0'] },
  'Get-HnsNamespace': { sets: ['Id@0'] },
  // windows-capture.md 1.13: not in the reference.
  'Get-EtwTraceSession': { sets: ['Name?@0'] },
  // Microsoft's Update-EtwTraceSession page (ByName set; the InputObject set is not used).
  'Update-EtwTraceSession': { sets: ['Name!@0'] },
  'Get-CimInstance': {
    sets: [
      'ClassName: ClassName!@0 Filter Property KeyOnly Shallow',
      'Query: Query! QueryDialect Shallow',
      'InputObject: InputObject!@0|',
      'ResourceUri: ResourceUri! Filter Property KeyOnly Shallow',
    ],
  },
  // ScheduledTasks (4)
  'New-ScheduledTaskAction': { sets: ['Execute!@0 Argument@1 WorkingDirectory@2'] },
  'New-ScheduledTaskTrigger': {
    sets: [
      'Once: Once! At! RepetitionInterval RepetitionDuration',
      'Daily: Daily! At! DaysInterval',
      'Weekly: Weekly! At! DaysOfWeek WeeksInterval',
      'AtStartup: AtStartup!',
      'AtLogOn: AtLogOn! User',
    ],
  },
  'New-ScheduledTaskPrincipal': {
    sets: ['User: UserId!@0 LogonType@1 RunLevel@2 ProcessTokenSidType@3 RequiredPrivilege@4 Id@5', 'Group: GroupId!@0 Id@1 RunLevel@2 ProcessTokenSidType@3 RequiredPrivilege@4'],
  },
  // Doc positions of Action/Trigger/Settings/Principal/User/Password collide across sets: named only.
  'Register-ScheduledTask': {
    sets: [
      'User: TaskName!@0 TaskPath@1 Action! Trigger Settings Description User Password RunLevel',
      'Principal: TaskName!@0 TaskPath@1 Action! Trigger Settings Description Principal!',
      'Xml: TaskName!@0 TaskPath@1 Xml!| User Password',
      'Object: TaskName@0 TaskPath@1 InputObject!|',
    ],
  },
  'Unregister-ScheduledTask': { sets: ['ByPath: TaskName@0 TaskPath@1', 'ByObject: InputObject!|'], confirmImpact: 'High' },
  'Get-ScheduledTask': { sets: ['TaskName@0 TaskPath@1'] },
  'Get-ScheduledTaskInfo': taskByName(),
  'Start-ScheduledTask': taskByName(),
  'Stop-ScheduledTask': taskByName(),
};

/** Cmdlets windows-capture.md documents that the reference lacks: their parameters, in reference form. */
export const EXTRA_CMDLETS: Readonly<Record<string, Array<{ name: string; type: string }>>> = {
  'Get-HnsNetwork': [{ name: 'Id', type: 'System.String' }, { name: 'Detailed', type: 'System.Management.Automation.SwitchParameter' }],
  'Get-HnsEndpoint': [{ name: 'Id', type: 'System.String' }],
  'Get-HnsNamespace': [{ name: 'Id', type: 'System.String' }],
  'Get-EtwTraceSession': [{ name: 'Name', type: 'System.String[]' }],
  'Update-EtwTraceSession': [
    { name: 'Name', type: 'System.String[]' }, { name: 'FlushTimer', type: 'System.UInt32' }, { name: 'BufferSize', type: 'System.UInt32' },
    { name: 'MaximumBuffers', type: 'System.UInt32' }, { name: 'PassThru', type: 'System.Management.Automation.SwitchParameter' },
  ],
};

export interface ParamInSet {
  set: string;
  mandatory: boolean;
  /** Documented optional: MANDATORY in test/helpers/ps-schema.ts does not make it mandatory. */
  optional?: boolean;
  position?: number;
  pipeline: boolean;
}

/** Parses a cmdlet's sets: for each parameter, the sets it is declared in ('' = every set). */
export function parseSyntax(cmdlet: string, s: CmdletSyntax): { defaultSet: string | undefined; params: Map<string, ParamInSet[]> } {
  const params = new Map<string, ParamInSet[]>();
  const named = s.sets.filter((x) => !x.startsWith('*:'));
  const single = named.length === 1 && !/^\w+:/.test(named[0]!);
  let defaultSet: string | undefined;
  const everywhere = new Map<string, Omit<ParamInSet, 'set'>>();
  for (const line of s.sets) {
    const m = /^(\*|\w+):\s*(.*)$/.exec(line);
    const set = m ? m[1]! : '';
    const body = m ? m[2]! : line;
    if (set !== '*' && defaultSet === undefined) defaultSet = single ? undefined : set;
    for (const tok of body.split(/\s+/).filter(Boolean)) {
      const t = /^([A-Za-z]+)([!?])?(?:@(\d+))?(\|)?$/.exec(tok);
      if (!t) throw new Error(`syntax.ts ${cmdlet}: cannot read "${tok}"`);
      const entry = { mandatory: t[2] === '!', ...(t[2] === '?' ? { optional: true } : {}), ...(t[3] !== undefined ? { position: Number(t[3]) } : {}), pipeline: t[4] === '|' };
      if (set === '*') everywhere.set(t[1]!, entry);
      else params.set(t[1]!, [...(params.get(t[1]!) ?? []), { set: single ? '' : set, ...entry }]);
    }
  }
  for (const [name, entry] of everywhere) {
    const existing = params.get(name);
    if (existing) for (const e of existing) Object.assign(e, entry.position !== undefined ? { position: entry.position } : {});
    else params.set(name, [{ set: '', ...entry }]);
  }
  return { defaultSet, params };
}

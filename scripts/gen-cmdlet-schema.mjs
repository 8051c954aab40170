#!/usr/bin/env node
// Generates test/helpers/cmdlet-schema.json: the parameters (type, aliases, accepted values,
// where each exists) of every cmdlet wnvcap emits, taken from ../shared/docs/cmdlet-reference.json
// (Microsoft's reference pages for Windows Server 2016-2025 and PowerShell 5.1/7.4).
// Run: node scripts/gen-cmdlet-schema.mjs [path/to/cmdlet-reference.json]
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const src = process.argv[2] ?? join(root, '..', 'shared', 'docs', 'cmdlet-reference.json');
const ref = JSON.parse(readFileSync(src, 'utf8'));
export const EMITTED = [
  // NetEventPacketCapture
  'New-NetEventSession', 'Get-NetEventSession', 'Start-NetEventSession', 'Stop-NetEventSession', 'Remove-NetEventSession',
  'Add-NetEventPacketCaptureProvider', 'Remove-NetEventPacketCaptureProvider', 'Add-NetEventProvider',
  'Add-NetEventVmSwitchProvider', 'Add-NetEventVFPProvider', 'Add-NetEventVmSwitch', 'Get-NetEventVmNetworkAdapter',
  // Inventory
  'Get-NetCompartment', 'Get-NetIPInterface', 'Get-NetIPAddress', 'Get-NetAdapter', 'Get-VMNetworkAdapter', 'Get-VMSwitch',
  'Get-HnsNetwork', 'Get-HnsEndpoint', 'Get-HnsNamespace', 'Get-EtwTraceSession', 'Update-EtwTraceSession',
  // Core
  'Get-Command', 'Get-Item', 'New-Item', 'Test-Path', 'Select-Object', 'Where-Object', 'ConvertTo-Json', 'Get-CimInstance', 'Get-CimAssociatedInstance',
  'Start-Sleep', 'Remove-Item', 'Get-Module', 'Out-Null', 'ForEach-Object',
  // Remoting
  'New-PSSession', 'Invoke-Command', 'Remove-PSSession', 'Copy-Item', 'ConvertTo-SecureString', 'New-Object', 'New-PSSessionOption', 'Get-FileHash',
  // Scheduling
  'New-ScheduledTaskAction', 'New-ScheduledTaskTrigger', 'New-ScheduledTaskPrincipal', 'New-ScheduledTaskSettingsSet', 'Register-ScheduledTask',
  'Unregister-ScheduledTask', 'Get-ScheduledTask', 'Get-ScheduledTaskInfo', 'Start-ScheduledTask', 'New-TimeSpan', 'Get-Date',
];
const out = { generatedBy: 'scripts/gen-cmdlet-schema.mjs', source: 'shared/docs/cmdlet-reference.json', commonParameters: ref.commonParameters, cmdlets: {} };
const missing = [];
for (const name of EMITTED) {
  const c = ref.cmdlets[name.toLowerCase()];
  if (!c) {
    missing.push(name);
    continue;
  }
  const params = {};
  for (const [k, p] of Object.entries(c.params)) params[k] = { name: p.name, type: p.type, aliases: p.aliases, accepted: p.accepted, sources: p.sources };
  out.cmdlets[name.toLowerCase()] = { name: c.name, sources: c.sources, params };
}
// Not in Microsoft's reference pages (the HostNetworkingService pages are stubs): the syntax
// windows-capture.md 2.6 documents for the inbox module.
const HNS = ['Get-HnsNetwork', 'Get-HnsEndpoint', 'Get-HnsNamespace'];
for (const name of HNS) {
  if (out.cmdlets[name.toLowerCase()]) continue;
  const params = { id: { name: 'Id', type: 'System.String', aliases: [], accepted: null, sources: ['windows-capture.md'] } };
  if (name === 'Get-HnsNetwork') params.detailed = { name: 'Detailed', type: 'System.Management.Automation.SwitchParameter', aliases: [], accepted: null, sources: ['windows-capture.md'] };
  for (const c of ref.commonParameters) params[c.toLowerCase()] = { name: c, type: 'common', aliases: [], accepted: null, sources: ['windows-capture.md'] };
  out.cmdlets[name.toLowerCase()] = { name, sources: ['windows-capture.md'], params };
}
// EventTracingManagement is not in the reference either: Get-EtwTraceSession as Microsoft's page
// for it (powershell/module/eventtracingmanagement, windowsserver2025-ps) documents it.
if (!out.cmdlets['get-etwtracesession']) {
  const params = { name: { name: 'Name', type: 'System.String[]', aliases: [], accepted: null, sources: ['eventtracingmanagement'] } };
  for (const c of ref.commonParameters) params[c.toLowerCase()] = { name: c, type: 'common', aliases: [], accepted: null, sources: ['eventtracingmanagement'] };
  out.cmdlets['get-etwtracesession'] = { name: 'Get-EtwTraceSession', sources: ['eventtracingmanagement'], params };
}
// Update-EtwTraceSession as Microsoft's page documents its ByName set (the parameters wnvcap may use).
if (!out.cmdlets['update-etwtracesession']) {
  const p = (name, type) => ({ name, type, aliases: [], accepted: null, sources: ['eventtracingmanagement'] });
  const params = { name: p('Name', 'System.String[]'), flushtimer: p('FlushTimer', 'System.UInt32'), buffersize: p('BufferSize', 'System.UInt32'),
    maximumbuffers: p('MaximumBuffers', 'System.UInt32'), passthru: p('PassThru', 'System.Management.Automation.SwitchParameter') };
  for (const c of ref.commonParameters) params[c.toLowerCase()] = { name: c, type: 'common', aliases: [], accepted: null, sources: ['eventtracingmanagement'] };
  out.cmdlets['update-etwtracesession'] = { name: 'Update-EtwTraceSession', sources: ['eventtracingmanagement'], params };
}
out.missing = missing.filter((m) => !HNS.includes(m) && m !== 'Get-EtwTraceSession' && m !== 'Update-EtwTraceSession');
writeFileSync(join(root, 'test', 'helpers', 'cmdlet-schema.json'), `${JSON.stringify(out, null, 1)}\n`);
console.log(`wrote ${Object.keys(out.cmdlets).length} cmdlets; not in the reference: ${missing.join(', ') || 'none'}`);

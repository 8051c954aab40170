/**
 * The typed step results against output shapes as Windows PowerShell 5.1 prints them (recorded
 * by hand from the 5.1 rules in docs/powershell-5.1.md: \u0027-style escapes, enums cast to names
 * by our projections but numbers where a projection is missing, one-element arrays, "\/Date(ms)\/",
 * strings from Invoke-Command as {"value":...} objects), and a mismatch as a clear error.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseInventory, parsePreflight, parseRemaining, parseStatus, parseTraceSessions, pktmonRunning, StepResultError } from '../../src/capture/step-results.js';
import { remoteStrings } from '../../src/remote/remote-runner.js';
import { parseEnvelope } from '../../src/remote/runner.js';

// What 5.1 prints for the preflight on a Server 2022 container host (ConvertTo-Json -Compress:
// 5.1 escapes ' < > & as \u0027 \u003c \u003e \u0026).
const PREFLIGHT_51 = String.raw`{"ok":true,"result":{"os":[{"BuildNumber":"20348","Caption":"Microsoft Windows Server 2022 Datacenter","Version":"10.0.20348"}],"host":["CH01"],"elevated":[true],"psEdition":["Desktop"],"psVersion":["5.1.20348.2849"],"commands":["Add-NetEventVFPProvider","Add-NetEventVmSwitchProvider","Get-EtwTraceSession","Get-HnsEndpoint","Get-HnsNamespace","Get-HnsNetwork","Get-VMNetworkAdapter","Get-VMSwitch","New-NetEventSession","Update-EtwTraceSession","PktMon.exe","NETSH.EXE","docker.exe"],"sessions":[{"Name":"Ops \u0027trace\u0027 \u003cnight\u003e","SessionStatus":"Running","LocalFilePath":"C:\\t.etl","MaxFileSize":250}],"traceSessions":[{"Name":"PktMon"}]},"absent":[]}`;

test('preflight as 5.1 prints it: typed, names case-insensitive, 5.1 escapes decoded', () => {
  const p = parsePreflight(parseEnvelope(PREFLIGHT_51)!, 'ch01');
  assert.equal(p.host, 'CH01');
  assert.equal(p.elevated, true);
  assert.equal(p.build, 20348);
  assert.equal(p.psEdition, 'Desktop');
  assert.ok(p.commands.has('pktmon.exe') && p.commands.has('netsh.exe'));
  assert.deepEqual(p.sessions, [{ name: "Ops 'trace' <night>", status: 'Running', localFilePath: 'C:\\t.etl', maxFileSizeMB: 250 }]);
  assert.equal(pktmonRunning(p.traceSessions), true);
});

test('preflight on Server 2012 R2 (5.1, no EventTracingManagement, no NetEventPacketCapture): absent means unknown, not "not running"', () => {
  const text = String.raw`{"ok":true,"result":{"os":[{"BuildNumber":"9600","Caption":"Microsoft Windows Server 2012 R2 Standard","Version":"6.3.9600"}],"host":["OLD01"],"elevated":[true],"psEdition":["Desktop"],"psVersion":["5.1.14409.1005"],"commands":["NETSH.EXE"]},"absent":["Get-NetEventSession","Get-EtwTraceSession"]}`;
  const p = parsePreflight(parseEnvelope(text)!, 'old01');
  assert.deepEqual(p.sessions, []);
  assert.equal(p.traceSessions, undefined);
  assert.equal(pktmonRunning(p.traceSessions), undefined);
});

test('a one-element result 5.1 unwrapped to a scalar is still read; a wrong type is a StepResultError naming step, host and field', () => {
  const scalar = String.raw`{"ok":true,"result":{"os":{"BuildNumber":"17763","Caption":"x","Version":"10.0.17763"},"host":"H","elevated":true,"psEdition":"Desktop","psVersion":"5.1","commands":"New-NetEventSession","sessions":[],"traceSessions":[]},"absent":[]}`;
  const p = parsePreflight(parseEnvelope(scalar)!, 'h');
  assert.equal(p.build, 17763);
  assert.ok(p.commands.has('new-neteventsession'));
  const bad = String.raw`{"ok":true,"result":{"os":[],"host":["H"],"elevated":["True"],"psEdition":["Desktop"],"psVersion":["5.1"],"commands":[]},"absent":[]}`;
  assert.throws(() => parsePreflight(parseEnvelope(bad)!, 'h7'), (e: unknown) => e instanceof StepResultError && /preflight step on h7 .*elevated: expected true or false, got "True"/.test(e.message));
  const enumNumber = String.raw`{"ok":true,"result":{"session":[{"Name":"wnvcap-x","SessionStatus":2}],"file":[{"Length":1048576}]},"absent":[]}`;
  assert.throws(() => parseStatus(parseEnvelope(enumNumber)!, 'h'), /session\[0\]\.SessionStatus: expected a string, got 2/);
});

test('status, stop and trace sessions as 5.1 prints them', () => {
  const s = parseStatus(parseEnvelope(String.raw`{"ok":true,"result":{"session":[{"Name":"wnvcap-x","SessionStatus":"Running"}],"file":[{"Length":73400320}]},"absent":[]}`)!, 'h');
  assert.deepEqual(s, { sessionStatus: 'Running', fileBytes: 73400320 });
  assert.deepEqual(parseRemaining(parseEnvelope(String.raw`{"ok":true,"result":{"stop":[{"Name":"wnvcap-x"}],"remaining":[]},"absent":[]}`)!, 'h', 'stop'), []);
  assert.deepEqual(parseTraceSessions(parseEnvelope(String.raw`{"ok":true,"result":{"pktmon stop":["Flushing logs..."],"traceSessions":[]},"absent":[]}`)!, 'h', 'stop'), []);
  assert.equal(parseTraceSessions(parseEnvelope(String.raw`{"ok":true,"result":{},"absent":["Get-EtwTraceSession"]}`)!, 'h', 'stop'), undefined);
});

test('inventory as 5.1 prints it on a containerd node: docker absent is a warning, HNS dates stay as 5.1 wrote them', () => {
  const text = String.raw`{"ok":true,"result":{"Get-NetCompartment":[{"CompartmentId":1,"CompartmentGuid":"{b1062982-2b18-4b4f-b3d5-a78ddb9cdd49}","CompartmentDescription":"Default Compartment","CompartmentType":"Native"}],"Get-NetIPInterface":[],"Get-NetIPAddress":[],"Get-NetAdapter":[],"Get-HnsNetwork":[],"Get-HnsEndpoint":[{"ID":"4f8b2c1d","IPAddress":"10.244.1.5","MacAddress":"00-15-5D-AA-BB-01","StartTime":"\/Date(1767225600000)\/","State":3}],"Get-HnsNamespace":[],"Get-VMNetworkAdapter":[],"Get-VMSwitch":[]},"absent":["docker.exe","docker.exe"]}`;
  const inv = parseInventory(parseEnvelope(text)!, 'aks1');
  assert.deepEqual(inv.warnings, ['docker.exe is not on this host: no Docker (containerd or Kubernetes node); container names come from HNS']);
  assert.equal((inv.commands['Get-HnsEndpoint'] as Array<{ StartTime: string }>)[0]!.StartTime, '/Date(1767225600000)/');
  assert.equal(inv.commands['docker network inspect'], undefined);
});

test('docker network inspect text becomes objects; a docker error is a warning, not a failed snapshot', () => {
  const json = ['[', '    {', '        "Name": "nat",', '        "Containers": {"abc": {"Name": "web", "IPv4Address": "172.28.183.201/20"}}', '    }', ']'];
  const ok = parseInventory({ ok: true, result: { 'docker network inspect': json, 'docker network inspect#exitCode': 0 }, absent: [] }, 'h');
  assert.equal((ok.commands['docker network inspect'] as Array<{ Name: string }>)[0]!.Name, 'nat');
  const failed = parseInventory({ ok: true, result: { 'docker network inspect': ['error during connect: the docker daemon is not running'], 'docker network inspect#exitCode': 1 }, absent: [] }, 'h');
  assert.deepEqual(failed.commands['docker network inspect'], []);
  assert.match(failed.warnings[0]!, /docker network inspect failed \(exit code 1\): error during connect/);
});

test('defect 4: strings from Invoke-Command through a 5.1 controller ({"value":...}) are read as strings, never "[object Object]"', () => {
  const controller51 = String.raw`{"ok":true,"result":{"remoteHash":[{"value":"0A1B2C","PSComputerName":"ch01","RunspaceId":"4f1c","PSShowComputerName":true}]},"absent":[]}`;
  assert.deepEqual(remoteStrings(parseEnvelope(controller51)!.result['remoteHash']), ['0A1B2C']);
  assert.deepEqual(remoteStrings(['{"ok":true}']), ['{"ok":true}']);
  assert.throws(() => remoteStrings([{ PSComputerName: 'x' }]), /where a string was expected/);
});

/**
 * Smoke test of the fake Windows hosts (test-pwsh/fake-windows): a REAL pwsh runs against every
 * host type. Per host type three pwsh processes: A runs most checks in one script, B (alongside A)
 * hangs on an injected fault until this test kills it, C (after A) is a second process that sees
 * A's session, then loses elevation and dies on an injected fault. Without pwsh the tests skip
 * (CI=true makes that a failure).
 *
 *   node --import tsx --test test-pwsh/fake-windows.test.ts
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { openEtl } from '../src/etl/etl-reader.js';
import { openFileSource } from '../src/etl/file-source.js';
import { IssueLog } from '../src/etl/issues.js';
import { createFakeHost, findPwsh, HOST_TYPES, type FakeHost, type HostType } from './fake-windows/fake-host.js';

const PWSH = findPwsh();

function needPwsh(t: TestContext): boolean {
  if (PWSH) return true;
  const why = 'pwsh not found (PATH, /opt/pwsh-tool/pwsh or $WNVCAP_TEST_PWSH)';
  if (process.env['CI'] === 'true') assert.fail(`${why}: CI must run the real-PowerShell tests`);
  t.skip(why);
  return false;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  ms: number;
}

/**
 * Runs a script in a fresh pwsh, in its own process group (the global-tool pwsh is a launcher
 * with a child: killing the launcher alone would leave the child running). killWhen: polled
 * every 200 ms; once true, the process group is killed.
 */
function runPwsh(host: FakeHost, script: string, timeoutMs = 60000, killWhen?: () => boolean): Promise<Run> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const child = spawn(PWSH!, ['-NoProfile', '-NonInteractive', '-Command', script], { env: { ...host.env, TZ: 'Europe/Berlin' }, cwd: host.dir, detached: true });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString('utf8'); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString('utf8'); });
    const kill = (): void => {
      timedOut = true;
      process.kill(-child.pid!, 'SIGKILL');
    };
    const timer = setTimeout(kill, timeoutMs);
    const poll = killWhen && setInterval(() => { if (killWhen()) kill(); }, 200);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (poll) clearInterval(poll);
      resolve({ code, stdout, stderr, timedOut, ms: Date.now() - t0 });
    });
  });
}

interface Check {
  name: string;
  ok: boolean;
  value?: unknown;
  id?: string;
  type?: string;
  message?: string;
  hresult?: number;
  category?: string;
}

/** PowerShell prelude: Check runs a block and records its value or its error; Native runs a program and splits stdout/stderr. */
const PRELUDE = String.raw`
$ErrorActionPreference = 'Stop'
$checks = [System.Collections.Generic.List[object]]::new()
function Check([string]$Name, [scriptblock]$Body) {
  try { $v = & $Body; $checks.Add([pscustomobject]@{ name = $Name; ok = $true; value = $v }) }
  catch { $checks.Add([pscustomobject]@{ name = $Name; ok = $false; id = $_.FullyQualifiedErrorId; type = $_.Exception.GetType().FullName; message = $_.Exception.Message; hresult = $_.Exception.HResult; category = [string]$_.CategoryInfo.Category }) }
}
function Native([string]$Exe, [string[]]$ArgList) {
  $all = @(& $Exe @ArgList 2>&1)
  @{ code = $LASTEXITCODE
     out = (@($all | Where-Object { $_ -isnot [System.Management.Automation.ErrorRecord] } | ForEach-Object { "$_" }) -join [char]10)
     err = (@($all | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] } | ForEach-Object { "$_" }) -join [char]10) }
}
function Done { ConvertTo-Json -InputObject @($checks) -Depth 6 -Compress }
`;

function parseChecks(r: Run): Map<string, Check> {
  const line = r.stdout.trim().split('\n').filter((l) => l.startsWith('[')).pop();
  assert.ok(line, `no check results; exit ${r.code}; stderr: ${r.stderr.slice(0, 2000)}; stdout: ${r.stdout.slice(-2000)}`);
  return new Map((JSON.parse(line) as Check[]).map((c) => [c.name, c]));
}

function get(checks: Map<string, Check>, name: string): Check {
  const c = checks.get(name);
  assert.ok(c, `check ${name} did not run`);
  return c;
}

function value<T>(checks: Map<string, Check>, name: string): T {
  const c = get(checks, name);
  assert.ok(c.ok, `${name} failed: ${c.id} ${c.message}`);
  return c.value as T;
}

/** A check's value as a list (PowerShell unrolls a one-element array into the element). */
function list(checks: Map<string, Check>, name: string): unknown[] {
  const v = value<unknown>(checks, name);
  return Array.isArray(v) ? v : v === null || v === undefined ? [] : [v];
}

function failed(checks: Map<string, Check>, name: string): Check {
  const c = get(checks, name);
  assert.equal(c.ok, false, `${name} should have failed, gave ${JSON.stringify(c.value)}`);
  return c;
}

const CANDIDATES = ['New-NetEventSession', 'Add-NetEventVmSwitchProvider', 'Add-NetEventVFPProvider', 'Get-NetIPAddress', 'Get-NetCompartment', 'Get-NetAdapter', 'Get-VMSwitch',
  'Get-VMNetworkAdapter', 'Get-HnsNetwork', 'Get-HnsEndpoint', 'Get-HnsNamespace', 'Register-ScheduledTask', 'Get-CimInstance', 'Get-EtwTraceSession', 'Update-EtwTraceSession',
  'pktmon.exe', 'netsh.exe', 'docker.exe'];
const HNS = ['Get-HnsNetwork', 'Get-HnsEndpoint', 'Get-HnsNamespace'];
const NEW_2022 = ['Add-NetEventVmSwitchProvider', 'Add-NetEventVFPProvider'];
/** What each host type lacks (EventTracingManagement, with Update-EtwTraceSession, is on every one: Windows 10 / Server 2016 and later). */
const LACKS: Record<HostType, string[]> = {
  'ws2022-docker': [],
  'aks-containerd': ['Get-VMSwitch', 'Get-VMNetworkAdapter', 'docker.exe'],
  hyperv: [...HNS, 'docker.exe'],
  ws2016: [...NEW_2022, ...HNS, 'pktmon.exe'],
  'ws2019-1809': [...NEW_2022, ...HNS],
  ws2025: [],
};
const BUILD: Record<HostType, string> = { 'ws2022-docker': '20348', 'aks-containerd': '20348', hyperv: '20348', ws2016: '14393', 'ws2019-1809': '17763', ws2025: '26100' };
const q = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/** Process A: commands, a session lifecycle, errors, parameter binding, elevation, faults, inventory, natives, a scheduled task. */
function scriptA(type: HostType): string {
  const lacks = LACKS[type];
  const has = (c: string): boolean => !lacks.includes(c);
  return String.raw`${PRELUDE}
Check 'commands' { @(Get-Command -Name @(${CANDIDATES.map(q).join(', ')}) -ErrorAction Ignore | ForEach-Object Name) }
Check 'netEventCount' { @(Get-Command -Module NetEventPacketCapture).Count }
${lacks.map((c) => `Check ${q(`missing:${c}`)} { & ${q(c)} }`).join('\n')}
Check 'elevated' { ([Security.Principal.WindowsPrincipal][Security.Principal.WindowsIdentity]::GetCurrent()).IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator) }
$run = Join-Path $PWD 'run1'
New-Item -ItemType Directory -Path $run -Force | Out-Null
Check 'new' { $s = New-NetEventSession -Name 'wnvcap-smoke' -CaptureMode SaveToFile -LocalFilePath "$run/capture.etl" -MaxFileSize 512
  @{ type = $s.PSObject.TypeNames[0]; status = [string]$s.SessionStatus; cim = [bool]$s.CimClass; json = (ConvertTo-Json -InputObject $s -Depth 8 -Compress).Length } }
Check 'addProvider' { (Add-NetEventPacketCaptureProvider -SessionName 'wnvcap-smoke' -Level 5 -CaptureType BothPhysicalAndSwitch -TruncationLength 256 -MultiLayer $false).PSObject.TypeNames[0] }
Check 'start' { Start-NetEventSession -Name 'wnvcap-smoke' }
Check 'status' { Get-NetEventSession -Name 'wnvcap-smoke' | ForEach-Object { @{ name = [string]$_.SessionStatus; json = ($_ | Select-Object SessionStatus | ConvertTo-Json -Compress) } } }
Check 'startRunning' { Start-NetEventSession -Name 'wnvcap-smoke' }
Check 'oneSession' { New-NetEventSession -Name 'another' }
Check 'stop' { Stop-NetEventSession -Name 'wnvcap-smoke'; (Get-Item -LiteralPath "$run/capture.etl").Length }
Check 'stopStopped' { Stop-NetEventSession -Name 'wnvcap-smoke' }
Check 'remove' { Remove-NetEventSession -Name 'wnvcap-smoke'; @(Get-NetEventSession).Count }
Check 'notFound' { $x = @(Get-NetEventSession -Name 'nope' -ErrorAction SilentlyContinue -ErrorVariable ev); @{ n = $x.Count; id = $ev[0].FullyQualifiedErrorId; msg = $ev[0].Exception.Message; cat = [string]$ev[0].CategoryInfo.Category } }
Check 'prefContinue' { & { $ErrorActionPreference = 'Continue'; Get-NetEventSession -Name 'nope' 2>$null; 'continued' } }
Check 'prefStop' { & { $ErrorActionPreference = 'SilentlyContinue'; & { $ErrorActionPreference = 'Stop'; Get-NetEventSession -Name 'nope'; 'not stopped' } } }
Check 'wrongParam' { New-NetEventSession -SessionName 'x' }
Check 'badEnum' { New-NetEventSession -Name 'x' -CaptureMode 'Bogus' }
Check 'missingDir' { New-NetEventSession -Name 'nodir' -LocalFilePath "$PWD/no/such/dir/c.etl" | Out-Null; Add-NetEventPacketCaptureProvider -SessionName 'nodir' | Out-Null; try { Start-NetEventSession -Name 'nodir' } finally { Remove-NetEventSession -Name 'nodir' } }
Check 'unknownProvider' { New-NetEventSession -Name 'prov' | Out-Null; try { Add-NetEventProvider -Name '{00000000-0000-0000-0000-00000000abcd}' -SessionName 'prov' } finally { Remove-NetEventSession -Name 'prov' } }
Check 'fault1' { @(Get-NetCompartment).Count }
Check 'fault2' { @(Get-NetCompartment).Count }
Check 'addresses' { @{ default = @(Get-NetIPAddress).Count; all = @(Get-NetIPAddress -IncludeAllCompartments).Count; fam = [string](Get-NetIPAddress)[0].AddressFamily; famJson = ((Get-NetIPAddress)[0] | Select-Object AddressFamily | ConvertTo-Json -Compress) } }
Check 'os' { Get-CimInstance -ClassName Win32_OperatingSystem | Select-Object BuildNumber, Caption, Version }
${has('pktmon.exe') && type !== 'ws2019-1809' ? String.raw`Check 'pktmon' { @{
  filter = Native 'pktmon.exe' @('filter', 'add', 'f1', '--ip', '10.0.0.4', '--transport', '6')
  start = Native 'pktmon.exe' @('start', '--capture', '--comp', 'all', '--type', 'all', '--pkt-size', '256', '--file-name', "$PWD/pktmon.etl", '--file-size', '64', '--log-mode', 'circular')
  status = Native 'pktmon.exe' @('status')
  again = Native 'pktmon.exe' @('start', '--capture')
  bogus = Native 'pktmon.exe' @('start', '--capture', '--bogus')
  stop = Native 'pktmon.exe' @('stop') } }` : ''}
${type === 'ws2019-1809' ? String.raw`Check 'pktmon1809' { @{
  modern = Native 'pktmon.exe' @('start', '--capture', '--pkt-size', '128')
  status = Native 'pktmon.exe' @('status')
  start = Native 'pktmon.exe' @('start', '--etw', '-p', '0', '-f', "$PWD/pktmon.etl")
  stop = Native 'pktmon.exe' @('stop') } }` : ''}
Check 'netsh' { @{
  bad = Native 'netsh.exe' @('trace', 'start', 'capture=yes', 'IPv4.Address=()', "tracefile=$PWD/netsh.etl")
  start = Native 'netsh.exe' @('trace', 'start', 'sessionname=smoke', 'capture=yes', 'report=disabled', "tracefile=$PWD/netsh.etl", 'IPv4.Address=(10.0.0.4,172.28.176.1)', 'Protocol=(6,17)')
  again = Native 'netsh.exe' @('trace', 'start', 'capture=yes', "tracefile=$PWD/netsh2.etl")
  etw = @(Get-EtwTraceSession -Name 'smoke' | ForEach-Object Name)
  stop = Native 'netsh.exe' @('trace', 'stop', 'sessionname=smoke') } }
${has('docker.exe') ? String.raw`Check 'docker' { @{
  nat = Native 'docker.exe' @('network', 'inspect', 'nat')
  nope = Native 'docker.exe' @('network', 'inspect', 'nope')
  ls = Native 'docker.exe' @('network', 'ls', '-q') } }` : ''}
$wd = Join-Path $PWD 'runs'
New-Item -ItemType Directory -Path $wd -Force | Out-Null
Check 'taskBadDir' { Register-ScheduledTask -TaskName 'bad' -TaskPath '\wnvcap\' -Action (New-ScheduledTaskAction -Execute 'wnvcap.exe' -WorkingDirectory "$PWD/missing") -Trigger (New-ScheduledTaskTrigger -Once -At '2026-12-01T03:00:00') }
Check 'task' {
  $a = New-ScheduledTaskAction -Execute 'wnvcap.exe' -Argument 'capture --duration 3600s' -WorkingDirectory $wd
  $t = New-ScheduledTaskTrigger -Once -At '2026-12-01T03:00:00' -RepetitionInterval (New-TimeSpan -Hours 6) -RepetitionDuration (New-TimeSpan -Days 3650)
  $p = New-ScheduledTaskPrincipal -UserId 'NT AUTHORITY\SYSTEM' -LogonType ServiceAccount -RunLevel Highest
  $s = New-ScheduledTaskSettingsSet -ExecutionTimeLimit (New-TimeSpan -Seconds 4200) -MultipleInstances IgnoreNew -StartWhenAvailable
  Register-ScheduledTask -TaskName 'smoke' -TaskPath '\wnvcap\' -Action $a -Trigger $t -Principal $p -Settings $s -Description 'smoke' -Force | ForEach-Object { [string]$_.State } }
Check 'taskList' { @(Get-ScheduledTask -TaskPath '\wnvcap\' | ForEach-Object TaskName) }
Check 'taskUnregisterPrompt' { Unregister-ScheduledTask -TaskName 'smoke' -TaskPath '\wnvcap\' }
Check 'taskUnregisterConfirmNone' {
  Register-ScheduledTask -TaskName 'smoke2' -TaskPath '\wnvcap\' -Action (New-ScheduledTaskAction -Execute 'wnvcap.exe') | Out-Null
  & { $ConfirmPreference = 'None'; Unregister-ScheduledTask -TaskName 'smoke2' -TaskPath '\wnvcap\' }
  @(Get-ScheduledTask -TaskPath '\wnvcap\' | ForEach-Object TaskName) }
Check 'persist' { New-NetEventSession -Name 'persist' -LocalFilePath "$run/persist.etl" | Out-Null; Add-NetEventPacketCaptureProvider -SessionName 'persist' | Out-Null; Start-NetEventSession -Name 'persist' }
Done
`;
}

/** Process C: a second process, after the test removed elevation and armed a 'die' fault on Get-NetAdapter. */
const SCRIPT_C = String.raw`${PRELUDE}
Check 'seen' { Get-NetEventSession -Name 'persist' | ForEach-Object { [string]$_.SessionStatus } }
Check 'elevated' { ([Security.Principal.WindowsPrincipal][Security.Principal.WindowsIdentity]::GetCurrent()).IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator) }
Check 'denied' { New-NetEventSession -Name 'y' }
Check 'deniedStop' { Stop-NetEventSession -Name 'persist' }
Done
Get-NetAdapter
'after-die'
`;

async function assertEtl(path: string): Promise<void> {
  assert.ok(existsSync(path) && statSync(path).size > 0, `${path} is missing or empty`);
  const src = await openFileSource(path);
  try {
    const reader = await openEtl(src, new IssueLog());
    assert.equal(reader.header.osBuild, 20348, 'the template ETL (containerHostCapture) header');
  } finally {
    await src.close();
  }
}

type NativeResult = { code: number; out: string; err: string };
type Natives<K extends string> = Record<K, NativeResult>;

function checkNatives(type: HostType, checks: Map<string, Check>, host: FakeHost): Promise<void>[] {
  const pending: Promise<void>[] = [];
  const netsh = value<Natives<'bad' | 'start' | 'again' | 'stop'> & { etw: string[] }>(checks, 'netsh');
  assert.equal(netsh.bad.code, 1, 'netsh rejects IPv4.Address=()');
  assert.equal(netsh.start.code, 0, netsh.start.out);
  assert.match(netsh.start.out, /Status:\s+Running/);
  assert.equal(netsh.again.code, 1);
  assert.match(netsh.again.out, /A tracing session is already in progress/);
  assert.deepEqual(netsh.etw, ['smoke'], 'Get-EtwTraceSession shows the netsh session by its sessionname');
  assert.equal(netsh.stop.code, 0, netsh.stop.out);
  pending.push(assertEtl(join(host.dir, 'netsh.etl')));
  if (type === 'ws2019-1809') {
    const p = value<Natives<'modern' | 'status' | 'start' | 'stop'>>(checks, 'pktmon1809');
    assert.equal(p.modern.code, 1);
    assert.match(p.modern.err, /unknown option '--capture'/, 'stderr names the 2004+ option');
    assert.equal(p.modern.out, '');
    assert.equal(p.status.code, 1);
    assert.equal(p.start.code, 0, p.start.err);
    assert.equal(p.stop.code, 0, p.stop.err);
    pending.push(assertEtl(join(host.dir, 'pktmon.etl')));
  } else if (!LACKS[type].includes('pktmon.exe')) {
    const p = value<Natives<'filter' | 'start' | 'status' | 'again' | 'bogus' | 'stop'>>(checks, 'pktmon');
    assert.equal(p.filter.code, 0, p.filter.err);
    assert.equal(p.start.code, 0, p.start.err);
    assert.match(p.status.out, /Running/);
    assert.equal(p.again.code, 1);
    assert.match(p.again.err, /already running/);
    assert.equal(p.bogus.code, 1);
    assert.match(p.bogus.err, /unknown option '--bogus'/);
    assert.equal(p.stop.code, 0, p.stop.err);
    pending.push(assertEtl(join(host.dir, 'pktmon.etl')));
  }
  if (!LACKS[type].includes('docker.exe')) {
    const d = value<Natives<'nat' | 'nope' | 'ls'>>(checks, 'docker');
    assert.equal(d.nat.code, 0, d.nat.err);
    const nat = JSON.parse(d.nat.out) as Array<{ Name: string; Containers: Record<string, { Name: string; IPv4Address: string }> }>;
    assert.equal(nat[0]!.Name, 'nat');
    assert.deepEqual(Object.values(nat[0]!.Containers).map((c) => c.Name).sort(), ['api', 'web']);
    assert.equal(d.nope.code, 1);
    assert.equal(d.nope.err, 'Error: No such network: nope', 'docker writes the error on stderr');
    assert.equal(d.nope.out.trim(), '[]');
    assert.equal(d.ls.out.split('\n').length, 4);
  }
  return pending;
}

for (const type of HOST_TYPES) {
  test(`fake Windows host ${type} under a real pwsh`, { timeout: 90000 }, async (t) => {
    if (!needPwsh(t)) return;
    const host = await createFakeHost(type, { faults: [{ command: 'Get-NetCompartment', nth: 2, kind: 'error', message: 'injected by the smoke test' }, { command: 'Get-NetRoute', kind: 'hang' }] });
    t.after(() => host.dispose());
    // B: hangs in Get-NetRoute; killed 2 s after the call was recorded.
    let hangSeen = 0;
    const hang = runPwsh(host, '$ErrorActionPreference = "Stop"; Get-NetRoute; "not reached"', 60000, () => {
      hangSeen ||= host.executed().some((e) => e.command === 'Get-NetRoute') ? Date.now() : 0;
      return hangSeen > 0 && Date.now() - hangSeen > 2000;
    });
    const a = await runPwsh(host, scriptA(type));
    const checks = parseChecks(a);

    // Commands the host type has and lacks: a missing one is PowerShell's own CommandNotFoundException.
    const expected = CANDIDATES.filter((c) => !LACKS[type].includes(c));
    assert.deepEqual((list(checks, 'commands') as string[]).sort(), expected.sort());
    assert.equal(value<number>(checks, 'netEventCount'), LACKS[type].includes('Add-NetEventVFPProvider') ? 27 : 35);
    for (const c of LACKS[type]) assert.equal(failed(checks, `missing:${c}`).type, 'System.Management.Automation.CommandNotFoundException', c);

    // Session lifecycle; objects look like CIM instances; SessionStatus is an enum.
    assert.equal(value<boolean>(checks, 'elevated'), true);
    const created = value<{ type: string; status: string; cim: boolean; json: number }>(checks, 'new');
    assert.equal(created.type, 'Microsoft.Management.Infrastructure.CimInstance#root/StandardCimv2/MSFT_NetEventSession');
    assert.equal(created.status, 'NotRunning');
    assert.ok(created.cim && created.json > 5000, 'a raw CIM-like object makes big nested JSON');
    assert.equal(value<string>(checks, 'addProvider'), 'Microsoft.Management.Infrastructure.CimInstance#root/StandardCimv2/MSFT_NetEventPacketCaptureProvider');
    assert.ok(get(checks, 'start').ok);
    const status = value<{ name: string; json: string }>(checks, 'status');
    assert.equal(status.name, 'Running');
    assert.equal(status.json, '{"SessionStatus":0}', 'ConvertTo-Json writes the enum as a number');
    assert.match(failed(checks, 'startRunning').id!, /^HRESULT 0x[0-9a-f]{8},Start-NetEventSession$/);
    const one = failed(checks, 'oneSession');
    assert.equal(one.id, 'HRESULT 0x800700b7,New-NetEventSession');
    assert.equal(one.hresult, -2147024713);
    assert.equal(one.category, 'ResourceExists');
    assert.equal(one.type, 'Microsoft.Management.Infrastructure.CimException');
    assert.ok(value<number>(checks, 'stop') > 0);
    const etlDone = assertEtl(join(host.dir, 'run1', 'capture.etl'));
    assert.match(failed(checks, 'stopStopped').id!, /,Stop-NetEventSession$/);
    assert.equal(value<number>(checks, 'remove'), 0);
    const nf = value<{ n: number; id: string; msg: string; cat: string }>(checks, 'notFound');
    assert.deepEqual({ n: nf.n, id: nf.id, cat: nf.cat }, { n: 0, id: 'CmdletizationQuery_NotFound_Name,Get-NetEventSession', cat: 'ObjectNotFound' });
    assert.ok(nf.msg.startsWith("No MSFT_NetEventSession objects found with property 'Name' equal to 'nope'."), nf.msg);

    // Errors follow the caller's $ErrorActionPreference, in any scope, as a compiled cmdlet's do.
    assert.equal(value<string>(checks, 'prefContinue'), 'continued');
    assert.equal(failed(checks, 'prefStop').id, 'CmdletizationQuery_NotFound_Name,Get-NetEventSession');

    // Real parameter binding.
    const wrong = failed(checks, 'wrongParam');
    assert.equal(wrong.type, 'System.Management.Automation.ParameterBindingException');
    assert.equal(wrong.id, 'NamedParameterNotFound,New-NetEventSession');
    assert.equal(failed(checks, 'badEnum').id, 'ParameterArgumentValidationError,New-NetEventSession');
    const dir = failed(checks, 'missingDir');
    assert.deepEqual([dir.id, dir.message], ['HRESULT 0x80070003,Start-NetEventSession', 'The system cannot find the path specified.']);
    assert.match(failed(checks, 'unknownProvider').id!, /,Add-NetEventProvider$/);

    // Injected error fault on the 2nd Get-NetCompartment only.
    assert.equal(value<number>(checks, 'fault1'), 5);
    const f2 = failed(checks, 'fault2');
    assert.deepEqual([f2.id, f2.message], ['FakeWindowsInjectedFault,Get-NetCompartment', 'injected by the smoke test']);

    // Inventory: compartment 1 only without -IncludeAllCompartments; enums as names and numbers.
    const addr = value<{ default: number; all: number; fam: string; famJson: string }>(checks, 'addresses');
    assert.deepEqual(addr, { default: 3, all: 7, fam: 'IPv4', famJson: '{"AddressFamily":2}' });
    assert.equal(value<{ BuildNumber: string }>(checks, 'os').BuildNumber, BUILD[type]);

    const pending = checkNatives(type, checks, host);

    // Scheduled task: the working directory is checked; what is stored is what Windows would store.
    const bad = failed(checks, 'taskBadDir');
    assert.deepEqual([bad.id, bad.message], ['HRESULT 0x8007010b,Register-ScheduledTask', 'The directory name is invalid.']);
    assert.equal(value<string>(checks, 'task'), 'Ready');
    assert.deepEqual(list(checks, 'taskList'), ['smoke']);
    assert.match(failed(checks, 'taskUnregisterPrompt').message!, /NonInteractive mode/);
    assert.deepEqual(list(checks, 'taskUnregisterConfirmNone'), ['smoke'], 'no prompt with the caller\'s $ConfirmPreference = None');
    const task = host.state().tasks.find((x) => x.taskName === 'smoke')!;
    assert.equal(task.taskPath, '\\wnvcap\\');
    assert.equal(task.triggers[0]!.startBoundary, '2026-12-01T03:00:00+01:00');
    assert.deepEqual(task.triggers[0]!.repetition, { interval: 'PT6H', duration: 'P3650D' });
    assert.equal(task.settings?.['executionTimeLimit'], 'PT1H10M');
    assert.deepEqual([task.principal.userId, task.principal.logonType, task.principal.runLevel], ['NT AUTHORITY\\SYSTEM', 'ServiceAccount', 'Highest']);
    assert.ok(get(checks, 'persist').ok);

    // The hang: still sleeping when this test killed it.
    const h = await hang;
    assert.ok(hangSeen > 0 && h.timedOut, `the hang fault should not return: ${h.stdout} ${h.stderr}`);
    assert.ok(!h.stdout.includes('not reached'));

    // A second process sees the session; then elevation off and a 'die' fault.
    host.update((s) => {
      s.elevated = false;
      s.faults.push({ command: 'Get-NetAdapter', kind: 'die' });
    });
    const c = await runPwsh(host, SCRIPT_C);
    assert.equal(c.code, 255, `die fault: exit ${c.code}, stderr ${c.stderr.slice(0, 500)}`);
    assert.ok(!c.stdout.includes('after-die'));
    const cc = parseChecks(c);
    assert.equal(value<string>(cc, 'seen'), 'Running');
    assert.equal(value<boolean>(cc, 'elevated'), false);
    for (const n of ['denied', 'deniedStop']) {
      const d = failed(cc, n);
      assert.equal(d.message, 'Access is denied.');
      assert.equal(d.category, 'PermissionDenied');
      assert.equal(d.hresult, -2147024891);
    }
    await Promise.all([etlDone, ...pending]);

    // Every call was recorded, with its bound parameters.
    const ex = host.executed();
    assert.deepEqual(ex.find((e) => e.command === 'New-NetEventSession')?.params, { Name: 'wnvcap-smoke', CaptureMode: 'SaveToFile', LocalFilePath: join(host.dir, 'run1', 'capture.etl'), MaxFileSize: 512 });
    assert.ok(ex.some((e) => e.command === 'Get-NetRoute'), 'the hanging call was recorded');
    assert.ok(ex.some((e) => e.command === 'netsh.exe' && (e.params['args'] as string[])[1] === 'start'));
    assert.equal(ex.at(-1)?.command, 'Get-NetAdapter');
  });
}

test('disk full, a foreign session and a running pktmon', { timeout: 60000 }, async (t) => {
  if (!needPwsh(t)) return;
  const host = await createFakeHost('ws2022-docker', { diskFull: true, pktmonRunning: true, foreignSession: { name: 'someone-else', status: 'NotRunning', localFilePath: '/tmp/someone-else.etl' } });
  t.after(() => host.dispose());
  const r = await runPwsh(host, String.raw`${PRELUDE}
Check 'sessions' { Get-NetEventSession | ForEach-Object { "$($_.Name):$([string]$_.SessionStatus)" } }
Check 'new' { New-NetEventSession -Name 'mine' }
Check 'diskFull' { Start-NetEventSession -Name 'someone-else' }
Check 'pktmon' { @{ status = Native 'pktmon.exe' @('status'); start = Native 'pktmon.exe' @('start', '--capture') } }
Check 'etw' { @(Get-EtwTraceSession | ForEach-Object Name) }
Done`);
  const checks = parseChecks(r);
  assert.deepEqual(value<string>(checks, 'sessions'), 'someone-else:NotRunning');
  assert.equal(failed(checks, 'new').id, 'HRESULT 0x800700b7,New-NetEventSession');
  const full = failed(checks, 'diskFull');
  assert.deepEqual([full.id, full.message], ['HRESULT 0x80070070,Start-NetEventSession', 'There is not enough space on the disk.']);
  const p = value<Natives<'status' | 'start'>>(checks, 'pktmon');
  assert.match(p.status.out, /Running/);
  assert.equal(p.start.code, 1);
  assert.ok(list(checks, 'etw').includes('PktMon'));
});

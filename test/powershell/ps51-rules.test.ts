/**
 * The Windows PowerShell 5.1 rules (docs/powershell-5.1.md, test/helpers/ps51-rules.ts):
 * (a) for every rule, small scripts written out literally that the checker must flag, and ones it
 *     must accept, so a checker that passes everything cannot go unnoticed;
 * (b) every script wnvcap generates, over the option matrix of scripts.test.ts, held to them.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planScripts } from '../../src/capture/lifecycle.js';
import { resolveCaptureOptions, type RawCaptureOptions } from '../../src/capture/options.js';
import { listProfiles, loadProfile } from '../../src/capture/profiles.js';
import { cleanupStep, inventoryStep, preflightStep, statusStep, adminMembersStep, traceSessionsStep } from '../../src/capture/steps.js';
import { renderStep, type Step } from '../../src/powershell/script.js';
import { closeSessionStep, fetchFileStep, openSessionStep, remoteInvokeStep, removeRemoteFileStep } from '../../src/remote/remote-steps.js';
import { CONTROLLER_LOOP } from '../../src/remote/controller-shell.js';
import { closePoolStep, collectStep, stopJobStep, submitStep } from '../../src/remote/session-pool.js';
import { cronToTrigger, listTasksStep, registerTaskStep, removeTaskStep, runTaskNowStep } from '../../src/schedule/task.js';
import { HOSTILE } from '../helpers/hostile.js';
import { checkPs51, isOptionalCommand, type Ps51Options, type Ps51Rule, type Ps51Violation } from '../helpers/ps51-rules.js';

const STOP = "$ErrorActionPreference = 'Stop'";

/** A script with the preference set, so that only the rule under test can fire. */
function script(...lines: string[]): string {
  return [STOP, '$r = [ordered]@{}', ...lines].join('\n');
}

function assertFlags(rule: Ps51Rule, text: string, opts: Ps51Options = {}): void {
  const vs = checkPs51(text, opts);
  assert.ok(vs.some((v) => v.rule === rule), `${rule} not flagged in:\n${text}\ngot: ${JSON.stringify(vs)}`);
}

function assertClean(text: string, opts: Ps51Options = {}): void {
  assert.deepEqual(checkPs51(text, opts), [], text);
}

// (a) -------------------------------------------------------------------------------------------

test('R1 native calls: inside & { $ErrorActionPreference = \'Continue\'; ... } with 2>&1', () => {
  assertFlags('R1', script("$r['netsh'] = @(& 'netsh.exe' 'trace' 'show' 'status' 2>&1)"));
  assertFlags('R1', script("$r['netsh'] = @(& { $ErrorActionPreference = 'Continue'; & 'netsh.exe' 'trace' 'show' 'status' })"));
  // Dot-sourcing runs the block in the script's scope: 'Continue' would leak into the rest.
  assertFlags('R1', script("$r['netsh'] = @(. { $ErrorActionPreference = 'Continue'; & 'netsh.exe' 'trace' 'show' 'status' 2>&1 })"));
  assertFlags('R1', script("$r['netsh'] = @(& { & 'netsh.exe' 'trace' 'show' 'status' 2>&1; $ErrorActionPreference = 'Continue' })"));
  assertFlags('R1', script("$r['netsh'] = @(& { $ErrorActionPreference = 'SilentlyContinue'; & 'netsh.exe' 'trace' 'show' 'status' 2>&1 })"));
  assertFlags('R1', script('netsh.exe trace show status 2>&1 | Out-Null'));
  assertClean(script("$r['netsh'] = @(& { $ErrorActionPreference = 'Continue'; & 'netsh.exe' 'trace' 'show' 'status' 2>&1 } | ForEach-Object { [string]$_ })"));
  assertClean(script("$r['ipconfig'] = @(& {\n$ErrorActionPreference = 'Continue'\nif ($true) { & 'ipconfig.exe' '/allcompartments' 2>&1 }\n})"));
});

test('R2 Invoke-Command output: re-created strings when stored, else discarded', () => {
  assertFlags('R2', script("$r['remote'] = @(Invoke-Command -Session $s -ScriptBlock { 'x' })"));
  assertFlags('R2', script("$r['remote'] = @(Invoke-Command -Session $s -ScriptBlock { 'x' } | ForEach-Object { [string]$_ })"));
  assertFlags('R2', script("$r['remote'] = @(Invoke-Command -Session $s -ScriptBlock { 'x' } | ForEach-Object { -join ([string]$_).ToCharArray() } | Select-Object -First 1)"));
  assertFlags('R2', script('$name = Invoke-Command -Session $s -ScriptBlock { $env:COMPUTERNAME }'));
  assertFlags('R2', script("try {\nInvoke-Command -Session $s -ScriptBlock { Remove-Item -LiteralPath 'x' }\n} catch { }"));
  assertClean(script("$r['remote'] = @(Invoke-Command -Session $s -ScriptBlock { 'x' } | ForEach-Object { -join ([string]$_).ToCharArray() })"));
  assertClean(script('$name = Invoke-Command -Session $s -ScriptBlock { $env:COMPUTERNAME } | ForEach-Object -Process { -join ([string]$_).ToCharArray() }'));
  assertClean(script("$null = Invoke-Command -Session $s -ScriptBlock { Remove-Item -LiteralPath 'x' }"));
  assertClean(script("Invoke-Command -Session $s -ScriptBlock { Remove-Item -LiteralPath 'x' } | Out-Null"));
});

test('R3 no PowerShell 7-only syntax, parameters or variables', () => {
  const bad = [
    '$x = $a ? 1 : 2', '$x = $a ?? 3', '$x ??= 4', '$x = ${a}?.Name', '$x = ${a}?[0]', "Get-Date && Write-Output 'ok'", "Get-Date || Write-Output 'no'",
    'function f { process { $_ } clean { 1 } }', 'function f { clean { 1 } }', 'Get-Date &', '$x = $IsWindows', '$x = $IsCoreCLR',
    '$x = 1..3 | ForEach-Object -Parallel { $_ }', "$x = ConvertFrom-Json -InputObject '{}' -AsHashtable", "$x = ConvertFrom-Json -InputObject '[]' -NoEnumerate",
    "$x = ConvertFrom-Json -InputObject '{}' -Depth 5", "$x = ConvertFrom-Json -InputObject '{}' -DateKind String", '$x = ConvertTo-Json -InputObject @(1) -Depth 2 -AsArray',
    '$x = ConvertTo-Json -InputObject $e -Depth 2 -EnumsAsStrings', '$x = ConvertTo-Json -InputObject $s -Depth 2 -EscapeHandling EscapeNonAscii',
    "$x = Get-Content -LiteralPath 'C:\\x.etl' -AsByteStream", "$x = Invoke-RestMethod -Uri 'https://h/' -SkipCertificateCheck", '$x = "`u{263a}"',
  ];
  for (const b of bad) assertFlags('R3', script(b));
  assertClean(script('$x = if ($a) { 1 } else { 2 }', "$x = @(Get-ChildItem -LiteralPath 'C:\\' | ? { $_.Length -gt 0 })", "$x = Get-Content -LiteralPath 'C:\\x.etl' -Encoding Byte -TotalCount 4"));
});

test('R4 ConvertTo-Json: -Depth and -InputObject, never pipeline input', () => {
  assertFlags('R4', script('$out | ConvertTo-Json -Depth 8 -Compress'));
  assertFlags('R4', script('ConvertTo-Json -InputObject $out -Compress'));
  assertFlags('R4', script('ConvertTo-Json $out -Depth 8'));
  assertFlags('R4', script('@($items) | ConvertTo-Json -InputObject $out -Depth 8'));
  assertClean(script('ConvertTo-Json -InputObject @($items) -Depth 8 -Compress'));
});

test('R5 Select-Object: enum properties as [string], dates as .ToString(\'o\')', () => {
  assertFlags('R5', script("$r['a'] = @(Get-NetIPAddress | Select-Object -Property @('IPAddress', 'AddressFamily'))"));
  assertFlags('R5', script("$r['a'] = @(Get-NetIPAddress | Select-Object -Property @('IPAddress', 'Type'))"));
  assertFlags('R5', script("$r['a'] = @(Get-NetAdapter | Select-Object -Property @('Name', 'Status'))"));
  assertFlags('R5', script("$r['a'] = @(Get-NetEventSession | Select-Object -Property @('Name', @{n='SessionStatus';e={$_.SessionStatus}}))" ), { proven: ['Get-NetEventSession'] });
  assertFlags('R5', script("$r['a'] = @(Get-ScheduledTaskInfo -TaskName 'x' | Select-Object -Property @(@{Name='LastRunTime';Expression={[string]$_.LastRunTime}}))"));
  assertFlags('R5', script("$r['a'] = @(Get-Item -LiteralPath 'C:\\x' | Select-Object @('Length', 'LastWriteTime'))"));
  assertClean(script("$r['a'] = @(Get-NetIPAddress | Select-Object -Property @('IPAddress', @{n='AddressFamily';e={[string]$_.AddressFamily}}, @{n='Type';e={[string]$_.Type}}))"));
  assertClean(script("$r['a'] = @(Get-NetAdapter | Select-Object -Property @('Name', 'Type', @{n='Status';e={[string]$_.Status}}))"));
  assertClean(script("$r['a'] = @(Get-ScheduledTaskInfo -TaskName 'x' | Select-Object -Property @(@{n='NextRunTime';e={if ($null -ne $_.NextRunTime) { $_.NextRunTime.ToString('o') }}}))"));
});

test('R6 encoding: no file redirection, -Encoding on Out-File/Set-Content/Add-Content', () => {
  assertFlags('R6', script("Get-Date > 'C:\\x.txt'"));
  assertFlags('R6', script('Get-Date >> C:\\x.txt'));
  assertFlags('R6', script('Get-Date 2>C:\\err.txt'));
  assertFlags('R6', script("'a' | Out-File -FilePath 'C:\\x.txt'"));
  assertFlags('R6', script("Set-Content -LiteralPath 'C:\\x.txt' -Value 'a'"));
  assertFlags('R6', script("Add-Content -LiteralPath 'C:\\x.txt' -Value 'a'"));
  assertFlags('R6', script("$x = 'a' | Tee-Object -FilePath 'C:\\x.txt'"));
  assertClean(script("Set-Content -LiteralPath 'C:\\x.txt' -Value 'a' -Encoding UTF8", "Out-File -FilePath 'C:\\x.txt' -InputObject 'a' -Encoding UTF8", 'Get-Date > $null', 'Get-Date 2>$null'));
});

test('R10 no ::new() (Server 2012 R2 ships PowerShell 4.0)', () => {
  assertFlags('R10', script('$l = [System.Collections.Generic.List[string]]::new()'));
  assertFlags('R10', script("$x = [string]::new('abc'.ToCharArray())"));
  assertClean(script('$l = New-Object System.Collections.Generic.List[string]'));
});

test('R7 optional commands: guarded by Get-Command, or proven by the preflight', () => {
  assertFlags('R7', script("$r['n'] = @(Get-HnsNetwork)"));
  assertFlags('R7', script("if (Get-Command -Name 'Get-HnsEndpoint' -ErrorAction Ignore) { $r['n'] = @(Get-HnsNetwork) }"));
  assertFlags('R7', script("if (Get-Command -Name 'Get-HnsNetwork') { $r['n'] = @(Get-HnsNetwork) }"));
  assertFlags('R7', script("if (Get-Command -Name 'Get-HnsNetwork' -ErrorAction Ignore) { } else { $r['n'] = @(Get-HnsNetwork) }"));
  assertFlags('R7', script("$r['d'] = @(& { $ErrorActionPreference = 'Continue'; & 'docker.exe' 'network' 'ls' 2>&1 })"));
  assertFlags('R7', script("New-NetEventSession -Name 'wnvcap-x'"));
  assertFlags('R7', script("New-NetEventSession -Name 'wnvcap-x'"), { proven: ['Start-NetEventSession'] });
  assertClean(script("if (Get-Command -Name 'Get-HnsNetwork' -ErrorAction Ignore) {\n$r['n'] = @(Get-HnsNetwork)\n} else { $absent.Add('Get-HnsNetwork') }"));
  assertClean(script("if (Get-Command -Name 'docker.exe' -ErrorAction Ignore) { $r['d'] = @(& { $ErrorActionPreference = 'Continue'; & 'docker.exe' 'network' 'ls' 2>&1 }) }"));
  assertClean(script("New-NetEventSession -Name 'wnvcap-x'"), { proven: ['New-NetEventSession'] });
  assert.ok(isOptionalCommand('Remove-NetEventVmSwitch') && isOptionalCommand('pktmon.exe') && !isOptionalCommand('netsh.exe') && !isOptionalCommand('Get-NetAdapter'));
});

test('R8 Start-Sleep: integer -Seconds or -Milliseconds only', () => {
  for (const b of ['Start-Sleep 1', 'Start-Sleep -Seconds 1.5', 'Start-Sleep -Duration (New-TimeSpan -Seconds 1)', 'Start-Sleep -ms 200', 'Start-Sleep -Seconds $n', 'sleep 1']) assertFlags('R8', script(b));
  assertClean(script('Start-Sleep -Seconds 2', 'Start-Sleep -Milliseconds 250'));
});

test("R9 $ErrorActionPreference = 'Stop' is set by the script", () => {
  assertFlags('R9', '$r = [ordered]@{}\nConvertTo-Json -InputObject $r -Depth 2 -Compress');
  assertFlags('R9', `Get-Date | Out-Null\n${STOP}`);
  assertFlags('R9', "$ErrorActionPreference = 'Continue'");
  assertFlags('R9', `& { ${STOP} }`);
  assertClean(`# a comment first\n${STOP}\n$ProgressPreference = 'SilentlyContinue'\nGet-Date | Out-Null`);
});

test('scripts embedded with [scriptblock]::Create are checked, lines counted in the outer script', () => {
  const inner = `${STOP}\n$r = [ordered]@{}\n$r['n'] = @(Get-HnsNetwork)`;
  const outer = script(`$r['remote'] = @(Invoke-Command -Session $s -ScriptBlock ([scriptblock]::Create('${inner.replace(/'/g, "''")}')) | ForEach-Object { -join ([string]$_).ToCharArray() })`);
  const vs = checkPs51(outer);
  assert.deepEqual(vs.map((v) => [v.rule, v.line, v.embedded, v.text]), [['R7', 5, true, 'Get-HnsNetwork']]);
});

test('values inside literals never change what the checker finds (hostile --out paths, hosts, file names)', async () => {
  const findings = (text: string): string => checkPs51(text).map((v) => `${v.rule}: ${v.message}`).sort().join('\n');
  const profile = await loadProfile('container');
  const plan = (backend: string, out: string): string[] =>
    planScripts(resolveCaptureOptions(profile, { backend }, { out, dryRun: true, force: false }), 'x', `${out}\\run-x`).map((s) => findings(s.text));
  for (const backend of ['netevent', 'pktmon', 'netsh']) {
    const base = plan(backend, 'C:\\runs');
    for (const h of HOSTILE.filter((x) => !x.includes('\0'))) assert.deepEqual(plan(backend, h), base, `${backend} ${JSON.stringify(h).slice(0, 60)}`);
  }
  for (const h of HOSTILE) {
    const base = [fetchFileStep('a', 'a', 'b', 1), removeRemoteFileStep('a', 'a'), openSessionStep({ host: 'a', transport: 'winrm' }, 'a', true), submitStep('j1', closeSessionStep('a'), { throttle: 8, credentialUser: 'a' })].map((s) => findings(renderStep(s)));
    const got = [fetchFileStep(h, h, h, 1), removeRemoteFileStep(h, h), openSessionStep({ host: h, transport: 'winrm' }, h, true), submitStep('j1', closeSessionStep(h), { throttle: 8, credentialUser: h })].map((s) => findings(renderStep(s)));
    assert.deepEqual(got, base, JSON.stringify(h).slice(0, 60));
  }
});

// (b) -------------------------------------------------------------------------------------------

const FLAG_SETS: RawCaptureOptions[] = [
  {},
  { ip: ['10.0.0.1', 'fe80::1'], protocol: ['tcp', '17'], mac: ['00-15-5D-01-02-03'], ethertype: ['0x0800', '34525'] },
  { captureType: 'physical', truncate: '0', maxSize: '2GB', duration: '5m' },
  { captureType: 'switch', truncate: '14' },
];

/** Every NetEventPacketCapture cmdlet (windows-capture.md 1.1): proven once the preflight found the module. */
const NETEVENT_CMDLETS = ['Session', 'PacketCaptureProvider', 'Provider', 'VmSwitchProvider', 'VFPProvider', 'WFPCaptureProvider', 'NetworkAdapter', 'VmNetworkAdapter', 'VmSwitch']
  .flatMap((noun) => ['New', 'Get', 'Set', 'Start', 'Stop', 'Add', 'Remove'].map((verb) => `${verb}-NetEvent${noun}`));

/**
 * start/status/stop of the netevent backend run only after the preflight found the module;
 * cleanup-own only after the preflight's Get-NetEventSession listed a session, which proves it too.
 */
function provenFor(backend: string, stepName: string): string[] {
  if (backend === 'pktmon' && ['start', 'stop'].includes(stepName)) return ['pktmon.exe']; // chosen only when the preflight found pktmon.exe
  return backend === 'netevent' && ['start', 'status', 'stop', 'cleanup-own'].includes(stepName) ? NETEVENT_CMDLETS : [];
}

interface Checked {
  label: string;
  violations: Ps51Violation[];
}

async function captureScripts(): Promise<Checked[]> {
  const out: Checked[] = [];
  for (const p of await listProfiles()) {
    for (const asked of ['netevent', 'pktmon', 'netsh', 'auto']) {
      const backend = asked === 'auto' ? 'netevent' : asked;
      for (const flags of FLAG_SETS) {
        const o = resolveCaptureOptions(p, { ...flags, backend: asked }, { out: 'C:\\ProgramData\\wnvcap\\runs', dryRun: true, force: false });
        for (const { step, text } of planScripts(o, '20260101T000000Z-abcd', 'C:\\ProgramData\\wnvcap\\runs\\run-20260101T000000Z-abcd')) {
          out.push({ label: `${backend}/${step.name}`, violations: checkPs51(text, { proven: provenFor(backend, step.name) }) });
        }
      }
    }
  }
  return out;
}

function otherScripts(): Checked[] {
  const run = (label: string, step: Step, proven: string[] = []): Checked => ({ label, violations: checkPs51(renderStep(step), { proven }) });
  const triggers = [{ kind: 'once' as const, at: '2026-11-23T03:00:00' }, { kind: 'every' as const, at: '2026-11-23T03:00:00', everyMinutes: 360 }, cronToTrigger('0 3 * * *'), cronToTrigger('30 1 * * 1,5')];
  const task = (trigger: (typeof triggers)[number]): Step => registerTaskStep({ name: 'nightly', trigger, windowSeconds: 600, execute: 'C:\\Program Files\\wnvcap\\wnvcap.exe', args: ['capture', '--out', 'C:\\runs'], workingDirectory: 'C:\\runs' });
  return [
    run('steps/preflight', preflightStep()), run('steps/inventory', inventoryStep()), run('steps/admin-members', adminMembersStep()), run('steps/verify-stopped', traceSessionsStep(['PktMon', 'wnvcap-x'])),
    run('steps/cleanup-own', cleanupStep('wnvcap-x'), NETEVENT_CMDLETS), run('steps/status', statusStep('wnvcap-x', 'C:\\x.etl'), NETEVENT_CMDLETS),
    ...triggers.map((t) => run(`schedule/schedule-add(${t.kind})`, task(t))),
    run('schedule/schedule-list', listTasksStep()), run('schedule/schedule-remove', removeTaskStep('nightly')), run('schedule/schedule-run-now', runTaskNowStep('nightly')),
    // SSH sessions (requiresPs7) are never sent to 5.1: only the WinRM form is held to these rules.
    // Remote steps run as jobs of the controller's runspace pool: each is checked as the job text
    // inside the submit step that starts it (the checker reads .AddScript('<literal>') too).
    ...([
      ['connect', openSessionStep({ host: 'ch01', transport: 'winrm', port: 5986, useSsl: true }, 'ch01', true)],
      ['preflight', remoteInvokeStep('ch01', preflightStep())], ['inventory', remoteInvokeStep('ch01', inventoryStep())],
      ['status', remoteInvokeStep('ch01', statusStep('wnvcap-x', 'C:\\x.etl')), NETEVENT_CMDLETS],
      ['fetch', fetchFileStep('ch01', 'C:\\x.etl', '/tmp/x.etl', 600_000)], ['remove-remote-copy', removeRemoteFileStep('ch01', 'C:\\x.etl')], ['disconnect', closeSessionStep('ch01')],
    ] as Array<[string, Step, string[]?]>).map(([n, step, proven]) => run(`remote/${n}`, submitStep('j1', step, { throttle: 8, credentialUser: 'CORP\\u' }), proven)),
    { label: 'remote/controller-loop', violations: checkPs51(CONTROLLER_LOOP) },
    run('remote/collect', collectStep(200)), run('remote/stop-job', stopJobStep('j1')), run('remote/close-pool', closePoolStep()),
  ];
}

/** One line per (rule, step, message): in how many scripts of the matrix, with an example of the offending text. */
function summarize(checked: Checked[]): string {
  const groups = new Map<string, { scripts: number; example: string }>();
  for (const c of checked) {
    const seen = new Set<string>();
    for (const v of c.violations) {
      const key = `${v.rule} ${c.label}${v.embedded ? ' (embedded script)' : ''}: ${v.message}`;
      const g = groups.get(key) ?? { scripts: 0, example: v.text };
      if (!seen.has(key)) g.scripts++;
      seen.add(key);
      groups.set(key, g);
    }
  }
  return [...groups].sort(([a], [b]) => a.localeCompare(b)).map(([k, g]) => `${k}\n    in ${g.scripts} script(s), e.g. line: ${g.example}`).join('\n');
}

test('every script wnvcap generates follows the 5.1 rules', async () => {
  const checked = [...(await captureScripts()), ...otherScripts()];
  assert.ok(checked.length > 300, `${checked.length} scripts checked`);
  const bad = checked.filter((c) => c.violations.length > 0);
  assert.equal(bad.length, 0, `${bad.length} of ${checked.length} scripts break the 5.1 rules:\n${summarize(checked)}`);
});

/**
 * PowerShell's own fan-out in one controller process: a runspace pool (the engine under
 * Start-ThreadJob and Invoke-Command -ThrottleLimit) whose size is --throttle, a synchronized
 * table of PSSessions by host, and one job per remote step. Each job is a [powershell] instance
 * started with BeginInvoke; the controller polls for finished jobs. Everything here is
 * Windows PowerShell 5.1 and PowerShell 7 alike (no ThreadJob module, no `::new`, no `??`).
 *
 * A job's script is a rendered step (powershell/script.ts) that names its session as
 * `$WnvcapSessions['<host>']` and, for WinRM with --credential, `$WnvcapCredential`: both are the
 * job's parameters, filled from the controller's globals.
 */
import { quoteString, renderValue } from '../powershell/quote.js';
import { renderStep, stmt, type Step } from '../powershell/script.js';

/** The job parameter holding the host → PSSession table. */
export const SESSIONS_VAR = 'WnvcapSessions';
/** The job parameter holding the PSCredential built once from PASSWORD_ENV (WinRM only). */
export const CREDENTIAL_VAR = 'WnvcapCredential';
/** Environment variable the controller reads the WinRM password from, then removes. */
export const PASSWORD_ENV = 'WNVCAP_REMOTE_PASSWORD';

export interface PoolOptions {
  /** Runspaces, i.e. remote steps in flight at once (--throttle). */
  throttle: number;
  /** WinRM --credential user: the controller builds the PSCredential once, from PASSWORD_ENV. */
  credentialUser?: string;
}

/** `$WnvcapSessions['host']`: a session by its key, inside a job. */
export function sessionRef(key: string): string {
  return `$${SESSIONS_VAR}[${quoteString(key)}]`;
}

/** The text a job runs: the step, with the sessions table and credential as its parameters. */
export function jobScript(step: Step): string {
  return `param($${SESSIONS_VAR}, $${CREDENTIAL_VAR})\n${renderStep(step)}`;
}

/**
 * Creates the pool, the session table and the credential once per controller process. The
 * password never appears in a script: it is read from the environment and the variable removed.
 */
function setupText(o: PoolOptions): string {
  const cred = o.credentialUser === undefined ? [] : [
    `  if ($null -ne $env:${PASSWORD_ENV}) {`,
    // No cmdlet sees the password: module logging (event 4103) records cmdlets' parameter values.
    '    $secret = New-Object -TypeName System.Security.SecureString',
    `    foreach ($c in $env:${PASSWORD_ENV}.ToCharArray()) { $secret.AppendChar($c) }`,
    '    $secret.MakeReadOnly()',
    `    Remove-Item -LiteralPath ${quoteString(`Env:${PASSWORD_ENV}`)} -ErrorAction Ignore`,
    `    $global:${CREDENTIAL_VAR} = New-Object -TypeName System.Management.Automation.PSCredential -ArgumentList @(${quoteString(o.credentialUser)}, $secret)`,
    '  }',
  ];
  return [
    'if ($null -eq $global:WnvcapPool) {',
    // As many runspaces kept as used: the pool's 15-minute cleanup closes idle runspaces above
    // its minimum, and with them the PSSessions they opened (RunspacePoolInternal, LocalConnection).
    `  $global:WnvcapPool = [runspacefactory]::CreateRunspacePool(${renderValue(o.throttle)}, ${renderValue(o.throttle)})`,
    '  $global:WnvcapPool.Open()',
    `  $global:${SESSIONS_VAR} = [hashtable]::Synchronized(@{})`,
    '  $global:WnvcapJobs = @{}',
    ...cred,
    '}',
  ].join('\n');
}

/** Starts one job (a remote step) in the pool; returns at once. */
export function submitStep(id: string, job: Step, o: PoolOptions): Step {
  const start = [
    setupText(o),
    '$ps = [powershell]::Create()',
    '$ps.RunspacePool = $global:WnvcapPool',
    `$null = $ps.AddScript(${quoteString(jobScript(job))}).AddArgument($global:${SESSIONS_VAR}).AddArgument($global:${CREDENTIAL_VAR})`,
    `$global:WnvcapJobs[${quoteString(id)}] = @{ PowerShell = $ps; Handle = $ps.BeginInvoke() }`,
    '$global:WnvcapJobs.Count',
  ].join('\n');
  return { name: `submit ${job.name}`, description: `start ${job.description} in the controller's runspace pool`, statements: [stmt([], { resultKey: 'jobs', expression: start })], timeoutMs: 60_000 };
}

/**
 * Waits up to waitMs for any job to finish, then returns every finished job: its output lines, or
 * the error that ended it (a stopped job ends with "The pipeline has been stopped.").
 */
export function collectStep(waitMs: number): Step {
  const collect = [
    'if ($null -eq $global:WnvcapJobs) { $global:WnvcapJobs = @{} }',
    `$deadline = [DateTime]::UtcNow.AddMilliseconds(${renderValue(waitMs)})`,
    'do {',
    '  $finished = @($global:WnvcapJobs.Keys | Where-Object { $global:WnvcapJobs[$_].Handle.IsCompleted })',
    '  if ($finished.Count -gt 0 -or $global:WnvcapJobs.Count -eq 0) { break }',
    '  Start-Sleep -Milliseconds 20',
    '} while ([DateTime]::UtcNow -lt $deadline)',
    'foreach ($id in $finished) {',
    '  $job = $global:WnvcapJobs[$id]',
    '  $global:WnvcapJobs.Remove($id)',
    '  $failure = $null',
    '  try { $lines = @($job.PowerShell.EndInvoke($job.Handle) | ForEach-Object { [string]$_ }) }',
    '  catch { $lines = @(); $failure = $_.Exception.GetBaseException().Message }',
    '  $job.PowerShell.Dispose()',
    '  @{ id = $id; output = ($lines -join "`n"); error = $failure }',
    '}',
  ].join('\n');
  return { name: 'collect', description: 'collect finished remote steps', statements: [stmt([], { resultKey: 'done', expression: collect })], timeoutMs: 60_000 + waitMs };
}

/** Asks a job to stop (a step past its time); it then finishes with a stopped-pipeline error. */
export function stopJobStep(id: string): Step {
  const stop = `$job = $global:WnvcapJobs[${quoteString(id)}]\nif ($job) { $null = $job.PowerShell.BeginStop($null, $null) }`;
  return { name: 'stop-job', description: `stop job ${id}`, statements: [stmt([], { resultKey: 'stopped', expression: stop })], timeoutMs: 30_000 };
}

/** Ends every job, removes every session left, closes the pool. */
export function closePoolStep(): Step {
  const close = [
    'if ($null -ne $global:WnvcapPool) {',
    // Ask every job to stop without waiting, remove the sessions (which ends what a job still
    // waits on), then give the pool a bounded time to close: the controller ends right after.
    '  foreach ($job in @($global:WnvcapJobs.Values)) { try { $null = $job.PowerShell.BeginStop($null, $null) } catch { } }',
    `  foreach ($s in @($global:${SESSIONS_VAR}.Clone().Values)) { try { Remove-PSSession -Session $s -ErrorAction SilentlyContinue } catch { } }`,
    '  $closing = $global:WnvcapPool.BeginClose($null, $null)',
    '  $null = $closing.AsyncWaitHandle.WaitOne(20000)',
    '  $global:WnvcapPool = $null',
    '}',
  ].join('\n');
  return { name: 'close-pool', description: 'remove the remoting sessions and close the runspace pool', statements: [stmt([], { resultKey: 'closed', expression: close })], timeoutMs: 60_000 };
}

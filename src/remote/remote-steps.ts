/**
 * Steps that run capture steps on another host through PowerShell remoting (windows-capture.md
 * 5), run as jobs of the controller's runspace pool (session-pool.ts): a PSSession per host in
 * `$WnvcapSessions`, over WinRM (New-PSSession -ComputerName, optional -Port/-UseSSL and the
 * controller's PSCredential) or SSH (PowerShell 7: -HostName/-UserName/-KeyFilePath, BatchMode);
 * each capture step's script travels as one quoted literal
 * into Invoke-Command, and prints its JSON envelope there; files come back with
 * Copy-Item -FromSession, verified by SHA-256 on both sides before the remote copy is removed.
 */
import { quoteString, raw } from '../powershell/quote.js';
import { cmd, NativeCall, renderStep, stmt, type Statement, type Step } from '../powershell/script.js';
import { CREDENTIAL_VAR, SESSIONS_VAR, sessionRef } from './session-pool.js';

export interface RemoteTarget {
  host: string;
  transport: 'winrm' | 'ssh';
  port?: number;
  useSsl?: boolean;
  /** SSH user and key file. */
  user?: string;
  keyFile?: string;
}

export interface Credential {
  user: string;
  password: string;
}

/**
 * Opens the session `$WnvcapSessions['key']` (a stale one is removed first). WinRM with a
 * credential uses the PSCredential the controller built once from PASSWORD_ENV (session-pool.ts):
 * the password is never in a script text (PowerShell logs script blocks it finds suspicious to
 * the event log as 4104 even without script block logging), a command line, a log or a file.
 */
export function openSessionStep(t: RemoteTarget, key: string, withCredential = false): Step {
  const session = sessionRef(key);
  const c = cmd('New-PSSession');
  if (t.transport === 'ssh') {
    c.param('HostName', [t.host]);
    if (t.user) c.param('UserName', t.user);
    if (t.keyFile) c.param('KeyFilePath', t.keyFile);
    if (t.port) c.param('Port', t.port);
    // Never a prompt (host key, passphrase, password) that an unattended run would wait on forever.
    c.param('ConnectingTimeout', 30000).param('Options', raw("@{ BatchMode = 'yes' }"));
  } else {
    c.param('ComputerName', [t.host]);
    if (t.port) c.param('Port', t.port);
    if (t.useSsl) c.flag('UseSSL');
    if (withCredential) c.param('Credential', raw(`$${CREDENTIAL_VAR}`));
    // IdleTimeout: the host closes a session whose controller died within 5 minutes (the heartbeat
    // keeps a live one open), so killed runs do not pile up against MaxShellsPerUser.
    c.param('SessionOption', raw('(New-PSSessionOption -OpenTimeout 30000 -IdleTimeout 300000)'));
  }
  const statements: Statement[] = [
    stmt([], { resultKey: 'stale', expression: `if (${session}) { Remove-PSSession -Session ${session} -ErrorAction SilentlyContinue; ${session} = $null }` }),
    stmt(c, { assign: 'session' }),
    stmt([], { resultKey: 'stored', expression: `${session} = $session` }),
    stmt([cmd('Invoke-Command').param('Session', raw('$session')).param('ScriptBlock', raw('{ $env:COMPUTERNAME }'))], { resultKey: 'computerName' }),
  ];
  return { name: 'connect', description: `open a ${t.transport === 'ssh' ? 'SSH' : 'WinRM'} PowerShell session to ${t.host}`, statements, ...(t.transport === 'ssh' ? { requiresPs7: true } : {}) };
}

/**
 * How ssh resolves the target (`ssh -G`: HostName from ssh_config, no connection): ssh names that
 * address, not the alias, when it says why a connection failed.
 */
export function sshConfigStep(t: RemoteTarget): Step {
  const args = ['-G', ...(t.port ? ['-p', String(t.port)] : []), ...(t.user ? ['-l', t.user] : []), t.host];
  return { name: 'ssh-config', description: `how ssh resolves ${t.host}`, statements: [stmt(new NativeCall('ssh', args), { resultKey: 'config', tolerateErrors: true, optional: true })], timeoutMs: 30_000 };
}

/** Runs a capture step on the remote host; its envelope comes back as one JSON string. */
export function remoteInvokeStep(key: string, inner: Step): Step {
  return {
    name: inner.name,
    description: `${inner.description} (remote)`,
    // The remote script's JSON envelope comes back as one string (re-created by the renderer: 5.1 notes).
    statements: [stmt(cmd('Invoke-Command').param('Session', raw(sessionRef(key))).param('ScriptBlock', raw(`([scriptblock]::Create(${quoteString(renderStep(inner))}))`)), { resultKey: 'remote' })],
    timeoutMs: (inner.timeoutMs ?? 120_000) + 60_000,
  };
}

export function fetchFileStep(key: string, remotePath: string, localPath: string, timeoutMs: number): Step {
  return {
    name: 'fetch',
    timeoutMs,
    description: `copy ${remotePath} back and hash it on the remote side`,
    statements: [
      stmt(cmd('Copy-Item').param('FromSession', raw(sessionRef(key))).param('LiteralPath', [remotePath]).param('Destination', localPath)),
      stmt(cmd('Invoke-Command').param('Session', raw(sessionRef(key))).param('ScriptBlock', raw('{ param($p) (Get-FileHash -Algorithm SHA256 -LiteralPath $p).Hash }')).param('ArgumentList', [remotePath]), { resultKey: 'remoteHash' }),
    ],
  };
}

export function removeRemoteFileStep(key: string, remotePath: string): Step {
  return {
    name: 'remove-remote-copy',
    description: `remove ${remotePath} from the remote host after the copy was verified`,
    timeoutMs: 60_000,
    statements: [stmt(cmd('Invoke-Command').param('Session', raw(sessionRef(key))).param('ScriptBlock', raw('{ param($p) Remove-Item -LiteralPath $p -Force }')).param('ArgumentList', [remotePath]))],
  };
}

export function closeSessionStep(key: string): Step {
  const session = sessionRef(key);
  return {
    name: 'disconnect',
    description: 'remove the PowerShell session',
    statements: [stmt([], { resultKey: 'closed', expression: `if (${session}) { Remove-PSSession -Session ${session} -ErrorAction SilentlyContinue; $null = $${SESSIONS_VAR}.Remove(${quoteString(key)}) }` })],
    timeoutMs: 60_000,
  };
}

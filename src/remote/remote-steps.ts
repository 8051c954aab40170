/**
 * Steps that run capture steps on another host through PowerShell remoting (windows-capture.md
 * 5): a PSSession over WinRM (New-PSSession -ComputerName, optional -Port/-UseSSL and a
 * PSCredential built inside the script from values sent on standard input) or SSH (PowerShell 7:
 * -HostName/-UserName/-KeyFilePath); each capture step's script travels as one quoted literal
 * into Invoke-Command, and prints its JSON envelope there; files come back with
 * Copy-Item -FromSession, verified by SHA-256 on both sides before the remote copy is removed.
 */
import { quoteString, raw } from '../powershell/quote.js';
import { cmd, renderStep, stmt, type Statement, type Step } from '../powershell/script.js';

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
 * The controller PowerShell reads the password from this environment variable, set only in its
 * own environment, and removes it at once: the password is never in a script text (PowerShell logs
 * script blocks it finds suspicious, such as one that decodes base64, to the event log as 4104
 * even without script block logging), a command line, a log or a file.
 */
export const PASSWORD_ENV = 'WNVCAP_REMOTE_PASSWORD';

/** `$global:WnvcapSession = New-PSSession ...` (global: each step runs in its own script block); with a credential, `$cred` is built first (the password never leaves the script text sent on stdin). */
export function openSessionStep(t: RemoteTarget, cred?: Credential): Step {
  const statements: Statement[] = [];
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
    if (cred) {
      statements.push(stmt(cmd('ConvertTo-SecureString').param('String', raw(`$env:${PASSWORD_ENV}`)).flag('AsPlainText').flag('Force'), { assign: 'secret' }));
      statements.push(stmt(cmd('Remove-Item').param('LiteralPath', `Env:${PASSWORD_ENV}`).param('ErrorAction', 'Ignore')));
      statements.push(stmt(cmd('New-Object').param('TypeName', 'System.Management.Automation.PSCredential').param('ArgumentList', [cred.user, raw('$secret')]), { assign: 'cred' }));
      c.param('Credential', raw('$cred'));
    }
    c.param('SessionOption', raw('(New-PSSessionOption -OpenTimeout 30000 -OperationTimeout 600000)'));
  }
  statements.push(stmt(c, { assign: 'global:WnvcapSession' }));
  statements.push(stmt([cmd('Invoke-Command').param('Session', raw('$global:WnvcapSession')).param('ScriptBlock', raw('{ $env:COMPUTERNAME }'))], { resultKey: 'computerName' }));
  return { name: 'connect', description: `open a ${t.transport === 'ssh' ? 'SSH' : 'WinRM'} PowerShell session to ${t.host}`, statements, ...(t.transport === 'ssh' ? { requiresPs7: true } : {}) };
}

/** Runs a capture step on the remote host; its envelope comes back as one JSON string. */
export function remoteInvokeStep(inner: Step): Step {
  return {
    name: inner.name,
    description: `${inner.description} (remote)`,
    // The remote script's JSON envelope comes back as one string (re-created by the renderer: 5.1 notes).
    statements: [stmt(cmd('Invoke-Command').param('Session', raw('$global:WnvcapSession')).param('ScriptBlock', raw(`([scriptblock]::Create(${quoteString(renderStep(inner))}))`)), { resultKey: 'remote' })],
    timeoutMs: (inner.timeoutMs ?? 120_000) + 60_000,
  };
}

export function fetchFileStep(remotePath: string, localPath: string, timeoutMs: number): Step {
  return {
    name: 'fetch',
    timeoutMs,
    description: `copy ${remotePath} back and hash it on the remote side`,
    statements: [
      stmt(cmd('Copy-Item').param('FromSession', raw('$global:WnvcapSession')).param('LiteralPath', [remotePath]).param('Destination', localPath)),
      stmt(cmd('Invoke-Command').param('Session', raw('$global:WnvcapSession')).param('ScriptBlock', raw('{ param($p) (Get-FileHash -Algorithm SHA256 -LiteralPath $p).Hash }')).param('ArgumentList', [remotePath]), { resultKey: 'remoteHash' }),
    ],
  };
}

export function removeRemoteFileStep(remotePath: string): Step {
  return {
    name: 'remove-remote-copy',
    description: `remove ${remotePath} from the remote host after the copy was verified`,
    timeoutMs: 60_000,
    statements: [stmt(cmd('Invoke-Command').param('Session', raw('$global:WnvcapSession')).param('ScriptBlock', raw('{ param($p) Remove-Item -LiteralPath $p -Force }')).param('ArgumentList', [remotePath]))],
  };
}

export function closeSessionStep(): Step {
  return { name: 'disconnect', description: 'remove the PowerShell session', statements: [stmt(cmd('Remove-PSSession').param('Session', raw('$global:WnvcapSession')), { tolerateErrors: true })] };
}

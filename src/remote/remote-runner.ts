/**
 * A PsRunner for another host: each capture step goes through the controller (controller.ts: one
 * local PowerShell for every host of a run, which keeps the remoting sessions between steps) into
 * Invoke-Command on the target. fetch() copies a file back, checks its SHA-256 against the
 * remote hash, and only then removes the remote copy.
 */
import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import type { Step } from '../powershell/script.js';
import { RemoteError } from '../util/errors.js';
import type { JobOptions, SessionController } from './controller.js';
import { closeSessionStep, fetchFileStep, openSessionStep, remoteInvokeStep, removeRemoteFileStep, sshConfigStep, type RemoteTarget } from './remote-steps.js';
import { parseEnvelope, type PsRunner, type StepResult } from './runner.js';

export interface FetchResult {
  bytes: number;
  sha256: string;
  /** The verified copy is here; the host's copy could not be removed (said why). */
  remoteCopyKept?: string;
}

export interface FetchingRunner extends PsRunner {
  /**
   * Copies a file from the host, verifies it, removes the remote copy. timeoutMs caps the copy;
   * idleMs stops it earlier once the local file stops growing (a stalled transfer).
   */
  fetch(remotePath: string, localPath: string, opts: { timeoutMs: number; idleMs?: number }): Promise<FetchResult>;
  /** Folder on the host where captures are written. */
  readonly remoteDir: string;
}

export async function sha256File(path: string): Promise<{ hash: string; bytes: number }> {
  const h = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path)) {
    h.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { hash: h.digest('hex').toUpperCase(), bytes };
}

/** Remedies for the usual remoting failures (windows-capture.md 5.5; SSH: what ssh itself says). */
export function remoteRemedy(message: string): string | undefined {
  if (/Permission denied \(publickey|Permission denied, please try again/i.test(message)) return 'the SSH key was refused: check --user and --key, and that the public key is in the host\'s authorized_keys (administrators_authorized_keys for an administrator on Windows)';
  if (/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/i.test(message)) return 'the host\'s SSH key is not known (or changed): connect once with ssh to accept it, or add it to known_hosts';
  if (/Connection refused|No route to host|Connection timed out|Could not resolve hostname|Name or service not known/i.test(message)) return 'sshd is not reachable on that host and port: start the OpenSSH server (Start-Service sshd), open TCP 22 (or --port), check the name';
  if (/subsystem request failed|transport process has abruptly terminated/i.test(message)) return 'SSH reached the host but PowerShell did not start: register pwsh as the powershell subsystem in sshd_config (Subsystem powershell c:/progra~1/powershell/7/pwsh.exe -sshs -NoLogo) and restart sshd';
  if (/WinRM cannot complete|cannot connect|failed to connect|No such host|unreachable/i.test(message)) return 'WinRM is not enabled or not reachable: run Enable-PSRemoting -Force on the host, open TCP 5985/5986, check the name';
  if (/Access is denied/i.test(message)) return 'the account is not an administrator on the host (or UAC remote restrictions apply): use --credential with an admin account';
  if (/TrustedHosts|HTTPS transport must be used/i.test(message)) return 'for IP addresses or workgroup hosts use --use-ssl, or add the host to WSMan:\\localhost\\Client\\TrustedHosts';
  if (/second hop|double hop|delegat/i.test(message)) return 'credentials are not delegated to a third machine: wnvcap pulls files to the agent instead; do not point --out at a share from the host';
  if (/already has a capture session/i.test(message)) return 'a capture session wnvcap did not start exists on the host: inspect it (Get-NetEventSession | Format-List) or pass --force';
  if (/not enough space/i.test(message)) return 'free disk space on the host or lower --max-size';
  if (/copy|hash/i.test(message)) return 'the capture is still on the host; copy it by hand (Copy-Item -FromSession) or run again';
  return undefined;
}

/**
 * Strings that came back from Invoke-Command. The steps re-create them so that Windows PowerShell
 * 5.1's ConvertTo-Json writes plain strings; a controller that still wrote the 5.1 shape
 * {"value": "...", "PSComputerName": ...} (PowerShell issue 5797) is read too, never as "[object Object]".
 */
export function remoteStrings(v: unknown): string[] {
  const list = Array.isArray(v) ? v : v === undefined || v === null ? [] : [v];
  return list.map((x) => {
    if (typeof x === 'string') return x;
    if (typeof x === 'object' && x !== null && typeof (x as { value?: unknown }).value === 'string') return (x as { value: string }).value;
    throw new RemoteError(`a remote step returned ${JSON.stringify(x).slice(0, 80)} where a string was expected`);
  });
}

export class RemoteRunner implements FetchingRunner {
  readonly simulated = false;
  /** The controller generation this host's session lives in (undefined: not connected). */
  private connectedIn: number | undefined;

  /**
   * @param key the host's entry in the controller's session table (unique in a run)
   * @param withCredential WinRM: use the credential the controller holds (--credential)
   */
  constructor(
    private readonly controller: SessionController,
    private readonly target: RemoteTarget,
    readonly remoteDir = 'C:\\ProgramData\\wnvcap\\runs',
    private readonly key = target.host,
    private readonly withCredential = false,
  ) {
    controller.retain();
  }

  get host(): string {
    return this.target.host;
  }

  private get connected(): boolean {
    return this.connectedIn === this.controller.generation;
  }

  private async connect(): Promise<void> {
    if (this.connected) return;
    const mark = this.controller.strayMark();
    const r = await this.controller.run(openSessionStep(this.target, this.key, this.withCredential));
    if (!r.ok) {
      // Over SSH the error record only says the transport ended; ssh's own reason ("Permission
      // denied (publickey)", "Connection refused") reaches the controller's output, naming the
      // address ssh resolved: find this host's lines there.
      const said = (await this.sshSaid(mark)).join('; ');
      const msg = `cannot open a PowerShell session to ${this.target.host}: ${r.error?.message ?? 'unknown error'}${said ? ` (${said})` : ''}`;
      throw new RemoteError(msg, { host: this.target.host, hint: remoteRemedy(msg) });
    }
    this.connectedIn = this.controller.generation;
  }

  private async sshSaid(mark: number): Promise<string[]> {
    if (this.target.transport !== 'ssh') return [];
    const names = [this.target.host];
    try {
      const r = await this.controller.run(sshConfigStep(this.target));
      const config = r.ok && Array.isArray(r.result['config']) ? (r.result['config'] as unknown[]).map(String) : [];
      const hostname = config.map((l) => /^hostname\s+(\S+)/i.exec(l)?.[1]).find(Boolean);
      if (hostname) names.push(hostname);
    } catch {
      // the controller's own words are still searched for the name given
    }
    return this.controller.said(names, mark);
  }

  /** A step through the controller; a failed controller means a lost session (the next step reconnects). */
  private async control(step: Step, opts: JobOptions = {}): Promise<StepResult> {
    try {
      return await this.controller.run(step, opts);
    } catch (e) {
      this.connectedIn = undefined;
      throw e;
    }
  }

  async run(step: Step, opts: { timeoutMs?: number } = {}): Promise<StepResult> {
    const generation = this.controller.generation;
    try {
      return await this.runOnce(step, opts);
    } catch (e) {
      // The shared controller was lost (another host's failure can take it down): a step that
      // only reads is run once more over a new session.
      if (step.repeatable && this.controller.generation !== generation) return this.runOnce(step, opts);
      throw e;
    }
  }

  private async runOnce(step: Step, opts: { timeoutMs?: number }): Promise<StepResult> {
    await this.connect();
    const r = await this.control(remoteInvokeStep(this.key, step), opts);
    if (!r.ok) {
      // Invoke-Command itself failed (the remote script's own errors come back inside its envelope):
      // the remoting session is broken or gone; the next step reconnects.
      this.connectedIn = undefined;
      return r;
    }
    const text = remoteStrings(r.result['remote']).join('\n');
    const env = parseEnvelope(text);
    if (!env) throw new RemoteError(`step ${step.name} on ${this.target.host} printed no result`, { host: this.target.host });
    return env;
  }

  async fetch(remotePath: string, localPath: string, opts: { timeoutMs: number; idleMs?: number }): Promise<FetchResult> {
    const r = await this.copy(remotePath, localPath, opts);
    const remoteHash = (remoteStrings(r.result['remoteHash'])[0] ?? '').toUpperCase();
    const local = await sha256File(localPath);
    if (!remoteHash || remoteHash !== local.hash) throw new RemoteError(`the copy of ${remotePath} from ${this.target.host} does not match (sha256 ${local.hash} vs ${remoteHash}); the remote file was kept`, { host: this.target.host, hint: remoteRemedy('hash') });
    // The capture is safe here now: a host copy that cannot be removed is a warning, not a failure.
    let kept: string | undefined;
    try {
      const rm = await this.control(removeRemoteFileStep(this.key, remotePath));
      if (!rm.ok) kept = rm.error?.message ?? 'failed';
    } catch (e) {
      kept = (e as Error).message;
    }
    return { bytes: local.bytes, sha256: local.hash, ...(kept !== undefined ? { remoteCopyKept: `${remotePath} stays on ${this.target.host}: ${kept}` } : {}) };
  }

  /**
   * Copy-Item -FromSession and the host's hash. The copy is repeated once when the controller
   * PowerShell was lost meanwhile (it is shared by every host: pwsh 7.6.9 was seen to abort, exit
   * 134, when another host died mid-copy), since copying again is harmless. Any failure says
   * "copy ... failed" with the remedy: the capture is still on the host.
   */
  private async copy(remotePath: string, localPath: string, opts: { timeoutMs: number; idleMs?: number }): Promise<StepResult> {
    const size = (): number => { try { return statSync(localPath).size; } catch { return -1; } };
    const failed = (why: string): RemoteError => new RemoteError(`copy of ${remotePath} from ${this.target.host} failed: ${why}`, { host: this.target.host, hint: remoteRemedy('copy') });
    for (let attempt = 1; ; attempt++) {
      const generation = this.controller.generation;
      try {
        await this.connect();
        const r = await this.control(fetchFileStep(this.key, remotePath, localPath, opts.timeoutMs), { timeoutMs: opts.timeoutMs, progress: size, ...(opts.idleMs ? { idleMs: opts.idleMs } : {}) });
        if (r.ok) return r;
        this.connectedIn = undefined;
        throw failed(r.error?.message ?? 'unknown error');
      } catch (e) {
        if (attempt === 1 && this.controller.generation !== generation) continue; // the controller was replaced: once more
        throw (e as Error).message.startsWith('copy of ') ? e : failed((e as Error).message);
      }
    }
  }

  async dispose(): Promise<void> {
    if (this.connected) {
      try {
        await this.controller.run(closeSessionStep(this.key));
      } catch {
        // the controller may be gone
      }
    }
    await this.controller.release();
  }
}

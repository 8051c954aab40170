/**
 * A simulated fleet: each name gets its own simulated host (its own state, its own "disk" in a
 * folder standing for the remote machine), reached through simulated PowerShell remoting. Hosts
 * can be unreachable (WinRM not enabled), deny access, hold a foreign capture session, fail the
 * copy back, or be slow. The remoting wrapper scripts are rendered and parsed like everything
 * else the simulated host runs.
 */
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parsePowerShell } from '../powershell/ps-parse.js';
import { renderStep, type Step } from '../powershell/script.js';
import { remoteRemedy, sha256File, type FetchingRunner } from '../remote/remote-runner.js';
import { closeSessionStep, fetchFileStep, openSessionStep, remoteInvokeStep, removeRemoteFileStep, type Credential, type RemoteTarget } from '../remote/remote-steps.js';
import type { StepResult } from '../remote/runner.js';
import { RemoteError } from '../util/errors.js';
import { SimHost, type SimSession } from './sim-host.js';

export interface SimHostBehaviour {
  unreachable?: boolean;
  accessDenied?: boolean;
  foreignSession?: boolean;
  copyFails?: boolean;
  /** Added to every step (ms). */
  slowMs?: number;
}

/** Behaviour by host name: names containing "unreachable", "denied", "foreign", "nocopy", "slow" (for demos). */
export function behaviourFromName(name: string): SimHostBehaviour {
  const n = name.toLowerCase();
  return {
    ...(n.includes('unreachable') ? { unreachable: true } : {}),
    ...(n.includes('denied') ? { accessDenied: true } : {}),
    ...(n.includes('foreign') ? { foreignSession: true } : {}),
    ...(n.includes('nocopy') ? { copyFails: true } : {}),
    ...(n.includes('slow') ? { slowMs: 150 } : {}),
  };
}

function checkParses(step: Step): void {
  const p = parsePowerShell(renderStep(step));
  if (p.hasError) throw new Error(`remoting script ${step.name} does not parse: ${p.errors.join('; ')}`);
}

export class SimRemoteHost implements FetchingRunner {
  readonly simulated = true;
  readonly remoteDir: string;
  readonly sim: SimHost;
  private connected = false;
  /** Every remoting wrapper script this host was sent (tests search them). */
  readonly wrapperScripts: string[] = [];

  constructor(readonly target: RemoteTarget, private readonly behaviour: SimHostBehaviour, root: string, private readonly credential?: Credential) {
    this.remoteDir = join(root, target.host.replace(/[^A-Za-z0-9_.-]/g, '_'), 'ProgramData', 'wnvcap', 'runs');
    const foreign: SimSession[] = behaviour.foreignSession
      ? [{ name: 'NetTrace-ops', status: 'Running', localFilePath: 'C:\\ops\\trace.etl', maxFileSizeMB: 250, packetProvider: true, providers: [] }]
      : [];
    this.sim = new SimHost({ state: { host: target.host.toUpperCase(), sessions: foreign } });
  }

  get host(): string {
    return this.target.host;
  }

  private async wait(): Promise<void> {
    if (this.behaviour.slowMs) await new Promise((r) => setTimeout(r, this.behaviour.slowMs));
  }

  private wrap(step: Step): void {
    checkParses(step);
    this.wrapperScripts.push(renderStep(step));
  }

  private async connect(): Promise<void> {
    if (this.connected) return;
    this.wrap(openSessionStep(this.target, this.credential));
    await this.wait();
    if (this.behaviour.unreachable) {
      const m = `Connecting to remote server ${this.target.host} failed with the following error message : WinRM cannot complete the operation. Verify that the specified computer name is valid, that the computer is accessible over the network, and that a firewall exception for the WinRM service is enabled.`;
      throw new RemoteError(m, { host: this.target.host, hint: remoteRemedy(m) });
    }
    if (this.behaviour.accessDenied) {
      const m = `Connecting to remote server ${this.target.host} failed with the following error message : Access is denied.`;
      throw new RemoteError(m, { host: this.target.host, hint: remoteRemedy(m) });
    }
    this.connected = true;
  }

  async run(step: Step): Promise<StepResult> {
    await this.connect();
    this.wrap(remoteInvokeStep(step));
    await this.wait();
    return this.sim.run(step);
  }

  async fetch(remotePath: string, localPath: string): Promise<{ bytes: number; sha256: string }> {
    await this.connect();
    this.wrap(fetchFileStep(remotePath, localPath));
    await this.wait();
    if (this.behaviour.copyFails) {
      const m = `copy of ${remotePath} from ${this.target.host} failed: The network path was not found.`;
      throw new RemoteError(m, { host: this.target.host, hint: remoteRemedy('copy') });
    }
    await mkdir(join(localPath, '..'), { recursive: true });
    await copyFile(remotePath, localPath);
    const [a, b] = await Promise.all([sha256File(remotePath), sha256File(localPath)]);
    if (a.hash !== b.hash) throw new RemoteError(`the copy of ${remotePath} does not match`, { host: this.target.host });
    this.wrap(removeRemoteFileStep(remotePath));
    await rm(remotePath, { force: true });
    return { bytes: b.bytes, sha256: b.hash };
  }

  /** Capture sessions still on the host (tests: none may be left). */
  sessionsLeft(): number {
    const s = this.sim.snapshotState();
    return s.sessions.filter((x) => x.name.startsWith('wnvcap-')).length + (s.pktmon.running ? 1 : 0) + (s.netsh.running ? 1 : 0);
  }

  async dispose(): Promise<void> {
    if (this.connected) this.wrap(closeSessionStep());
  }
}

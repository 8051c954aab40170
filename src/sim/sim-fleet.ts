/**
 * A simulated fleet: each name gets its own simulated host (its own state, its own "disk" in a
 * folder standing for the remote machine), reached through simulated PowerShell remoting.
 *
 * Only the far side is simulated. On the agent side the production RemoteRunner
 * (remote/remote-runner.ts) runs as it does on Windows: it sends the remoting wrapper scripts
 * (remote/remote-steps.ts) to its PowerShell, turns failures into messages and remedies, and
 * checks each copied file against the hash the host reports. The agent's PowerShell is replaced by
 * SimRemotingShell, which reads each wrapper step (typed, as the simulated host reads its steps)
 * and does what PowerShell would do with it:
 * New-PSSession (or fail with WinRM's own error text), Invoke-Command of a capture step on the
 * simulated host, Copy-Item -FromSession plus Get-FileHash computed by the host over its own copy,
 * Remove-Item of the remote copy. Hosts can be unreachable (WinRM not enabled), deny access, hold a
 * foreign capture session, fail the copy back, corrupt the copy in transit, or be slow.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { argList, argText, type ParsedCommand } from '../powershell/parsed.js';
import { renderStep, type Step } from '../powershell/script.js';
import type { SessionController } from '../remote/controller.js';
import { RemoteRunner, type FetchingRunner } from '../remote/remote-runner.js';
import type { Credential, RemoteTarget } from '../remote/remote-steps.js';
import type { StepResult } from '../remote/runner.js';
import { SimHost, type SimSession } from './sim-host.js';
import { stepStatements } from './step-commands.js';

export interface SimHostBehaviour {
  unreachable?: boolean;
  accessDenied?: boolean;
  foreignSession?: boolean;
  copyFails?: boolean;
  /** Copy-Item -FromSession delivers the file with one byte changed. */
  corruptCopy?: boolean;
  /** Added to every remoting call (ms). */
  slowMs?: number;
}

/** Behaviour by host name: names containing "unreachable", "denied", "foreign", "nocopy", "corrupt", "slow" (for demos). */
export function behaviourFromName(name: string): SimHostBehaviour {
  const n = name.toLowerCase();
  return {
    ...(n.includes('unreachable') ? { unreachable: true } : {}),
    ...(n.includes('denied') ? { accessDenied: true } : {}),
    ...(n.includes('foreign') ? { foreignSession: true } : {}),
    ...(n.includes('nocopy') ? { copyFails: true } : {}),
    ...(n.includes('corrupt') ? { corruptCopy: true } : {}),
    ...(n.includes('slow') ? { slowMs: 150 } : {}),
  };
}

/**
 * Error texts as Windows PowerShell reports them for New-PSSession ($_.Exception.Message;
 * windows-capture.md 5.5 gives the wording, marked there as common rather than verified exact).
 */
function winrmErrorText(host: string, kind: 'unreachable' | 'denied'): string {
  const reason = kind === 'unreachable'
    ? 'WinRM cannot complete the operation. Verify that the specified computer name is valid, that the computer is accessible over the network, and that a firewall exception for the WinRM service is enabled and allows access from this computer. By default, the WinRM firewall exception for public profiles limits access to remote computers within the same local subnet.'
    : 'Access is denied.';
  return `Connecting to remote server ${host} failed with the following error message : ${reason} For more information, see the about_Remote_Troubleshooting Help topic.`;
}

const failed = (message: string, id: string, category: string): StepResult => ({ ok: false, result: {}, error: { message, id, category } });

function param(c: ParsedCommand | undefined, name: string): string | undefined {
  const v = c?.params.find((p) => p.name.toLowerCase() === name.toLowerCase())?.value;
  return argText(argList(v)[0]);
}

/** The agent's PowerShell as the remoting wrapper scripts see it, with one simulated host behind it. */
class SimRemotingShell implements SessionController {
  readonly simulated = true;
  readonly generation = 0;
  private open = false;
  /** The capture step RemoteRunner is about to wrap (its wrapper must carry this step's script). */
  private pending: Step | undefined;
  /** What Get-FileHash answered on the host, by remote path (computed over the host's own file). */
  readonly hostHashes = new Map<string, string>();

  constructor(readonly host: string, private readonly behaviour: SimHostBehaviour, private readonly sim: SimHost, private readonly scripts: string[]) {}

  expect(step: Step): void {
    this.pending = step;
  }

  async run(step: Step, opts: { timeoutMs?: number } = {}): Promise<StepResult> {
    const text = renderStep(step);
    this.scripts.push(text);
    if (this.behaviour.slowMs) await new Promise((r) => setTimeout(r, this.behaviour.slowMs));
    const commands = stepStatements(step).flatMap((st) => st.commands);
    const find = (name: string): ParsedCommand | undefined => commands.find((c) => c.name.toLowerCase() === name);
    if (step.name === 'connect') {
      if (this.behaviour.unreachable) return failed(winrmErrorText(this.host, 'unreachable'), 'WinRMOperationTimeout,PSSessionOpenFailed', 'OpenError');
      if (this.behaviour.accessDenied) return failed(winrmErrorText(this.host, 'denied'), 'AccessDenied,PSSessionOpenFailed', 'OpenError');
      this.open = true;
      return { ok: true, result: { computerName: [this.sim.host] } };
    }
    if (step.name === 'disconnect') {
      this.open = false;
      return { ok: true, result: {} };
    }
    if (!this.open) return failed("Cannot validate argument on parameter 'Session'. The argument is null or empty.", 'ParameterArgumentValidationError', 'InvalidData');
    const copy = find('copy-item');
    if (step.name === 'fetch') return this.copyBack(param(copy, 'LiteralPath') ?? '', param(copy, 'Destination') ?? '');
    if (step.name === 'remove-remote-copy') {
      const path = param(find('invoke-command'), 'ArgumentList') ?? '';
      await rm(path, { force: true });
      return { ok: true, result: {} };
    }
    // Invoke-Command of a capture step: the wrapper must carry the step's script (one quoted literal).
    const inner = this.pending;
    this.pending = undefined;
    if (!inner || !text.replace(/(['\u2018\u2019\u201a\u201b])\1/g, '$1').includes(renderStep(inner))) throw new Error(`remoting script ${step.name} does not carry the script of the step it runs`);
    const env = await this.sim.run(inner, opts);
    return { ok: true, result: { remote: [JSON.stringify(env)] } };
  }

  /** Copy-Item -FromSession (the bytes cross the network), then Get-FileHash run on the host. */
  private async copyBack(remotePath: string, localPath: string): Promise<StepResult> {
    if (this.behaviour.copyFails) return failed('The network path was not found.', 'System.IO.IOException,Microsoft.PowerShell.Commands.CopyItemCommand', 'WriteError');
    const onHost = await readFile(remotePath);
    const received = Buffer.from(onHost);
    if (this.behaviour.corruptCopy) received.writeUInt8(received.readUInt8(received.length >> 1) ^ 0x20, received.length >> 1);
    await mkdir(dirname(localPath), { recursive: true });
    await writeFile(localPath, received);
    const hash = createHash('sha256').update(onHost).digest('hex').toUpperCase();
    this.hostHashes.set(remotePath, hash);
    return { ok: true, result: { remoteHash: [hash] } };
  }

  strayMark(): number {
    return 0;
  }

  said(): string[] {
    return [];
  }

  retain(): void {}

  async release(): Promise<void> {}
}

export class SimRemoteHost implements FetchingRunner {
  readonly simulated = true;
  readonly remoteDir: string;
  readonly sim: SimHost;
  /** Every remoting wrapper script this host was sent (tests search them). */
  readonly wrapperScripts: string[] = [];
  private readonly shell: SimRemotingShell;
  private readonly runner: RemoteRunner;

  constructor(readonly target: RemoteTarget, behaviour: SimHostBehaviour, root: string, credential?: Credential) {
    this.remoteDir = join(root, target.host.replace(/[^A-Za-z0-9_.-]/g, '_'), 'ProgramData', 'wnvcap', 'runs');
    const foreign: SimSession[] = behaviour.foreignSession
      ? [{ name: 'NetTrace-ops', status: 'Running', localFilePath: 'C:\\ops\\trace.etl', maxFileSizeMB: 250, packetProvider: true, providers: [] }]
      : [];
    this.sim = new SimHost({ state: { host: target.host.toUpperCase(), sessions: foreign } });
    this.shell = new SimRemotingShell(target.host, behaviour, this.sim, this.wrapperScripts);
    this.runner = new RemoteRunner(this.shell, target, this.remoteDir, target.host, credential !== undefined);
  }

  get host(): string {
    return this.target.host;
  }

  /** What the host's Get-FileHash answered for each file copied back, by remote path. */
  get hostHashes(): ReadonlyMap<string, string> {
    return this.shell.hostHashes;
  }

  run(step: Step, opts: { timeoutMs?: number } = {}): Promise<StepResult> {
    this.shell.expect(step);
    return this.runner.run(step, opts);
  }

  fetch(remotePath: string, localPath: string, opts: { timeoutMs: number } = { timeoutMs: 600_000 }): Promise<{ bytes: number; sha256: string }> {
    // Forwards the copy's timeout to RemoteRunner.fetch, which takes it as a third argument since
    // the remoting rewrite (a RemoteRunner that takes two ignores it).
    const fetch: (remotePath: string, localPath: string, opts: { timeoutMs: number }) => Promise<{ bytes: number; sha256: string }> = this.runner.fetch.bind(this.runner);
    return fetch(remotePath, localPath, opts);
  }

  /** Capture sessions still on the host (tests: none may be left). */
  sessionsLeft(): number {
    const s = this.sim.snapshotState();
    return s.sessions.filter((x) => x.name.startsWith('wnvcap-')).length + (s.pktmon.running ? 1 : 0) + (s.netsh.running ? 1 : 0);
  }

  dispose(): Promise<void> {
    return this.runner.dispose();
  }
}

/**
 * The simulated Windows container host. It runs the exact text wnvcap would send to PowerShell:
 * each step is rendered, parsed with the tree-sitter PowerShell grammar, and its commands are
 * executed against a model of the host that follows the documented behaviour (windows-capture.md
 * 1.2, 1.10, 3): one NetEventSession at a time, Start of a running session and Stop of a stopped
 * one fail, access denied when not elevated, NetEventPacketCapture missing on old builds, a packet
 * capture provider already added, disk full, file in use; pktmon has one global session. On stop
 * it writes a real ETL (sim/container-host.ts) at the session's LocalFilePath. Inventory commands
 * answer in PowerShell 5.1 or 7 shapes. Faults can be injected at any command. The state can live
 * in a JSON file so that separate processes (a killed agent, then `sessions cleanup`) share it.
 */
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { argList, argText, parsePowerShell, type ParsedCommand } from '../powershell/ps-parse.js';
import { renderStep, type Step } from '../powershell/script.js';
import { RemoteError } from '../util/errors.js';
import type { PsRunner, StepResult } from '../remote/runner.js';
import { containerHostCapture, containerHostSnapshot } from './container-host.js';

export interface SimSession {
  name: string;
  status: 'NotRunning' | 'Running';
  localFilePath: string;
  maxFileSizeMB: number;
  packetProvider: boolean;
  providers: string[];
  startedAt?: number;
}

export interface SimState {
  host: string;
  osBuild: number;
  elevated: boolean;
  psEdition: 'Desktop' | 'Core';
  /** Disk free (bytes) where files are written; 0 = disk full. */
  diskFreeBytes: number;
  sessions: SimSession[];
  pktmon: { running: boolean; file?: string; filters: number };
  netsh: { running: boolean; file?: string; session?: string };
  /** Files the simulated host holds open (writes fail). */
  filesInUse: string[];
  /** Scheduled tasks by path+name. */
  tasks?: SimTask[];
}

export interface SimTask {
  name: string;
  path: string;
  execute: string;
  argument: string;
  trigger: Record<string, unknown>;
  principal: Record<string, unknown>;
  settings: Record<string, unknown>;
  runs: number;
}

export type SimFault =
  | { kind: 'error'; command: string; message: string; nth?: number }
  | { kind: 'die'; command: string; nth?: number }
  | { kind: 'hang'; command: string; nth?: number };

export interface SimHostOptions {
  state?: Partial<SimState>;
  /** Persist the state here (shared by processes). */
  stateFile?: string;
  faults?: SimFault[];
  /** Packets scale of the ETL written at stop. */
  scale?: number;
}

export function defaultSimState(): SimState {
  return {
    host: 'SIM-CH01', osBuild: 20348, elevated: true, psEdition: 'Core', diskFreeBytes: 50 * 1024 ** 3,
    sessions: [], pktmon: { running: false, filters: 0 }, netsh: { running: false }, filesInUse: [],
  };
}

class CommandError extends Error {
  constructor(message: string, readonly id: string, readonly category: string, readonly hresult = -2146233087) {
    super(message);
  }
}

export class SimHost implements PsRunner {
  readonly simulated = true;
  private state: SimState;
  private readonly faults: SimFault[];
  private readonly counts = new Map<string, number>();
  /** Every command the host executed, in order (tests read it). */
  readonly executed: ParsedCommand[] = [];
  /** Every script text the host received. */
  readonly scripts: string[] = [];
  /** Variables a script assigned ($wnvcapAction = ...), for later commands of the same script. */
  private readonly vars = new Map<string, unknown>();

  constructor(private readonly o: SimHostOptions = {}) {
    this.state = { ...defaultSimState(), ...(o.stateFile ? readState(o.stateFile) : {}), ...(o.state ?? {}) };
    this.faults = o.faults ?? [];
    this.save();
  }

  get host(): string {
    return this.state.host;
  }

  snapshotState(): SimState {
    this.load();
    return JSON.parse(JSON.stringify(this.state)) as SimState;
  }

  async run(step: Step, _opts: { timeoutMs?: number } = {}): Promise<StepResult> {
    this.load();
    const text = renderStep(step);
    this.scripts.push(text);
    this.vars.clear();
    const parsed = parsePowerShell(text);
    if (parsed.hasError) throw new RemoteError(`simulated host: the script of step ${step.name} does not parse: ${parsed.errors.join('; ')}`, { host: this.host });
    const result: Record<string, unknown> = {};
    try {
      for (const st of parsed.statements) {
        if (st.commands.length === 0) {
          if (st.resultKey !== undefined) result[st.resultKey] = this.expression(st.expression ?? '');
          continue;
        }
        const first = st.commands[0]!;
        const tolerate = first.native ? !st.exitChecked : first.params.some((p) => p.name.toLowerCase() === 'erroraction' && /silentlycontinue|ignore/i.test(argText(p.value) ?? ''));
        let out: unknown[];
        try {
          out = await this.execute(first);
        } catch (e) {
          if (e instanceof CommandError && tolerate) {
            out = [];
          } else throw e;
        }
        if (st.resultKey !== undefined) result[st.resultKey] = out;
        if (st.variable !== undefined) this.vars.set(st.variable.toLowerCase(), out[0]);
      }
      this.save();
      return JSON.parse(JSON.stringify({ ok: true, result })) as StepResult;
    } catch (e) {
      this.save();
      if (e instanceof CommandError) return { ok: false, result: {}, error: { message: e.message, id: e.id, category: e.category, hresult: e.hresult } };
      throw e;
    }
  }

  async dispose(): Promise<void> {}

  private expression(text: string): unknown {
    if (/COMPUTERNAME/i.test(text)) return this.state.host;
    if (/IsInRole/i.test(text)) return this.state.elevated;
    if (/PSEdition/i.test(text)) return this.state.psEdition;
    if (/PSVersion/i.test(text)) return this.state.psEdition === 'Core' ? '7.4.6' : '5.1.20348.2849';
    return null;
  }

  private fault(name: string): void {
    const n = (this.counts.get(name.toLowerCase()) ?? 0) + 1;
    this.counts.set(name.toLowerCase(), n);
    for (const f of this.faults) {
      if (f.command.toLowerCase() !== name.toLowerCase() || (f.nth !== undefined && f.nth !== n)) continue;
      if (f.kind === 'error') throw new CommandError(f.message, `SimulatedFault,${name}`, 'NotSpecified');
      if (f.kind === 'die') throw new RemoteError(`simulated host: PowerShell died while running ${name}`, { host: this.host });
      if (f.kind === 'hang') throw new RemoteError(`simulated host: ${name} timed out`, { host: this.host });
    }
  }

  private needAdmin(name: string): void {
    if (!this.state.elevated) throw new CommandError('Access is denied.', `HRESULT 0x80070005,${name}`, 'PermissionDenied', -2147024891);
  }

  private netEventAvailable(name: string): void {
    if (this.state.osBuild < 9600) throw new CommandError(`The term '${name}' is not recognized as the name of a cmdlet, function, script file, or operable program.`, 'CommandNotFoundException', 'ObjectNotFound');
  }

  private session(name: string, cmdName: string): SimSession {
    const s = this.state.sessions.find((x) => x.name.toLowerCase() === name.toLowerCase());
    if (!s) throw new CommandError(`No MSFT_NetEventSession objects found with property 'Name' equal to '${name}'.`, `CmdletizationQuery_NotFound_Name,${cmdName}`, 'ObjectNotFound');
    return s;
  }

  private async execute(c: ParsedCommand): Promise<unknown[]> {
    this.executed.push(c);
    this.fault(c.name);
    const p = (n: string): string | undefined => argText(c.params.find((x) => x.name.toLowerCase() === n.toLowerCase())?.value);
    const name = c.name.toLowerCase();
    const snap = containerHostSnapshot(this.state.psEdition === 'Desktop' ? '5.1' : '7').commands;
    switch (name) {
      case 'get-ciminstance':
        return [{ BuildNumber: String(this.state.osBuild), Caption: 'Microsoft Windows Server 2022 Datacenter (simulated)', Version: `10.0.${this.state.osBuild}` }];
      case 'get-command':
        if (this.state.osBuild < 9600) return [];
        return ['New-NetEventSession', 'Add-NetEventPacketCaptureProvider', 'Start-NetEventSession', 'Stop-NetEventSession', 'Remove-NetEventSession',
          ...(this.state.osBuild >= 20348 ? ['Add-NetEventVmSwitchProvider', 'Add-NetEventVFPProvider'] : [])].map((n) => ({ Name: n }));
      case 'get-neteventsession': {
        this.netEventAvailable(c.name);
        const n = p('Name');
        const list = n ? [this.session(n, c.name)] : this.state.sessions;
        return list.map((s) => ({ Name: s.name, SessionStatus: s.status, LocalFilePath: s.localFilePath, MaxFileSize: s.maxFileSizeMB }));
      }
      case 'new-neteventsession': {
        this.netEventAvailable(c.name);
        this.needAdmin(c.name);
        if (this.state.sessions.length > 0) throw new CommandError('Cannot create a file when that file already exists. Only one session can exist at a time.', `HRESULT 0x800700b7,${c.name}`, 'ResourceExists', -2147024713);
        const path = p('LocalFilePath') ?? 'C:\\Windows\\system32\\config\\systemprofile\\AppData\\Local\\NetEventTrace.etl';
        this.state.sessions.push({ name: p('Name') ?? '', status: 'NotRunning', localFilePath: path, maxFileSizeMB: Number(p('MaxFileSize') ?? 250), packetProvider: false, providers: [] });
        return [];
      }
      case 'add-neteventpacketcaptureprovider': {
        const s = this.session(p('SessionName') ?? '', c.name);
        if (s.packetProvider) throw new CommandError('A packet capture provider already exists; remove it before adding a new one.', `HRESULT 0x800700b7,${c.name}`, 'ResourceExists');
        s.packetProvider = true;
        return [];
      }
      case 'add-neteventprovider': {
        const s = this.session(p('SessionName') ?? '', c.name);
        const pn = p('Name') ?? '';
        if (/^\{?00000000/.test(pn)) throw new CommandError(`The provider ${pn} is not registered on this host.`, `HRESULT 0x80071069,${c.name}`, 'ObjectNotFound');
        s.providers.push(pn);
        return [{ Name: pn, SessionName: s.name }];
      }
      case 'add-neteventvmswitchprovider':
      case 'add-neteventvfpprovider':
        if (this.state.osBuild < 20348) throw new CommandError(`The term '${c.name}' is not recognized.`, 'CommandNotFoundException', 'ObjectNotFound');
        this.session(p('SessionName') ?? '', c.name).providers.push(c.name);
        return [];
      case 'start-neteventsession': {
        this.needAdmin(c.name);
        const s = this.session(p('Name') ?? '', c.name);
        if (s.status === 'Running') throw new CommandError('The session is already running; you cannot start it.', `HRESULT 0x800700aa,${c.name}`, 'InvalidOperation');
        if (!s.packetProvider && s.providers.length === 0) throw new CommandError('The session has no provider.', `HRESULT 0x80070057,${c.name}`, 'InvalidArgument');
        if (this.state.diskFreeBytes <= 0) throw new CommandError('There is not enough space on the disk.', `HRESULT 0x80070070,${c.name}`, 'WriteError', -2147024784);
        if (this.state.filesInUse.includes(s.localFilePath)) throw new CommandError('The process cannot access the file because it is being used by another process.', `HRESULT 0x80070020,${c.name}`, 'WriteError', -2147024864);
        s.status = 'Running';
        s.startedAt = Date.now();
        return [];
      }
      case 'stop-neteventsession': {
        const s = this.session(p('Name') ?? '', c.name);
        if (s.status !== 'Running') throw new CommandError('You cannot stop a session unless it is currently running.', `HRESULT 0x80070426,${c.name}`, 'InvalidOperation');
        s.status = 'NotRunning';
        this.writeEtl(s.localFilePath);
        return [];
      }
      case 'remove-neteventsession': {
        const s = this.session(p('Name') ?? '', c.name);
        this.state.sessions = this.state.sessions.filter((x) => x !== s);
        return [];
      }
      case 'get-item': {
        const path = p('LiteralPath') ?? p('Path') ?? '';
        try {
          return [{ Length: statSync(path).size }];
        } catch {
          const s = this.state.sessions.find((x) => x.localFilePath === path && x.status === 'Running');
          if (s) return [{ Length: Math.min(s.maxFileSizeMB * 1048576, Math.floor((Date.now() - (s.startedAt ?? Date.now())) * 40)) }];
          throw new CommandError(`Cannot find path '${path}' because it does not exist.`, 'PathNotFound,Microsoft.PowerShell.Commands.GetItemCommand', 'ObjectNotFound');
        }
      }
      case 'new-item': {
        if (this.state.diskFreeBytes <= 0) throw new CommandError('There is not enough space on the disk.', 'DirectoryCreateError', 'WriteError');
        const path = p('Path') ?? '';
        try {
          mkdirSync(path, { recursive: true });
        } catch {
          // Windows paths on a non-Windows machine: nothing to create
        }
        return [];
      }
      case 'get-netcompartment':
      case 'get-netipinterface':
      case 'get-netipaddress':
      case 'get-netadapter':
      case 'get-hnsnetwork':
      case 'get-hnsendpoint':
      case 'get-hnsnamespace':
      case 'get-vmnetworkadapter':
      case 'get-vmswitch': {
        const key = Object.keys(snap).find((k) => k.toLowerCase() === name) ?? c.name;
        const v = snap[key];
        return v === null || v === undefined ? [] : Array.isArray(v) ? v : [v];
      }
      case 'new-timespan':
        return [{ TotalSeconds: Number(p('Seconds') ?? 0) + 60 * Number(p('Minutes') ?? 0) + 3600 * Number(p('Hours') ?? 0) + 86400 * Number(p('Days') ?? 0) }];
      case 'new-scheduledtaskaction':
        return [{ Execute: p('Execute') ?? '', Arguments: p('Argument') ?? '', WorkingDirectory: p('WorkingDirectory') ?? '' }];
      case 'new-scheduledtasktrigger': {
        const kind = ['Once', 'Daily', 'Weekly', 'AtStartup', 'AtLogOn'].find((k) => c.params.some((x) => x.name.toLowerCase() === k.toLowerCase())) ?? 'Once';
        if (kind !== 'AtStartup' && kind !== 'AtLogOn' && !p('At')) throw new CommandError('Cannot process argument: -At is required.', 'ParameterArgumentValidationError,New-ScheduledTaskTrigger', 'InvalidArgument');
        return [{ Kind: kind, At: p('At') ?? null, DaysOfWeek: argList(c.params.find((x) => x.name === 'DaysOfWeek')?.value).map(argText), Repetition: c.params.some((x) => x.name === 'RepetitionInterval') }];
      }
      case 'new-scheduledtaskprincipal':
        return [{ UserId: p('UserId') ?? '', LogonType: p('LogonType') ?? '', RunLevel: p('RunLevel') ?? '' }];
      case 'new-scheduledtasksettingsset':
        return [{ MultipleInstances: p('MultipleInstances') ?? '', ExecutionTimeLimit: true }];
      case 'register-scheduledtask': {
        this.needAdmin(c.name);
        const v = (n: string): Record<string, unknown> => {
          const raw = c.params.find((x) => x.name.toLowerCase() === n.toLowerCase())?.value;
          const name2 = raw?.kind === 'raw' ? raw.text.replace(/^\$/, '').toLowerCase() : '';
          return (this.vars.get(name2) as Record<string, unknown> | undefined) ?? {};
        };
        const tasks = (this.state.tasks ??= []);
        const name2 = p('TaskName') ?? '';
        const path = p('TaskPath') ?? '\\';
        const existing = tasks.findIndex((t) => t.name === name2 && t.path === path);
        if (existing >= 0 && !c.params.some((x) => x.name === 'Force')) throw new CommandError(`Cannot create a file when that file already exists.`, 'HRESULT 0x800700b7,Register-ScheduledTask', 'ResourceExists');
        const action = v('Action');
        const task: SimTask = { name: name2, path, execute: String(action['Execute'] ?? ''), argument: String(action['Arguments'] ?? ''), trigger: v('Trigger'), principal: v('Principal'), settings: v('Settings'), runs: 0 };
        if (existing >= 0) tasks[existing] = task;
        else tasks.push(task);
        return [{ TaskName: name2, TaskPath: path, State: 'Ready' }];
      }
      case 'get-scheduledtask': {
        const path = p('TaskPath');
        return (this.state.tasks ?? []).filter((t) => !path || t.path === path).map((t) => ({ TaskName: t.name, TaskPath: t.path, State: 'Ready', Execute: t.execute, Arguments: t.argument }));
      }
      case 'unregister-scheduledtask': {
        this.needAdmin(c.name);
        const tasks = this.state.tasks ?? [];
        const i = tasks.findIndex((t) => t.name === p('TaskName') && (!p('TaskPath') || t.path === p('TaskPath')));
        if (i < 0) throw new CommandError(`No MSFT_ScheduledTask objects found with property 'TaskName' equal to '${p('TaskName')}'.`, 'CmdletizationQuery_NotFound_TaskName,Unregister-ScheduledTask', 'ObjectNotFound');
        tasks.splice(i, 1);
        return [];
      }
      case 'start-scheduledtask': {
        const t = (this.state.tasks ?? []).find((x) => x.name === p('TaskName') && (!p('TaskPath') || x.path === p('TaskPath')));
        if (!t) throw new CommandError(`The system cannot find the file specified.`, 'HRESULT 0x80070002,Start-ScheduledTask', 'ObjectNotFound');
        t.runs++;
        return [];
      }
      case 'out-null':
      case 'select-object':
        return [];
      default:
        if (c.native) return this.native(c);
        throw new CommandError(`The term '${c.name}' is not recognized (simulated host).`, 'CommandNotFoundException', 'ObjectNotFound');
    }
  }

  private native(c: ParsedCommand): unknown[] {
    const args = c.args.map((a) => argText(a) ?? '');
    const prog = c.name.toLowerCase();
    if (prog === 'docker.exe') return (containerHostSnapshot('7').commands['docker network inspect'] as unknown[]).slice(0, 1);
    if (prog === 'pktmon.exe') {
      const verb = args[0];
      if (verb === 'status') return [this.state.pktmon.running ? 'Collection: Running' : 'Collection: Stopped'];
      if (verb === 'filter') {
        if (args[1] === 'remove') this.state.pktmon.filters = 0;
        else this.state.pktmon.filters++;
        return [];
      }
      if (verb === 'start') {
        this.needAdmin(c.name);
        if (this.state.pktmon.running) throw new CommandError('pktmon: a capture is already running (exit code 1)', 'NativeCommandError', 'InvalidOperation');
        const i = args.indexOf('--file-name');
        this.state.pktmon = { running: true, filters: this.state.pktmon.filters, ...(i >= 0 ? { file: args[i + 1]! } : {}) };
        return [];
      }
      if (verb === 'stop') {
        if (!this.state.pktmon.running) throw new CommandError('pktmon: no capture is running (exit code 1)', 'NativeCommandError', 'InvalidOperation');
        if (this.state.pktmon.file) this.writeEtl(this.state.pktmon.file);
        this.state.pktmon = { running: false, filters: this.state.pktmon.filters };
        return [];
      }
      return [];
    }
    if (prog === 'netsh.exe') {
      if (args[1] === 'show') return [this.state.netsh.running ? 'Status: Running' : 'There is no trace session currently in progress.'];
      if (args[1] === 'start') {
        this.needAdmin(c.name);
        if (this.state.netsh.running) throw new CommandError('A tracing session is already in progress.', 'NativeCommandError', 'InvalidOperation');
        const file = args.find((a) => a.startsWith('tracefile='))?.slice(10);
        const session = args.find((a) => a.startsWith('sessionname='))?.slice(12);
        this.state.netsh = { running: true, ...(file ? { file } : {}), ...(session ? { session } : {}) };
        return [];
      }
      if (args[1] === 'stop') {
        if (!this.state.netsh.running) throw new CommandError('There is no trace session currently in progress.', 'NativeCommandError', 'InvalidOperation');
        if (this.state.netsh.file) this.writeEtl(this.state.netsh.file);
        this.state.netsh = { running: false };
        return [];
      }
    }
    return [];
  }

  private writeEtl(path: string): void {
    // The session started when Start-NetEventSession ran: its capture carries that time.
    const started = this.state.sessions.find((x) => x.localFilePath === path)?.startedAt ?? Date.now();
    const startTime = BigInt(started) * 10000n + 116444736000000000n;
    const cap = containerHostCapture({ ps: this.state.psEdition === 'Desktop' ? '5.1' : '7', scale: this.o.scale ?? 4, startTime });
    try {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, cap.etl);
    } catch {
      // a Windows path on another OS: the capture has nowhere to go
    }
  }

  private load(): void {
    if (this.o.stateFile) this.state = { ...this.state, ...readState(this.o.stateFile) };
  }

  private save(): void {
    const f = this.o.stateFile;
    if (!f) return;
    mkdirSync(dirname(f), { recursive: true });
    writeFileSync(`${f}.tmp`, JSON.stringify(this.state));
    renameSync(`${f}.tmp`, f);
  }
}

function readState(file: string): Partial<SimState> {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Partial<SimState>;
  } catch {
    return {};
  }
}

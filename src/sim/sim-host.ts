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
import { appendFileSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { PKTMON_BUILD, PROBED_COMMANDS, PKTMON_TRACE_SESSION } from '../capture/steps.js';
import { argList, argText, type ParsedCommand } from '../powershell/parsed.js';
import { errorKey, exitCodeKey, renderStep, type Step } from '../powershell/script.js';
import { RemoteError } from '../util/errors.js';
import type { PsRunner, StepResult } from '../remote/runner.js';
import { containerHostCapture, containerHostSnapshot } from './container-host.js';
import { stepStatements, type SimStatement } from './step-commands.js';

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
  /** How long a "hang" fault waits when run() gets no opts.timeoutMs (LocalPowerShellRunner's default, 120000). */
  defaultTimeoutMs?: number;
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

/** Packets between two flushes of a timed session's buffers (sim/container-host.ts flushEvery). */
const FLUSH_EVERY_PACKETS = 25;

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
  /** The step being run and its timeout (a "hang" fault waits that long). */
  private current = { step: '', timeoutMs: 0 };

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

  async run(step: Step, opts: { timeoutMs?: number } = {}): Promise<StepResult> {
    this.current = { step: step.name, timeoutMs: opts.timeoutMs ?? this.o.defaultTimeoutMs ?? step.timeoutMs ?? 120000 };
    this.load();
    this.scripts.push(renderStep(step));
    this.vars.clear();
    const result: Record<string, unknown> = {};
    const absent: string[] = [];
    try {
      for (const st of stepStatements(step)) await this.statement(st, result, absent);
      this.save();
      return JSON.parse(JSON.stringify({ ok: true, result, absent })) as StepResult;
    } catch (e) {
      this.save();
      if (e instanceof CommandError) return { ok: false, result: {}, absent, error: { message: e.message, id: e.id, category: e.category, hresult: e.hresult } };
      throw e;
    }
  }

  private async statement(st: SimStatement, result: Record<string, unknown>, absent: string[]): Promise<void> {
    const first = st.commands[0];
    if (!first) {
      if (st.resultKey !== undefined) result[st.resultKey] = [this.expression(st.expression ?? '')];
      return;
    }
    if (st.optional && !this.hasCommand(first.name)) {
      absent.push(first.name);
      return;
    }
    let out: unknown[];
    let exitCode = 0;
    try {
      out = await this.execute(first);
    } catch (e) {
      if (!(e instanceof CommandError && st.tolerate)) throw e;
      out = first.native ? [e.message] : [];
      exitCode = 1;
      if (!first.native) result[errorKey(st.resultKey ?? st.variable ?? first.name)] = e.message;
    }
    const expand = st.commands.find((c) => c.name === 'Select-Object' && c.params.some((p) => p.name === 'ExpandProperty'));
    if (expand) out = out.map((x) => (typeof x === 'object' && x !== null ? (x as Record<string, unknown>)['Name'] : x));
    if (st.resultKey !== undefined) {
      result[st.resultKey] = out;
      if (first.native) result[exitCodeKey(st.resultKey)] = exitCode;
    }
    if (st.variable !== undefined) this.vars.set(st.variable.toLowerCase(), first.native ? out : out[0]);
  }

  /** The commands this simulated Windows build has (Statement.optional probes them). */
  private hasCommand(name: string): boolean {
    const n = name.toLowerCase();
    if (n === 'pktmon.exe') return this.state.osBuild >= PKTMON_BUILD;
    if (n === 'add-neteventvmswitchprovider' || n === 'add-neteventvfpprovider') return this.state.osBuild >= 20348;
    if (n.includes('-netevent')) return this.state.osBuild >= 9600;
    if (n === 'crictl.exe') return false; // a Docker host, not a Kubernetes node
    return true;
  }

  async dispose(): Promise<void> {
    for (const path of [...this.flushing.keys()]) this.stopFlushing(path);
  }

  private expression(text: string): unknown {
    if (/COMPUTERNAME/i.test(text)) return this.state.host;
    if (/IsInRole/i.test(text)) return this.state.elevated;
    if (/PSEdition/i.test(text)) return this.state.psEdition;
    if (/PSVersion/i.test(text)) return this.state.psEdition === 'Core' ? '7.4.6' : '5.1.20348.2849';
    return null;
  }

  /**
   * Injected faults. error: the cmdlet fails (the script's catch reports it). die: PowerShell
   * exits at once. hang: the command never returns, so nothing answers until the runner's timeout
   * (run()'s opts.timeoutMs, else defaultTimeoutMs) has passed, and then the step fails as a
   * timeout (LocalPowerShellRunner's wording), not as a death.
   */
  private async fault(name: string): Promise<void> {
    const n = (this.counts.get(name.toLowerCase()) ?? 0) + 1;
    this.counts.set(name.toLowerCase(), n);
    for (const f of this.faults) {
      if (f.command.toLowerCase() !== name.toLowerCase() || (f.nth !== undefined && f.nth !== n)) continue;
      if (f.kind === 'error') throw new CommandError(f.message, `SimulatedFault,${name}`, 'NotSpecified');
      if (f.kind === 'die') throw new RemoteError(`simulated host: PowerShell died while running ${name}`, { host: this.host });
      if (f.kind === 'hang') {
        const { step, timeoutMs } = this.current;
        await new Promise((r) => setTimeout(r, timeoutMs));
        throw new RemoteError(`simulated host: step ${step} timed out after ${timeoutMs} ms (${name} did not return)`, { host: this.host });
      }
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
    await this.fault(c.name);
    const p = (n: string): string | undefined => argText(c.params.find((x) => x.name.toLowerCase() === n.toLowerCase())?.value);
    const name = c.name.toLowerCase();
    const snap = containerHostSnapshot(this.state.psEdition === 'Desktop' ? '5.1' : '7').commands;
    switch (name) {
      case 'get-ciminstance':
        if (p('ClassName') === 'Win32_Group') return [{ Name: 'Administrators', Domain: this.state.host, SID: 'S-1-5-32-544' }];
        return [{ BuildNumber: String(this.state.osBuild), Caption: 'Microsoft Windows Server 2022 Datacenter (simulated)', Version: `10.0.${this.state.osBuild}` }];
      case 'get-cimassociatedinstance':
        // The simulated host's administrators: its own account, Domain Admins, and the agent SIM-AGENT's computer account.
        return [{ Domain: this.state.host, Name: 'Administrator' }, { Domain: 'SIMCORP', Name: 'Domain Admins' }, { Domain: 'SIMCORP', Name: 'SIM-AGENT$' }];
      case 'get-command':
        return PROBED_COMMANDS.filter((n) => this.hasCommand(n)).map((Name) => ({ Name }));
      case 'get-etwtracesession': {
        const running = [...(this.state.pktmon.running ? [PKTMON_TRACE_SESSION] : []), ...(this.state.netsh.running && this.state.netsh.session ? [this.state.netsh.session] : [])];
        const asked = argList(c.params.find((x) => x.name === 'Name')?.value).map((v) => (argText(v) ?? '').toLowerCase());
        return running.filter((n) => asked.includes(n.toLowerCase())).map((Name) => ({ Name }));
      }
      case 'update-etwtracesession': {
        this.needAdmin(c.name);
        const seconds = Number(p('FlushTimer') ?? 0);
        return argList(c.params.find((x) => x.name === 'Name')?.value).map((v) => {
          const name = argText(v) ?? '';
          const file = this.runningFile(name);
          if (!file) throw new CommandError(`The ETW session ${name} was not found.`, `HRESULT 0x80071069,${c.name}`, 'ObjectNotFound');
          if (seconds > 0) this.flushEvery(file, seconds);
          return { Name: name, FlushTimer: seconds };
        });
      }
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
        // A Windows path (C:\..., \\server\share) on another OS names nothing here; mkdir would
        // make a folder called "C:\..." in the current directory.
        if (process.platform !== 'win32' && /^([A-Za-z]:[\\/]|\\\\)/.test(path)) return [];
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
      case 'new-scheduledtasksettingsset': {
        // ExecutionTimeLimit as Task Scheduler keeps it (an XML duration such as PT20M), computed
        // from the TimeSpan this command was given: (New-TimeSpan ...) or a 'd.hh:mm:ss' string.
        // Without the parameter, Task Scheduler's default of 72 hours (windows-capture.md 4).
        const limit = c.params.find((x) => x.name.toLowerCase() === 'executiontimelimit')?.value;
        let seconds = 72 * 3600;
        if (limit !== undefined) {
          const text = limit.kind === 'raw' ? limit.text.replace(/^\(([\s\S]*)\)$/, '$1') : (argText(limit) ?? '');
          const timespan = limit.kind === 'raw' ? /^New-TimeSpan((?:\s+-(?:Days|Hours|Minutes|Seconds)\s+\d+)+)$/i.exec(text.trim()) : null;
          const hms = /^(?:(\d+)\.)?(\d+):(\d+)(?::(\d+))?$/.exec(text);
          if (timespan) seconds = timespanSeconds(timespan[1]!);
          else if (hms) seconds = 86400 * Number(hms[1] ?? 0) + 3600 * Number(hms[2]) + 60 * Number(hms[3]) + Number(hms[4] ?? 0);
          else throw new CommandError(`Cannot process argument transformation on parameter 'ExecutionTimeLimit'. Cannot convert value "${text}" to type "System.TimeSpan".`, 'ParameterArgumentTransformationError,New-ScheduledTaskSettingsSet', 'InvalidData');
        }
        const d = Math.floor(seconds / 86400);
        const [h, m, sec] = [Math.floor((seconds % 86400) / 3600), Math.floor((seconds % 3600) / 60), seconds % 60];
        const time = `${h ? `${h}H` : ''}${m ? `${m}M` : ''}${sec ? `${sec}S` : ''}`;
        const iso = `P${d ? `${d}D` : ''}${time || !d ? `T${time || '0S'}` : ''}`;
        return [{ MultipleInstances: p('MultipleInstances') ?? '', ExecutionTimeLimit: iso, StartWhenAvailable: c.params.some((x) => x.name.toLowerCase() === 'startwhenavailable') }];
      }
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
    if (prog === 'docker.exe') {
      // docker prints text: network ids for `network ls --quiet`, one JSON array for `network inspect`.
      const nets = containerHostSnapshot('7').commands['docker network inspect'] as Array<{ Id?: string; Name?: string }>;
      if (args[1] === 'ls') return nets.map((n) => n.Id ?? n.Name ?? '');
      return JSON.stringify(nets, null, 4).split('\n');
    }
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

  /** The file an ETW session of this host writes, by the session's name (a NetEventSession, pktmon's, netsh's). */
  private runningFile(name: string): string | undefined {
    const n = name.toLowerCase();
    const s = this.state.sessions.find((x) => x.name.toLowerCase() === n && x.status === 'Running');
    if (s) return s.localFilePath;
    if (n === PKTMON_TRACE_SESSION.toLowerCase() && this.state.pktmon.running) return this.state.pktmon.file;
    if (this.state.netsh.running && this.state.netsh.session?.toLowerCase() === n) return this.state.netsh.file;
    return undefined;
  }

  /** The capture a session writing `path` makes: the same bytes however often it is asked. */
  private captureBytes(path: string, timed: boolean): { etl: Uint8Array; flushedAt: number[] } {
    // The session started when Start-NetEventSession ran: its capture carries that time.
    const started = this.state.sessions.find((x) => x.localFilePath === path)?.startedAt ?? Date.now();
    const startTime = BigInt(started) * 10000n + 116444736000000000n;
    return containerHostCapture({ ps: this.state.psEdition === 'Desktop' ? '5.1' : '7', scale: this.o.scale ?? 4, startTime, ...(timed ? { flushEvery: FLUSH_EVERY_PACKETS } : {}) });
  }

  private readonly flushing = new Map<string, NodeJS.Timeout>();
  /** Bytes of each capture already written by its flush timer (the stop appends the rest, never rewrites). */
  private readonly flushed = new Map<string, number>();

  /**
   * A flush timer (Update-EtwTraceSession -FlushTimer): ETW writes what its buffers hold every
   * `seconds`. Here the capture's flushes reach the file in order, a tenth of them each time, the
   * whole file at the stop (writeEtl).
   */
  private flushEvery(path: string, seconds: number): void {
    if (this.flushing.has(path)) return;
    const { etl: bytes, flushedAt: ends } = this.captureBytes(path, true);
    this.flushed.set(path, 0);
    const per = Math.max(1, Math.ceil(ends.length / 10));
    let next = 0;
    const flush = (): void => {
      next = Math.min(ends.length, next + per);
      const from = this.flushed.get(path) ?? 0;
      try {
        mkdirSync(dirname(path), { recursive: true });
        // Appended, as ETW does: a reader never sees the file shrink.
        appendFileSync(path, bytes.subarray(from, ends[next - 1]));
        this.flushed.set(path, ends[next - 1]!);
      } catch {
        // a Windows path on another OS
      }
      if (next >= ends.length) this.stopFlushing(path);
    };
    flush(); // the header buffer and the first buffers at once
    this.flushing.set(path, setInterval(flush, seconds * 1000).unref());
  }

  private stopFlushing(path: string): void {
    clearInterval(this.flushing.get(path));
    this.flushing.delete(path);
  }

  private writeEtl(path: string): void {
    this.stopFlushing(path);
    const done = this.flushed.get(path);
    const { etl } = this.captureBytes(path, done !== undefined);
    this.flushed.delete(path);
    try {
      mkdirSync(dirname(path), { recursive: true });
      if (done !== undefined) appendFileSync(path, etl.subarray(done));
      else writeFileSync(path, etl);
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

/** "-Minutes 20 -Seconds 5" (the arguments of a New-TimeSpan wnvcap wrote) in seconds. */
function timespanSeconds(args: string): number {
  const unit: Record<string, number> = { days: 86400, hours: 3600, minutes: 60, seconds: 1 };
  let total = 0;
  for (const m of args.matchAll(/-(\w+)\s+(\d+)/g)) total += (unit[m[1]!.toLowerCase()] ?? 0) * Number(m[2]);
  return total;
}

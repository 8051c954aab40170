/**
 * Fake Windows hosts for tests that run wnvcap's PowerShell with a REAL pwsh (README.md): a fresh
 * temp dir with the state file, the ETL template and the inventory, and the environment under
 * which pwsh finds this host type's generated modules (PSModulePath), fake native programs
 * (PATH) and the fake .NET types (DOTNET_STARTUP_HOOKS).
 *
 *   const host = await createFakeHost('ws2022-docker', { elevated: false });
 *   spawn(findPwsh()!, ['-NoProfile', '-NonInteractive', '-Command', script], { env: host.env });
 *   host.executed();   // what the scripts called, with the bound parameters
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { containerHostCapture, containerHostSnapshot } from '../../src/sim/container-host.js';
import { ensureGenerated, findPwsh, HOST_SPECS, HOST_TYPES, type HostType } from './generate.js';

export { findPwsh, HOST_TYPES, type HostType };

export interface FakeFault {
  /** A cmdlet name, a program ("pktmon.exe") or a program and its first words ("netsh.exe trace start"). */
  command: string;
  /** Only the nth call (1-based, counted per command across processes); every call when absent. */
  nth?: number;
  kind: 'error' | 'die' | 'hang';
  message?: string;
}

export interface FakeHostOptions {
  elevated?: boolean;
  computerName?: string;
  diskFull?: boolean;
  faults?: FakeFault[];
  /** A NetEventSession wnvcap did not start (with a packet capture provider). */
  foreignSession?: { name: string; status: 'Running' | 'NotRunning'; localFilePath: string };
  /** pktmon is already capturing (someone else's capture). */
  pktmonRunning?: boolean;
  /** A slow host: every cmdlet and program answers this many ms later (then works). */
  slowMs?: number;
}

export interface FakeProvider {
  kind: 'PacketCapture' | 'Etw' | 'WFPCapture' | 'VmSwitch' | 'VFP';
  name: string;
  guid: string;
  level: number;
  /** UInt64 keywords as decimal strings. */
  matchAnyKeyword: string;
  matchAllKeyword: string;
  /** The other parameters the Add/Set call bound (CaptureType, TruncationLength, IpAddresses ...). */
  settings: Record<string, unknown>;
}

export interface FakeSession {
  name: string;
  guid: string;
  captureMode: string;
  localFilePath: string;
  maxFileSize: number;
  traceBufferSize: number;
  maxNumberOfBuffers: number;
  status: 'Running' | 'NotRunning';
  startedAt?: string;
  providers: FakeProvider[];
  targets: Array<{ kind: 'NetworkAdapter' | 'VmNetworkAdapter' | 'VmSwitch'; name: string }>;
}

/** What Register-ScheduledTask stored: what Windows would (ISO 8601 durations, StartBoundary with offset). */
export interface FakeTask {
  taskName: string;
  taskPath: string;
  description: string | null;
  state: string;
  actions: Array<{ className: string; id: string | null; execute: string; arguments: string | null; workingDirectory: string | null }>;
  triggers: Array<{
    className: string;
    startBoundary: string | null;
    endBoundary: string | null;
    repetition: { interval: string | null; duration: string | null };
    daysOfWeek?: number;
    daysInterval?: number;
    weeksInterval?: number;
    randomDelay?: string | null;
  }>;
  principal: { userId: string | null; groupId?: string | null; logonType: string; runLevel: string; id?: string };
  settings: Record<string, unknown> | null;
  lastRunTime: string | null;
  lastTaskResult: number;
  numberOfRuns: number;
}

export interface FakeState {
  version: 1;
  hostType: HostType;
  computerName: string;
  os: { build: number; caption: string; version: string };
  /** pktmon syntax; null: no pktmon.exe on this host type. */
  pktmonSyntax: '2004' | '1809' | null;
  elevated: boolean;
  diskFull: boolean;
  hostDir: string;
  etlTemplate: string;
  inventory: string;
  sessions: FakeSession[];
  pktmon: { running: boolean; fileName?: string; logMode?: string; filters: Array<Record<string, unknown>>; startArgs?: string[] };
  netsh: { running: boolean; sessionName?: string | null; traceFile?: string; args?: string[] };
  tasks: FakeTask[];
  faults: FakeFault[];
  slowMs: number;
  /** Calls per command (lower case), across processes. */
  counts: Record<string, number>;
  executed: Array<{ command: string; params: Record<string, unknown> }>;
}

export interface FakeHost {
  readonly type: HostType;
  readonly dir: string;
  readonly stateFile: string;
  /**
   * Complete environment for the pwsh child: process.env plus PATH (this host type's fake bin dir
   * first, then the pwsh dir, then the system PATH), PSModulePath (this host type's module dir,
   * then pwsh's own $PSHOME/Modules), COMPUTERNAME, WNVCAP_FAKE_STATE, DOTNET_STARTUP_HOOKS (the
   * fake types, so the elevation check works in any script) and PowerShell's telemetry/update opt-outs.
   */
  readonly env: Record<string, string>;
  state(): FakeState;
  update(fn: (s: FakeState) => void): void;
  executed(): Array<{ command: string; params: Record<string, unknown> }>;
  /** Removes the host's temp dir (the generated modules stay cached). */
  dispose(): void;
}

const SHORT_NAMES: Record<HostType, string> = { 'ws2022-docker': 'CH2022', 'aks-containerd': 'AKSNODE', hyperv: 'HV2022', ws2016: 'CH2016', 'ws2019-1809': 'CH2019', ws2025: 'CH2025' };

let template: Uint8Array | undefined;
const psHomes = new Map<string, string>();

function psHomeOf(pwsh: string): string {
  let h = psHomes.get(pwsh);
  if (h === undefined) {
    h = execFileSync(pwsh, ['-NoProfile', '-NonInteractive', '-Command', '$PSHOME'], { encoding: 'utf8', env: { ...process.env, POWERSHELL_TELEMETRY_OPTOUT: '1', POWERSHELL_UPDATECHECK: 'Off' } }).trim();
    psHomes.set(pwsh, h);
  }
  return h;
}

/** The state-file lock protocol (and atomic write) FakeWindows.Core and the fake natives use: one copy, in bin/fake-native.cjs. */
const native = createRequire(import.meta.url)('./bin/fake-native.cjs') as {
  withLock<T>(file: string, fn: () => T): T;
  writeState(file: string, s: unknown): void;
};
const { withLock, writeState } = native;

/** A fake Windows host of this type in a fresh temp dir (the generated modules are cached). */
export async function createFakeHost(type: HostType, options: FakeHostOptions = {}): Promise<FakeHost> {
  const spec = HOST_SPECS[type];
  const pwsh = findPwsh();
  const gen = ensureGenerated(pwsh);
  const dir = mkdtempSync(join(tmpdir(), `wnvcap-fake-${type}-`));
  mkdirSync(join(dir, 'Windows', 'System32'), { recursive: true });
  mkdirSync(join(dir, 'LocalAppData', 'Temp', 'NetTraces'), { recursive: true });
  template ??= containerHostCapture().etl;
  writeFileSync(join(dir, 'template.etl'), template);
  // The inventory that matches the ETL (the same simulated container host).
  writeFileSync(join(dir, 'inventory.json'), JSON.stringify(containerHostSnapshot('7').commands, null, 1));
  const computerName = options.computerName ?? SHORT_NAMES[type];
  const state: FakeState = {
    version: 1, hostType: type, computerName, os: { build: spec.build, caption: spec.caption, version: `10.0.${spec.build}` },
    pktmonSyntax: spec.natives.includes('pktmon.exe') ? spec.pktmon ?? '2004' : null,
    elevated: options.elevated ?? true, diskFull: options.diskFull ?? false, hostDir: dir, etlTemplate: join(dir, 'template.etl'), inventory: join(dir, 'inventory.json'),
    sessions: options.foreignSession ? [{
      name: options.foreignSession.name, guid: '{6A1A4C52-2B1E-4B7B-9C3E-5F6A7B8C9D0E}', captureMode: 'SaveToFile', localFilePath: options.foreignSession.localFilePath,
      maxFileSize: 250, traceBufferSize: 64, maxNumberOfBuffers: 30, status: options.foreignSession.status,
      providers: [{ kind: 'PacketCapture', name: 'Microsoft-Windows-NDIS-PacketCapture', guid: '{2ED6006E-4729-4609-B423-3EE7BCD678EF}', level: 4, matchAnyKeyword: '18446744073709551615', matchAllKeyword: '0', settings: { CaptureType: 'Physical', TruncationLength: 128, VmCaptureDirection: 'IngressAndEgress' } }],
      targets: [],
    }] : [],
    pktmon: options.pktmonRunning ? { running: true, fileName: join(dir, 'PktMon.etl'), logMode: 'circular', filters: [] } : { running: false, filters: [] },
    netsh: { running: false }, tasks: [], faults: options.faults ?? [], slowMs: options.slowMs ?? 0, counts: {}, executed: [],
  };
  const stateFile = join(dir, 'state.json');
  writeState(stateFile, state);
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k !== 'PSModulePath') base[k] = v;
  const env: Record<string, string> = {
    ...base,
    PATH: [gen.binDir(type), ...(pwsh ? [dirname(pwsh)] : []), process.env['PATH'] ?? ''].join(delimiter),
    PSModulePath: [gen.modulesDir(type), ...(pwsh ? [join(psHomeOf(pwsh), 'Modules')] : [])].join(delimiter),
    COMPUTERNAME: computerName,
    WNVCAP_FAKE_STATE: stateFile,
    POWERSHELL_TELEMETRY_OPTOUT: '1',
    POWERSHELL_UPDATECHECK: 'Off',
    ...(gen.typesDll ? { DOTNET_STARTUP_HOOKS: gen.typesDll } : {}),
  };
  const read = (): FakeState => JSON.parse(readFileSync(stateFile, 'utf8')) as FakeState;
  return {
    type, dir, stateFile, env,
    state: () => withLock(stateFile, read),
    update: (fn) => withLock(stateFile, () => {
      const s = read();
      fn(s);
      writeState(stateFile, s);
    }),
    executed: () => withLock(stateFile, read).executed,
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}

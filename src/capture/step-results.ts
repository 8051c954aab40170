/**
 * Typed results of the capture steps: what PowerShell printed, checked against what each step
 * promises. Values arrive as `$r['key'] = @(...)` arrays in PowerShell 7 and Windows PowerShell
 * 5.1 alike; a scalar is taken as a one-element array (5.1 unwraps in places), enums arrive as
 * names because every projection casts them with [string]. A result that does not match is a
 * StepResultError naming the step, the host and the field, never a silent default.
 */
import type { StepResult } from '../remote/runner.js';
import { RemoteError } from '../util/errors.js';
import { PKTMON_TRACE_SESSION } from './steps.js';

export class StepResultError extends RemoteError {
  constructor(step: string, host: string, path: string, expected: string, got: unknown) {
    super(`the ${step} step on ${host} printed an unexpected result: ${path}: expected ${expected}, got ${describe(got)}`, {
      host, hint: 'a PowerShell or Windows version wnvcap does not know; the raw output is in the log (--log-file / wnvcap.log)',
    });
  }
}

function describe(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? 'nothing' : s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

type Obj = Record<string, unknown>;

/** Reads one step's result, naming the step and host in every complaint. */
export class ResultReader {
  constructor(readonly step: string, readonly host: string, private readonly r: StepResult) {}

  fail(path: string, expected: string, got: unknown): never {
    throw new StepResultError(this.step, this.host, path, expected, got);
  }

  /** The values stored under key (missing = the statement did not run, e.g. an absent command). */
  list(key: string): unknown[] {
    const v = this.r.result[key];
    if (v === undefined || v === null) return [];
    return Array.isArray(v) ? v : [v];
  }

  has(key: string): boolean {
    return this.r.result[key] !== undefined;
  }

  objects(key: string): Obj[] {
    return this.list(key).map((v, i) => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : this.fail(`${key}[${i}]`, 'an object', v)));
  }

  strings(key: string): string[] {
    return this.list(key).map((v, i) => (typeof v === 'string' ? v : this.fail(`${key}[${i}]`, 'a string', v)));
  }

  one(key: string): unknown {
    const l = this.list(key);
    if (l.length !== 1) this.fail(key, 'one value', this.r.result[key]);
    return l[0];
  }

  string(key: string): string {
    const v = this.one(key);
    return typeof v === 'string' ? v : this.fail(key, 'a string', v);
  }

  boolean(key: string): boolean {
    const v = this.one(key);
    return typeof v === 'boolean' ? v : this.fail(key, 'true or false', v);
  }

  exitCode(key: string): number | undefined {
    const v = this.r.result[`${key}#exitCode`];
    return typeof v === 'number' ? v : undefined;
  }

  get absent(): string[] {
    return this.r.absent ?? [];
  }
}

/** A field of a projected object: string. */
export function fieldString(rd: ResultReader, o: Obj, path: string, name: string, optional = false): string {
  const v = o[name];
  if (typeof v === 'string') return v;
  if (optional && (v === undefined || v === null)) return '';
  return rd.fail(`${path}.${name}`, 'a string', v);
}

/** A field of a projected object: a whole number (or a numeric string, as CIM gives BuildNumber). */
export function fieldNumber(rd: ResultReader, o: Obj, path: string, name: string): number | undefined {
  const v = o[name];
  if (v === undefined || v === null) return undefined;
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : Number.NaN;
  return Number.isFinite(n) ? n : rd.fail(`${path}.${name}`, 'a number', v);
}

export interface SessionInfo {
  name: string;
  /** 'Running' / 'NotRunning' (an enum name, not localized text). */
  status: string;
  localFilePath: string;
  maxFileSizeMB: number | undefined;
}

function sessions(rd: ResultReader, key: string): SessionInfo[] {
  return rd.objects(key).map((o, i) => ({
    name: fieldString(rd, o, `${key}[${i}]`, 'Name'),
    status: fieldString(rd, o, `${key}[${i}]`, 'SessionStatus', true),
    localFilePath: fieldString(rd, o, `${key}[${i}]`, 'LocalFilePath', true),
    maxFileSizeMB: fieldNumber(rd, o, `${key}[${i}]`, 'MaxFileSize'),
  }));
}

/** ETW session names, or undefined when this host has no Get-EtwTraceSession (no way to know). */
function traceSessions(rd: ResultReader): string[] | undefined {
  if (rd.absent.some((a) => a.toLowerCase() === 'get-etwtracesession') || !rd.has('traceSessions')) return undefined;
  return rd.objects('traceSessions').map((o, i) => fieldString(rd, o, `traceSessions[${i}]`, 'Name'));
}

export interface Preflight {
  host: string;
  elevated: boolean;
  build: number;
  caption: string;
  psEdition: string;
  psVersion: string;
  /** Probed commands this host has, lower case (PROBED_COMMANDS). */
  commands: ReadonlySet<string>;
  /** NetEventSessions (empty when the module is absent). */
  sessions: SessionInfo[];
  /** Running ETW sessions by name; undefined where the host cannot say. */
  traceSessions: string[] | undefined;
}

export function parsePreflight(r: StepResult, host: string): Preflight {
  const rd = new ResultReader('preflight', host, r);
  const os = rd.objects('os')[0];
  const build = os ? fieldNumber(rd, os, 'os[0]', 'BuildNumber') ?? 0 : 0;
  return {
    host: rd.string('host') || host,
    elevated: rd.boolean('elevated'),
    build,
    caption: os ? fieldString(rd, os, 'os[0]', 'Caption', true) : '',
    psEdition: rd.string('psEdition'),
    psVersion: rd.string('psVersion'),
    commands: new Set(rd.strings('commands').map((c) => c.toLowerCase())),
    sessions: sessions(rd, 'sessions'),
    traceSessions: traceSessions(rd),
  };
}

export function has(p: Preflight, command: string): boolean {
  return p.commands.has(command.toLowerCase());
}

/** pktmon is capturing: its ETW session runs (undefined: the host cannot say). */
export function pktmonRunning(traces: string[] | undefined): boolean | undefined {
  return traces?.some((n) => n.toLowerCase() === PKTMON_TRACE_SESSION.toLowerCase());
}

export interface Status {
  sessionStatus: string;
  fileBytes: number | undefined;
}

export function parseStatus(r: StepResult, host: string): Status {
  const rd = new ResultReader('status', host, r);
  const s = rd.objects('session')[0];
  const f = rd.objects('file')[0];
  return {
    sessionStatus: s ? fieldString(rd, s, 'session[0]', 'SessionStatus', true) : '',
    fileBytes: f ? fieldNumber(rd, f, 'file[0]', 'Length') : undefined,
  };
}

/** After a NetEvent stop or cleanup: is the session still there (by name)? */
export function parseRemaining(r: StepResult, host: string, step: string): SessionInfo[] {
  return sessions(new ResultReader(step, host, r), 'remaining');
}

/** After a pktmon or netsh stop: the ETW sessions still running (undefined: cannot say). */
export function parseTraceSessions(r: StepResult, host: string, step: string): string[] | undefined {
  return traceSessions(new ResultReader(step, host, r));
}

/** DOMAIN\name of each direct member of the local Administrators group; undefined: the host cannot say. */
export function parseAdminMembers(r: StepResult, host: string): string[] | undefined {
  const rd = new ResultReader('admin-members', host, r);
  if (!r.ok || rd.absent.length > 0) return undefined;
  return rd.objects('members').map((o, i) => `${fieldString(rd, o, `members[${i}]`, 'Domain', true)}\\${fieldString(rd, o, `members[${i}]`, 'Name')}`);
}

export interface Inventory {
  /** Each inventory command's output under its name, as snapshot.json keeps it. */
  commands: Record<string, unknown>;
  /** What this host lacks or could not answer (partial snapshot). */
  warnings: string[];
}

const INVENTORY_OBJECT_KEYS = ['Get-NetCompartment', 'Get-NetIPInterface', 'Get-NetIPAddress', 'Get-NetAdapter', 'Get-HnsNetwork', 'Get-HnsEndpoint', 'Get-HnsNamespace', 'Get-VMNetworkAdapter', 'Get-VMSwitch'];
const DOCKER_KEY = 'docker network inspect';

/** docker network inspect prints one JSON array; its lines arrive one string each. */
function parseDocker(rd: ResultReader, warnings: string[]): unknown[] | undefined {
  if (!rd.has(DOCKER_KEY)) return undefined;
  const text = rd.strings(DOCKER_KEY).join('\n').trim();
  const code = rd.exitCode(DOCKER_KEY);
  if (code !== 0 || !text.startsWith('[')) {
    warnings.push(`docker network inspect failed (exit code ${code ?? '?'}): ${text.split('\n')[0]?.slice(0, 200) ?? ''}; container names come from HNS only`);
    return [];
  }
  try {
    const v = JSON.parse(text) as unknown;
    return Array.isArray(v) ? v : rd.fail(DOCKER_KEY, 'a JSON array', v);
  } catch {
    warnings.push('docker network inspect printed text that is not JSON; container names come from HNS only');
    return [];
  }
}

const PODS_KEY = 'crictl pods';

/**
 * crictl pods --output json prints {"items": [...]} (the CRI's PodSandbox list), one line a string.
 * Its stderr is merged in (a native call's lines, in no fixed order): a crictl without a
 * configured endpoint logs a warning (`WARN[0000] ...` or `time="..." level=warning msg=...`).
 * Those log lines are dropped; the JSON starts at the first line that opens an object.
 */
function parsePods(rd: ResultReader, warnings: string[]): unknown[] | undefined {
  if (!rd.has(PODS_KEY)) return undefined;
  const lines = rd.strings(PODS_KEY).filter((l) => !/^\s*(time="|level=|(WARN|ERRO|INFO|DEBU|FATA)\[)/.test(l));
  const start = lines.findIndex((l) => l.trimStart().startsWith('{'));
  const text = (start < 0 ? lines : lines.slice(start)).join('\n').trim();
  const code = rd.exitCode(PODS_KEY);
  let v: unknown;
  try {
    v = code === 0 ? JSON.parse(text) as unknown : undefined;
  } catch {
    v = undefined;
  }
  const items = typeof v === 'object' && v !== null ? (v as { items?: unknown }).items : undefined;
  if (Array.isArray(items)) return items;
  warnings.push(`crictl pods failed (exit code ${code ?? '?'}): ${text.split('\n')[0]?.slice(0, 200) ?? ''}; pods are known by their sandbox id only`);
  return [];
}

export function parseInventory(r: StepResult, host: string): Inventory {
  const rd = new ResultReader('inventory', host, r);
  const absent = new Set(rd.absent.map((a) => a.toLowerCase()));
  // crictl is missing on every host that is not a Kubernetes node: said only where Docker is missing too.
  if (!absent.has('docker.exe')) absent.delete('crictl.exe');
  const warnings = [...new Set(rd.absent)].filter((a) => absent.has(a.toLowerCase())).map((a) => `${a} is not on this host: ${ABSENT_MEANS[a.toLowerCase()] ?? 'its part of the snapshot is empty'}`);
  const commands: Record<string, unknown> = {};
  for (const k of INVENTORY_OBJECT_KEYS) {
    const failed = rd.list(`${k}#error`)[0];
    if (failed !== undefined) warnings.push(`${k} failed on this host (${String(failed).split('\n')[0]}): its part of the snapshot is empty`);
    if (rd.has(k)) commands[k] = rd.objects(k);
  }
  const docker = parseDocker(rd, warnings);
  if (docker !== undefined) commands[DOCKER_KEY] = docker;
  const pods = parsePods(rd, warnings);
  if (pods !== undefined) commands[PODS_KEY] = pods;
  return { commands, warnings };
}

const ABSENT_MEANS: Readonly<Record<string, string>> = {
  'docker.exe': 'no Docker (containerd or Kubernetes node); container names come from HNS',
  'crictl.exe': 'no crictl on PATH (a Kubernetes node keeps it in C:\\k); pods are known by their sandbox id only',
  'get-hnsnetwork': 'no HostNetworkingService module; networks, endpoints and namespaces are not in the snapshot',
  'get-hnsendpoint': 'no HostNetworkingService module; container endpoints are known by compartment only',
  'get-hnsnamespace': 'no HostNetworkingService module',
  'get-vmnetworkadapter': 'no Hyper-V module; VMs are not named',
  'get-vmswitch': 'no Hyper-V module; virtual switches are not named',
};

/** flush-timer: false when the host has no Update-EtwTraceSession. */
export function parseFlushTimer(r: StepResult): boolean {
  return !(r.absent ?? []).includes('Update-EtwTraceSession');
}

export interface Tail {
  /** The remote file's length now. */
  length: number;
  data: Uint8Array;
}

export function parseTail(r: StepResult, host: string): Tail {
  const rd = new ResultReader('tail', host, r);
  const o = rd.objects('tail')[0] ?? rd.fail('tail', 'an object', undefined);
  const data = fieldString(rd, o, 'tail[0]', 'Data', true);
  return { length: fieldNumber(rd, o, 'tail[0]', 'Length') ?? rd.fail('tail[0].Length', 'a number', undefined), data: new Uint8Array(Buffer.from(data, 'base64')) };
}

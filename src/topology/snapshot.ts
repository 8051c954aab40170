/**
 * The host snapshot (`snapshot.json`, schema wnvcap.snapshot/1; JSON Schema in
 * docs/snapshot.schema.json): each inventory command's output kept as PowerShell returned it,
 * under the command's name, plus host facts. The loader accepts Windows PowerShell 5.1 output
 * (numeric enums, "\/Date(ms)\/", a single object instead of an array, empty output as null)
 * and PowerShell 7 output alike (windows-capture.md 2.9, 7).
 */
import { InputError } from '../util/errors.js';

export const SNAPSHOT_SCHEMA = 'wnvcap.snapshot/1';

/** Inventory commands, by the names used as keys under `commands`. */
export const INVENTORY = {
  COMPARTMENT: 'Get-NetCompartment',
  IP_INTERFACE: 'Get-NetIPInterface',
  IP_ADDRESS: 'Get-NetIPAddress',
  ADAPTER: 'Get-NetAdapter',
  HNS_NETWORK: 'Get-HnsNetwork',
  HNS_ENDPOINT: 'Get-HnsEndpoint',
  HNS_NAMESPACE: 'Get-HnsNamespace',
  VM_ADAPTER: 'Get-VMNetworkAdapter',
  VM_SWITCH: 'Get-VMSwitch',
  DOCKER_NETWORKS: 'docker network inspect',
  /** crictl pods -o json on a Kubernetes node: its items (pod sandboxes). */
  CRI_PODS: 'crictl pods',
} as const;

export interface Snapshot {
  schema: typeof SNAPSHOT_SCHEMA;
  host: string;
  osBuild?: string;
  psEdition?: string;
  psVersion?: string;
  takenAt: string;
  /** True when the snapshot comes from wnvcap's simulated host. */
  simulated?: boolean;
  commands: Record<string, unknown>;
  warnings?: string[];
}

type Obj = Record<string, unknown>;

export function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** PowerShell emits one object for one result and nothing (or null) for none. */
export function asArray(v: unknown): Obj[] {
  if (v === undefined || v === null || v === '') return [];
  if (Array.isArray(v)) return v.filter(isObject);
  return isObject(v) ? [v] : [];
}

/** Reads a field case-insensitively (ConvertFrom-Json collapses case; PS objects are case-insensitive). */
export function field(o: Obj, name: string): unknown {
  if (name in o) return o[name];
  const lower = name.toLowerCase();
  for (const k of Object.keys(o)) if (k.toLowerCase() === lower) return o[k];
  return undefined;
}

export function str(o: Obj, name: string): string | undefined {
  const v = field(o, name);
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

export function num(o: Obj, name: string): number | undefined {
  const v = field(o, name);
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) return Number(v);
  return undefined;
}

/** AddressFamily as 4 or 6 from "IPv4"/"IPv6"/2/23 (5.1 and 7 forms). */
export function addressFamily(o: Obj): 4 | 6 | undefined {
  const v = field(o, 'AddressFamily');
  if (v === 2 || v === 'IPv4' || v === '2' || v === 'InterNetwork') return 4;
  if (v === 23 || v === 'IPv6' || v === '23' || v === 'InterNetworkV6') return 6;
  return undefined;
}

/** "\/Date(1326441600000)\/" (5.1) or ISO (7) -> ISO, or undefined. */
export function parsePsDate(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const m = /^\\?\/Date\((-?\d+)(?:[+-]\d{4})?\)\\?\/$/.exec(v);
  if (m) return new Date(Number(m[1])).toISOString();
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}

/** Parses and validates a snapshot document (text or value). */
export function parseSnapshot(input: unknown, source = 'snapshot'): Snapshot {
  let v = input;
  if (typeof v === 'string') {
    try {
      v = JSON.parse(v.replace(/^\uFEFF/, ''));
    } catch (e) {
      throw new InputError(`${source} is not valid JSON: ${(e as Error).message}`);
    }
  }
  if (!isObject(v)) throw new InputError(`${source} is not a JSON object`);
  if (v['schema'] !== SNAPSHOT_SCHEMA) {
    throw new InputError(`${source} has schema ${JSON.stringify(v['schema'])}, expected "${SNAPSHOT_SCHEMA}"`, { hint: 'pass the snapshot.json written by wnvcap capture' });
  }
  if (typeof v['host'] !== 'string') throw new InputError(`${source}: "host" must be a string`);
  if (!isObject(v['commands'])) throw new InputError(`${source}: "commands" must be an object`);
  const takenAt = parsePsDate(v['takenAt']) ?? (typeof v['takenAt'] === 'string' ? v['takenAt'] : '');
  return {
    schema: SNAPSHOT_SCHEMA,
    host: v['host'],
    ...(typeof v['osBuild'] === 'string' ? { osBuild: v['osBuild'] } : {}),
    ...(typeof v['psEdition'] === 'string' ? { psEdition: v['psEdition'] } : {}),
    ...(typeof v['psVersion'] === 'string' ? { psVersion: v['psVersion'] } : {}),
    takenAt,
    ...(v['simulated'] === true ? { simulated: true } : {}),
    commands: v['commands'],
    ...(Array.isArray(v['warnings']) ? { warnings: v['warnings'].filter((w): w is string => typeof w === 'string') } : {}),
  };
}

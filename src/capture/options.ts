/**
 * Capture options: profile fields, overridden by flags, validated once at the edge. A value that
 * must have a form (IP, MAC, EtherType, size, duration, protocol) and does not is a UsageError
 * naming the flag (exit 2).
 */
import { isIP } from 'node:net';
import { UsageError } from '../util/errors.js';
import { parseDurationMs } from '../util/time.js';

export type CaptureType = 'physical' | 'switch' | 'both';
export type Backend = 'auto' | 'netevent' | 'pktmon' | 'netsh';

export interface ProviderSpec {
  name: string;
  level?: number;
  keywords?: string;
}

export interface CaptureOptions {
  profile: string;
  durationMs: number;
  maxSizeMB: number;
  truncate: number;
  ips: string[];
  protocols: number[];
  macs: string[];
  etherTypes: number[];
  captureType: CaptureType;
  backend: Backend;
  multiLayer: boolean;
  vmSwitchProvider: boolean;
  vfpProvider: boolean;
  pktmonType: 'all' | 'flow' | 'drop';
  providers: ProviderSpec[];
  out: string;
  dryRun: boolean;
  force: boolean;
}

/** Raw option values from a profile or from flags (strings as typed by the user). */
export interface RawCaptureOptions {
  duration?: string | number;
  maxSize?: string | number;
  truncate?: string | number;
  ip?: string | string[];
  protocol?: string | number | Array<string | number>;
  mac?: string | string[];
  ethertype?: string | number | Array<string | number>;
  captureType?: string;
  backend?: string;
  multiLayer?: boolean;
  vmSwitchProvider?: boolean;
  vfpProvider?: boolean;
  pktmonType?: string;
  providers?: ProviderSpec[];
}

const PROTOCOLS: Record<string, number> = { tcp: 6, udp: 17, icmp: 1, icmpv6: 58, gre: 47, esp: 50, ah: 51 };

function list<T>(v: T | T[] | undefined): T[] {
  if (v === undefined) return [];
  const a = Array.isArray(v) ? v : [v];
  return a.flatMap((x) => (typeof x === 'string' ? (x.split(',').map((s) => s.trim()).filter(Boolean) as unknown as T[]) : [x]));
}

export function parseSizeMB(v: string | number, flag: string): number {
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 1 || v > 4294967295) throw new UsageError(`${flag}: ${v} is not a size in MB (1 or more)`);
    return v;
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*(KB|MB|GB|TB)?\s*$/i.exec(v);
  if (!m) throw new UsageError(`${flag}: "${v}" is not a size (e.g. 512MB, 2GB)`, { hint: `${flag} 512MB` });
  const n = Number(m[1]) * ({ kb: 1 / 1024, mb: 1, gb: 1024, tb: 1048576 }[(m[2] ?? 'MB').toLowerCase()] ?? 1);
  const mb = Math.ceil(n);
  if (mb < 1 || mb > 4294967295) throw new UsageError(`${flag}: ${v} is out of range (1 MB to 4 PB)`);
  return mb;
}

function int(v: string | number, flag: string, lo: number, hi: number): number {
  const n = typeof v === 'number' ? v : /^\s*(0x[0-9a-f]+|\d+)\s*$/i.test(v) ? Number(v.trim()) : Number.NaN;
  if (!Number.isInteger(n) || n < lo || n > hi) throw new UsageError(`${flag}: "${v}" must be a whole number from ${lo} to ${hi}`);
  return n;
}

export function normalizeMac(v: string, flag = '--mac'): string {
  const hex = v.replace(/[-:.]/g, '');
  if (!/^[0-9a-fA-F]{12}$/.test(hex) || !/^([0-9a-fA-F]{2}([-:]?)){5}[0-9a-fA-F]{2}$|^[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}$/.test(v)) {
    throw new UsageError(`${flag}: "${v}" is not a MAC address (e.g. 00-15-5D-01-02-03)`);
  }
  return hex.toUpperCase().replace(/(..)(?!$)/g, '$1-'); // the form Windows prints
}

/** Merges profile values and flag values (flags win) and validates everything. */
export function resolveCaptureOptions(profile: { name: string; values: RawCaptureOptions }, flags: RawCaptureOptions, general: { out: string; dryRun: boolean; force: boolean }): CaptureOptions {
  const pick = <K extends keyof RawCaptureOptions>(k: K): RawCaptureOptions[K] => (flags[k] !== undefined ? flags[k] : profile.values[k]);
  const durationRaw = pick('duration') ?? '60s';
  const durationMs = typeof durationRaw === 'number' ? durationRaw * 1000 : parseDurationMs(durationRaw);
  if (durationMs === undefined || durationMs < 1000 || durationMs > 7 * 86400000) throw new UsageError(`--duration: "${durationRaw}" is not a duration from 1s to 7d (e.g. 60s, 5m, 1h)`);
  const ips = list(pick('ip')).map(String);
  for (const ip of ips) if (isIP(ip) === 0) throw new UsageError(`--ip: "${ip}" is not an IPv4 or IPv6 address`);
  const protocols = list(pick('protocol')).map((p) => (typeof p === 'string' && PROTOCOLS[p.toLowerCase()] !== undefined ? PROTOCOLS[p.toLowerCase()]! : int(p, '--protocol', 0, 255)));
  const macs = list(pick('mac')).map((m) => normalizeMac(String(m)));
  const etherTypes = list(pick('ethertype')).map((e) => {
    const n = int(e, '--ethertype', 0, 0xffff);
    if (n < 0x0600) throw new UsageError(`--ethertype: 0x${n.toString(16)} is a length, not an EtherType (0x0600 or more)`);
    return n;
  });
  const ct = (pick('captureType') ?? 'both').toLowerCase();
  if (!['physical', 'switch', 'both'].includes(ct)) throw new UsageError(`--capture-type: "${ct}" must be physical, switch or both`);
  const be = (pick('backend') ?? 'auto').toLowerCase();
  if (!['auto', 'netevent', 'pktmon', 'netsh'].includes(be)) throw new UsageError(`--backend: "${be}" must be auto, netevent, pktmon or netsh`);
  const pt = (pick('pktmonType') ?? 'all').toLowerCase();
  if (!['all', 'flow', 'drop'].includes(pt)) throw new UsageError(`pktmon type "${pt}" must be all, flow or drop`);
  const truncate = int(pick('truncate') ?? 256, '--truncate', 0, 65535);
  if (truncate !== 0 && truncate < 14) throw new UsageError('--truncate: 0 (whole packets) or at least 14 bytes');
  for (const p of pick('providers') ?? []) {
    if (!/^(\{[0-9a-fA-F-]{36}\}|[A-Za-z0-9][A-Za-z0-9.\- ]{0,200})$/.test(p.name)) throw new UsageError(`profile provider "${p.name}" is not an ETW provider name or {GUID}`);
    if (p.level !== undefined && (!Number.isInteger(p.level) || p.level < 0 || p.level > 255)) throw new UsageError(`provider ${p.name}: level must be 0-255`);
    if (p.keywords !== undefined && !/^0x[0-9a-fA-F]{1,16}$/.test(p.keywords)) throw new UsageError(`provider ${p.name}: keywords must be hex like 0xFFFFFFFF`);
  }
  if (general.out.includes('\0')) throw new UsageError('--out contains a NUL character');
  return {
    profile: profile.name, durationMs, maxSizeMB: parseSizeMB(pick('maxSize') ?? '512MB', '--max-size'), truncate, ips, protocols, macs, etherTypes,
    captureType: ct as CaptureType, backend: be as Backend, multiLayer: pick('multiLayer') ?? false, vmSwitchProvider: pick('vmSwitchProvider') ?? false,
    vfpProvider: pick('vfpProvider') ?? false, pktmonType: pt as 'all' | 'flow' | 'drop', providers: pick('providers') ?? [], ...general,
  };
}

/**
 * The same capture on many hosts: at most `throttle` at once, a slow or failing host never blocks
 * the others, Ctrl-C stops and removes the session on every host that started one (each host's
 * lifecycle does it). One envelope per host; then one merged report over the good hosts, with the
 * flows seen on two hosts matched by 5-tuple (inner tuple for overlay traffic).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'winston';
import type { ReportData } from '../analysis/report-data.js';
import { newRunId } from '../capture/lifecycle.js';
import { captureRun } from '../run/capture-run.js';
import type { CaptureOptions } from '../capture/options.js';
import { hostsExitCode, isAppError } from '../util/errors.js';
import { FILETIME_UNIX_EPOCH, isoToFiletime } from '../util/time.js';
import { remoteRemedy, type FetchingRunner } from '../remote/remote-runner.js';

export interface HostEnvelope {
  host: string;
  status: 'ok' | 'failed';
  /** The last step reached ('connect' when the session could not be opened). */
  phase: string;
  runDir: string | null;
  files: string[];
  packets: number | null;
  error: { message: string; remedy: string | null } | null;
}

export interface CrossHostFlow {
  protocol: string;
  a: string;
  b: string;
  virtualNetworkId: number | null;
  firstHost: string;
  secondHost: string;
  /** Second host's first sighting minus the first host's (clocks must agree). */
  delayMicros: number;
  packets: Record<string, number>;
}

export interface FleetReport {
  schema: 'wnvcap.fleet-report/1';
  simulated: boolean;
  hosts: Array<{ host: string; report: ReportData }>;
  crossHostFlows: CrossHostFlow[];
}

export interface FleetResult {
  schema: 'wnvcap.fleet/1';
  fleetDir: string;
  hosts: HostEnvelope[];
  maxConcurrent: number;
  report: FleetReport | null;
  exitCode: number;
}

export interface FleetContext {
  throttle: number;
  logger: Logger;
  signal: AbortSignal;
  stateDir: string;
  application: string;
  pollMs?: number;
  progress?: (text: string) => void;
}

/** A report's time (ISO text to 100 ns) in µs since 1970. */
function isoMicros(iso: string): number {
  const ft = isoToFiletime(iso);
  return ft === undefined ? NaN : Number((ft - FILETIME_UNIX_EPOCH) / 10n);
}

export function matchCrossHost(hosts: Array<{ host: string; report: ReportData }>): CrossHostFlow[] {
  const byKey = new Map<string, Array<{ host: string; first: number; packets: number; f: ReportData['flows'][number] }>>();
  for (const h of hosts) {
    for (const f of h.report.flows) {
      const k = `${f.protocol}|${f.a.ip}:${f.a.port}|${f.b.ip}:${f.b.port}|${f.virtualNetworkId ?? ''}`;
      const list = byKey.get(k) ?? [];
      list.push({ host: h.host, first: isoMicros(f.first), packets: f.packets, f });
      byKey.set(k, list);
    }
  }
  const out: CrossHostFlow[] = [];
  for (const list of byKey.values()) {
    const hostsSeen = new Set(list.map((x) => x.host));
    if (hostsSeen.size < 2) continue;
    const sorted = [...list].sort((x, y) => x.first - y.first);
    const first = sorted[0]!;
    const second = sorted.find((x) => x.host !== first.host)!;
    out.push({
      protocol: first.f.protocol, a: `${first.f.a.ip}:${first.f.a.port}`, b: `${first.f.b.ip}:${first.f.b.port}`, virtualNetworkId: first.f.virtualNetworkId,
      firstHost: first.host, secondHost: second.host, delayMicros: second.first - first.first,
      packets: Object.fromEntries(list.map((x) => [x.host, x.packets])),
    });
  }
  return out.sort((x, y) => x.a.localeCompare(y.a) || x.b.localeCompare(y.b));
}

export async function runFleet(runners: FetchingRunner[], o: CaptureOptions, ctx: FleetContext): Promise<FleetResult> {
  const fleetDir = join(o.out, `fleet-${newRunId()}`);
  await mkdir(fleetDir, { recursive: true });
  const envelopes: HostEnvelope[] = new Array<HostEnvelope>(runners.length);
  let next = 0;
  let active = 0;
  let maxActive = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= runners.length) return;
      const runner = runners[i]!;
      active++;
      maxActive = Math.max(maxActive, active);
      const hostOut = join(fleetDir, runner.host.replace(/[^A-Za-z0-9_.-]/g, '_'));
      try {
        const r = await captureRun({ ...o, out: hostOut }, {
          runner, logger: ctx.logger, signal: ctx.signal, stateDir: ctx.stateDir, application: ctx.application,
          ...(ctx.pollMs !== undefined ? { pollMs: ctx.pollMs } : {}),
        });
        const rec = r.record;
        const ok = r.exitCode === 0 && rec.files['etl'] !== undefined;
        const message = rec.error?.message ?? (ok ? null : rec.warnings[rec.warnings.length - 1] ?? 'failed');
        // A copy that failed is the fetch phase even when its new session could not open (the host died mid-copy).
        const last = rec.steps[rec.steps.length - 1]?.name;
        const connectFailed = last !== 'fetch' && /Connecting to remote server|cannot open a PowerShell session/i.test(rec.error?.message ?? '');
        envelopes[i] = {
          host: runner.host, status: ok ? 'ok' : 'failed', phase: connectFailed ? 'connect' : last ?? 'connect', runDir: r.runDir,
          files: Object.values(rec.files), packets: rec.packets ?? null,
          error: ok ? null : { message: message ?? 'failed', remedy: rec.error?.hint ?? remoteRemedy(message ?? '') ?? null },
        };
      } catch (e) {
        const message = (e as Error).message;
        envelopes[i] = { host: runner.host, status: 'failed', phase: 'connect', runDir: null, files: [], packets: null, error: { message, remedy: (isAppError(e) ? e.hint : undefined) ?? remoteRemedy(message) ?? null } };
      } finally {
        active--;
        try {
          await runner.dispose();
        } catch {
          // best effort
        }
        ctx.progress?.(`${envelopes.filter(Boolean).length}/${runners.length} hosts done`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(ctx.throttle, runners.length)) }, worker));
  // Merged report over the good hosts.
  const good = envelopes.filter((e) => e.status === 'ok' && e.runDir);
  let report: FleetReport | null = null;
  if (good.length > 0) {
    // Each host's report.json, written by its run: the captures are not decoded again.
    const hosts: Array<{ host: string; report: ReportData }> = [];
    for (const e of good) {
      try {
        hosts.push({ host: e.host, report: JSON.parse(await readFile(join(e.runDir!, 'report.json'), 'utf8')) as ReportData });
      } catch (err) {
        e.status = 'failed';
        e.error = { message: `${e.host}: its report could not be read: ${(err as Error).message}`, remedy: null };
      }
    }
    report = { schema: 'wnvcap.fleet-report/1', simulated: runners.some((r) => r.simulated), hosts, crossHostFlows: matchCrossHost(hosts) };
  }
  const okCount = envelopes.filter((e) => e.status === 'ok').length;
  const exitCode = hostsExitCode(okCount, runners.length);
  const result: FleetResult = { schema: 'wnvcap.fleet/1', fleetDir, hosts: envelopes, maxConcurrent: maxActive, report, exitCode };
  await writeFile(join(fleetDir, 'fleet.json'), `${JSON.stringify({ ...result, report: undefined }, null, 2)}\n`);
  return result;
}

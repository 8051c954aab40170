/**
 * One capture on one host: preflight, snapshot, session, wait, guaranteed stop and removal,
 * then decode and report. The stop-and-remove runs on every path (normal end, a failed step,
 * Ctrl-C/SIGTERM, PowerShell dying, a timeout); a lease records the session first so that
 * `wnvcap sessions cleanup` can remove what a killed agent left. The run folder keeps
 * capture.etl, snapshot.json, run.json (what was asked, each step with timing and result),
 * wnvcap.log, capture.pcapng and the report (text and HTML).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import winston, { type Logger } from 'winston';
import { analyzeCapture } from '../analysis/run-analysis.js';
import { openFileSource } from '../etl/file-source.js';
import { convertEtlToPcapng } from '../pcapng/etl-to-pcapng.js';
import { openFileSink } from '../pcapng/file-sink.js';
import { renderStep, type Step } from '../powershell/script.js';
import type { PsRunner, StepResult } from '../remote/runner.js';
import type { FetchingRunner } from '../remote/remote-runner.js';
import { loadHtmlAssets } from '../report/assets.js';
import { renderHtml } from '../report/html.js';
import { renderText } from '../report/text.js';
import { parseSnapshot, SNAPSHOT_SCHEMA, type Snapshot } from '../topology/snapshot.js';
import { buildTopology } from '../topology/topology.js';
import { AppError, CancelledError, isAppError, RemoteError, UsageError } from '../util/errors.js';
import { leaseAlive, readLeases, removeLease, writeLease, type Lease } from './lease.js';
import type { Backend, CaptureOptions } from './options.js';
import { cleanupStep, inventoryStep, netshStartStep, netshStopStep, pktmonStartStep, pktmonStopStep, preflightStep, startStep, statusStep, stopStep } from './steps.js';

export interface CaptureContext {
  runner: PsRunner;
  logger: Logger;
  signal: AbortSignal;
  stateDir: string;
  application: string;
  /** Progress line (stderr on a TTY). */
  progress?: (text: string) => void;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Free bytes at a local path (systeminformation on a real host). */
  freeBytes?: (path: string) => Promise<number | undefined>;
  /** Called before each step (tests inject signals here). */
  beforeStep?: (name: string) => void;
  pollMs?: number;
  /** Clock for the capture window (tests pass a fake one together with sleep). */
  now?: () => number;
}

export interface StepRecord {
  name: string;
  description: string;
  startedAt: string;
  durationMs: number;
  ok: boolean;
  error?: string;
}

export interface RunRecord {
  schema: 'wnvcap.run/1';
  runId: string;
  host: string;
  simulated: boolean;
  generatedBy: string;
  startedAt: string;
  endedAt?: string;
  request: Omit<CaptureOptions, 'dryRun'>;
  filters: { ips: string[]; protocols: number[]; macs: string[]; etherTypes: number[]; truncate: number; captureType: string };
  backend?: 'netevent' | 'pktmon' | 'netsh';
  session?: string;
  steps: StepRecord[];
  warnings: string[];
  outcome: 'running' | 'completed' | 'stopped-by-signal' | 'failed' | 'cancelled';
  stopReason?: string;
  error?: { name: string; message: string; hint?: string };
  cleanup?: { sessionRemoved: boolean; detail: string };
  files: Record<string, string>;
  packets?: number;
  /** A remote host's capture, copied back and verified. */
  fetched?: { bytes: number; sha256: string };
}

export interface CaptureResult {
  runDir: string;
  record: RunRecord;
  exitCode: number;
}

const defaultSleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((res) => {
    if (signal.aborted) return res();
    const t = setTimeout(() => { signal.removeEventListener('abort', on); res(); }, ms);
    const on = (): void => { clearTimeout(t); res(); };
    signal.addEventListener('abort', on, { once: true });
  });

export function newRunId(now = new Date()): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(2).toString('hex')}`;
}

/** The scripts a capture would run, in order, for --dry-run (no host contact). */
export function planScripts(o: CaptureOptions, runId: string, runDir: string): Array<{ step: Step; text: string }> {
  const session = `wnvcap-${runId}`;
  const etl = join(runDir, 'capture.etl');
  const backend: Exclude<Backend, 'auto'> = o.backend === 'auto' ? 'netevent' : o.backend;
  const steps: Step[] = [preflightStep(), inventoryStep()];
  if (backend === 'netevent') steps.push(cleanupStep(session), startStep(session, etl, o, { vmSwitchProvider: true, vfpProvider: true }), statusStep(session, etl), stopStep(session));
  else if (backend === 'pktmon') steps.push(pktmonStartStep(etl, o), pktmonStopStep());
  else steps.push(netshStartStep(session, etl, o), netshStopStep(session));
  return steps.map((step) => ({ step, text: renderStep(step) }));
}

function asArray(v: unknown): Record<string, unknown>[] {
  return Array.isArray(v) ? (v as Record<string, unknown>[]) : v && typeof v === 'object' ? [v as Record<string, unknown>] : [];
}

export async function runCapture(o: CaptureOptions, ctx: CaptureContext): Promise<CaptureResult> {
  const runId = newRunId();
  const runDir = resolve(o.out, `run-${runId}`);
  await mkdir(runDir, { recursive: true });
  const localEtl = join(runDir, 'capture.etl');
  // Remote host: the session writes on the host; the file is fetched (and verified) after stop.
  const remote = 'fetch' in ctx.runner ? (ctx.runner as FetchingRunner) : undefined;
  const etlPath = remote ? `${remote.remoteDir}${remote.remoteDir.includes('\\') ? '\\' : '/'}run-${runId}${remote.remoteDir.includes('\\') ? '\\' : '/'}capture.etl` : localEtl;
  const session = `wnvcap-${runId}`;
  // wnvcap.log in the run folder: JSON lines at debug level, next to what the console shows.
  const fileTransport = new winston.transports.File({
    filename: join(runDir, 'wnvcap.log'), level: 'debug',
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
  });
  const fileLog = winston.createLogger({ level: 'debug', transports: [fileTransport], defaultMeta: { component: 'capture', runId, host: ctx.runner.host } });
  const consoleLog = ctx.logger.child({ component: 'capture', runId, host: ctx.runner.host });
  const log = {
    debug: (m: string): void => { fileLog.debug(m); consoleLog.debug(m); },
    info: (m: string): void => { fileLog.info(m); consoleLog.info(m); },
    warn: (m: string): void => { fileLog.warn(m); consoleLog.warn(m); },
    error: (m: string): void => { fileLog.error(m); consoleLog.error(m); },
  };
  const sleep = ctx.sleep ?? defaultSleep;
  const { dryRun: _d, ...request } = o;
  const record: RunRecord = {
    schema: 'wnvcap.run/1', runId, host: ctx.runner.host, simulated: ctx.runner.simulated, generatedBy: ctx.application, startedAt: new Date().toISOString(),
    request, filters: { ips: o.ips, protocols: o.protocols, macs: o.macs, etherTypes: o.etherTypes, truncate: o.truncate, captureType: o.captureType },
    steps: [], warnings: [], outcome: 'running', files: {},
  };
  const saveRecord = (): Promise<void> => writeFile(join(runDir, 'run.json'), `${JSON.stringify(record, null, 2)}\n`);
  await saveRecord();
  const step = async (s: Step, opts: { allowFail?: boolean } = {}): Promise<StepResult> => {
    if (ctx.signal.aborted) throw new CancelledError(`interrupted before step ${s.name}`);
    ctx.beforeStep?.(s.name);
    if (ctx.signal.aborted) throw new CancelledError(`interrupted before step ${s.name}`);
    const t0 = Date.now();
    const rec: StepRecord = { name: s.name, description: s.description, startedAt: new Date(t0).toISOString(), durationMs: 0, ok: false };
    record.steps.push(rec);
    log.debug(`step ${s.name}: ${s.description}`);
    try {
      const r = await ctx.runner.run(s);
      rec.ok = r.ok;
      if (!r.ok) rec.error = r.error?.message ?? 'failed';
      if (!r.ok && !opts.allowFail) throw new RemoteError(`${s.name} failed on ${ctx.runner.host}: ${r.error?.message ?? 'unknown error'}`, { host: ctx.runner.host, hint: hintFor(r.error?.message ?? '') });
      return r;
    } catch (e) {
      rec.error ??= (e as Error).message;
      throw e;
    } finally {
      rec.durationMs = Date.now() - t0;
      await saveRecord();
    }
  };
  let backend: Exclude<Backend, 'auto'> | undefined;
  let started = false;
  let exitCode = 0;
  try {
    // 1. preflight
    const pre = (await step(preflightStep())).result;
    const build = Number(asArray(pre['os'])[0]?.['BuildNumber'] ?? 0);
    const elevated = asArray(pre['elevated'])[0] ?? pre['elevated'];
    if (elevated !== true && !(Array.isArray(pre['elevated']) && pre['elevated'][0] === true)) {
      throw new RemoteError(`${ctx.runner.host}: wnvcap must run elevated to create capture sessions`, { hint: 'run as Administrator (or as SYSTEM from a scheduled task)' });
    }
    const cmdlets = new Set(asArray(pre['netEventCmdlets']).map((x) => String(x['Name'])));
    backend = chooseBackend(o.backend, cmdlets, build);
    record.backend = backend;
    const leases = await readLeases(ctx.stateDir);
    for (const s of asArray(pre['sessions'])) {
      const name = String(s['Name'] ?? '');
      const ours = name.startsWith('wnvcap-');
      const lease = leases.find((l) => l.session === name);
      if (ours && lease && leaseAlive(lease) && lease.pid !== process.pid) {
        throw new RemoteError(`another wnvcap capture is running on ${ctx.runner.host} (session ${name}, pid ${lease.pid})`, { hint: 'wait for it, or stop it with wnvcap sessions cleanup --force' });
      }
      if (ours || o.force) {
        record.warnings.push(`removed leftover session ${name}${ours ? '' : ' (not ours; --force)'}`);
        log.warn(`removing leftover session ${name}`);
        await step(cleanupStep(name));
        if (lease) await removeLease(ctx.stateDir, name);
      } else if (backend === 'netevent') {
        throw new RemoteError(`${ctx.runner.host} already has a capture session "${name}" (${String(s['SessionStatus'] ?? '?')}, ${String(s['LocalFilePath'] ?? '')}) that wnvcap did not start`, {
          hint: 'inspect it with: Get-NetEventSession | Format-List; remove it yourself, or pass --force to let wnvcap remove it',
        });
      }
    }
    const pktmonBusy = asArray(pre['pktmonStatus']).some((x) => /Running/i.test(String(x)));
    if (backend === 'pktmon' && pktmonBusy && !o.force) throw new RemoteError(`pktmon is already capturing on ${ctx.runner.host}`, { hint: 'check with: pktmon status; stop it, or pass --force' });
    const free = await ctx.freeBytes?.(runDir);
    if (free !== undefined && free < o.maxSizeMB * 1048576 * 1.1) {
      const msg = `only ${(free / 1048576).toFixed(0)} MB free at ${runDir}, less than --max-size ${o.maxSizeMB} MB`;
      if (!o.force) throw new UsageError(msg, { hint: 'free some space, lower --max-size, or pass --force' });
      record.warnings.push(msg);
    }
    // 2. snapshot
    const inv = (await step(inventoryStep())).result;
    const snapshot: Snapshot = {
      schema: SNAPSHOT_SCHEMA, host: String(asArray(pre['host'])[0] ?? pre['host'] ?? ctx.runner.host), osBuild: String(build),
      psEdition: String((pre['psEdition'] as unknown[] | undefined)?.[0] ?? ''), psVersion: String((pre['psVersion'] as unknown[] | undefined)?.[0] ?? ''),
      takenAt: new Date().toISOString(), ...(ctx.runner.simulated ? { simulated: true } : {}), commands: inv, warnings: [],
    };
    await writeFile(join(runDir, 'snapshot.json'), `${JSON.stringify(snapshot, null, 2)}\n`);
    record.files['snapshot'] = 'snapshot.json';
    // 3. session
    const lease: Lease = { session, backend, host: ctx.runner.host, pid: process.pid, runDir, etlPath, startedAt: new Date().toISOString(), simulated: ctx.runner.simulated };
    await writeLease(ctx.stateDir, lease);
    record.session = session;
    started = true;
    if (backend === 'netevent') {
      const r = await step(startStep(session, etlPath, o, { vmSwitchProvider: cmdlets.has('Add-NetEventVmSwitchProvider'), vfpProvider: cmdlets.has('Add-NetEventVFPProvider') }));
      for (const p of o.providers) if (asArray(r.result[`provider:${p.name}`]).length === 0) record.warnings.push(`provider ${p.name} could not be added on this host`);
    } else if (backend === 'pktmon') await step(pktmonStartStep(etlPath, o));
    else await step(netshStartStep(session, etlPath, o));
    log.info(`capturing on ${ctx.runner.host}${ctx.runner.simulated ? ' (simulated host)' : ''} with ${backend} for ${o.durationMs / 1000} s into ${etlPath}`);
    // 4. wait
    const now = ctx.now ?? Date.now;
    const t0 = now();
    const poll = ctx.pollMs ?? 1000;
    let lastSize = 0;
    for (;;) {
      const elapsed = now() - t0;
      if (elapsed >= o.durationMs) {
        record.stopReason = 'duration reached';
        break;
      }
      await sleep(Math.min(poll, o.durationMs - elapsed), ctx.signal);
      if (ctx.signal.aborted) {
        record.stopReason = 'interrupted (Ctrl-C / SIGTERM): stopped early';
        record.outcome = 'stopped-by-signal';
        break;
      }
      if (backend === 'netevent') {
        let st: StepResult;
        try {
          st = await step(statusStep(session, etlPath), { allowFail: true });
        } catch (e) {
          if (!(e instanceof CancelledError)) throw e;
          record.stopReason = 'interrupted (Ctrl-C / SIGTERM): stopped early';
          record.outcome = 'stopped-by-signal';
          break;
        }
        const size = Number(asArray(st.result['file'])[0]?.['Length'] ?? lastSize);
        const e = (now() - t0) / 1000;
        ctx.progress?.(`${ctx.runner.host}: ${e.toFixed(0)}/${(o.durationMs / 1000).toFixed(0)} s, ${(size / 1048576).toFixed(1)} MB, ${((size - lastSize) / 1048576 / (poll / 1000)).toFixed(2)} MB/s`);
        lastSize = size;
        if (size >= o.maxSizeMB * 1048576) {
          record.stopReason = 'size cap reached';
          break;
        }
        record.steps.pop(); // keep run.json short: status polls are not steps worth keeping
      } else ctx.progress?.(`${ctx.runner.host}: ${((now() - t0) / 1000).toFixed(0)}/${(o.durationMs / 1000).toFixed(0)} s`);
    }
  } catch (e) {
    exitCode = e instanceof CancelledError ? 130 : isAppError(e) ? e.exitCode : 1;
    record.outcome = e instanceof CancelledError ? 'cancelled' : 'failed';
    record.error = { name: (e as Error).name, message: (e as Error).message, ...((e as AppError).hint ? { hint: (e as AppError).hint! } : {}) };
    log.error(`${(e as Error).message}`);
  } finally {
    if (started && backend) record.cleanup = await stopAndRemove(ctx, backend, session, log, record);
    if (record.cleanup?.sessionRemoved) await removeLease(ctx.stateDir, session);
    await saveRecord();
  }
  // 5. bring the file back from a remote host (verified), then decode and report, even after a failure.
  if (remote && record.cleanup?.sessionRemoved) {
    const t0 = Date.now();
    const rec: StepRecord = { name: 'fetch', description: `copy ${etlPath} from ${ctx.runner.host}`, startedAt: new Date(t0).toISOString(), durationMs: 0, ok: false };
    record.steps.push(rec);
    try {
      const f = await remote.fetch(etlPath, localEtl);
      rec.ok = true;
      record.fetched = { bytes: f.bytes, sha256: f.sha256 };
    } catch (e) {
      rec.error = (e as Error).message;
      record.warnings.push((e as Error).message);
      if (record.outcome === 'running') record.outcome = 'failed';
      record.error ??= { name: (e as Error).name, message: (e as Error).message, ...((e as AppError).hint ? { hint: (e as AppError).hint! } : {}) };
      if (exitCode === 0) exitCode = 4;
    }
    rec.durationMs = Date.now() - t0;
    await saveRecord();
  }
  const etlSize = await stat(localEtl).then((s) => s.size, () => 0);
  if (etlSize > 0) {
    record.files['etl'] = 'capture.etl';
    try {
      const sink = await openFileSink(join(runDir, 'capture.pcapng'));
      const conv = await convertEtlToPcapng(() => openFileSource(localEtl), sink, { application: ctx.application });
      await sink.close();
      record.files['pcapng'] = 'capture.pcapng';
      record.packets = conv.stats.packets;
      let topo;
      try {
        topo = buildTopology(parseSnapshot(JSON.parse(await import('node:fs/promises').then((f) => f.readFile(join(runDir, 'snapshot.json'), 'utf8')))));
      } catch {
        topo = undefined;
      }
      const report = await analyzeCapture(() => openFileSource(localEtl), topo, { application: ctx.application, filters: record.filters });
      await writeFile(join(runDir, 'report.txt'), renderText(report, { color: false, top: 20 }));
      await writeFile(join(runDir, 'report.html'), renderHtml(report, loadHtmlAssets()));
      await writeFile(join(runDir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
      record.files['report'] = 'report.txt';
      record.files['html'] = 'report.html';
    } catch (e) {
      record.warnings.push(`decoding the capture failed: ${(e as Error).message}`);
      log.warn(`decoding the capture failed: ${(e as Error).message}`);
    }
  }
  if (record.outcome === 'running') record.outcome = 'completed';
  if (record.cleanup && !record.cleanup.sessionRemoved) {
    record.warnings.push(`the capture session may still exist on ${ctx.runner.host}: ${record.cleanup.detail}; run wnvcap sessions cleanup`);
    if (exitCode === 0) exitCode = 4;
  }
  record.endedAt = new Date().toISOString();
  await saveRecord();
  log.info(`run folder ${runDir}: ${record.outcome}${record.packets !== undefined ? `, ${record.packets} packets` : ''}`);
  record.files['log'] = 'wnvcap.log';
  await saveRecord();
  await new Promise<void>((res) => { fileTransport.on('finish', () => res()); fileLog.end(); setTimeout(res, 500); });
  return { runDir, record, exitCode };
}

/** Stop and remove, on every path; tries twice when PowerShell itself fails. */
async function stopAndRemove(ctx: CaptureContext, backend: Exclude<Backend, 'auto'>, session: string, log: { warn: (m: string) => void }, record: RunRecord): Promise<{ sessionRemoved: boolean; detail: string }> {
  const s = backend === 'netevent' ? stopStep(session) : backend === 'pktmon' ? pktmonStopStep() : netshStopStep(session);
  let last = '';
  for (let attempt = 1; attempt <= 2; attempt++) {
    const t0 = Date.now();
    const rec: StepRecord = { name: s.name, description: s.description, startedAt: new Date(t0).toISOString(), durationMs: 0, ok: false };
    record.steps.push(rec);
    try {
      const r = await ctx.runner.run(s);
      rec.durationMs = Date.now() - t0;
      rec.ok = r.ok;
      if (r.ok) return { sessionRemoved: true, detail: `${backend} session stopped and removed` };
      last = r.error?.message ?? 'failed';
      rec.error = last;
    } catch (e) {
      rec.durationMs = Date.now() - t0;
      last = (e as Error).message;
      rec.error = last;
    }
    log.warn(`stop attempt ${attempt} failed: ${last}`);
    // The stop may have failed because there is nothing left to stop: ask the host.
    if (await verifyGone(ctx, backend, session)) return { sessionRemoved: true, detail: `no longer present after: ${last}` };
  }
  return { sessionRemoved: false, detail: last };
}

/** True when the host shows no capture of ours any more. */
async function verifyGone(ctx: CaptureContext, backend: Exclude<Backend, 'auto'>, session: string): Promise<boolean> {
  try {
    const r = await ctx.runner.run(preflightStep());
    if (!r.ok) return false;
    if (backend === 'netevent') return !asArray(r.result['sessions']).some((s) => s['Name'] === session);
    if (backend === 'pktmon') return !asArray(r.result['pktmonStatus']).some((x) => /Running/i.test(String(x)));
    return !asArray(r.result['netshStatus']).some((x) => /Running/i.test(String(x)));
  } catch {
    return false;
  }
}

function chooseBackend(asked: Backend, cmdlets: Set<string>, build: number): Exclude<Backend, 'auto'> {
  const hasNetEvent = cmdlets.has('New-NetEventSession');
  if (asked === 'netevent') {
    if (!hasNetEvent) throw new RemoteError('the NetEventPacketCapture module is not available on this host', { hint: 'use --backend netsh (Windows Server 2012 R2 / 2016) or --backend pktmon (2019+)' });
    return 'netevent';
  }
  if (asked === 'pktmon') {
    if (build > 0 && build < 17763) throw new RemoteError(`pktmon needs Windows 10 1809 / Server 2019 (build 17763); this host is build ${build}`, { hint: 'use --backend netevent or netsh' });
    return 'pktmon';
  }
  if (asked === 'netsh') return 'netsh';
  if (hasNetEvent) return 'netevent';
  return build >= 17763 ? 'pktmon' : 'netsh';
}

function hintFor(message: string): string | undefined {
  if (/access is denied/i.test(message)) return 'run as Administrator';
  if (/not enough space/i.test(message)) return 'free disk space or choose another --out';
  if (/being used by another process/i.test(message)) return 'another program holds the capture file; choose another --out';
  if (/already exists|only one session/i.test(message)) return 'a capture session already exists: wnvcap sessions list';
  return undefined;
}

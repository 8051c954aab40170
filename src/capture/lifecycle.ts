/**
 * One capture on one host: preflight, snapshot, session, wait, guaranteed stop and removal,
 * the file fetched from a remote host, then the run folder finished by ctx.finish (decode and
 * report: run/finish.ts, passed in by run/capture-run.ts). The stop-and-remove runs on every path (normal end, a failed step,
 * Ctrl-C/SIGTERM, PowerShell dying, a timeout); a lease records the session first so that
 * `wnvcap sessions cleanup` can remove what a killed agent left. The run folder keeps
 * capture.etl, snapshot.json, run.json (what was asked, each step with timing and result),
 * wnvcap.log, capture.pcapng and the report (text and HTML).
 */
import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import winston, { type Logger } from 'winston';
import { renderStep, type Step } from '../powershell/script.js';
import type { PsRunner, StepResult } from '../remote/runner.js';
import type { FetchingRunner } from '../remote/remote-runner.js';
import { SNAPSHOT_SCHEMA, type Snapshot } from '../topology/snapshot.js';
import { AppError, CancelledError, EXIT, isAppError, RemoteError, UsageError } from '../util/errors.js';
import { leaseAlive, readLeases, removeLease, writeLease, type Lease } from './lease.js';
import type { Backend, CaptureOptions } from './options.js';
import { has, parseFlushTimer, parseInventory, parsePreflight, parseRemaining, parseStatus, parseTail, parseTraceSessions, pktmonRunning, ResultReader, type Inventory, type Preflight, type Status, type Tail } from './step-results.js';
import { cleanupStep, FLUSH_TIMER_SECONDS, flushTimerStep, genericProviders, inventoryStep, netshStartStep, netshStopStep, PKTMON_2004_BUILD, PKTMON_BUILD, PKTMON_TRACE_SESSION, pktmonFilterLimit, pktmonFilters, pktmonStartStep, pktmonStopStep, preflightStep, startStep, statusStep, stopStep, TAIL_CHUNK_BYTES, tailStep, traceSessionsStep } from './steps.js';
import type { CaptureFilters } from '../util/filters.js';

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
  /** Turns the run folder's capture.etl into pcapng and reports (run/finish.ts); without it, the ETL alone. */
  finish?: (runDir: string, o: { application: string; filters: CaptureFilters }) => Promise<RunFolderFinished>;
  /**
   * Follow mode (run/follow.ts): reads `etl` while the session writes it. A local capture is
   * followed where the session writes it; a remote one through a local copy that grows as the
   * tail steps bring the host's new bytes.
   */
  follow?: (runDir: string, etl: string) => LiveReader;
}

/** What follows a capture as it is written (run/follow.ts). */
export interface LiveReader {
  /** The session has stopped and the file is whole: read to its end. Returns warnings for run.json. */
  finish(): Promise<string[]>;
}

/** What finishing the run folder gave (run/finish.ts). */
export interface RunFolderFinished {
  haveEtl: boolean;
  files: Record<string, string>;
  packets?: number;
  decode?: { passes: 1 | 2; fileOpens: number };
  warnings: string[];
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
  filters: CaptureFilters;
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
  /** How the capture was decoded: passes over it (1 unless it holds PktMon packets) and times the file was opened. */
  decode?: { passes: 1 | 2; fileOpens: number };
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
  else if (backend === 'pktmon') steps.push(pktmonStartStep(etl, o, 0), pktmonStopStep());
  else steps.push(netshStartStep(session, etl, o), netshStopStep(session));
  return steps.map((step) => ({ step, text: renderStep(step) }));
}

interface RunLog {
  debug(m: string): void;
  info(m: string): void;
  warn(m: string): void;
  error(m: string): void;
}

/** One run in progress: the record, its log, and how steps are run and timed. */
class Run {
  readonly record: RunRecord;
  /** pktmon/netsh: their ETW session was seen running, so its absence later means stopped. */
  traceSeen = false;
  /** pktmon/netsh refused to start (a clean failure): there is nothing of ours to stop. */
  startRefused = false;
  constructor(readonly ctx: CaptureContext, readonly runDir: string, readonly log: RunLog, record: RunRecord) {
    this.record = record;
  }

  save(): Promise<void> {
    return writeFile(join(this.runDir, 'run.json'), `${JSON.stringify(this.record, null, 2)}\n`);
  }

  /** Runs a step, times it in run.json; a failed step throws unless allowFail. */
  async step(s: Step, opts: { allowFail?: boolean; keep?: boolean; timeoutMs?: number } = {}): Promise<StepResult> {
    const { ctx } = this;
    if (ctx.signal.aborted) throw new CancelledError(`interrupted before step ${s.name}`);
    ctx.beforeStep?.(s.name);
    if (ctx.signal.aborted) throw new CancelledError(`interrupted before step ${s.name}`);
    const t0 = Date.now();
    const rec: StepRecord = { name: s.name, description: s.description, startedAt: new Date(t0).toISOString(), durationMs: 0, ok: false };
    this.record.steps.push(rec);
    this.log.debug(`step ${s.name}: ${s.description}`);
    try {
      const r = await ctx.runner.run(s, opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {});
      rec.ok = r.ok;
      if (!r.ok) rec.error = r.error?.message ?? 'failed';
      if (!r.ok && !opts.allowFail) throw new RemoteError(`${s.name} failed on ${ctx.runner.host}: ${r.error?.message ?? 'unknown error'}`, { host: ctx.runner.host, hint: hintFor(r.error?.message ?? '') });
      return r;
    } catch (e) {
      rec.error ??= (e as Error).message;
      // Ctrl-C while PowerShell ran the step: the step's failure is the signal's doing.
      if (ctx.signal.aborted && !(e instanceof CancelledError)) throw new CancelledError(`interrupted during step ${s.name}: ${(e as Error).message}`);
      throw e;
    } finally {
      rec.durationMs = Date.now() - t0;
      if (opts.keep === false && rec.ok) this.record.steps.pop(); // a poll that worked is not worth keeping
      await this.save();
    }
  }

  /** Parses a step's result; a mismatch is logged with the raw text, then thrown. */
  parse<T>(r: StepResult, fn: (r: StepResult, host: string) => T): T {
    try {
      return fn(r, this.ctx.runner.host);
    } catch (e) {
      this.log.debug(`raw output: ${r.raw ?? JSON.stringify(r.result)}`);
      throw e;
    }
  }

  warn(m: string): void {
    this.record.warnings.push(m);
    this.log.warn(m);
  }
}

function openRunLog(ctx: CaptureContext, runDir: string, runId: string): { log: RunLog; close: () => Promise<void> } {
  // wnvcap.log in the run folder: JSON lines at debug level, next to what the console shows.
  const fileTransport = new winston.transports.File({
    filename: join(runDir, 'wnvcap.log'), level: 'debug',
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
  });
  const fileLog = winston.createLogger({ level: 'debug', transports: [fileTransport], defaultMeta: { component: 'capture', runId, host: ctx.runner.host } });
  const consoleLog = ctx.logger.child({ component: 'capture', runId, host: ctx.runner.host });
  const log: RunLog = {
    debug: (m) => { fileLog.debug(m); consoleLog.debug(m); },
    info: (m) => { fileLog.info(m); consoleLog.info(m); },
    warn: (m) => { fileLog.warn(m); consoleLog.warn(m); },
    error: (m) => { fileLog.error(m); consoleLog.error(m); },
  };
  const close = (): Promise<void> => new Promise<void>((res) => { fileTransport.on('finish', () => res()); fileLog.end(); setTimeout(res, 500); });
  return { log, close };
}

/** Preflight: elevation, backend, sessions already there (ours are removed, foreign ones refused), disk. */
async function preflight(run: Run, o: CaptureOptions): Promise<{ pre: Preflight; backend: Exclude<Backend, 'auto'> }> {
  const { ctx } = run;
  const pre = run.parse(await run.step(preflightStep()), parsePreflight);
  if (!pre.elevated) throw new RemoteError(`${ctx.runner.host}: wnvcap must run elevated to create capture sessions`, { hint: 'run as Administrator (or as SYSTEM from a scheduled task)' });
  const backend = chooseBackend(o.backend, pre);
  run.record.backend = backend;
  const leases = await readLeases(ctx.stateDir);
  for (const s of pre.sessions) {
    const ours = s.name.startsWith('wnvcap-');
    const lease = leases.find((l) => l.session === s.name);
    if (ours && lease && leaseAlive(lease) && lease.pid !== process.pid) {
      throw new RemoteError(`another wnvcap capture is running on ${ctx.runner.host} (session ${s.name}, pid ${lease.pid})`, { hint: 'wait for it, or stop it with wnvcap sessions cleanup --force' });
    }
    if (ours || o.force) {
      run.warn(`removed leftover session ${s.name}${ours ? '' : ' (not ours; --force)'}`);
      await run.step(cleanupStep(s.name));
      if (lease) await removeLease(ctx.stateDir, s.name);
    } else if (backend === 'netevent') {
      throw new RemoteError(`${ctx.runner.host} already has a capture session "${s.name}" (${s.status || '?'}, ${s.localFilePath}) that wnvcap did not start`, {
        hint: 'inspect it with: Get-NetEventSession | Format-List; remove it yourself, or pass --force to let wnvcap remove it',
      });
    }
  }
  if (backend === 'pktmon' && pktmonRunning(pre.traceSessions) && !o.force) throw new RemoteError(`pktmon is already capturing on ${ctx.runner.host}`, { hint: 'check with: pktmon status; stop it, or pass --force' });
  if (backend === 'pktmon' && pktmonFilters(o).length > pktmonFilterLimit(pre.build)) {
    throw new UsageError(`pktmon on build ${pre.build} holds at most ${pktmonFilterLimit(pre.build)} filters; these filter lists need ${pktmonFilters(o).length}`, { hint: 'narrow --ip/--mac/--ethertype/--protocol, or use --backend netevent' });
  }
  if (backend === 'pktmon' && pre.build < PKTMON_2004_BUILD && (o.captureType === 'physical' || o.pktmonType !== 'all')) {
    run.warn(`pktmon on build ${pre.build} (before 2004) has no component or drop-only selection: every component and every packet is captured`);
  }
  await checkDisk(run, o);
  return { pre, backend };
}

async function checkDisk(run: Run, o: CaptureOptions): Promise<void> {
  if ('fetch' in run.ctx.runner) return; // a remote host writes on its own disk, not ours
  const free = await run.ctx.freeBytes?.(run.runDir);
  if (free === undefined || free >= o.maxSizeMB * 1048576 * 1.1) return;
  const msg = `only ${(free / 1048576).toFixed(0)} MB free at ${run.runDir}, less than --max-size ${o.maxSizeMB} MB`;
  if (!o.force) throw new UsageError(msg, { hint: 'free some space, lower --max-size, or pass --force' });
  run.warn(msg);
}

/** The inventory for snapshot.json; a host that lacks a command (or cannot answer) gives a partial snapshot with warnings. */
async function snapshot(run: Run, pre: Preflight): Promise<void> {
  const { ctx } = run;
  let inv: Inventory = { commands: {}, warnings: [] };
  try {
    const r = await run.step(inventoryStep(), { allowFail: true });
    if (r.ok) inv = run.parse(r, parseInventory);
    else inv.warnings.push(`the inventory failed (${r.error?.message ?? 'unknown error'}): the snapshot is empty, packets stay unattributed`);
  } catch (e) {
    if (e instanceof CancelledError) throw e;
    inv.warnings.push(`the inventory failed (${(e as Error).message}): the snapshot is empty, packets stay unattributed`);
  }
  for (const w of inv.warnings) run.warn(w);
  const snap: Snapshot = {
    schema: SNAPSHOT_SCHEMA, host: pre.host, osBuild: String(pre.build), psEdition: pre.psEdition, psVersion: pre.psVersion,
    takenAt: new Date().toISOString(), ...(ctx.runner.simulated ? { simulated: true } : {}), commands: inv.commands, warnings: inv.warnings,
  };
  await writeFile(join(run.runDir, 'snapshot.json'), `${JSON.stringify(snap, null, 2)}\n`);
  run.record.files['snapshot'] = 'snapshot.json';
}

async function startSession(run: Run, o: CaptureOptions, pre: Preflight, backend: Exclude<Backend, 'auto'>, session: string, etlPath: string): Promise<void> {
  if (backend === 'netevent') {
    const available = { vmSwitchProvider: has(pre, 'Add-NetEventVmSwitchProvider'), vfpProvider: has(pre, 'Add-NetEventVFPProvider') };
    const rd = new ResultReader('start', run.ctx.runner.host, await run.step(startStep(session, etlPath, o, available)));
    for (const p of genericProviders(o, available)) if (rd.list(`provider:${p.name}`).length === 0) run.warn(`provider ${p.name} could not be added on this host`);
    if (o.vmSwitchProvider && !available.vmSwitchProvider) run.warn('the VmSwitch provider cmdlet needs Server 2022 or later: not added');
    if (o.vfpProvider && !available.vfpProvider) run.warn('the VFP provider cmdlet needs Server 2022 or later: not added');
  } else {
    const r = await run.step(backend === 'pktmon' ? pktmonStartStep(etlPath, o, pre.build) : netshStartStep(session, etlPath, o), { allowFail: true });
    if (!r.ok) {
      run.startRefused = true;
      throw new RemoteError(`start failed on ${run.ctx.runner.host}: ${r.error?.message ?? 'unknown error'}`, { host: run.ctx.runner.host, hint: hintFor(r.error?.message ?? '') });
    }
    await confirmTrace(run, traceNames(backend, session));
  }
}

function traceNames(backend: Exclude<Backend, 'auto'>, session: string): string[] {
  return backend === 'pktmon' ? [PKTMON_TRACE_SESSION] : [session];
}

/** Sees the tool's ETW session run, so that its absence can later mean "stopped" (the names are [U]). */
async function confirmTrace(run: Run, names: string[]): Promise<void> {
  const r = await run.step(traceSessionsStep(names), { allowFail: true });
  const traces = r.ok ? run.parse(r, (x, h) => parseTraceSessions(x, h, 'verify-started')) : undefined;
  run.traceSeen = traces?.some((t) => names.some((n) => n.toLowerCase() === t.toLowerCase())) === true;
  if (!run.traceSeen) run.warn(`the ETW session ${names.join(' / ')} was not seen running: wnvcap can stop the capture but not confirm it stopped`);
}

/**
 * Follow mode on a remote host: the capture's new bytes, pulled with tail steps into a local copy
 * that the follower reads. A host that cannot read the file while ETW writes it ends the stream
 * with a warning; the run folder still gets the whole capture after the stop.
 */
class RemoteTail {
  private offset = 0;
  private failed = false;
  /** Tail steps failed in a row: a passing hiccup (a slow link, a scanner holding the file) is tried again. */
  private misses = 0;
  constructor(private readonly run: Run, private readonly remotePath: string, readonly localPath: string) {}

  /** Brings what the host's file gained, at most `steps` chunks; false once nothing more came. */
  async pull(steps = 4): Promise<boolean> {
    const { ctx } = this.run;
    for (let i = 0; i < steps && !this.failed; i++) {
      let t: Tail;
      try {
        const r = await ctx.runner.run(tailStep(this.remotePath, this.offset, TAIL_CHUNK_BYTES));
        if (!r.ok) throw new Error(r.error?.message ?? 'failed');
        t = parseTail(r, ctx.runner.host);
      } catch (e) {
        if (++this.misses < TAIL_TRIES) return false;
        this.failed = true;
        this.run.warn(`follow: the capture file on ${ctx.runner.host} could not be read while it is written (${TAIL_TRIES} tries: ${(e as Error).message}): the stream ends here; the run folder gets the whole capture after the stop`);
        return false;
      }
      this.misses = 0;
      if (t.data.length === 0) return false;
      try {
        await appendFile(this.localPath, t.data);
      } catch (e) {
        this.failed = true;
        this.run.warn(`follow: the local copy of the stream cannot be written (${(e as Error).message}): the stream ends here`);
        return false;
      }
      this.offset += t.data.length;
      if (this.offset >= t.length) return true;
    }
    return !this.failed;
  }

  /**
   * After the stop: what the file holds now, no more (a session that could not be stopped keeps
   * writing), for at most DRAIN_MS; the verified copy brings the rest.
   */
  async drain(): Promise<void> {
    const t0 = Date.now();
    while (Date.now() - t0 < DRAIN_MS && (await this.pull())) { /* until nothing more comes */ }
  }
}

/** Tail steps that may fail in a row before the stream is given up. */
const TAIL_TRIES = 3;

/** How long the tail may take after the stop to bring what the stream has not had yet. */
const DRAIN_MS = 120_000;

/** Follow mode: the session flushes every second; a remote capture is tailed into the run folder. */
async function startLive(run: Run, follow: NonNullable<CaptureContext['follow']>, pre: Preflight, names: string[], etlPath: string, remote: boolean): Promise<{ live: LiveReader; tail?: RemoteTail }> {
  if (!has(pre, 'Update-EtwTraceSession')) {
    run.warn('follow: this host has no Update-EtwTraceSession (EventTracingManagement): ETW writes a buffer only when it fills, so packets may reach the stream late');
  } else {
    const r = await run.step(flushTimerStep(names, FLUSH_TIMER_SECONDS), { allowFail: true });
    if (!r.ok || !parseFlushTimer(r)) run.warn(`follow: the flush timer could not be set (${r.error?.message ?? 'Update-EtwTraceSession is absent'}): packets may reach the stream late`);
  }
  if (!remote) return { live: follow(run.runDir, etlPath) };
  const tail = new RemoteTail(run, etlPath, join(run.runDir, 'capture.etl.live'));
  await writeFile(tail.localPath, new Uint8Array(0));
  return { live: follow(run.runDir, tail.localPath), tail };
}

/** Ends the stream after the stop; its failure is a warning, never the capture's (the run folder comes next). */
async function finishLive(run: Run, live: LiveReader, tail: RemoteTail | undefined, sessionRemoved: boolean): Promise<void> {
  try {
    if (tail && sessionRemoved) await tail.drain();
    for (const w of await live.finish()) run.warn(w);
  } catch (e) {
    run.warn(`follow: the stream could not be finished: ${(e as Error).message}; the run folder still gets the whole capture`);
  } finally {
    if (tail) await rm(tail.localPath, { force: true }).catch(() => undefined);
  }
}

/** Waits for the window, polling the session; returns early on the size cap or a signal. A remote follow pulls the file's new bytes every second. */
async function wait(run: Run, o: CaptureOptions, backend: Exclude<Backend, 'auto'>, session: string, etlPath: string, tail?: RemoteTail): Promise<void> {
  const { ctx, record } = run;
  const now = ctx.now ?? Date.now;
  const sleep = ctx.sleep ?? defaultSleep;
  const t0 = now();
  // Every 5 s: each poll is a script block PowerShell may log (4104); the size cap is checked as often.
  const poll = ctx.pollMs ?? 5000;
  const tick = tail ? Math.min(poll, 1000) : poll;
  let lastPoll = t0;
  let lastSize = 0;
  const interrupted = (): void => {
    record.stopReason = 'interrupted (Ctrl-C / SIGTERM): stopped early';
    record.outcome = 'stopped-by-signal';
  };
  for (;;) {
    const elapsed = now() - t0;
    if (elapsed >= o.durationMs) {
      record.stopReason = 'duration reached';
      return;
    }
    await sleep(Math.min(tick, o.durationMs - elapsed), ctx.signal);
    if (ctx.signal.aborted) return interrupted();
    if (tail) await tail.pull();
    if (ctx.signal.aborted) return interrupted();
    if (tail && now() - lastPoll < poll && now() - t0 < o.durationMs) continue;
    lastPoll = now();
    const secs = `${((now() - t0) / 1000).toFixed(0)}/${(o.durationMs / 1000).toFixed(0)} s`;
    if (backend !== 'netevent') {
      ctx.progress?.(`${ctx.runner.host}: ${secs}`);
      continue;
    }
    let st: Status;
    try {
      st = run.parse(await run.step(statusStep(session, etlPath), { allowFail: true, keep: false }), parseStatus);
    } catch (e) {
      if (e instanceof CancelledError) return interrupted();
      throw e;
    }
    const size = st.fileBytes ?? lastSize;
    ctx.progress?.(`${ctx.runner.host}: ${secs}, ${(size / 1048576).toFixed(1)} MB, ${((size - lastSize) / 1048576 / (poll / 1000)).toFixed(2)} MB/s`);
    lastSize = size;
    if (size >= o.maxSizeMB * 1048576) {
      record.stopReason = 'size cap reached';
      return;
    }
  }
}

function recordFailure(run: Run, e: unknown): number {
  const { record } = run;
  const cancelled = e instanceof CancelledError;
  if (cancelled && record.steps.some((s) => s.name === 'start' && s.ok)) {
    // The window was open: Ctrl-C ends it early, the run still stops, fetches and reports.
    record.outcome = 'stopped-by-signal';
    record.stopReason = `interrupted (Ctrl-C / SIGTERM): ${(e as Error).message}`;
    run.log.warn((e as Error).message);
    return 0;
  }
  record.outcome = cancelled ? 'cancelled' : 'failed';
  record.error = { name: (e as Error).name, message: (e as Error).message, ...((e as AppError).hint ? { hint: (e as AppError).hint! } : {}) };
  run.log.error((e as Error).message);
  return cancelled ? EXIT.CANCELLED : isAppError(e) ? e.exitCode : EXIT.BUG;
}

export async function runCapture(o: CaptureOptions, ctx: CaptureContext): Promise<CaptureResult> {
  const runId = newRunId();
  const runDir = resolve(o.out, `run-${runId}`);
  await mkdir(runDir, { recursive: true });
  const localEtl = join(runDir, 'capture.etl');
  // Remote host: the session writes on the host; the file is fetched (and verified) after stop.
  const remote = 'fetch' in ctx.runner ? (ctx.runner as FetchingRunner) : undefined;
  const sep = remote?.remoteDir.includes('\\') ? '\\' : '/';
  const etlPath = remote ? `${remote.remoteDir}${sep}run-${runId}${sep}capture.etl` : localEtl;
  const session = `wnvcap-${runId}`;
  const { log, close } = openRunLog(ctx, runDir, runId);
  const { dryRun: _d, ...request } = o;
  const run = new Run(ctx, runDir, log, {
    schema: 'wnvcap.run/1', runId, host: ctx.runner.host, simulated: ctx.runner.simulated, generatedBy: ctx.application, startedAt: new Date().toISOString(),
    request, filters: { ips: o.ips, protocols: o.protocols, macs: o.macs, etherTypes: o.etherTypes, truncate: o.truncate, captureType: o.captureType },
    steps: [], warnings: [], outcome: 'running', files: {},
  });
  const record = run.record;
  await run.save();
  let backend: Exclude<Backend, 'auto'> | undefined;
  let started = false;
  let exitCode = 0;
  let live: { live: LiveReader; tail?: RemoteTail } | undefined;
  try {
    const p = await preflight(run, o);
    backend = p.backend;
    await snapshot(run, p.pre);
    const lease: Lease = { session, backend, host: ctx.runner.host, pid: process.pid, runDir, etlPath, startedAt: new Date().toISOString(), simulated: ctx.runner.simulated };
    await writeLease(ctx.stateDir, lease);
    record.session = session;
    started = true;
    await startSession(run, o, p.pre, backend, session, etlPath);
    if (ctx.follow) live = await startLive(run, ctx.follow, p.pre, traceNames(backend, session), etlPath, remote !== undefined);
    log.info(`capturing on ${ctx.runner.host}${ctx.runner.simulated ? ' (simulated host)' : ''} with ${backend} for ${o.durationMs / 1000} s into ${etlPath}`);
    await wait(run, o, backend, session, etlPath, live?.tail);
  } catch (e) {
    exitCode = recordFailure(run, e);
  } finally {
    if (started && backend) record.cleanup = await stopAndRemove(run, backend, session);
    if (record.cleanup?.sessionRemoved) await removeLease(ctx.stateDir, session);
    await run.save();
    // The stream ends after the session is gone and recorded so: a reader that is slow to drain it never holds the cleanup up.
    if (live) await finishLive(run, live.live, live.tail, record.cleanup?.sessionRemoved === true);
  }
  // Bring the file back from a remote host (verified), then decode and report, even after a failure.
  if (remote && record.cleanup?.sessionRemoved) exitCode = await fetchBack(run, remote, etlPath, localEtl, o, exitCode);
  const haveEtl = await finishFolder(run, localEtl);
  if (!haveEtl && started && (record.outcome === 'running' || record.outcome === 'stopped-by-signal')) {
    // The session ran and stopped, yet no capture came out: never a quiet success.
    record.outcome = 'failed';
    record.error = { name: 'RemoteError', message: `the capture produced no file: ${etlPath} is missing or empty after the stop`, hint: 'check free space and the capture folder on the host; run wnvcap doctor' };
    log.error(record.error.message);
    if (exitCode === EXIT.OK) exitCode = EXIT.REMOTE;
  }
  if (record.outcome === 'running') record.outcome = 'completed';
  if (record.cleanup && !record.cleanup.sessionRemoved) {
    record.warnings.push(`the capture session may still exist on ${ctx.runner.host}: ${record.cleanup.detail}; run wnvcap sessions cleanup`);
    if (exitCode === EXIT.OK) exitCode = EXIT.REMOTE;
  }
  record.endedAt = new Date().toISOString();
  log.info(`run folder ${runDir}: ${record.outcome}${record.packets !== undefined ? `, ${record.packets} packets` : ''}`);
  record.files['log'] = 'wnvcap.log';
  await run.save();
  await close();
  return { runDir, record, exitCode };
}

/**
 * Copy-Item -FromSession is CPU-bound at a few MB/s, shared by the copies in flight (about 9 MB/s
 * in all on 2 cores: scripts/bench/RESULTS.md): a copy may take 10 s per MB of the size cap (an
 * hour at least), and is stopped sooner once nothing arrives for FETCH_IDLE_MS.
 */
export function fetchTimeoutMs(maxSizeMB: number): number {
  return Math.max(3_600_000, 120_000 + maxSizeMB * 10_000);
}

export const FETCH_IDLE_MS = 120_000;

async function fetchBack(run: Run, remote: FetchingRunner, etlPath: string, localEtl: string, o: CaptureOptions, exitCode: number): Promise<number> {
  const { record } = run;
  const t0 = Date.now();
  const rec: StepRecord = { name: 'fetch', description: `copy ${etlPath} from ${run.ctx.runner.host}`, startedAt: new Date(t0).toISOString(), durationMs: 0, ok: false };
  record.steps.push(rec);
  try {
    const f = await remote.fetch(etlPath, localEtl, { timeoutMs: fetchTimeoutMs(o.maxSizeMB), idleMs: FETCH_IDLE_MS });
    rec.ok = true;
    record.fetched = { bytes: f.bytes, sha256: f.sha256 };
    if (f.remoteCopyKept) run.warn(`the verified copy is here, but ${f.remoteCopyKept}`);
  } catch (e) {
    rec.error = (e as Error).message;
    record.warnings.push((e as Error).message);
    // A copy cut short or damaged is kept apart, never decoded as the capture (the host keeps its file).
    if (await rename(localEtl, `${localEtl}.partial`).then(() => true, () => false)) {
      record.files['partial'] = 'capture.etl.partial';
      record.warnings.push(`what arrived of the copy is kept as capture.etl.partial; the capture itself stays on ${run.ctx.runner.host} at ${etlPath}`);
    }
    if (record.outcome === 'running') record.outcome = 'failed';
    record.error ??= { name: (e as Error).name, message: (e as Error).message, ...((e as AppError).hint ? { hint: (e as AppError).hint! } : {}) };
    if (exitCode === EXIT.OK) exitCode = EXIT.REMOTE;
  }
  rec.durationMs = Date.now() - t0;
  await run.save();
  return exitCode;
}

/** Finishes the run folder (decode and report, when the caller gave how); false when there is no ETL. */
async function finishFolder(run: Run, localEtl: string): Promise<boolean> {
  const { record, runDir, ctx } = run;
  const f = ctx.finish
    ? await ctx.finish(runDir, { application: ctx.application, filters: record.filters })
    : { haveEtl: await stat(localEtl).then((s) => s.size > 0, () => false), files: { etl: 'capture.etl' }, warnings: [] };
  if (!f.haveEtl) return false;
  Object.assign(record.files, f.files);
  if (f.packets !== undefined) record.packets = f.packets;
  if (f.decode) record.decode = f.decode;
  for (const w of f.warnings) run.warn(w);
  return true;
}

function stopStepFor(backend: Exclude<Backend, 'auto'>, session: string): Step {
  return backend === 'netevent' ? stopStep(session) : backend === 'pktmon' ? pktmonStopStep() : netshStopStep(session);
}

/** Stop and remove, on every path (a signal does not interrupt it); tries twice when PowerShell itself fails. */
async function stopAndRemove(run: Run, backend: Exclude<Backend, 'auto'>, session: string): Promise<{ sessionRemoved: boolean; detail: string }> {
  const { ctx, record } = run;
  if (run.startRefused) return { sessionRemoved: true, detail: `${backend} refused to start: nothing of ours to stop` };
  const s = stopStepFor(backend, session);
  let last = '';
  for (let attempt = 1; attempt <= 2; attempt++) {
    ctx.beforeStep?.(s.name); // a signal now does not stop the stop
    const t0 = Date.now();
    const rec: StepRecord = { name: s.name, description: s.description, startedAt: new Date(t0).toISOString(), durationMs: 0, ok: false };
    record.steps.push(rec);
    try {
      const r = await ctx.runner.run(s);
      rec.ok = r.ok;
      rec.durationMs = Date.now() - t0;
      const gone = r.ok ? stoppedFromResult(run, backend, session, r) : undefined;
      if (r.ok && gone !== false) return { sessionRemoved: true, detail: `${backend} session stopped and removed${gone === undefined ? ' (the host cannot list ETW sessions to confirm)' : ''}` };
      last = r.ok ? 'the session is still there after the stop' : r.error?.message ?? 'failed';
    } catch (e) {
      last = (e as Error).message;
    }
    rec.error = last;
    rec.durationMs = Date.now() - t0;
    run.log.warn(`stop attempt ${attempt} failed: ${last}`);
    // The stop may have failed because there is nothing left to stop: ask the host.
    const gone = await verifyGone(run, backend, session);
    if (gone === 'gone') return { sessionRemoved: true, detail: `no longer present after: ${last}` };
    if (typeof gone === 'object') last = `${last}; then ${gone.checkFailed}`;
    if (gone === 'unconfirmed') {
      run.warn(`the ${backend} stop failed (${last}) and its ETW session was never seen running: check on the host (pktmon status / netsh trace show status)`);
      return { sessionRemoved: true, detail: `not found after: ${last} (unconfirmed)` };
    }
  }
  return { sessionRemoved: false, detail: last };
}

/** From a stop step's own result: false = still there, true = gone, undefined = cannot say. */
function stoppedFromResult(run: Run, backend: Exclude<Backend, 'auto'>, session: string, r: StepResult): boolean | undefined {
  if (backend === 'netevent') return run.parse(r, (x, h) => parseRemaining(x, h, 'stop')).every((s) => s.name !== session);
  const traces = run.parse(r, (x, h) => parseTraceSessions(x, h, 'stop'));
  if (traces === undefined || !run.traceSeen) return undefined;
  return backend === 'pktmon' ? !pktmonRunning(traces) : !traces.some((t) => t.toLowerCase() === session.toLowerCase());
}

/**
 * Is our capture gone from the host (by name, never by localized text)? 'unconfirmed': the tool's
 * ETW session was never seen running, so not finding it proves little.
 */
async function verifyGone(run: Run, backend: Exclude<Backend, 'auto'>, session: string): Promise<'gone' | 'present' | 'unconfirmed' | { checkFailed: string }> {
  const host = run.ctx.runner.host;
  try {
    if (backend === 'netevent') {
      const r = await run.ctx.runner.run(preflightStep());
      if (!r.ok) return { checkFailed: `the check failed: ${r.error?.message ?? 'unknown error'}` };
      return parsePreflight(r, host).sessions.some((s) => s.name === session) ? 'present' : 'gone';
    }
    const names = traceNames(backend, session);
    const r = await run.ctx.runner.run(traceSessionsStep(names));
    const traces = r.ok ? parseTraceSessions(r, host, 'verify-stopped') : undefined;
    if (traces === undefined) return { checkFailed: `the check failed: ${r.error?.message ?? 'no list of ETW sessions'}` };
    if (traces.some((t) => names.some((n) => n.toLowerCase() === t.toLowerCase()))) return 'present';
    return run.traceSeen ? 'gone' : 'unconfirmed';
  } catch (e) {
    run.log.warn(`could not check whether the ${backend} session is gone: ${(e as Error).message}`);
    return { checkFailed: `the check failed: ${(e as Error).message}` };
  }
}

function chooseBackend(asked: Backend, pre: Preflight): Exclude<Backend, 'auto'> {
  const netEvent = has(pre, 'New-NetEventSession');
  const pktmon = has(pre, 'pktmon.exe') && (pre.build === 0 || pre.build >= PKTMON_BUILD);
  if (asked === 'netevent') {
    if (!netEvent) throw new RemoteError('the NetEventPacketCapture module is not available on this host', { hint: 'use --backend netsh (Windows Server 2012 R2 / 2016) or --backend pktmon (2019+)' });
    return 'netevent';
  }
  if (asked === 'pktmon') {
    if (!pktmon) throw new RemoteError(`pktmon is not on this host (it needs Windows 10 1809 / Server 2019, build ${PKTMON_BUILD}; this host is build ${pre.build})`, { hint: 'use --backend netevent or netsh' });
    return 'pktmon';
  }
  if (asked === 'netsh') return 'netsh';
  if (netEvent) return 'netevent';
  return pktmon ? 'pktmon' : 'netsh';
}

function hintFor(message: string): string | undefined {
  if (/access is denied/i.test(message)) return 'run as Administrator';
  if (/not enough space/i.test(message)) return 'free disk space or choose another --out';
  if (/being used by another process/i.test(message)) return 'another program holds the capture file; choose another --out';
  if (/already exists|only one session/i.test(message)) return 'a capture session already exists: wnvcap sessions list';
  if (/cannot find the path|path specified/i.test(message)) return 'the capture folder could not be created on the host';
  return undefined;
}

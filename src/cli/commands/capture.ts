/**
 * `wnvcap capture`, `wnvcap sessions list|cleanup`, `wnvcap profiles list|show`, `wnvcap doctor`:
 * the capture on a host (the local Windows host, or the built-in simulated host with --simulate
 * or WNVCAP_SIMULATE=1).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { CaptureOptions } from '../../capture/options.js';
import { runFleet } from '../../fleet/fleet.js';
import { enforceRetention, type AgentDeps } from '../../schedule/agent.js';
import { listRunFolders, removeRunFolder } from '../../schedule/fs-retention.js';
import { PoolController } from '../../remote/controller.js';
import { RemoteRunner, type FetchingRunner } from '../../remote/remote-runner.js';
import type { Credential, RemoteTarget } from '../../remote/remote-steps.js';
import { PASSWORD_ENV } from '../../remote/session-pool.js';
import { renderFleetHtml, renderFleetText } from '../../fleet/render.js';
import { behaviourFromName, SimRemoteHost } from '../../sim/sim-fleet.js';
import { adminMembersStep, cleanupStep, netshStopStep, pktmonStopStep, preflightStep, inventoryStep } from '../../capture/steps.js';
import { defaultStateDir, leaseAlive, readLeases, removeLease } from '../../capture/lease.js';
import { has, parseAdminMembers, parseInventory, parsePreflight, pktmonRunning } from '../../capture/step-results.js';
import { newRunId, planScripts } from '../../capture/lifecycle.js';
import { captureRun } from '../../run/capture-run.js';
import { resolveCaptureOptions, type RawCaptureOptions } from '../../capture/options.js';
import { DEFAULT_PROFILE, listProfiles, loadProfile } from '../../capture/profiles.js';
import type { PsRunner } from '../../remote/runner.js';
import { SimHost } from '../../sim/sim-host.js';
import { SNAPSHOT_SCHEMA } from '../../topology/snapshot.js';
import { buildTopology } from '../../topology/topology.js';
import { CancelledError, hostsExitCode, RemoteError, UsageError } from '../../util/errors.js';
import { APPLICATION } from '../../version.js';
import type { CliContext } from '../context.js';
import { compartmentsJson, renderCompartments } from './compartments.js';

/**
 * What stops a capture cleanly: Ctrl-C, SIGTERM, Ctrl-Break (SIGBREAK, Windows), the console or
 * terminal closing (SIGHUP). Windows delivers no SIGTERM to Node; a killed process (Task
 * Scheduler's time limit, a deleted pod) leaves its session to the lease and `sessions cleanup`.
 */
export const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGBREAK', 'SIGHUP'];

export interface HostArgs {
  simulate: boolean;
  /** Remote hosts (sessions, doctor, compartments): each is asked in turn. */
  computers?: string[];
  ssh?: boolean;
  user?: string;
  key?: string;
  port?: number;
  useSsl?: boolean;
  credential?: string;
  credentialFile?: string;
  /** Where remote hosts write their captures (default C:\ProgramData\wnvcap\runs). */
  remoteDir?: string;
}

export function simulateRequested(a: HostArgs, ctx: CliContext): boolean {
  return a.simulate || ctx.env['WNVCAP_SIMULATE'] === '1';
}

/**
 * Where leases live: WNVCAP_STATE_DIR, else %ProgramData%\wnvcap (~/.wnvcap elsewhere); the
 * simulated host keeps its state and leases in ./.wnvcap-sim so a demo writes nothing else.
 */
export function stateDirFor(a: HostArgs, ctx: CliContext): string {
  if (ctx.env['WNVCAP_STATE_DIR']) return ctx.env['WNVCAP_STATE_DIR'];
  return simulateRequested(a, ctx) ? join(ctx.cwd, '.wnvcap-sim') : defaultStateDir(ctx.env);
}

/** One runner per --computer host (or the local / simulated host when none is named). */
export async function openRunners(a: HostArgs, ctx: CliContext): Promise<PsRunner[]> {
  const names = await fleetTargets(a as CaptureArgs);
  if (names.length === 0) return [await openRunner(a, ctx)];
  return remoteRunners(a, names, ctx, 1);
}

/**
 * The runners for --computer hosts: simulated hosts, or RemoteRunners that share one controller
 * PowerShell whose runspace pool runs `throttle` remote steps at once (remote/controller.ts).
 */
async function remoteRunners(a: HostArgs, names: string[], ctx: CliContext, throttle: number): Promise<FetchingRunner[]> {
  if (a.port !== undefined && (!Number.isInteger(a.port) || a.port < 1 || a.port > 65535)) throw new UsageError('--port must be 1-65535');
  if (a.ssh && a.credential) throw new UsageError('--credential is for WinRM; SSH remoting uses --user and --key (key authentication)');
  const cred = a.credential ? { user: a.credential, password: await readPassword(a as CaptureArgs, ctx) } : undefined;
  const targets = names.map((host): RemoteTarget => ({ host, transport: a.ssh ? 'ssh' : 'winrm', ...(a.port ? { port: a.port } : {}), ...(a.useSsl ? { useSsl: true } : {}), ...(a.user ? { user: a.user } : {}), ...(a.key ? { keyFile: a.key } : {}) }));
  if (simulateRequested(a, ctx)) return targets.map((t) => new SimRemoteHost(t, behaviourFromName(t.host), join(stateDirFor(a, ctx), 'fleet-disks'), cred));
  if (process.platform !== 'win32' && !a.ssh) throw new RemoteError('WinRM remoting is driven from a Windows agent', { hint: 'use --ssh (PowerShell 7 on this machine) or --simulate' });
  const { ControllerShell } = await import('../../remote/controller-shell.js');
  const { timeoutScale } = await import('../../remote/local-runner.js');
  const env = controllerEnv(ctx, cred);
  const controller = new PoolController(new ControllerShell({ env, cwd: ctx.cwd }), { throttle, timeoutScale: timeoutScale(env), ...(cred ? { credentialUser: cred.user } : {}) });
  return targets.map((t) => new RemoteRunner(controller, t, a.remoteDir, t.host, cred !== undefined));
}

/** Runs `fn` for every host; a failing host is reported and does not stop the others. Exit: 0 all, 4 none, 5 some. */
export async function forEachHost(a: HostArgs, ctx: CliContext, fn: (runner: PsRunner) => Promise<number>): Promise<number> {
  const runners = await openRunners(a, ctx);
  let ok = 0;
  for (const r of runners) {
    try {
      if ((await fn(r)) === 0) ok++;
    } catch (e) {
      ctx.stderr(`${r.host}: ${(e as Error).message}\n`);
      const hint = (e as { hint?: string }).hint;
      if (hint) ctx.stderr(`${r.host}: hint: ${hint}\n`);
      if (runners.length === 1) throw e;
    } finally {
      await r.dispose();
    }
  }
  return hostsExitCode(ok, runners.length);
}


/** The controller PowerShell's environment: ours, plus the remoting password where there is one (PASSWORD_ENV). */
function controllerEnv(ctx: CliContext, cred: Credential | undefined): Record<string, string | undefined> {
  const { WNVCAP_PASSWORD: _own, ...env } = ctx.env;
  return cred ? { ...env, [PASSWORD_ENV]: cred.password } : env;
}

export async function openRunner(a: HostArgs, ctx: CliContext): Promise<PsRunner> {
  if (simulateRequested(a, ctx)) return new SimHost({ stateFile: join(stateDirFor(a, ctx), 'sim-host.json') });
  if (process.platform !== 'win32' && !ctx.env['WNVCAP_PWSH']) {
    throw new RemoteError('capturing needs a Windows host (NetEventPacketCapture, pktmon or netsh)', { hint: 'add --simulate to run on the built-in simulated container host' });
  }
  const { LocalPowerShellRunner } = await import('../../remote/local-runner.js');
  return new LocalPowerShellRunner({ env: { ...ctx.env }, cwd: ctx.cwd });
}

export interface CaptureArgs extends HostArgs, RawCaptureOptions {
  profile: string | undefined;
  out: string;
  dryRun: boolean;
  force: boolean;
  computers?: string[];
  computersFile?: string;
  credential?: string;
  credentialFile?: string;
  ssh?: boolean;
  user?: string;
  key?: string;
  port?: number;
  useSsl?: boolean;
  throttle?: number;
  json?: boolean;
  /** Retention after the run (used by scheduled tasks): keep N run folders, at most G GB. */
  keep?: number;
  maxDisk?: number;
}

export async function runCaptureCommand(a: CaptureArgs, ctx: CliContext): Promise<number> {
  const profile = await loadProfile(a.profile ?? DEFAULT_PROFILE);
  const flags: RawCaptureOptions = {};
  for (const k of ['duration', 'maxSize', 'truncate', 'ip', 'protocol', 'mac', 'ethertype', 'captureType', 'backend'] as const) {
    if (a[k] !== undefined) (flags as Record<string, unknown>)[k] = a[k];
  }
  const sim = simulateRequested(a, ctx);
  const o = resolveCaptureOptions(profile, flags, { out: a.out, dryRun: a.dryRun, simulate: sim, force: a.force });
  if (o.dryRun) {
    const runId = newRunId();
    const runDir = join(o.out, `run-${runId}`);
    ctx.stdout(`# wnvcap capture --dry-run: the scripts a capture with profile "${profile.name}" runs, in order (nothing is changed)\n`);
    ctx.stdout(`# backend: ${o.backend === 'auto' ? 'auto (netevent shown; the preflight picks pktmon or netsh where NetEventPacketCapture is missing)' : o.backend}\n\n`);
    for (const { step, text } of planScripts(o, runId, runDir)) {
      ctx.stdout(`# ---- step ${step.name}: ${step.description.replace(/[\r\n]+/g, ' ')}\n${text}\n\n`);
    }
    return 0;
  }
  const targets = await fleetTargets(a);
  if (targets.length > 0) return runFleetCommand(a, o, targets, ctx);
  const runner = await openRunner(a, ctx);
  const ac = new AbortController();
  const onSignal = (sig: string): void => {
    if (ac.signal.aborted) return;
    ctx.logger.warn(`${sig}: stopping the capture (the session is stopped and removed first)`);
    ac.abort();
  };
  const handlers = STOP_SIGNALS.map((sig) => [sig, (): void => onSignal(sig)] as const);
  for (const [sig, h] of handlers) process.on(sig, h);
  let si: typeof import('systeminformation') | undefined;
  try {
    const res = await captureRun(o, {
      runner, logger: ctx.logger, signal: ac.signal, stateDir: stateDirFor(a, ctx), application: APPLICATION,
      ...(ctx.stderrIsTTY ? { progress: (t: string) => ctx.stderr(`\r${t}   `) } : {}),
      freeBytes: async (path) => {
        try {
          si ??= await import('systeminformation');
          const fs = await si.fsSize();
          const best = fs.filter((f) => path.startsWith(f.mount)).sort((x, y) => y.mount.length - x.mount.length)[0];
          return best?.available;
        } catch {
          return undefined;
        }
      },
    });
    if (ctx.stderrIsTTY) ctx.stderr('\r\x1b[K');
    const r = res.record;
    ctx.stdout(`${r.simulated ? 'simulated host ' : ''}${r.host}: ${r.outcome}${r.stopReason ? ` (${r.stopReason})` : ''}; run folder ${res.runDir}\n`);
    for (const w of r.warnings) ctx.logger.warn(w);
    if (r.error) {
      ctx.stderr(`error: ${r.error.message}\n`);
      if (r.error.hint) ctx.stderr(`hint: ${r.error.hint}\n`);
    }
    if (a.keep !== undefined || a.maxDisk !== undefined) {
      const removed = await enforceRetention({ out: o.out, windows: [], ...(a.keep !== undefined ? { keep: a.keep } : {}), ...(a.maxDisk !== undefined ? { maxDiskGB: a.maxDisk } : {}) },
        { listRuns: listRunFolders, removeRun: removeRunFolder } as unknown as AgentDeps, res.runDir);
      for (const p of removed) ctx.logger.info(`retention: removed ${p}`);
    }
    if (r.files['report']) {
      ctx.stdout(`\n${await readFile(join(res.runDir, 'report.txt'), 'utf8')}`);
    }
    return res.exitCode;
  } finally {
    for (const [sig, h] of handlers) process.off(sig, h);
    await runner.dispose();
  }
}

/** Host names from --computer (repeatable, comma lists) and --computers-file (one per line, # comments). */
export async function fleetTargets(a: CaptureArgs): Promise<string[]> {
  const names = (a.computers ?? []).flatMap((c) => c.split(',')).map((s) => s.trim()).filter(Boolean);
  if (a.computersFile) {
    let text: string;
    try {
      text = await readFile(a.computersFile, 'utf8');
    } catch {
      throw new UsageError(`--computers-file: cannot read ${a.computersFile}`);
    }
    names.push(...text.split(/\r?\n/).map((l) => l.replace(/#.*$/, '').trim()).filter(Boolean));
  }
  for (const n of names) {
    if (!/^[A-Za-z0-9]([A-Za-z0-9.-]{0,252}[A-Za-z0-9])?$|^\[?[0-9a-fA-F:.]+\]?$/.test(n)) throw new UsageError(`--computer: "${n}" is not a host name or IP address`);
  }
  return [...new Set(names)];
}

/** The password for --credential: WNVCAP_PASSWORD, --credential-file, or a prompt without echo. */
async function readPassword(a: CaptureArgs, ctx: CliContext): Promise<string> {
  if (ctx.env['WNVCAP_PASSWORD'] !== undefined) return ctx.env['WNVCAP_PASSWORD'];
  if (a.credentialFile) {
    try {
      return (await readFile(a.credentialFile, 'utf8')).replace(/\r?\n$/, '');
    } catch {
      throw new UsageError(`--credential-file: cannot read ${a.credentialFile}`);
    }
  }
  if (!process.stdin.isTTY) throw new UsageError('--credential needs a password: set WNVCAP_PASSWORD, use --credential-file, or run in a terminal to be asked');
  ctx.stderr(`password for ${a.credential}: `);
  return new Promise((res, rej) => {
    const stdin = process.stdin;
    stdin.setRawMode(true);
    let pw = '';
    const on = (b: Buffer): void => {
      for (const ch of b.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          stdin.setRawMode(false);
          stdin.off('data', on);
          stdin.pause();
          ctx.stderr('\n');
          res(pw);
          return;
        }
        if (ch === '\u0003') {
          stdin.setRawMode(false);
          stdin.off('data', on);
          stdin.pause();
          rej(new CancelledError('interrupted at the password prompt'));
          return;
        }
        if (ch === '\u007f') pw = pw.slice(0, -1);
        else pw += ch;
      }
    };
    stdin.on('data', on);
    stdin.resume();
  });
}

async function runFleetCommand(a: CaptureArgs, o: CaptureOptions, names: string[], ctx: CliContext): Promise<number> {
  const throttle = a.throttle ?? 8;
  if (!Number.isInteger(throttle) || throttle < 1 || throttle > 256) throw new UsageError('--throttle must be a whole number from 1 to 256');
  const sim = simulateRequested(a, ctx);
  const stateDir = stateDirFor(a, ctx);
  const runners = await remoteRunners(a, names, ctx, throttle);
  const ac = new AbortController();
  const stop = (): void => ac.abort();
  for (const sig of STOP_SIGNALS) process.on(sig, stop);
  try {
    const r = await runFleet(runners, o, { throttle, logger: ctx.logger, signal: ac.signal, stateDir, application: APPLICATION });
    if (r.report) {
      await writeFile(join(r.fleetDir, 'report.txt'), renderFleetText(r, 20));
      await writeFile(join(r.fleetDir, 'report.html'), renderFleetHtml(r));
      await writeFile(join(r.fleetDir, 'report.json'), `${JSON.stringify(r.report, null, 2)}\n`);
    }
    if (a.json) {
      ctx.stdout(`${JSON.stringify({ schema: r.schema, simulated: sim, fleetDir: r.fleetDir, maxConcurrent: r.maxConcurrent, hosts: r.hosts.map((h) => ({ host: h.host, status: h.status, phase: h.phase, files: h.files, packets: h.packets, error: h.error })) }, null, 2)}\n`);
    } else ctx.stdout(renderFleetText(r, 20));
    return r.exitCode;
  } finally {
    for (const sig of STOP_SIGNALS) process.off(sig, stop);
  }
}

export async function runSessions(a: HostArgs & { action: 'list' | 'cleanup'; force: boolean; json: boolean }, ctx: CliContext): Promise<number> {
  return forEachHost(a, ctx, (runner) => sessionsOn(runner, a, ctx));
}

async function sessionsOn(runner: PsRunner, a: HostArgs & { action: 'list' | 'cleanup'; force: boolean; json: boolean }, ctx: CliContext): Promise<number> {
  const stateDir = stateDirFor(a, ctx);
  {
    const pre = parsePreflight(await runner.run(preflightStep()), runner.host);
    const leases = await readLeases(stateDir);
    const rows = pre.sessions.map((s) => {
      const lease = leases.find((l) => l.session === s.name);
      const owner = lease ? (leaseAlive(lease) ? `wnvcap pid ${lease.pid} (running)` : `wnvcap pid ${lease.pid} (gone)`) : s.name.startsWith('wnvcap-') ? 'wnvcap (no lease)' : 'not wnvcap';
      return { name: s.name, status: s.status, file: s.localFilePath, owner, orphaned: s.name.startsWith('wnvcap-') && !(lease && leaseAlive(lease)) };
    });
    const pkt = pktmonRunning(pre.traceSessions) === true;
    const pktLease = leases.find((l) => l.backend === 'pktmon');
    const netshLeases = leases.filter((l) => l.backend === 'netsh');
    if (a.action === 'list') {
      if (a.json) ctx.stdout(`${JSON.stringify({ host: runner.host, simulated: runner.simulated, sessions: rows, pktmonRunning: pkt, leases }, null, 2)}\n`);
      else {
        ctx.stdout(`${runner.simulated ? 'simulated host ' : ''}${runner.host}: ${rows.length} NetEventSession(s)${pkt ? ', pktmon capturing' : ''}\n`);
        for (const r of rows) ctx.stdout(`  ${r.name}  ${r.status}  ${r.owner}${r.orphaned ? '  ORPHANED' : ''}  ${r.file}\n`);
        for (const l of leases.filter((x) => !rows.some((r) => r.name === x.session))) ctx.stdout(`  lease ${l.session} (${l.backend}, pid ${l.pid}${leaseAlive(l) ? ', running' : ', gone'})\n`);
      }
      return 0;
    }
    let removed = 0;
    for (const r of rows) {
      if (!(r.orphaned || (a.force && r.name.startsWith('wnvcap-')) || (a.force && r.owner === 'not wnvcap'))) continue;
      const res = await runner.run(cleanupStep(r.name));
      if (res.ok) {
        removed++;
        await removeLease(stateDir, r.name);
        ctx.stdout(`removed session ${r.name}\n`);
      } else ctx.logger.warn(`could not remove ${r.name}: ${res.error?.message ?? ''}`);
    }
    if (pktLease && !leaseAlive(pktLease) && pkt) {
      const res = await runner.run(pktmonStopStep());
      if (res.ok) {
        removed++;
        await removeLease(stateDir, pktLease.session);
        ctx.stdout('stopped pktmon capture left by a killed agent\n');
      }
    }
    for (const l of netshLeases.filter((x) => !leaseAlive(x))) {
      const res = await runner.run(netshStopStep(l.session));
      if (res.ok) removed++;
      await removeLease(stateDir, l.session);
    }
    for (const l of leases.filter((x) => !leaseAlive(x) && !rows.some((r) => r.name === x.session) && x.backend === 'netevent')) await removeLease(stateDir, l.session);
    ctx.stdout(`${removed} session(s) removed${rows.some((r) => r.owner === 'not wnvcap') && !a.force ? '; sessions not started by wnvcap were left alone (use --force)' : ''}\n`);
    return 0;
  }
}

export async function runProfiles(a: { action: 'list' | 'show'; name: string | undefined; json: boolean }, ctx: CliContext): Promise<number> {
  if (a.action === 'list') {
    const list = await listProfiles();
    if (a.json) ctx.stdout(`${JSON.stringify(list.map((p) => ({ name: p.name, description: p.description })), null, 2)}\n`);
    else for (const p of list) ctx.stdout(`${p.name.padEnd(10)} ${p.description}\n`);
    return 0;
  }
  const p = await loadProfile(a.name ?? DEFAULT_PROFILE);
  const o = resolveCaptureOptions(p, {}, { out: '.', dryRun: true, simulate: false, force: false });
  ctx.stdout(`${JSON.stringify({ name: p.name, description: p.description, file: p.file, values: p.values, resolved: { ...o, out: undefined, dryRun: undefined, simulate: undefined, force: undefined } }, null, 2)}\n`);
  return 0;
}

export async function runDoctor(a: HostArgs & { json: boolean }, ctx: CliContext): Promise<number> {
  return forEachHost(a, ctx, (runner) => doctorOn(runner, a, ctx));
}

async function doctorOn(runner: PsRunner, a: HostArgs & { json: boolean }, ctx: CliContext): Promise<number> {
  {
    const pre = parsePreflight(await runner.run(preflightStep()), runner.host);
    const build = pre.build;
    const sessions = pre.sessions;
    const checks = [
      { check: 'elevated', ok: pre.elevated, remedy: 'run wnvcap as Administrator (or as SYSTEM)' },
      { check: `Windows build ${build}`, ok: build >= 9600, remedy: 'Windows Server 2012 R2 or later is needed' },
      { check: 'NetEventPacketCapture cmdlets', ok: has(pre, 'New-NetEventSession'), remedy: 'use --backend netsh or pktmon' },
      { check: 'VmSwitch/VFP providers (Server 2022+)', ok: has(pre, 'Add-NetEventVmSwitchProvider'), remedy: 'optional: switch-level context needs Server 2022 or later' },
      { check: 'pktmon (build 17763+)', ok: has(pre, 'pktmon.exe'), remedy: 'drop capture needs Windows 10 1809 / Server 2019' },
      { check: 'HNS module (container endpoints)', ok: has(pre, 'Get-HnsEndpoint'), remedy: 'optional: without HostNetworkingService, containers are known by compartment only' },
      { check: 'docker.exe (container names)', ok: has(pre, 'docker.exe'), remedy: 'optional: containerd/Kubernetes nodes have no docker.exe; names come from HNS' },
      { check: 'ETW session list (Get-EtwTraceSession)', ok: pre.traceSessions !== undefined, remedy: 'optional: without it wnvcap cannot confirm that a pktmon/netsh capture stopped' },
      { check: `no foreign capture session (${sessions.length} present)`, ok: sessions.every((s) => s.name.startsWith('wnvcap-')), remedy: 'inspect with Get-NetEventSession | Format-List; wnvcap refuses to touch it without --force' },
      { check: 'PowerShell', ok: true, remedy: `${pre.psEdition} ${pre.psVersion}` },
      ...(a.computers?.length ? [await computerAccountCheck(runner, ctx)] : []),
    ];
    if (a.json) ctx.stdout(`${JSON.stringify({ host: runner.host, simulated: runner.simulated, checks }, null, 2)}\n`);
    else {
      ctx.stdout(`${runner.simulated ? 'simulated host ' : ''}${runner.host}\n`);
      for (const c of checks) ctx.stdout(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.check}${c.ok ? '' : `: ${c.remedy}`}\n`);
    }
    return checks.slice(0, 3).every((c) => c.ok) ? 0 : 4;
  }
}

/**
 * A scheduled capture runs as SYSTEM on the agent and so reaches other hosts as the agent's
 * computer account (DOMAIN\AGENT$): it must be an administrator there. Direct membership is
 * checked; membership through a domain group cannot be seen from here and is said so.
 */
async function computerAccountCheck(runner: PsRunner, ctx: CliContext): Promise<{ check: string; ok: boolean; remedy: string }> {
  const account = `${ctx.env['USERDOMAIN'] ?? 'DOMAIN'}\\${ctx.env['COMPUTERNAME'] ?? hostname()}$`;
  const check = `scheduled captures reach this host as ${account} (SYSTEM on the agent)`;
  const members = parseAdminMembers(await runner.run(adminMembersStep()), runner.host);
  if (members === undefined) return { check: `${check}: not checked (the host cannot list its Administrators group)`, ok: true, remedy: '' };
  const ok = members.some((m) => m.toLowerCase() === account.toLowerCase());
  return { check, ok, remedy: `${account} is not a direct member of the Administrators group on ${runner.host}: add it (or a domain group holding it), or scheduled fleet captures are denied` };
}

/** compartments on a live or simulated host (no --snapshot): runs the inventory step. */
export async function runLiveCompartments(a: HostArgs & { json: boolean }, ctx: CliContext): Promise<number> {
  return forEachHost(a, ctx, async (runner) => {
    const inv = parseInventory(await runner.run(inventoryStep()), runner.host);
    for (const w of inv.warnings) ctx.logger.warn(`${runner.host}: ${w}`);
    const topo = buildTopology({ schema: SNAPSHOT_SCHEMA, host: runner.host, takenAt: new Date().toISOString(), ...(runner.simulated ? { simulated: true } : {}), commands: inv.commands, warnings: inv.warnings });
    ctx.stdout(a.json ? `${JSON.stringify(compartmentsJson(topo), null, 2)}\n` : renderCompartments(topo));
    return 0;
  });
}

/**
 * The runners for the host a command works on (host-options.ts): the local Windows host
 * (node-powershell), the built-in simulated host, or --computer hosts over PowerShell remoting,
 * all of whose steps run in one controller PowerShell. Loaded by a command's run, not at start-up.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { defaultStateDir } from '../capture/lease.js';
import { PoolController } from '../remote/controller.js';
import { RemoteRunner, type FetchingRunner } from '../remote/remote-runner.js';
import type { Credential, RemoteTarget } from '../remote/remote-steps.js';
import type { PsRunner } from '../remote/runner.js';
import { PASSWORD_ENV } from '../remote/session-pool.js';
import { behaviourFromName, SimRemoteHost } from '../sim/sim-fleet.js';
import { SimHost } from '../sim/sim-host.js';
import { CancelledError, hostsExitCode, RemoteError, UsageError } from '../util/errors.js';
import type { CliContext } from './context.js';
import { simulateRequested, type HostArgs } from './host-options.js';

/**
 * What stops a capture cleanly: Ctrl-C, SIGTERM, Ctrl-Break (SIGBREAK, Windows), the console or
 * terminal closing (SIGHUP). Windows delivers no SIGTERM to Node; a killed process (Task
 * Scheduler's time limit, a deleted pod) leaves its session to the lease and `sessions cleanup`.
 */
export const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGBREAK', 'SIGHUP'];

/** Runs fn with an AbortSignal that the stop signals abort (onStop says so first). */
export async function untilStopped<T>(fn: (signal: AbortSignal) => Promise<T>, onStop?: (sig: NodeJS.Signals) => void, also?: AbortSignal): Promise<T> {
  const ac = new AbortController();
  const handlers = STOP_SIGNALS.map((sig) => [sig, (): void => {
    if (ac.signal.aborted) return;
    onStop?.(sig);
    ac.abort();
  }] as const);
  for (const [sig, h] of handlers) process.on(sig, h);
  // Another reason to stop as Ctrl-C does (sniff: the reader of its output went away).
  const onAlso = (): void => ac.abort();
  also?.addEventListener('abort', onAlso, { once: true });
  try {
    return await fn(ac.signal);
  } finally {
    for (const [sig, h] of handlers) process.off(sig, h);
    also?.removeEventListener('abort', onAlso);
  }
}

/**
 * Where leases live: WNVCAP_STATE_DIR, else %ProgramData%\wnvcap (~/.wnvcap elsewhere); the
 * simulated host keeps its state and leases in ./.wnvcap-sim so a demo writes nothing else.
 */
export function stateDirFor(a: Pick<HostArgs, 'simulate'>, ctx: CliContext): string {
  if (ctx.env['WNVCAP_STATE_DIR']) return ctx.env['WNVCAP_STATE_DIR'];
  return simulateRequested(a, ctx) ? join(ctx.cwd, '.wnvcap-sim') : defaultStateDir(ctx.env);
}

/** The local host's runner: node-powershell on Windows (or WNVCAP_PWSH), else the simulated host when asked. */
export async function openRunner(a: Pick<HostArgs, 'simulate'>, ctx: CliContext): Promise<PsRunner> {
  if (simulateRequested(a, ctx)) return new SimHost({ stateFile: join(stateDirFor(a, ctx), 'sim-host.json') });
  if (process.platform !== 'win32' && !ctx.env['WNVCAP_PWSH']) {
    throw new RemoteError('capturing needs a Windows host (NetEventPacketCapture, pktmon or netsh)', { hint: 'add --simulate to run on the built-in simulated container host' });
  }
  const { LocalPowerShellRunner } = await import('../remote/local-runner.js');
  return new LocalPowerShellRunner({ env: { ...ctx.env }, cwd: ctx.cwd });
}

/** Host names from --computer (repeatable, comma lists) and --computers-file (one per line, # comments). */
export async function hostNames(a: HostArgs): Promise<string[]> {
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

/**
 * The runners for --computer hosts: simulated hosts, or RemoteRunners that share one controller
 * PowerShell whose runspace pool runs `throttle` remote steps at once (remote/controller.ts).
 */
export async function remoteRunners(a: HostArgs, names: string[], ctx: CliContext, throttle: number): Promise<FetchingRunner[]> {
  if (a.port !== undefined && (!Number.isInteger(a.port) || a.port < 1 || a.port > 65535)) throw new UsageError('--port must be 1-65535');
  if (a.ssh && a.credential) throw new UsageError('--credential is for WinRM; SSH remoting uses --user and --key (key authentication)');
  const cred = a.credential ? { user: a.credential, password: await readPassword(a, a.credential, ctx) } : undefined;
  const targets = names.map((host): RemoteTarget => ({ host, transport: a.ssh ? 'ssh' : 'winrm', ...(a.port ? { port: a.port } : {}), ...(a.useSsl ? { useSsl: true } : {}), ...(a.user ? { user: a.user } : {}), ...(a.key ? { keyFile: a.key } : {}) }));
  if (simulateRequested(a, ctx)) return targets.map((t) => new SimRemoteHost(t, behaviourFromName(t.host), join(stateDirFor(a, ctx), 'fleet-disks'), cred));
  if (process.platform !== 'win32' && !a.ssh) throw new RemoteError('WinRM remoting is driven from a Windows agent', { hint: 'use --ssh (PowerShell 7 on this machine) or --simulate' });
  const { ControllerShell } = await import('../remote/controller-shell.js');
  const { timeoutScale } = await import('../remote/local-runner.js');
  const env = controllerEnv(ctx, cred);
  const controller = new PoolController(new ControllerShell({ env, cwd: ctx.cwd }), { throttle, timeoutScale: timeoutScale(env), ...(cred ? { credentialUser: cred.user } : {}) });
  return targets.map((t) => new RemoteRunner(controller, t, a.remoteDir, t.host, cred !== undefined));
}

/** Runs fn for every host (the local or simulated one when no --computer is named); a failing host is reported and does not stop the others. Exit: 0 all, 4 none, 5 some. */
export async function forEachHost(a: HostArgs, ctx: CliContext, fn: (runner: PsRunner) => Promise<number>): Promise<number> {
  const names = await hostNames(a);
  const runners = names.length === 0 ? [await openRunner(a, ctx)] : await remoteRunners(a, names, ctx, 1);
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

/** The password for --credential: WNVCAP_PASSWORD, --credential-file, or a prompt without echo. */
async function readPassword(a: HostArgs, user: string, ctx: CliContext): Promise<string> {
  if (ctx.env['WNVCAP_PASSWORD'] !== undefined) return ctx.env['WNVCAP_PASSWORD'];
  if (a.credentialFile) {
    try {
      return (await readFile(a.credentialFile, 'utf8')).replace(/\r?\n$/, '');
    } catch {
      throw new UsageError(`--credential-file: cannot read ${a.credentialFile}`);
    }
  }
  if (!process.stdin.isTTY) throw new UsageError('--credential needs a password: set WNVCAP_PASSWORD, use --credential-file, or run in a terminal to be asked');
  ctx.stderr(`password for ${user}: `);
  return promptHidden(ctx.stderr);
}

/** A line from the terminal without echo; Ctrl-C is a CancelledError. */
function promptHidden(stderr: CliContext['stderr']): Promise<string> {
  return new Promise((res, rej) => {
    const stdin = process.stdin;
    let pw = '';
    const end = (): void => {
      stdin.setRawMode(false);
      stdin.off('data', on);
      stdin.pause();
    };
    const on = (b: Buffer): void => {
      for (const ch of b.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          end();
          stderr('\n');
          res(pw);
          return;
        }
        if (ch === '\u0003') {
          end();
          rej(new CancelledError('interrupted at the password prompt'));
          return;
        }
        if (ch === '\u007f') pw = pw.slice(0, -1);
        else pw += ch;
      }
    };
    stdin.setRawMode(true);
    stdin.on('data', on);
    stdin.resume();
  });
}

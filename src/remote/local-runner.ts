/**
 * Runs steps in the local PowerShell with node-powershell v5, designed around its real behaviour
 * (windows-capture.md 6): one long-lived process; every invoke is one line that decodes a base64
 * (UTF-8) script into a script block (no quoting round, no multi-line REPL traps);
 * throwOnInvocationError off and success read from our JSON envelope; a timeout per step, after
 * which the process is killed and a new one made; its `$` template is never used.
 *
 * Which PowerShell: WNVCAP_PWSH if set, else pwsh found on PATH (MSIX/Store and Linux installs
 * included), else %ProgramFiles%\PowerShell\7\pwsh.exe, else Windows PowerShell 5.1.
 *
 * Ctrl-C must not reach the child: a terminal delivers it to every process of its foreground
 * group (nodejs issue 29837) and the step in flight would die. On Linux/macOS the child runs
 * under setsid (its own session). On Windows, libuv starts a child whose three stdio are pipes,
 * with windowsHide, as CREATE_NO_WINDOW: it has no console, so the console's CTRL+C never
 * reaches it [libuv's process.c; only confirmable on Windows].
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { delimiter, join } from 'node:path';
import { renderStep, type Step } from '../powershell/script.js';
import { RemoteError } from '../util/errors.js';
import { parseEnvelope, type PsRunner, type StepResult } from './runner.js';

interface NodePs {
  invoke(command: string): Promise<{ raw: string; hadErrors: boolean; stdout?: Buffer | string; stderr?: Buffer | string }>;
  dispose(signal?: string): Promise<void>;
  /** child-shell's ChildProcess (a launcher such as a dotnet tool shim may have children of its own). */
  process?: { pid?: number };
}

export interface PowerShellExecutable {
  path: string;
  /** pwsh (PowerShell 7) or powershell (Windows PowerShell 5.1). */
  edition: 'pwsh' | 'powershell';
}

type Env = Readonly<Record<string, string | undefined>>;

/** A program on PATH (with PATHEXT on Windows), or undefined. */
export function onPath(name: string, env: Env, platform: NodeJS.Platform, exists: (p: string) => boolean = existsSync): string | undefined {
  const dirs = (env['PATH'] ?? env['Path'] ?? '').split(platform === 'win32' ? ';' : delimiter).filter(Boolean);
  const exts = platform === 'win32' && !/\.[a-z]+$/i.test(name) ? (env['PATHEXT'] ?? '.EXE').split(';') : [''];
  for (const d of dirs) for (const e of exts) {
    const p = platform === 'win32' ? `${d.replace(/[\\/]$/, '')}\\${name}${e}` : join(d, name + e);
    if (exists(p)) return p;
  }
  return undefined;
}

export function findPowerShell(env: Env, platform: NodeJS.Platform, exists: (p: string) => boolean = existsSync): PowerShellExecutable | undefined {
  const forced = env['WNVCAP_PWSH'];
  if (forced) return { path: forced, edition: /powershell(\.exe)?$/i.test(forced) ? 'powershell' : 'pwsh' };
  const pwsh = onPath(platform === 'win32' ? 'pwsh.exe' : 'pwsh', env, platform, exists);
  if (pwsh) return { path: pwsh, edition: 'pwsh' };
  if (platform !== 'win32') return undefined;
  const pf = `${env['ProgramFiles'] ?? 'C:\\Program Files'}\\PowerShell\\7\\pwsh.exe`;
  if (exists(pf)) return { path: pf, edition: 'pwsh' };
  const winps = onPath('powershell.exe', env, platform, exists) ?? `${env['SystemRoot'] ?? 'C:\\Windows'}\\System32\\WindowsPowerShell\\v1.0\\powershell.exe`;
  return { path: winps, edition: 'powershell' };
}

export const SETSID = ['/usr/bin/setsid', '/bin/setsid'];
export const UTF8_OUTPUT = '[Console]::OutputEncoding = New-Object System.Text.UTF8Encoding $false; $OutputEncoding = New-Object System.Text.UTF8Encoding $false';
const FLAGS = { '-NoProfile': true, '-NonInteractive': true, '-ExecutionPolicy': 'Bypass' } as const;

/** How node-powershell is told to start PowerShell: under setsid where there is one. */
function launch(exe: PowerShellExecutable, platform: NodeJS.Platform): { executable: string; executableOptions: Record<string, string | boolean> } {
  const setsid = platform === 'win32' ? undefined : SETSID.find((p) => existsSync(p));
  if (!setsid) return { executable: exe.path, executableOptions: { ...FLAGS } };
  // node-powershell puts '-NoLogo' first (here switched off) and '-NoExit -Command -' last.
  return { executable: setsid, executableOptions: { '-NoLogo': false, [exe.path]: true, '-nologo': true, ...FLAGS } };
}

/**
 * The child's environment: TERM=dumb on Linux/macOS. With a terminal type, .NET writes keypad-mode
 * sequences (ESC [ ? 1 h) around console I/O, one of them after the last output while PowerShell
 * waits for input; when it arrived in the same read as node-powershell's closing delimiter, the
 * delimiter was not found (child-shell searches only the last bytes) and the step hung until its
 * timeout (seen in CI under load).
 */
export function childEnv(env: Readonly<Record<string, string | undefined>>, platform: NodeJS.Platform = process.platform): Record<string, string | undefined> {
  return platform === 'win32' ? { ...env } : { ...env, TERM: 'dumb' };
}

/** Under setsid the child leads its own process group: kill the group; on Windows, taskkill /T. */
export function killTree(pid: number | undefined): void {
  if (!pid) return;
  try {
    if (process.platform === 'win32') spawnSync('taskkill', ['/PID', String(pid), '/T', '/F'], { stdio: 'ignore', windowsHide: true });
    else process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone, or not a group leader (no setsid here)
  }
}

export interface LocalRunnerOptions {
  /** The PowerShell to run (default: findPowerShell). */
  executable?: PowerShellExecutable;
  /** The child's environment (default: this process's). */
  env?: Record<string, string | undefined>;
  /** Default step timeout when a step names none. */
  defaultTimeoutMs?: number;
  /** The child's working directory (default: this process's). */
  cwd?: string;
}

/** WNVCAP_TIMEOUT_SCALE multiplies every step timeout (a slow host: 3; tests of timeouts: 0.05). */
export function timeoutScale(env: Readonly<Record<string, string | undefined>>): number {
  const v = Number(env['WNVCAP_TIMEOUT_SCALE']);
  return Number.isFinite(v) && v > 0 ? v : 1;
}

/**
 * A scale below 1 never brings a limit under 5 s (nor above the limit itself): a fresh PowerShell
 * loading a module takes seconds on a loaded machine, and a stop or a check cut that short leaves
 * a capture unconfirmed.
 */
const MIN_SCALED_MS = 5_000;

/** A time limit under WNVCAP_TIMEOUT_SCALE. */
export function scaledTimeout(ms: number, scale: number): number {
  return scale >= 1 ? ms * scale : Math.max(ms * scale, Math.min(ms, MIN_SCALED_MS));
}

export class LocalPowerShellRunner implements PsRunner {
  readonly host: string;
  readonly simulated = false;
  readonly executable: PowerShellExecutable | undefined;
  private shell: NodePs | undefined;
  private readonly env: Record<string, string | undefined>;
  private readonly defaultTimeoutMs: number;
  private readonly scale: number;
  private readonly cwd: string | undefined;

  constructor(o: LocalRunnerOptions = {}) {
    this.env = o.env ?? process.env;
    this.executable = o.executable ?? findPowerShell(this.env, process.platform);
    this.host = this.env['COMPUTERNAME'] ?? hostname();
    this.defaultTimeoutMs = o.defaultTimeoutMs ?? 120_000;
    this.scale = timeoutScale(this.env);
    this.cwd = o.cwd;
  }

  private async open(): Promise<NodePs> {
    if (this.shell) return this.shell;
    const exe = this.executable;
    if (!exe || (exe.path.includes('/') || exe.path.includes('\\') ? !existsSync(exe.path) : false)) {
      throw new Error(exe ? `${exe.path} does not exist` : 'no PowerShell found (pwsh on PATH, or Windows PowerShell)');
    }
    const { PowerShell } = (await import('node-powershell')) as unknown as { PowerShell: new (o: object) => NodePs & { exitPromise?: Promise<unknown> } };
    const sh = new PowerShell({
      ...launch(exe, process.platform),
      spawnOptions: { env: childEnv(this.env), windowsHide: true, ...(this.cwd ? { cwd: this.cwd } : {}) },
      throwOnInvocationError: false,
      invocationTimeout: 0,
    });
    sh.exitPromise?.catch(() => undefined); // a dying shell is reported by the invoke in flight
    try {
      // Invoke at once: a missing executable otherwise surfaces as an unhandled rejection.
      await sh.invoke(UTF8_OUTPUT);
    } catch (e) {
      await sh.dispose('SIGKILL').catch(() => undefined);
      throw e;
    }
    this.shell = sh;
    return sh;
  }

  async run(step: Step, opts: { timeoutMs?: number } = {}): Promise<StepResult> {
    const timeoutMs = scaledTimeout(opts.timeoutMs ?? step.timeoutMs ?? this.defaultTimeoutMs, this.scale);
    if (step.requiresPs7 && this.executable?.edition !== 'pwsh') {
      throw new RemoteError(`step ${step.name} needs PowerShell 7 (SSH remoting), and pwsh is not installed here`, { host: this.host, hint: 'install PowerShell 7, or use WinRM (drop --ssh)' });
    }
    let sh: NodePs;
    try {
      sh = await this.open();
    } catch (e) {
      await this.reset();
      throw new RemoteError(`PowerShell could not start: ${(e as Error).message}`, { host: this.host, hint: 'wnvcap capture runs on a Windows host (or set WNVCAP_PWSH); use --simulate elsewhere' });
    }
    const b64 = Buffer.from(renderStep(step), 'utf8').toString('base64');
    const line = `& ([scriptblock]::Create([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String('${b64}'))))`;
    const res = await this.invokeWithin(sh, line, step.name, timeoutMs);
    const out = res.stdout?.toString() ?? (res.hadErrors ? '' : res.raw);
    const env = parseEnvelope(out);
    if (!env) {
      const err = res.stderr?.toString() ?? '';
      await this.reset(); // the shell is in an unknown state
      throw new RemoteError(`step ${step.name} printed no result: ${(err || out).trim().slice(0, 500) || 'PowerShell exited'}`, { host: this.host });
    }
    return env;
  }

  /** One invoke, killed after timeoutMs (node-powershell's own timeout leaves the shell unusable). */
  private async invokeWithin(sh: NodePs, line: string, name: string, timeoutMs: number): Promise<Awaited<ReturnType<NodePs['invoke']>>> {
    let timer: NodeJS.Timeout | undefined;
    const invoked = sh.invoke(line);
    const timedOut = new Promise<'timeout'>((res) => { timer = setTimeout(() => res('timeout'), timeoutMs); });
    try {
      const r = await Promise.race([invoked, timedOut]);
      if (r === 'timeout') {
        invoked.catch(() => undefined);
        await this.reset();
        throw new RemoteError(`step ${name} timed out after ${Math.round(timeoutMs / 1000)} s; PowerShell was stopped`, { host: this.host });
      }
      return r;
    } catch (e) {
      if (e instanceof RemoteError) throw e;
      await this.reset();
      throw new RemoteError(`PowerShell died during step ${name}: ${(e as Error).message.split('\n')[0]}`, { host: this.host });
    } finally {
      clearTimeout(timer);
    }
  }

  /** Kills PowerShell and whatever it started (a hung step, a dotnet tool launcher's pwsh child). */
  private async reset(): Promise<void> {
    const sh = this.shell;
    this.shell = undefined;
    killTree(sh?.process?.pid);
    try {
      await sh?.dispose('SIGKILL');
    } catch {
      // a dead shell rejects on dispose
    }
  }

  async dispose(): Promise<void> {
    const sh = this.shell;
    this.shell = undefined;
    try {
      await sh?.dispose();
    } catch {
      // a dead shell rejects on dispose
    }
    killTree(sh?.process?.pid); // what a launcher left behind
  }
}

/**
 * The controller's PowerShell process (controller.ts): a pwsh that runs a small request loop
 * instead of node-powershell's console REPL. Each request is one line on stdin
 * (`<id> <base64 script>`), each answer one line on stdout (`@@wnvcap <id> <base64 output>`);
 * every other line (ssh's own messages, which PowerShell passes to the console while sessions
 * connect in the background) is kept as stray output and cannot break the protocol. Under the
 * REPL a step hung until its timeout when output arrived right after node-powershell's closing
 * delimiter (child-shell looks for it in the last bytes only): seen first with SSH sessions
 * connecting, then traced to .NET's keypad sequences (local-runner.ts, childEnv).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { createInterface } from 'node:readline';
import { renderStep, type Step } from '../powershell/script.js';
import { RemoteError } from '../util/errors.js';
import { childEnv, findPowerShell, killTree, scaledTimeout, SETSID, timeoutScale, UTF8_OUTPUT, type PowerShellExecutable } from './local-runner.js';
import { parseEnvelope, strayLines, type PsRunner, type StepResult } from './runner.js';

const ANSWER = '@@wnvcap ';

/**
 * The loop the controller runs: read a request, run it, answer on one line (Windows PowerShell 5.1
 * and 7). One line with single quotes only, so that Windows passes it as one argument unchanged.
 */
export const CONTROLLER_LOOP = [
  "$ErrorActionPreference = 'Stop'",
  UTF8_OUTPUT,
  "$ProgressPreference = 'SilentlyContinue'",
  'while ($null -ne ($line = [Console]::In.ReadLine())) {',
  "  $id, $b64 = $line.Split(' ', 2)",
  '  try { $text = (& ([scriptblock]::Create([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($b64)))) | Out-String -Width 100000) } catch { $text = ConvertTo-Json -Compress -Depth 4 -InputObject @{ ok = $false; error = @{ message = $_.Exception.Message } } }',
  "  [Console]::Out.WriteLine('@@wnvcap ' + $id + ' ' + [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes([string]$text)))",
  '  [Console]::Out.Flush()',
  '}',
].map((l) => l.trim()).join('; ').replace(/\{; /g, '{ ').replace(/; \}/g, ' }');

interface Pending {
  resolve(text: string): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

export interface ControllerShellOptions {
  executable?: PowerShellExecutable;
  env?: Record<string, string | undefined>;
  cwd?: string;
}

export class ControllerShell implements PsRunner {
  readonly host: string;
  readonly simulated = false;
  private child: ChildProcess | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private stray: string[] = [];
  private readonly env: Record<string, string | undefined>;
  private readonly executable: PowerShellExecutable | undefined;
  private readonly scale: number;

  constructor(private readonly o: ControllerShellOptions = {}) {
    this.env = o.env ?? process.env;
    this.executable = o.executable ?? findPowerShell(this.env, process.platform);
    this.host = this.env['COMPUTERNAME'] ?? hostname();
    this.scale = timeoutScale(this.env);
  }

  /** The controller's process id while it runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  private start(): ChildProcess {
    if (this.child) return this.child;
    const exe = this.executable;
    if (!exe || ((exe.path.includes('/') || exe.path.includes('\\')) && !existsSync(exe.path))) {
      throw new RemoteError(`PowerShell could not start: ${exe ? `${exe.path} does not exist` : 'no PowerShell found (pwsh on PATH, or Windows PowerShell)'}`);
    }
    const args = ['-NoLogo', '-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-Command', CONTROLLER_LOOP];
    // Its own session on Linux/macOS: a terminal's Ctrl-C reaches wnvcap, not the controller (local-runner.ts).
    const setsid = process.platform === 'win32' ? undefined : SETSID.find((p) => existsSync(p));
    const child = spawn(setsid ?? exe.path, setsid ? [exe.path, ...args] : args, { env: childEnv(this.env), cwd: this.o.cwd, stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
    this.child = child;
    createInterface({ input: child.stdout! }).on('line', (l) => this.onLine(l));
    createInterface({ input: child.stderr! }).on('line', (l) => this.keep(l));
    child.stdin!.on('error', () => undefined); // a dead controller: the exit handler reports it
    child.on('exit', (code, signal) => this.lost(child, `PowerShell exited (${signal ?? code})`));
    child.on('error', (e) => this.lost(child, e.message));
    return child;
  }

  private onLine(line: string): void {
    const at = line.indexOf(ANSWER);
    if (at < 0) return this.keep(line);
    if (at > 0) this.keep(line.slice(0, at));
    const rest = line.slice(at + ANSWER.length);
    const space = rest.indexOf(' ');
    const id = Number(rest.slice(0, space));
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    p.resolve(Buffer.from(rest.slice(space + 1), 'base64').toString('utf8'));
  }

  private keep(line: string): void {
    this.stray.push(...strayLines(line));
  }

  private lost(child: ChildProcess, why: string): void {
    if (this.child !== child) return;
    this.child = undefined;
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      clearTimeout(p.timer);
      p.reject(new RemoteError(`the controller PowerShell died: ${why}`, { host: this.host }));
    }
  }

  async run(step: Step, opts: { timeoutMs?: number } = {}): Promise<StepResult> {
    if (step.requiresPs7 && this.executable?.edition !== 'pwsh') {
      throw new RemoteError(`step ${step.name} needs PowerShell 7 (SSH remoting), and pwsh is not installed here`, { host: this.host, hint: 'install PowerShell 7, or use WinRM (drop --ssh)' });
    }
    const child = this.start();
    const timeoutMs = scaledTimeout(opts.timeoutMs ?? step.timeoutMs ?? 120_000, this.scale);
    const id = this.nextId++;
    const text = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new RemoteError(`step ${step.name} timed out after ${Math.round(timeoutMs / 1000)} s; the controller PowerShell was stopped`, { host: this.host }));
        this.kill();
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      child.stdin!.write(`${id} ${Buffer.from(renderStep(step), 'utf8').toString('base64')}\n`);
    });
    const stray = this.stray.splice(0);
    const env = parseEnvelope(text);
    if (!env) throw new RemoteError(`step ${step.name} printed no result: ${text.trim().slice(0, 300) || stray.join('; ').slice(0, 300)}`, { host: this.host });
    // What the controller printed besides answers (ssh's own words) travels with the result.
    return { ...env, raw: [...stray, text].join('\n') };
  }

  /** Kills the controller and what it started (ssh clients, a dotnet tool launcher's pwsh). */
  private kill(): void {
    const child = this.child;
    if (!child) return;
    killTree(child.pid);
    this.lost(child, 'stopped');
  }

  async dispose(): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.stdin!.end();
    const exited = new Promise<void>((res) => child.once('exit', () => res()));
    const timer = setTimeout(() => this.kill(), 10_000);
    await exited;
    clearTimeout(timer);
    killTree(child.pid); // what a launcher left behind
  }
}

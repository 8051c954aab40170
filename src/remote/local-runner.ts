/**
 * Runs steps in the local PowerShell with node-powershell v5, designed around its real behaviour
 * (windows-capture.md 6): one long-lived process, pwsh 7 when present else Windows PowerShell
 * 5.1; every invoke is one line that decodes a base64 (UTF-8) script into a script block (no
 * quoting round, no multi-line REPL traps); throwOnInvocationError off and success read from our
 * JSON envelope; after a timeout the instance is disposed and a new one made; its `$` template
 * is never used. Windows only.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { renderStep, type Step } from '../powershell/script.js';
import { RemoteError } from '../util/errors.js';
import { parseEnvelope, type PsRunner, type StepResult } from './runner.js';

interface NodePs {
  invoke(command: string): Promise<{ raw: string; hadErrors: boolean; stdout?: Buffer; stderr?: Buffer }>;
  dispose(signal?: string): Promise<void>;
}

function findPwsh(): string | undefined {
  const pf = process.env['ProgramFiles'] ?? 'C:\\Program Files';
  const p = join(pf, 'PowerShell', '7', 'pwsh.exe');
  return existsSync(p) ? p : undefined;
}

export class LocalPowerShellRunner implements PsRunner {
  readonly host = process.env['COMPUTERNAME'] ?? 'localhost';
  readonly simulated = false;
  private shell: NodePs | undefined;
  private readonly pwsh = findPwsh();

  private async open(timeoutMs: number): Promise<NodePs> {
    if (this.shell) return this.shell;
    const { PowerShell } = (await import('node-powershell')) as unknown as { PowerShell: new (o: object) => NodePs };
    const pwsh = this.pwsh;
    const sh = new PowerShell({
      ...(pwsh ? { executable: pwsh } : { executable: 'powershell' }),
      executableOptions: { '-NoProfile': true, '-NonInteractive': true, '-ExecutionPolicy': 'Bypass' },
      throwOnInvocationError: false,
      invocationTimeout: timeoutMs,
    });
    // Invoke at once: a missing executable otherwise surfaces as an unhandled rejection.
    await sh.invoke("[Console]::OutputEncoding = [Text.UTF8Encoding]::new($false); $OutputEncoding = [Text.UTF8Encoding]::new($false)");
    this.shell = sh;
    return sh;
  }

  async run(step: Step, opts: { timeoutMs?: number } = {}): Promise<StepResult> {
    const timeoutMs = opts.timeoutMs ?? 120000;
    if (step.requiresPs7 && !this.pwsh) {
      throw new RemoteError(`step ${step.name} needs PowerShell 7 (SSH remoting), and pwsh.exe is not installed here`, { host: this.host, hint: 'install PowerShell 7, or use WinRM (drop --ssh)' });
    }
    let sh: NodePs;
    try {
      sh = await this.open(timeoutMs);
    } catch (e) {
      throw new RemoteError(`PowerShell could not start: ${(e as Error).message}`, { host: this.host, hint: 'wnvcap capture runs on Windows; use --simulate elsewhere' });
    }
    const b64 = Buffer.from(renderStep(step), 'utf8').toString('base64');
    const line = `& ([scriptblock]::Create([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String('${b64}'))))`;
    let res;
    try {
      res = await sh.invoke(line);
    } catch (e) {
      await this.reset();
      throw new RemoteError(`PowerShell died during step ${step.name}: ${(e as Error).message}`, { host: this.host });
    }
    const out = res.stdout?.toString('utf8') ?? (res.hadErrors ? '' : res.raw);
    const env = parseEnvelope(out);
    if (!env) {
      if (res.hadErrors && !res.stdout && !res.stderr) {
        await this.reset(); // timed out: the instance is unusable (windows-capture.md 6.3)
        throw new RemoteError(`step ${step.name} timed out after ${timeoutMs} ms`, { host: this.host });
      }
      throw new RemoteError(`step ${step.name} printed no result: ${(res.stderr?.toString('utf8') ?? res.raw).slice(0, 500)}`, { host: this.host });
    }
    return env;
  }

  private async reset(): Promise<void> {
    const sh = this.shell;
    this.shell = undefined;
    try {
      await sh?.dispose();
    } catch {
      // a dead shell rejects on dispose
    }
  }

  async dispose(): Promise<void> {
    await this.reset();
  }
}

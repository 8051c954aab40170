/**
 * The real-PowerShell suite: wnvcap's production runner (node-powershell driving a real pwsh)
 * against fake Windows hosts (fake-windows/). Without pwsh the tests are skipped with one line;
 * in CI (CI=true) a missing pwsh fails.
 */
import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import winston from 'winston';
import type { CaptureResult } from '../src/capture/lifecycle.js';
import { captureRun as runCapture } from '../src/run/capture-run.js';
import { resolveCaptureOptions, type RawCaptureOptions } from '../src/capture/options.js';
import { loadProfile } from '../src/capture/profiles.js';
import type { Step } from '../src/powershell/script.js';
import { LocalPowerShellRunner } from '../src/remote/local-runner.js';
import type { PsRunner, StepResult } from '../src/remote/runner.js';
import { createFakeHost, findPwsh, type FakeHost, type FakeHostOptions, type HostType } from './fake-windows/fake-host.js';
import { main } from '../src/cli/main.js';

export const PWSH = findPwsh();
const REPO = join(import.meta.dirname, '..');
if (!PWSH && process.env['CI'] === 'true') throw new Error('CI: pwsh is required for the real-PowerShell suite (dotnet tool install --tool-path <dir> PowerShell --version 7.6.9)');
/** node:test option: skipped, with the reason, where there is no pwsh. */
export const NEEDS_PWSH = PWSH ? {} : { skip: 'pwsh not found: install PowerShell 7 (dotnet tool install --tool-path /opt/pwsh-tool PowerShell --version 7.6.9), put it on PATH, then npm run test:pwsh' };

export const quiet = winston.createLogger({ silent: true, transports: [new winston.transports.Console()] });

/** How many step scripts ran in real PowerShell, per host type (printed by scripts/run-tests.mjs). */
export function tally(host: HostType, scripts: number): void {
  mkdirSync(join(REPO, 'test-output'), { recursive: true });
  appendFileSync(join(REPO, 'test-output', 'pwsh-tally.jsonl'), `${JSON.stringify({ host, scripts })}\n`);
}

/** The production runner, counting the scripts it runs. */
export class CountingRunner implements PsRunner {
  readonly inner: LocalPowerShellRunner;
  scripts = 0;
  constructor(readonly fake: FakeHost, extraEnv: Record<string, string> = {}) {
    this.inner = new LocalPowerShellRunner({ env: { ...fake.env, ...extraEnv } });
  }
  get host(): string {
    return this.inner.host;
  }
  readonly simulated = false;
  async run(step: Step, opts?: { timeoutMs?: number }): Promise<StepResult> {
    this.scripts++;
    return this.inner.run(step, opts);
  }
  async dispose(): Promise<void> {
    tally(this.fake.type, this.scripts);
    await this.inner.dispose();
  }
}

const made: FakeHost[] = [];
after(() => { for (const h of made) h.dispose(); });

/** A fake host for this test file; its folder is removed when the file's tests end. */
export async function fakeHost(type: HostType, o: FakeHostOptions = {}): Promise<FakeHost> {
  const h = await createFakeHost(type, o);
  made.push(h);
  return h;
}

export interface CaptureRun extends CaptureResult {
  stateDir: string;
  runner: CountingRunner;
}

/** One capture through the production lifecycle and runner on a fake host (a fake clock for the window). */
export interface CaptureOnOptions {
  profile?: string;
  signal?: AbortSignal;
  beforeStep?: (n: string) => void;
  env?: Record<string, string>;
  stateDir?: string;
  /** A PowerShell kept warm by the caller across captures (not disposed here). */
  runner?: CountingRunner;
}

/** This test file's capture folders (hundreds in a fault file) go in here, removed at its end. */
const capturesRoot = mkdtempSync(join(tmpdir(), 'wnvcap-pwsh-'));
after(() => rmSync(capturesRoot, { recursive: true, force: true }));

export async function captureOn(fake: FakeHost, flags: RawCaptureOptions = {}, extra: CaptureOnOptions = {}): Promise<CaptureRun> {
  const out = mkdtempSync(join(capturesRoot, 'run-'));
  const stateDir = extra.stateDir ?? join(out, 'state');
  const o = resolveCaptureOptions(await loadProfile(extra.profile ?? 'container'), { duration: '2s', ...flags }, { out, dryRun: false, force: false });
  // A runner given by the caller (a PowerShell kept warm across captures of one fake host) stays open.
  const runner = extra.runner ?? new CountingRunner(fake, extra.env);
  let clock = 0;
  try {
    const r = await runCapture(o, {
      runner, logger: quiet, signal: extra.signal ?? new AbortController().signal, stateDir, application: 'wnvcap test', pollMs: 1000,
      now: () => clock, sleep: async (ms) => { clock += ms; }, ...(extra.beforeStep ? { beforeStep: extra.beforeStep } : {}),
    });
    return { ...r, stateDir, runner };
  } finally {
    if (!extra.runner) await runner.dispose();
  }
}

/** The CLI in-process, its PowerShell being the fake host's pwsh. */
export async function cliOn(fake: FakeHost, argv: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  // The fake host's folder is the working directory: a Windows path such as C:\runs is made there on Linux.
  const code = await main(argv, { stdout: (t) => { out += t; }, stderr: (t) => { err += t; }, stderrIsTTY: false, env: { ...fake.env, WNVCAP_PWSH: PWSH ?? 'pwsh', ...env }, cwd: fake.dir });
  return { code, out, err };
}

/** No capture of any kind is left on the fake host. */
export function captureLeft(fake: FakeHost): string | undefined {
  const s = fake.state() as unknown as { sessions?: Array<{ Name?: string; name?: string }>; pktmon?: { running?: boolean }; netsh?: { running?: boolean } };
  if ((s.sessions ?? []).length > 0) return `NetEventSession ${JSON.stringify(s.sessions)}`;
  if (s.pktmon?.running) return 'pktmon running';
  if (s.netsh?.running) return 'netsh trace running';
  return undefined;
}

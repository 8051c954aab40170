/**
 * The controller: one local PowerShell that holds every remoting session of a run and runs the
 * remote steps of all hosts at once in its runspace pool (session-pool.ts). Node talks to it one
 * command at a time (submit a job, collect finished jobs, stop a job); each host's RemoteRunner
 * awaits its own job. A step past its time is stopped alone; a controller that dies or hangs is
 * replaced, and `generation` tells every host that its session went with it.
 */
import type { Step } from '../powershell/script.js';
import { RemoteError } from '../util/errors.js';
import { closePoolStep, collectStep, stopJobStep, submitStep, type PoolOptions } from './session-pool.js';
import { parseEnvelope, strayLines, type PsRunner, type StepResult } from './runner.js';
import { scaledTimeout } from './local-runner.js';

export interface JobOptions {
  /** The most the step may take (default: the step's own timeout). */
  timeoutMs?: number;
  /** A long transfer: the step is also stopped once progress() stops growing for idleMs. */
  progress?: () => number;
  idleMs?: number;
}

/** What a RemoteRunner needs from the controller. */
export interface SessionController {
  /** Runs a step that uses the sessions table (remote-steps.ts) and returns its envelope. */
  run(step: Step, opts?: JobOptions): Promise<StepResult>;
  /** Goes up each time the controller PowerShell was replaced (every session was lost). */
  readonly generation: number;
  /** A mark in the controller's stray output (what ssh printed); see said(). */
  strayMark(): number;
  /** Stray lines since `mark` that name one of `words` (ssh names the host it failed on). */
  said(words: readonly string[], mark: number): string[];
  /** Each RemoteRunner holds the controller; the last release closes it. */
  retain(): void;
  release(): Promise<void>;
}

interface Job {
  name: string;
  resolve(r: StepResult): void;
  reject(e: Error): void;
  timer?: NodeJS.Timeout;
  watchdog?: NodeJS.Timeout;
  /** Why it is being stopped (past its time, or no progress). */
  stopping?: string;
}

export interface PoolControllerOptions extends PoolOptions {
  /** How long one collect waits for a job to finish (ms). */
  pollMs?: number;
  /** Multiplies job timeouts (WNVCAP_TIMEOUT_SCALE). */
  timeoutScale?: number;
  /** How long a stopped job may take to end before it is abandoned (ms). */
  stopGraceMs?: number;
}

const MAX_STRAY_LINES = 2000;

export class PoolController implements SessionController {
  generation = 0;
  private readonly jobs = new Map<string, Job>();
  private nextId = 1;
  private chain: Promise<unknown> = Promise.resolve();
  private polling = false;
  private holders = 0;
  private stray: string[] = [];
  private strayBase = 0;
  /** The generation in which the pool was created (undefined: no job ever ran). */
  private generationOpened: number | undefined;
  constructor(private readonly shell: PsRunner, private readonly o: PoolControllerOptions) {}

  retain(): void {
    this.holders++;
  }

  async release(): Promise<void> {
    if (--this.holders > 0) return;
    try {
      if (this.generationOpened === this.generation) await this.control(closePoolStep());
    } catch {
      // the controller may be gone already
    }
    await this.shell.dispose();
  }

  strayMark(): number {
    return this.strayBase + this.stray.length;
  }

  said(words: readonly string[], mark: number): string[] {
    const from = Math.max(0, mark - this.strayBase);
    const wanted = words.filter(Boolean).map((w) => new RegExp(`(^|[\\s@\\[(])${w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}([\\s:\\])]|$)`, 'i'));
    return this.stray.slice(from).filter((l) => wanted.some((re) => re.test(l)));
  }

  async run(step: Step, opts: JobOptions = {}): Promise<StepResult> {
    const id = `j${this.nextId++}`;
    const timeoutMs = scaledTimeout(opts.timeoutMs ?? step.timeoutMs ?? 120_000, this.o.timeoutScale ?? 1);
    const done = new Promise<StepResult>((resolve, reject) => this.jobs.set(id, { name: step.name, resolve, reject }));
    done.catch(() => undefined); // a failed submit rejects it too, with nobody waiting
    let submitted: StepResult;
    try {
      submitted = await this.control(submitStep(id, step, this.o));
    } catch (e) {
      this.jobs.delete(id);
      throw e;
    }
    if (!submitted.ok) {
      this.jobs.delete(id);
      throw new RemoteError(`the controller PowerShell could not start step ${step.name}: ${submitted.error?.message ?? 'unknown error'}`);
    }
    this.generationOpened = this.generation;
    const job = this.jobs.get(id);
    if (job) {
      job.timer = setTimeout(() => void this.stop(id, `timed out after ${Math.round(timeoutMs / 1000)} s`), timeoutMs);
      if (opts.progress) job.watchdog = this.watch(id, opts.progress, scaledTimeout(opts.idleMs ?? 120_000, this.o.timeoutScale ?? 1));
    }
    void this.poll();
    return done;
  }

  /** Stops a job whose progress() has not grown for idleMs (a transfer that stalled). */
  private watch(id: string, progress: () => number, idleMs: number): NodeJS.Timeout {
    let last = progress();
    let since = Date.now();
    const every = Math.max(100, Math.min(5_000, idleMs / 4));
    const t = setInterval(() => {
      const now = progress();
      // Negative: not begun (a job may wait for a runspace): the step's own timeout covers that.
      if (now !== last || now < 0) {
        last = now;
        since = Date.now();
      } else if (Date.now() - since >= idleMs) {
        clearInterval(t);
        void this.stop(id, `made no progress for ${Math.round(idleMs / 1000)} s`);
      }
    }, every);
    return t;
  }

  /** One command at a time to the controller PowerShell; a controller that fails loses every job. */
  private control(step: Step): Promise<StepResult> {
    const next = this.chain.then(async () => {
      try {
        const r = await this.shell.run(step);
        this.keepStray(r.raw ?? '');
        return r;
      } catch (e) {
        this.lost(e as Error);
        throw e;
      }
    });
    this.chain = next.catch(() => undefined);
    return next;
  }

  private keepStray(raw: string): void {
    this.stray.push(...strayLines(raw));
    const over = this.stray.length - MAX_STRAY_LINES;
    if (over > 0) {
      this.stray.splice(0, over);
      this.strayBase += over;
    }
  }

  /** The controller PowerShell died or hung and was killed: its sessions and jobs are gone. */
  private lost(e: Error): void {
    this.generation++;
    for (const [id, job] of this.jobs) {
      clearTimeout(job.timer);
      clearInterval(job.watchdog);
      this.jobs.delete(id);
      job.reject(new RemoteError(`step ${job.name}: the controller PowerShell failed (${e.message.split('\n')[0]}); its remoting sessions are gone`));
    }
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      while (this.jobs.size > 0) {
        let r: StepResult;
        try {
          r = await this.control(collectStep(this.o.pollMs ?? 200));
        } catch {
          return; // lost() has rejected every job
        }
        if (!r.ok) {
          await this.shell.dispose(); // a controller in an unknown state: start afresh
          this.lost(new Error(r.error?.message ?? 'collect failed'));
          return;
        }
        for (const d of Array.isArray(r.result['done']) ? r.result['done'] : []) this.finish(d as { id?: unknown; output?: unknown; error?: unknown });
      }
    } finally {
      this.polling = false;
    }
  }

  private finish(d: { id?: unknown; output?: unknown; error?: unknown }): void {
    const id = String(d.id);
    const job = this.jobs.get(id);
    if (!job) return; // abandoned after its time
    this.jobs.delete(id);
    clearTimeout(job.timer);
    clearInterval(job.watchdog);
    const output = typeof d.output === 'string' ? d.output : '';
    this.keepStray(output);
    if (job.stopping !== undefined) {
      job.reject(new RemoteError(`step ${job.name} ${job.stopping} and was stopped`));
      return;
    }
    const env = parseEnvelope(output);
    if (env) job.resolve(env);
    else job.reject(new RemoteError(`step ${job.name} printed no result${typeof d.error === 'string' && d.error ? `: ${d.error}` : ''}`));
  }

  /** Stops a job (past its time, or stalled); one that does not end within the grace is abandoned. */
  private async stop(id: string, why: string): Promise<void> {
    const job = this.jobs.get(id);
    if (!job || job.stopping !== undefined) return;
    job.stopping = why;
    clearTimeout(job.timer);
    clearInterval(job.watchdog);
    try {
      await this.control(stopJobStep(id));
    } catch {
      return; // lost() has rejected it
    }
    job.timer = setTimeout(() => {
      if (!this.jobs.delete(id)) return;
      job.reject(new RemoteError(`step ${job.name} ${why} and did not stop; it was abandoned`));
    }, this.o.stopGraceMs ?? 30_000);
  }
}

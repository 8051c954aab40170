/**
 * `wnvcap agent --plan plan.yaml`: capture windows opened by wnvcap itself (cron, no overlap,
 * retention), on this host or the --simulate host, until stopped.
 */
import { readFile } from 'node:fs/promises';
import { UsageError } from '../../util/errors.js';
import { defaultOutDir } from '../../util/paths.js';
import { defineCommand } from '../command.js';
import type { CliContext } from '../context.js';
import { simulateOption } from '../host-options.js';

interface AgentArgs {
  plan: string;
  simulate: boolean;
}

export default defineCommand({
  command: 'agent',
  describe: 'run capture windows from a plan (cron, no overlap, retention) until stopped',
  options: (y) => simulateOption(y).option('plan', { type: 'string', demandOption: true, describe: '<plan.yaml>' }),
  args: (a): AgentArgs => ({ plan: a.plan, simulate: a.simulate }),
  run: runAgentCommand,
});

async function runAgentCommand(a: AgentArgs, ctx: CliContext): Promise<number> {
  const { parsePlan } = await import('../../schedule/plan.js');
  const { DEFAULT_PROFILE, loadProfile } = await import('../../capture/profiles.js');
  const { runAgent } = await import('../../schedule/agent.js');
  const { listRunFolders, removeRunFolder } = await import('../../schedule/fs-retention.js');
  const { untilStopped } = await import('../hosts.js');
  let text: string;
  try {
    text = await readFile(a.plan, 'utf8');
  } catch {
    throw new UsageError(`cannot read plan ${a.plan}`);
  }
  const plan = parsePlan(text, a.plan, defaultOutDir(process.platform, ctx.env));
  for (const w of plan.windows) await loadProfile(w.profile ?? DEFAULT_PROFILE); // fail now, not at the first window
  ctx.logger.info(`agent: ${plan.windows.length} window(s), output ${plan.out}${a.simulate ? ' (simulated host)' : ''}`);
  const events = await untilStopped((signal) => runAgent(plan, {
    now: () => new Date(),
    sleepUntil,
    runWindow: (w, until, s) => runWindow(a, plan.out, w.spec.profile ?? DEFAULT_PROFILE, until, s, ctx),
    listRuns: listRunFolders,
    removeRun: removeRunFolder,
    log: (level, m) => ctx.logger[level](m),
  }, signal), () => ctx.logger.warn('stopping the agent: the running window is stopped and its session removed'));
  const count = (kind: string): number => events.filter((e) => e.kind === kind).length;
  ctx.stdout(`${JSON.stringify({ windows: count('window'), skipped: count('skipped'), removed: count('retention') })}\n`);
  return 0;
}

/** Resolves at t, or at once when the signal aborts. */
function sleepUntil(t: Date, signal: AbortSignal): Promise<void> {
  return new Promise((res) => {
    const ms = Math.max(0, t.getTime() - Date.now());
    const timer = setTimeout(() => { signal.removeEventListener('abort', on); res(); }, Math.min(ms, 2 ** 31 - 1));
    const on = (): void => { clearTimeout(timer); res(); };
    signal.addEventListener('abort', on, { once: true });
  });
}

/** One window: a capture until the window ends (or the signal). */
async function runWindow(a: AgentArgs, out: string, profile: string, until: Date, signal: AbortSignal, ctx: CliContext): Promise<{ runDir: string; ok: boolean }> {
  const { openRunner, stateDirFor } = await import('../hosts.js');
  const { loadProfile } = await import('../../capture/profiles.js');
  const { resolveCaptureOptions } = await import('../../capture/options.js');
  const { captureRun } = await import('../../run/capture-run.js');
  const { APPLICATION } = await import('../../version.js');
  const runner = await openRunner(a, ctx);
  try {
    const remaining = Math.max(1000, until.getTime() - Date.now());
    const o = resolveCaptureOptions(await loadProfile(profile), { duration: `${Math.round(remaining / 1000)}s` }, { out, dryRun: false, force: false });
    const r = await captureRun(o, { runner, logger: ctx.logger, signal, stateDir: stateDirFor(a, ctx), application: APPLICATION });
    return { runDir: r.runDir, ok: r.exitCode === 0 };
  } finally {
    await runner.dispose();
  }
}

/** `wnvcap sessions list|cleanup`: capture sessions on a host, and removing the ones a killed wnvcap left. */
import type { Lease } from '../../capture/lease.js';
import type { PsRunner } from '../../remote/runner.js';
import { defineCommand } from '../command.js';
import type { CliContext } from '../context.js';
import { hostArgs, hostOptions, type HostArgs } from '../host-options.js';

interface SessionsArgs extends HostArgs {
  action: 'list' | 'cleanup';
  force: boolean;
  json: boolean;
}

interface SessionRow {
  name: string;
  status: string;
  file: string;
  owner: string;
  orphaned: boolean;
}

export default defineCommand({
  command: 'sessions <action>',
  describe: 'list capture sessions, or clean up sessions a killed wnvcap left',
  options: (y) => hostOptions(y)
    .positional('action', { choices: ['list', 'cleanup'] as const, demandOption: true })
    .option('force', { type: 'boolean', default: false, describe: 'cleanup: also sessions of live wnvcap processes and sessions wnvcap did not start' })
    .option('json', { type: 'boolean', default: false }),
  args: (a): SessionsArgs => ({ ...hostArgs(a), action: a.action, force: a.force, json: a.json }),
  run: async (a, ctx) => {
    const { forEachHost } = await import('../hosts.js');
    return forEachHost(a, ctx, (runner) => sessionsOn(runner, a, ctx));
  },
});

async function sessionsOn(runner: PsRunner, a: SessionsArgs, ctx: CliContext): Promise<number> {
  const { preflightStep } = await import('../../capture/steps.js');
  const { parsePreflight, pktmonRunning } = await import('../../capture/step-results.js');
  const { leaseAlive, readLeases } = await import('../../capture/lease.js');
  const { stateDirFor } = await import('../hosts.js');
  const pre = parsePreflight(await runner.run(preflightStep()), runner.host);
  const leases = await readLeases(stateDirFor(a, ctx));
  const rows = pre.sessions.map((s): SessionRow => {
    const lease = leases.find((l) => l.session === s.name);
    const owner = lease ? (leaseAlive(lease) ? `wnvcap pid ${lease.pid} (running)` : `wnvcap pid ${lease.pid} (gone)`) : s.name.startsWith('wnvcap-') ? 'wnvcap (no lease)' : 'not wnvcap';
    return { name: s.name, status: s.status, file: s.localFilePath, owner, orphaned: s.name.startsWith('wnvcap-') && !(lease && leaseAlive(lease)) };
  });
  const pkt = pktmonRunning(pre.traceSessions) === true;
  if (a.action === 'cleanup') return cleanup(runner, a, rows, leases, pkt, ctx);
  if (a.json) ctx.stdout(`${JSON.stringify({ host: runner.host, simulated: runner.simulated, sessions: rows, pktmonRunning: pkt, leases }, null, 2)}\n`);
  else {
    ctx.stdout(`${runner.simulated ? 'simulated host ' : ''}${runner.host}: ${rows.length} NetEventSession(s)${pkt ? ', pktmon capturing' : ''}\n`);
    for (const r of rows) ctx.stdout(`  ${r.name}  ${r.status}  ${r.owner}${r.orphaned ? '  ORPHANED' : ''}  ${r.file}\n`);
    for (const l of leases.filter((x) => !rows.some((r) => r.name === x.session))) ctx.stdout(`  lease ${l.session} (${l.backend}, pid ${l.pid}${leaseAlive(l) ? ', running' : ', gone'})\n`);
  }
  return 0;
}

/** Removes orphaned sessions (all of wnvcap's, and foreign ones too, with --force) and the captures of dead leases. */
async function cleanup(runner: PsRunner, a: SessionsArgs, rows: SessionRow[], leases: Lease[], pktmonCapturing: boolean, ctx: CliContext): Promise<number> {
  const { cleanupStep, netshStopStep, pktmonStopStep } = await import('../../capture/steps.js');
  const { leaseAlive, removeLease } = await import('../../capture/lease.js');
  const { stateDirFor } = await import('../hosts.js');
  const stateDir = stateDirFor(a, ctx);
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
  const pktLease = leases.find((l) => l.backend === 'pktmon');
  if (pktLease && !leaseAlive(pktLease) && pktmonCapturing) {
    const res = await runner.run(pktmonStopStep());
    if (res.ok) {
      removed++;
      await removeLease(stateDir, pktLease.session);
      ctx.stdout('stopped pktmon capture left by a killed agent\n');
    }
  }
  for (const l of leases.filter((x) => x.backend === 'netsh' && !leaseAlive(x))) {
    const res = await runner.run(netshStopStep(l.session));
    if (res.ok) removed++;
    await removeLease(stateDir, l.session);
  }
  for (const l of leases.filter((x) => !leaseAlive(x) && !rows.some((r) => r.name === x.session) && x.backend === 'netevent')) await removeLease(stateDir, l.session);
  ctx.stdout(`${removed} session(s) removed${rows.some((r) => r.owner === 'not wnvcap') && !a.force ? '; sessions not started by wnvcap were left alone (use --force)' : ''}\n`);
  return 0;
}

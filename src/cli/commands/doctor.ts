/** `wnvcap doctor`: can this host (or each --computer host) capture, and what to do where it cannot. */
import { hostname } from 'node:os';
import type { PsRunner } from '../../remote/runner.js';
import { defineCommand } from '../command.js';
import type { CliContext } from '../context.js';
import { hostArgs, hostOptions, type HostArgs } from '../host-options.js';

interface Check {
  check: string;
  ok: boolean;
  remedy: string;
}

export default defineCommand({
  command: 'doctor',
  describe: 'check this host for capturing, with remedies',
  options: (y) => hostOptions(y).option('json', { type: 'boolean', default: false }),
  args: (a) => ({ ...hostArgs(a), json: a.json }),
  run: async (a, ctx) => {
    const { forEachHost } = await import('../hosts.js');
    return forEachHost(a, ctx, (runner) => doctorOn(runner, a, ctx));
  },
});

/** Exit 4 when one of the first three checks (elevated, build, NetEventPacketCapture) fails. */
async function doctorOn(runner: PsRunner, a: HostArgs & { json: boolean }, ctx: CliContext): Promise<number> {
  const { preflightStep } = await import('../../capture/steps.js');
  const { has, parsePreflight } = await import('../../capture/step-results.js');
  const pre = parsePreflight(await runner.run(preflightStep()), runner.host);
  const checks: Check[] = [
    { check: 'elevated', ok: pre.elevated, remedy: 'run wnvcap as Administrator (or as SYSTEM)' },
    { check: `Windows build ${pre.build}`, ok: pre.build >= 9600, remedy: 'Windows Server 2012 R2 or later is needed' },
    { check: 'NetEventPacketCapture cmdlets', ok: has(pre, 'New-NetEventSession'), remedy: 'use --backend netsh or pktmon' },
    { check: 'VmSwitch/VFP providers (Server 2022+)', ok: has(pre, 'Add-NetEventVmSwitchProvider'), remedy: 'optional: switch-level context needs Server 2022 or later' },
    { check: 'pktmon (build 17763+)', ok: has(pre, 'pktmon.exe'), remedy: 'drop capture needs Windows 10 1809 / Server 2019' },
    { check: 'HNS module (container endpoints)', ok: has(pre, 'Get-HnsEndpoint'), remedy: 'optional: without HostNetworkingService, containers are known by compartment only' },
    { check: 'docker.exe (container names)', ok: has(pre, 'docker.exe'), remedy: 'optional: containerd/Kubernetes nodes have no docker.exe; names come from HNS' },
    { check: 'ETW session list (Get-EtwTraceSession)', ok: pre.traceSessions !== undefined, remedy: 'optional: without it wnvcap cannot confirm that a pktmon/netsh capture stopped' },
    { check: `no foreign capture session (${pre.sessions.length} present)`, ok: pre.sessions.every((s) => s.name.startsWith('wnvcap-')), remedy: 'inspect with Get-NetEventSession | Format-List; wnvcap refuses to touch it without --force' },
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

/**
 * A scheduled capture runs as SYSTEM on the agent and so reaches other hosts as the agent's
 * computer account (DOMAIN\AGENT$): it must be an administrator there. Direct membership is
 * checked; membership through a domain group cannot be seen from here and is said so.
 */
async function computerAccountCheck(runner: PsRunner, ctx: CliContext): Promise<Check> {
  const { adminMembersStep } = await import('../../capture/steps.js');
  const { parseAdminMembers } = await import('../../capture/step-results.js');
  const account = `${ctx.env['USERDOMAIN'] ?? 'DOMAIN'}\\${ctx.env['COMPUTERNAME'] ?? hostname()}$`;
  const check = `scheduled captures reach this host as ${account} (SYSTEM on the agent)`;
  const members = parseAdminMembers(await runner.run(adminMembersStep()), runner.host);
  if (members === undefined) return { check: `${check}: not checked (the host cannot list its Administrators group)`, ok: true, remedy: '' };
  const ok = members.some((m) => m.toLowerCase() === account.toLowerCase());
  return { check, ok, remedy: `${account} is not a direct member of the Administrators group on ${runner.host}: add it (or a domain group holding it), or scheduled fleet captures are denied` };
}

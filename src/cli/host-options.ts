/**
 * Which host a command works on, as options: the local host, the built-in simulated host
 * (--simulate, WNVCAP_SIMULATE=1) or --computer hosts over PowerShell remoting. Declared once for
 * capture, compartments, sessions, doctor, schedule and agent; the runners are made in hosts.ts.
 */
import type { Argv } from 'yargs';
import type { CliContext } from './context.js';

export interface HostArgs {
  simulate: boolean;
  /** --computer hosts as given (repeatable, comma lists); hosts.ts checks and splits them. */
  computers?: string[];
  /** --computers-file: host names, one per line (capture). */
  computersFile?: string;
  ssh: boolean;
  user?: string;
  key?: string;
  port?: number;
  useSsl: boolean;
  credential?: string;
  credentialFile?: string;
  /** Where remote hosts write their captures (default C:\ProgramData\wnvcap\runs). */
  remoteDir?: string;
}

/** --simulate alone (schedule, agent: the local or simulated host). */
export function simulateOption<T>(y: Argv<T>, describe = 'use the built-in simulated container host (also WNVCAP_SIMULATE=1)') {
  return y.option('simulate', { type: 'boolean', default: false, describe });
}

/** --simulate and the remoting options. */
export function hostOptions<T>(y: Argv<T>) {
  return simulateOption(y)
    .option('computer', { type: 'string', array: true, describe: '<host> work on these hosts over PowerShell remoting (repeat or comma list)' })
    .option('credential', { type: 'string', describe: '<user> for WinRM; password from WNVCAP_PASSWORD, --credential-file or a prompt' })
    .option('credential-file', { type: 'string', describe: '<file> holding the password for --credential' })
    .option('ssh', { type: 'boolean', default: false, describe: 'SSH remoting (PowerShell 7) instead of WinRM' })
    .option('user', { type: 'string', describe: '<name> SSH user' })
    .option('key', { type: 'string', describe: '<file> SSH private key' })
    .option('port', { type: 'number', describe: '<n> WinRM or SSH port' })
    .option('use-ssl', { type: 'boolean', default: false, describe: 'WinRM over HTTPS' })
    .option('remote-dir', { type: 'string', describe: '<dir> where remote hosts write captures (C:\\ProgramData\\wnvcap\\runs); a local fixed disk' });
}

type HostOptionValues = {
  simulate?: boolean; computer?: Array<string | number> | undefined; credential?: string | undefined; credentialFile?: string | undefined; ssh?: boolean;
  user?: string | undefined; key?: string | undefined; port?: number | undefined; useSsl?: boolean; remoteDir?: string | undefined; computersFile?: string | undefined;
};

/** The parsed host options as HostArgs. */
export function hostArgs(a: HostOptionValues): HostArgs {
  const h: HostArgs = { simulate: a.simulate ?? false, ssh: a.ssh ?? false, useSsl: a.useSsl ?? false };
  if (a.computer !== undefined) h.computers = a.computer.map(String);
  if (a.computersFile !== undefined) h.computersFile = a.computersFile;
  if (a.credential !== undefined) h.credential = a.credential;
  if (a.credentialFile !== undefined) h.credentialFile = a.credentialFile;
  if (a.user !== undefined) h.user = a.user;
  if (a.key !== undefined) h.key = a.key;
  if (a.port !== undefined) h.port = a.port;
  if (a.remoteDir !== undefined) h.remoteDir = a.remoteDir;
  return h;
}

export function simulateRequested(a: Pick<HostArgs, 'simulate'>, ctx: Pick<CliContext, 'env'>): boolean {
  return a.simulate || ctx.env['WNVCAP_SIMULATE'] === '1';
}

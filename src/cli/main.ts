/**
 * argv -> exit code. Never calls process.exit (only bin.ts does). Exit codes:
 *   0 ok (warnings on stderr), 1 bug, 2 usage, 3 unreadable input, 4 PowerShell/remote, 130 Ctrl-C.
 */
import yargs, { type Argv } from 'yargs';
import { EXIT, isAppError, UsageError } from '../util/errors.js';
import { defaultOutDir } from '../util/paths.js';
import { VERSION } from '../version.js';
import type { CliContext } from './context.js';
import { createLogger } from './logging.js';
import type { ScheduleArgs } from './commands/schedule.js';
import type { CaptureArgs, HostArgs } from './commands/capture.js';

// Commands are loaded when chosen: a report does not carry the PowerShell grammar, the
// simulated host or the scheduler in its memory (scripts/bench/RESULTS.md).
const decodeCmd = () => import('./commands/decode.js');
const demoCmd = () => import('./commands/demo.js');
const infoCmd = () => import('./commands/info.js');
const compartmentsCmd = () => import('./commands/compartments.js');
const reportCmd = () => import('./commands/report.js');
const scheduleCmd = () => import('./commands/schedule.js');
const captureCmd = () => import('./commands/capture.js');

export type MainContext = Omit<CliContext, 'logger'>;

const EPILOG = `Exit codes: 0 ok (warnings on stderr), 1 unexpected error (a bug), 2 bad flags or arguments,
3 unreadable input (not an ETL file, or damaged before any packet), 4 PowerShell failed (fleet: no host
succeeded), 5 fleet: some hosts failed, 130 Ctrl-C.`;

type Selected =
  | { cmd: 'decode'; input: string; output: string; compat: boolean; json: boolean }
  | { cmd: 'info'; input: string; json: boolean }
  | { cmd: 'demo'; out: string }
  | { cmd: 'report'; input: string; snapshot: string | undefined; format: 'text' | 'json' | 'html'; output: string | undefined; compartment: number | undefined; top: number }
  | ({ cmd: 'compartments'; snapshot: string | undefined; json: boolean } & HostArgs)
  | ({ cmd: 'capture' } & CaptureArgs)
  | ({ cmd: 'sessions'; action: 'list' | 'cleanup'; force: boolean; json: boolean } & HostArgs)
  | { cmd: 'profiles'; action: 'list' | 'show'; name: string | undefined; json: boolean }
  | ({ cmd: 'doctor'; json: boolean } & HostArgs)
  | ({ cmd: 'schedule' } & ScheduleArgs)
  | { cmd: 'agent'; plan: string; simulate: boolean };

interface Globals {
  verbose: boolean;
  quiet: boolean;
  logFile: string | undefined;
  json: boolean;
}


/** The remoting options shared by capture, compartments, sessions and doctor. */
function remoteOptions<T>(c: Argv<T>) {
  return c
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

function remoteArgs(a: { computer?: Array<string | number> | undefined; credential?: string | undefined; credentialFile?: string | undefined; ssh?: boolean; user?: string | undefined; key?: string | undefined; port?: number | undefined; useSsl?: boolean; remoteDir?: string | undefined }): Omit<HostArgs, 'simulate'> {
  return {
    ...(a.remoteDir !== undefined ? { remoteDir: a.remoteDir } : {}),
    ...(a.computer !== undefined ? { computers: a.computer.map(String) } : {}), ...(a.credential !== undefined ? { credential: a.credential } : {}),
    ...(a.credentialFile !== undefined ? { credentialFile: a.credentialFile } : {}), ssh: a.ssh ?? false, ...(a.user !== undefined ? { user: a.user } : {}),
    ...(a.key !== undefined ? { key: a.key } : {}), ...(a.port !== undefined ? { port: a.port } : {}), useSsl: a.useSsl ?? false,
  };
}

export async function main(argv: readonly string[], base: MainContext): Promise<number> {
  let selected: Selected | undefined;
  let globals: Globals = { verbose: false, quiet: false, logFile: undefined, json: argv.includes('--json') };
  let helpText = '';
  let parseError: string | undefined;
  const y = yargs([...argv])
    .scriptName('wnvcap')
    .usage('wnvcap <command> [options]\n\nCompartment-aware packet capture and ETL decoding for Windows container and Hyper-V hosts.')
    .option('verbose', { alias: 'v', type: 'boolean', default: false, describe: 'debug logging on stderr' })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'warnings and errors only' })
    .option('log-file', { type: 'string', describe: 'also write JSON-lines logs to <path>' })
    .command('decode <input>', 'convert an ETL capture (NDIS-PacketCapture, PktMon) to pcapng', (c) => c
      .positional('input', { type: 'string', demandOption: true, describe: '<capture.etl>' })
      .option('output', { alias: 'o', type: 'string', demandOption: true, describe: '<out.pcapng>' })
      .option('compat', { type: 'boolean', default: false, describe: 'keep PktMon PacketType 2 as 802.11, as etl2pcapng does' })
      .option('json', { type: 'boolean', default: false, describe: 'print the result as JSON' })
      .example('wnvcap decode capture.etl -o capture.pcapng', ''),
    (a) => { selected = { cmd: 'decode', input: a.input, output: a.output, compat: a.compat, json: a.json }; })
    .command('info <input>', 'describe an ETL file: header, providers, events, packets, lost events', (c) => c
      .positional('input', { type: 'string', demandOption: true, describe: '<capture.etl>' })
      .option('json', { type: 'boolean', default: false, describe: 'print wnvcap.info/1 JSON (see docs/info-json.md)' }),
    (a) => { selected = { cmd: 'info', input: a.input, json: a.json }; })
    .command('report <input>', 'compartment-aware report of a capture: who talked to whom, and where packets died', (c) => c
      .positional('input', { type: 'string', demandOption: true, describe: '<capture.etl | run-folder>' })
      .option('snapshot', { type: 'string', describe: '<snapshot.json> of the host (default: the run folder\'s)' })
      .option('format', { type: 'string', choices: ['text', 'json', 'html'] as const, default: 'text' as const, describe: 'report format' })
      .option('output', { alias: 'o', type: 'string', describe: '<file> to write instead of stdout' })
      .option('compartment', { type: 'number', describe: '<id>: flows, drops and paths of this compartment only' })
      .option('top', { type: 'number', default: 20, describe: '<n> rows in text tables' })
      .option('json', { type: 'boolean', default: false, describe: 'the same as --format json' })
      .example('wnvcap report run-20260101T120000Z/ --format html -o report.html', ''),
    (a) => {
      if (a.json && a.format !== 'text' && a.format !== 'json') throw new UsageError(`--json and --format ${a.format} disagree: --json is --format json`);
      selected = { cmd: 'report', input: a.input, snapshot: a.snapshot, format: a.json ? 'json' : a.format as 'text' | 'json' | 'html', output: a.output, compartment: a.compartment, top: a.top };
    })
    .command('compartments', 'the host\'s network compartments joined with containers and HNS endpoints', (c) => remoteOptions(c)
      .option('snapshot', { type: 'string', describe: '<snapshot.json> (default: ask the live or --simulate host)' })
      .option('simulate', { type: 'boolean', default: false, describe: 'use the built-in simulated container host' })
      .option('json', { type: 'boolean', default: false, describe: 'print wnvcap.compartments/1 JSON' })
,
    (a) => { selected = { cmd: 'compartments', snapshot: a.snapshot, json: a.json, simulate: a.simulate, ...remoteArgs(a) }; })
    .command('capture', 'capture on this Windows host (or --simulate): preflight, snapshot, session, report', (c) => remoteOptions(c)
      .option('profile', { type: 'string', describe: '<name | file.yaml> (default container; see wnvcap profiles list)' })
      .option('duration', { type: 'string', describe: '<time> e.g. 60s, 5m (profile default)' })
      .option('max-size', { type: 'string', describe: '<size> ETL size cap, e.g. 512MB' })
      .option('truncate', { type: 'string', describe: '<bytes> per packet, 0 = whole packets' })
      .option('ip', { type: 'string', array: true, describe: '<address> capture only these IPs (repeat or comma list)' })
      .option('protocol', { type: 'string', array: true, describe: '<tcp | udp | icmp | number>' })
      .option('mac', { type: 'string', array: true, describe: '<MAC address>' })
      .option('ethertype', { type: 'string', array: true, describe: '<0x0800 | number>' })
      .option('capture-type', { type: 'string', describe: '{physical | switch | both}' })
      .option('backend', { type: 'string', describe: '{auto | netevent | pktmon | netsh}' })
      .option('out', { type: 'string', default: defaultOutDir(process.platform, base.env), describe: '<dir> where the run folder is made (Windows: %ProgramData%\\wnvcap\\runs)' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'print the PowerShell scripts, in order, and change nothing' })
      .option('simulate', { type: 'boolean', default: false, describe: 'capture on the built-in simulated container host (also WNVCAP_SIMULATE=1)' })
      .option('force', { type: 'boolean', default: false, describe: 'remove a capture session wnvcap did not start; ignore low disk space' })
      .option('computers-file', { type: 'string', describe: '<file> host names, one per line' })
      .option('throttle', { type: 'number', default: 8, describe: '<n> hosts at once' })
      .option('json', { type: 'boolean', default: false, describe: 'fleet: print one JSON document { hosts: [...] }' })
      .option('keep', { type: 'number', describe: '<n> keep only the newest n run folders in --out (scheduled captures)' })
      .option('max-disk', { type: 'number', describe: '<GB> keep the run folders in --out under this size' })
      .example('wnvcap capture --profile container --duration 2m --ip 172.28.183.201', '')
      .example('wnvcap capture --dry-run --backend pktmon', ''),
    (a) => {
      const opt = <T>(v: T | undefined): T | undefined => v;
      selected = {
        cmd: 'capture', profile: a.profile, out: a.out, dryRun: a.dryRun, simulate: a.simulate, force: a.force,
        ...(opt(a.duration) !== undefined ? { duration: a.duration! } : {}), ...(a.maxSize !== undefined ? { maxSize: a.maxSize } : {}),
        ...(a.truncate !== undefined ? { truncate: a.truncate } : {}), ...(a.ip !== undefined ? { ip: a.ip.map(String) } : {}),
        ...(a.protocol !== undefined ? { protocol: a.protocol.map(String) } : {}), ...(a.mac !== undefined ? { mac: a.mac.map(String) } : {}),
        ...(a.ethertype !== undefined ? { ethertype: a.ethertype.map(String) } : {}), ...(a.captureType !== undefined ? { captureType: a.captureType } : {}),
        ...(a.backend !== undefined ? { backend: a.backend } : {}),
        ...remoteArgs(a), ...(a.computersFile !== undefined ? { computersFile: a.computersFile } : {}),
        throttle: a.throttle, json: a.json,
        ...(a.keep !== undefined ? { keep: a.keep } : {}), ...(a.maxDisk !== undefined ? { maxDisk: a.maxDisk } : {}),
      };
    })
    .command('sessions <action>', 'list capture sessions, or clean up sessions a killed wnvcap left', (c) => remoteOptions(c)
      .positional('action', { choices: ['list', 'cleanup'] as const, demandOption: true })
      .option('force', { type: 'boolean', default: false, describe: 'cleanup: also sessions of live wnvcap processes and sessions wnvcap did not start' })
      .option('simulate', { type: 'boolean', default: false, describe: 'the built-in simulated host' })
      .option('json', { type: 'boolean', default: false })
,
    (a) => { selected = { cmd: 'sessions', action: a.action as 'list' | 'cleanup', force: a.force, json: a.json, simulate: a.simulate, ...remoteArgs(a) }; })
    .command('profiles <action> [name]', 'list capture profiles, or show one', (c) => c
      .positional('action', { choices: ['list', 'show'] as const, demandOption: true })
      .positional('name', { type: 'string' })
      .option('json', { type: 'boolean', default: false, describe: 'list: one JSON document [{ name, description }] (show prints JSON anyway)' }),
    (a) => { selected = { cmd: 'profiles', action: a.action as 'list' | 'show', name: a.name, json: a.json }; })
    .command('schedule <action> [name]', 'capture windows with Windows Task Scheduler: add, list, remove, run-now', (c) => c
      .positional('action', { choices: ['add', 'list', 'remove', 'run-now'] as const, demandOption: true })
      .positional('name', { type: 'string' })
      .option('at', { type: 'string', describe: '<date-time> one window (or the first of --every); with Z or +hh:mm, else the host\'s local time' })
      .option('every', { type: 'string', describe: '<duration> repeat, e.g. 6h' })
      .option('cron', { type: 'string', describe: '<expr> "M H * * *" or "M H * * DOW" (other crons: wnvcap agent)' })
      .option('duration', { type: 'string', describe: '<window> e.g. 10m' })
      .option('profile', { type: 'string' })
      .option('keep', { type: 'number', describe: '<n> run folders kept' })
      .option('max-disk', { type: 'number', describe: '<GB> disk budget for run folders' })
      .option('computer', { type: 'string', array: true, describe: '<host> capture on these hosts' })
      .option('out', { type: 'string', default: defaultOutDir('win32', base.env), describe: '<dir> for the run folders: a full path on the host (C:\\... or \\\\server\\share\\...)' })
      .option('simulate', { type: 'boolean', default: false })
      .option('json', { type: 'boolean', default: false }),
    (a) => {
      selected = {
        cmd: 'schedule', action: a.action as ScheduleArgs['action'], name: a.name, at: a.at, every: a.every, cron: a.cron, duration: a.duration, profile: a.profile,
        keep: a.keep, maxDisk: a.maxDisk, captureComputers: a.computer?.map(String), out: a.out, simulate: a.simulate, json: a.json,
      };
    })
    .command('agent', 'run capture windows from a plan (cron, no overlap, retention) until stopped', (c) => c
      .option('plan', { type: 'string', demandOption: true, describe: '<plan.yaml>' })
      .option('simulate', { type: 'boolean', default: false }),
    (a) => { selected = { cmd: 'agent', plan: a.plan, simulate: a.simulate }; })
    .command('doctor', 'check this host for capturing, with remedies', (c) => remoteOptions(c)
      .option('simulate', { type: 'boolean', default: false })
      .option('json', { type: 'boolean', default: false })
,
    (a) => { selected = { cmd: 'doctor', json: a.json, simulate: a.simulate, ...remoteArgs(a) }; })
    .command('demo', 'write a simulated capture (synthetic ETL) and decode it', (c) => c
      .option('out', { type: 'string', default: 'wnvcap-demo', describe: '<dir> for the simulated files' }),
    (a) => { selected = { cmd: 'demo', out: a.out }; })
    .demandCommand(1, 'name a command')
    .strict()
    .help()
    .version(`${VERSION.version} (commit ${VERSION.commit})`)
    .epilog(EPILOG)
    .wrap(100)
    .exitProcess(false)
    .fail((msg, err) => {
      parseError = msg ?? err?.message ?? 'invalid arguments';
    });
  try {
    const parsed = await y.parseAsync([...argv], {}, (_err, _a, output) => {
      helpText = output ?? '';
    });
    globals = { verbose: Boolean(parsed['verbose']), quiet: Boolean(parsed['quiet']), logFile: parsed['logFile'] as string | undefined, json: Boolean(parsed['json']) };
  } catch (e) {
    parseError ??= e instanceof Error ? e.message : String(e);
  }
  if (parseError !== undefined) {
    const err = new UsageError(parseError, { hint: 'run wnvcap --help' });
    printError(err, base, globals.json, helpText || (await y.getHelp()));
    return EXIT.USAGE;
  }
  if (!selected) {
    if (helpText) base.stdout(helpText.endsWith('\n') ? helpText : `${helpText}\n`);
    return EXIT.OK;
  }
  const logger = createLogger({
    ...(globals.verbose ? { verbose: true } : {}),
    ...(globals.quiet ? { quiet: true } : {}),
    ...(globals.logFile ? { logFile: globals.logFile } : {}),
    stderr: base.stderr,
    color: base.stderrIsTTY && !base.env['NO_COLOR'],
  });
  const ctx: CliContext = { ...base, logger };
  try {
    switch (selected.cmd) {
      case 'decode':
        return await (await decodeCmd()).runDecode(selected, ctx);
      case 'info':
        return await (await infoCmd()).runInfo(selected, ctx);
      case 'demo':
        return await (await demoCmd()).runDemo(selected, ctx);
      case 'report':
        if (selected.compartment !== undefined && !Number.isInteger(selected.compartment)) throw new UsageError('--compartment must be a whole number');
        return await (await reportCmd()).runReport(selected, ctx);
      case 'compartments':
        return selected.snapshot !== undefined ? await (await compartmentsCmd()).runCompartments({ snapshot: selected.snapshot, json: selected.json }, ctx) : await (await captureCmd()).runLiveCompartments(selected, ctx);
      case 'capture': {
        const { cmd: _c, ...args } = selected;
        return await (await captureCmd()).runCaptureCommand(args, ctx);
      }
      case 'sessions':
        return await (await captureCmd()).runSessions(selected, ctx);
      case 'profiles':
        return await (await captureCmd()).runProfiles(selected, ctx);
      case 'doctor':
        return await (await captureCmd()).runDoctor(selected, ctx);
      case 'schedule': {
        const { cmd: _s, ...args } = selected;
        return await (await scheduleCmd()).runSchedule(args, ctx);
      }
      case 'agent':
        return await (await scheduleCmd()).runAgentCommand(selected, ctx);
    }
  } catch (e) {
    if (isAppError(e)) {
      printError(e, base, globals.json);
      return e.exitCode;
    }
    const fsProblem = fileSystemError(e);
    if (fsProblem) {
      printError(fsProblem, base, globals.json);
      return fsProblem.exitCode;
    }
    // A bug: the stack goes to the log file (--log-file) and to --verbose, not to the user.
    logger.debug(e instanceof Error ? (e.stack ?? e.message) : String(e));
    base.stderr(`error: unexpected failure (a bug): ${e instanceof Error ? e.message : String(e)}\nhint: run again with --log-file <path> or --verbose for details, and report it\n`);
    return EXIT.BUG;
  } finally {
    logger.close();
  }
}

const FS_REASONS: Record<string, string> = {
  ENOENT: 'no such file or folder', ENOTDIR: 'a part of the path is not a folder', EISDIR: 'it is a folder', EACCES: 'permission denied',
  EPERM: 'not permitted', EROFS: 'read-only file system', ENOSPC: 'the disk is full', EEXIST: 'it already exists', EMFILE: 'too many open files',
};

/** A file-system error on a path the user gave (an output folder that does not exist, a full disk): a clear error, not a bug. */
function fileSystemError(e: unknown): UsageError | undefined {
  const x = e as NodeJS.ErrnoException;
  if (!(e instanceof Error) || typeof x.code !== 'string' || !FS_REASONS[x.code] || typeof x.path !== 'string') return undefined;
  const verb = x.syscall === 'open' || x.syscall === 'mkdir' || x.syscall === 'write' || x.syscall === 'rename' ? 'cannot write' : 'cannot use';
  return new UsageError(`${verb} ${x.path}: ${FS_REASONS[x.code]}`, { hint: 'check the output path (-o / --out) and the free space there' });
}

function printError(e: Error & { hint?: string | undefined }, ctx: MainContext, json: boolean, usage?: string): void {
  if (json) {
    ctx.stdout(`${JSON.stringify({ error: { name: e.name, message: e.message, ...(e.hint ? { hint: e.hint } : {}) } })}\n`);
    return;
  }
  if (usage) ctx.stderr(`${usage.trimEnd()}\n\n`);
  ctx.stderr(`error: ${e.message}\n`);
  if (e.hint) ctx.stderr(`hint: ${e.hint}\n`);
}

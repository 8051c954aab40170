/**
 * argv -> exit code. Never calls process.exit (only bin.ts does). Exit codes:
 *   0 ok (warnings on stderr), 1 bug, 2 usage, 3 unreadable input, 4 PowerShell/remote, 130 Ctrl-C.
 */
import yargs from 'yargs';
import { EXIT, isAppError, UsageError } from '../util/errors.js';
import { VERSION } from '../version.js';
import type { Command } from './command.js';
import { COMMANDS } from './commands/index.js';
import type { CliContext } from './context.js';
import { createLogger } from './logging.js';

export type MainContext = Omit<CliContext, 'logger'>;

const EPILOG = `Exit codes: 0 ok (warnings on stderr), 1 unexpected error (a bug), 2 bad flags or arguments,
3 unreadable input (not an ETL file, or damaged before any packet), 4 PowerShell failed (fleet: no host
succeeded), 5 fleet: some hosts failed, 130 Ctrl-C.`;

interface Globals {
  verbose: boolean;
  quiet: boolean;
  logFile: string | undefined;
  json: boolean;
}

export async function main(argv: readonly string[], base: MainContext): Promise<number> {
  let selected: { command: Command<unknown>; args: unknown } | undefined;
  let globals: Globals = { verbose: false, quiet: false, logFile: undefined, json: argv.includes('--json') };
  let helpText = '';
  let parseError: string | undefined;
  const y = yargs([...argv])
    .scriptName('wnvcap')
    // wnvcap speaks English; yargs' own words (Options, Unknown argument) too, whatever LANG says,
    // and the same from the bundle, where yargs cannot find its translations.
    .locale('en')
    .usage('wnvcap <command> [options]\n\nCompartment-aware packet capture and ETL decoding for Windows container and Hyper-V hosts.')
    .option('verbose', { alias: 'v', type: 'boolean', default: false, describe: 'debug logging on stderr' })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'warnings and errors only' })
    .option('log-file', { type: 'string', describe: 'also write JSON-lines logs to <path>' });
  for (const command of COMMANDS) {
    y.command(command.command, command.describe, (c) => command.options(c, base), (a) => { selected = { command, args: command.args(a, base) }; });
  }
  skipHelpCache(y);
  y.demandCommand(1, 'name a command')
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
    return await selected.command.run(selected.args, ctx);
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

/**
 * yargs renders a command's whole help after its handler runs, in case the handler asks for it
 * later (showHelp): 20-40 ms of text layout on every run (issue 13: start-up). Our handlers only
 * choose the command, and help comes from the parse callback, so that copy is never read. An
 * internal of yargs: without it (another version), nothing changes but the time.
 */
function skipHelpCache(y: unknown): void {
  const usage = (y as { getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: unknown } } }).getInternalMethods?.().getUsageInstance?.();
  if (usage && typeof usage.cacheHelpMessage === 'function') usage.cacheHelpMessage = () => undefined;
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

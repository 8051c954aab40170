/**
 * argv -> exit code. Never calls process.exit (only bin.ts does). Exit codes:
 *   0 ok (warnings on stderr), 1 bug, 2 usage, 3 unreadable input, 4 PowerShell/remote, 130 Ctrl-C.
 */
import yargs from 'yargs';
import { EXIT, isAppError, UsageError } from '../util/errors.js';
import { VERSION } from '../version.js';
import type { CliContext } from './context.js';
import { createLogger } from './logging.js';
import { runDecode } from './commands/decode.js';
import { runDemo } from './commands/demo.js';
import { runInfo } from './commands/info.js';
import { runCompartments } from './commands/compartments.js';
import { runReport } from './commands/report.js';

export type MainContext = Omit<CliContext, 'logger'>;

const EPILOG = `Exit codes: 0 ok (warnings on stderr), 1 unexpected error (a bug), 2 bad flags or arguments,
3 unreadable input (not an ETL file, or damaged before any packet), 4 PowerShell failed, 130 Ctrl-C.`;

type Selected =
  | { cmd: 'decode'; input: string; output: string; compat: boolean; json: boolean }
  | { cmd: 'info'; input: string; json: boolean }
  | { cmd: 'demo'; out: string }
  | { cmd: 'report'; input: string; snapshot: string | undefined; format: 'text' | 'json' | 'html'; output: string | undefined; compartment: number | undefined; top: number }
  | { cmd: 'compartments'; snapshot: string; json: boolean };

interface Globals {
  verbose: boolean;
  quiet: boolean;
  logFile: string | undefined;
  json: boolean;
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
      .example('wnvcap report run-20260101T120000Z/ --format html -o report.html', ''),
    (a) => {
      selected = { cmd: 'report', input: a.input, snapshot: a.snapshot, format: a.format as 'text' | 'json' | 'html', output: a.output, compartment: a.compartment, top: a.top };
    })
    .command('compartments', 'the host\'s network compartments joined with containers and HNS endpoints', (c) => c
      .option('snapshot', { type: 'string', demandOption: true, describe: '<snapshot.json>' })
      .option('json', { type: 'boolean', default: false, describe: 'print wnvcap.compartments/1 JSON' }),
    (a) => { selected = { cmd: 'compartments', snapshot: a.snapshot, json: a.json }; })
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
        return await runDecode(selected, ctx);
      case 'info':
        return await runInfo(selected, ctx);
      case 'demo':
        return await runDemo(selected, ctx);
      case 'report':
        if (selected.compartment !== undefined && !Number.isInteger(selected.compartment)) throw new UsageError('--compartment must be a whole number');
        return await runReport(selected, ctx);
      case 'compartments':
        return await runCompartments(selected, ctx);
    }
  } catch (e) {
    if (isAppError(e)) {
      printError(e, base, globals.json);
      return e.exitCode;
    }
    logger.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
    base.stderr('error: unexpected failure (a bug); run with --log-file for details\n');
    return EXIT.BUG;
  } finally {
    logger.close();
  }
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

/**
 * `wnvcap report <capture.etl | run-folder> [--snapshot snapshot.json] [--format text|json|html]
 * [-o file] [--compartment N] [--top N]`.
 */
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ReportData } from '../../analysis/report-data.js';
import type { RunRecord } from '../../capture/lifecycle.js';
import { InputError, UsageError } from '../../util/errors.js';
import { defineCommand } from '../command.js';
import type { CliContext } from '../context.js';
import { makeProgress } from '../progress.js';

type Format = 'text' | 'json' | 'html';

export interface ReportArgs {
  input: string;
  snapshot: string | undefined;
  format: Format;
  output: string | undefined;
  compartment: number | undefined;
  top: number;
  threads?: 1 | 2 | undefined;
}

export default defineCommand({
  command: 'report <input>',
  describe: 'compartment-aware report of a capture: who talked to whom, and where packets died',
  options: (y) => y
    .positional('input', { type: 'string', demandOption: true, describe: '<capture.etl | run-folder>' })
    .option('snapshot', { type: 'string', describe: '<snapshot.json> of the host (default: the run folder\'s)' })
    .option('format', { type: 'string', choices: ['text', 'json', 'html'] as const, default: 'text' as const, describe: 'report format' })
    .option('output', { alias: 'o', type: 'string', describe: '<file> to write instead of stdout' })
    .option('compartment', { type: 'number', describe: '<id>: flows, drops and paths of this compartment only' })
    .option('top', { type: 'number', default: 20, describe: '<n> rows in text tables' })
    .option('json', { type: 'boolean', default: false, describe: 'the same as --format json' })
    .option('threads', { type: 'number', describe: '<1|2>: 2 analyses the capture on a second thread while this one decodes it (default: 2 for captures of 16 MB and more on machines with two cores or more)' })
    .example('wnvcap report run-20260101T120000Z/ --format html -o report.html', ''),
  args: (a): ReportArgs => {
    if (a.json && a.format !== 'text' && a.format !== 'json') throw new UsageError(`--json and --format ${a.format} disagree: --json is --format json`);
    if (a.compartment !== undefined && !Number.isInteger(a.compartment)) throw new UsageError('--compartment must be a whole number');
    if (!Number.isInteger(a.top) || a.top < 1) throw new UsageError('--top must be a positive whole number');
    if (a.threads !== undefined && a.threads !== 1 && a.threads !== 2) throw new UsageError('--threads must be 1 or 2');
    return { input: a.input, snapshot: a.snapshot, format: a.json ? 'json' : a.format as Format, output: a.output, compartment: a.compartment, top: a.top, threads: a.threads };
  },
  run: runReport,
});

/** A run folder's files: its capture .etl, and its snapshot.json and run.json where present. */
async function resolveRunInput(input: string): Promise<{ etl: string; snapshot?: string; runJson?: string }> {
  let st;
  try {
    st = await stat(input);
  } catch {
    throw new InputError(`${input}: no such file or folder`);
  }
  if (!st.isDirectory()) return { etl: input };
  const names = await readdir(input);
  const etls = names.filter((n) => n.toLowerCase().endsWith('.etl'));
  const etl = etls.includes('capture.etl') ? 'capture.etl' : etls.length === 1 ? etls[0] : undefined;
  if (!etl) throw new InputError(`${input} is a folder without one capture .etl (found ${etls.length})`, { hint: 'pass the .etl file itself' });
  return {
    etl: join(input, etl),
    ...(names.includes('snapshot.json') ? { snapshot: join(input, 'snapshot.json') } : {}),
    ...(names.includes('run.json') ? { runJson: join(input, 'run.json') } : {}),
  };
}

/** The capture filters a run folder's run.json recorded, shown in the report. */
async function runFilters(runJson: string | undefined, ctx: CliContext): Promise<RunRecord['filters'] | undefined> {
  if (!runJson) return undefined;
  try {
    return (JSON.parse(await readFile(runJson, 'utf8')) as Partial<RunRecord>).filters;
  } catch {
    ctx.logger.warn(`${runJson} is not valid JSON; capture filters unknown`);
    return undefined;
  }
}

async function render(r: ReportData, format: Format, o: { color: boolean; top: number }): Promise<string> {
  if (format === 'json') return `${JSON.stringify(r, null, 2)}\n`;
  if (format === 'html') {
    const [{ renderHtml }, { loadHtmlAssets }] = await Promise.all([import('../../report/html.js'), import('../../report/assets.js')]);
    return renderHtml(r, loadHtmlAssets());
  }
  const { renderText } = await import('../../report/text.js');
  return renderText(r, o);
}

export async function runReport(a: ReportArgs, ctx: CliContext): Promise<number> {
  const { analyzeCaptureFile } = await import('../../analysis/analysis-thread.js');
  const { loadTopology } = await import('../../topology/snapshot-file.js');
  const { APPLICATION } = await import('../../version.js');
  const run = await resolveRunInput(a.input);
  const snapPath = a.snapshot ?? run.snapshot;
  const topo = snapPath ? await loadTopology(snapPath) : undefined;
  const filters = await runFilters(run.runJson, ctx);
  if (!topo) ctx.logger.warn('no host snapshot: packets are not attributed to compartments (pass --snapshot snapshot.json)');
  const progress = makeProgress(ctx.stderrIsTTY, ctx.stderr);
  const { report: r, threaded } = await analyzeCaptureFile(run.etl, topo, {
    application: APPLICATION, topFlows: Math.max(a.top, 1000),
    ...(a.compartment !== undefined ? { compartment: a.compartment } : {}),
    ...(filters !== undefined ? { filters } : {}),
    ...(a.threads !== undefined ? { thread: a.threads === 2 ? 'always' as const : 'never' as const } : {}),
    onProgress: (pass, pos, size) => progress.update(`pass ${pass}/2`, pos, size),
  });
  progress.end();
  if (a.threads === 2 && !threaded) ctx.logger.warn('--threads 2: this build has no analysis thread (its script is missing); the capture was analysed on one thread');
  if (a.format === 'text') r.flows = r.flows.slice(0, a.top);
  const text = await render(r, a.format, { color: !a.output && ctx.stderrIsTTY && !ctx.env['NO_COLOR'], top: a.top });
  if (a.output) {
    await writeFile(a.output, text);
    ctx.stdout(`${a.output}: ${a.format} report, ${r.totals.packets} packets, ${r.compartments.length} compartments, ${r.flowsTotal} flows\n`);
  } else ctx.stdout(text);
  return 0;
}

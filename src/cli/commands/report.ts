/**
 * `wnvcap report <capture.etl | run-folder> [--snapshot snapshot.json] [--format text|json|html]
 * [-o file] [--compartment N] [--top N]`.
 */
import { readFile, stat, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { analyzeCapture } from '../../analysis/run-analysis.js';
import type { ReportData } from '../../analysis/report-data.js';
import { openFileSource } from '../../etl/file-source.js';
import { loadHtmlAssets } from '../../report/assets.js';
import { renderHtml } from '../../report/html.js';
import { renderText } from '../../report/text.js';
import { parseSnapshot } from '../../topology/snapshot.js';
import { buildTopology, type Topology } from '../../topology/topology.js';
import { InputError, UsageError } from '../../util/errors.js';
import { APPLICATION } from '../../version.js';
import type { CliContext } from '../context.js';
import { makeProgress } from '../progress.js';

export interface ReportArgs {
  input: string;
  snapshot: string | undefined;
  format: 'text' | 'json' | 'html';
  output: string | undefined;
  compartment: number | undefined;
  top: number;
}

export async function loadTopology(path: string): Promise<Topology> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read snapshot ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  return buildTopology(parseSnapshot(text, path));
}

/** Resolves a run folder into its files. */
export async function resolveRunInput(input: string): Promise<{ etl: string; snapshot?: string; runJson?: string }> {
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

export function renderReport(r: ReportData, format: ReportArgs['format'], o: { color: boolean; top: number }): string {
  if (format === 'json') return `${JSON.stringify(r, null, 2)}\n`;
  if (format === 'html') return renderHtml(r, loadHtmlAssets());
  return renderText(r, o);
}

export async function runReport(a: ReportArgs, ctx: CliContext): Promise<number> {
  if (!['text', 'json', 'html'].includes(a.format)) throw new UsageError(`--format must be text, json or html, not ${a.format}`);
  if (!Number.isInteger(a.top) || a.top < 1) throw new UsageError('--top must be a positive whole number');
  const run = await resolveRunInput(a.input);
  const snapPath = a.snapshot ?? run.snapshot;
  const topo = snapPath ? await loadTopology(snapPath) : undefined;
  let filters: unknown;
  if (run.runJson) {
    try {
      const j = JSON.parse(await readFile(run.runJson, 'utf8')) as { filters?: unknown; request?: { filters?: unknown } };
      filters = j.filters ?? j.request?.filters;
    } catch {
      ctx.logger.warn(`${run.runJson} is not valid JSON; capture filters unknown`);
    }
  }
  if (!topo) ctx.logger.warn('no host snapshot: packets are not attributed to compartments (pass --snapshot snapshot.json)');
  const progress = makeProgress(ctx.stderrIsTTY, ctx.stderr);
  const r = await analyzeCapture(() => openFileSource(run.etl), topo, {
    application: APPLICATION, topFlows: Math.max(a.top, 1000),
    ...(a.compartment !== undefined ? { compartment: a.compartment } : {}),
    ...(filters !== undefined ? { filters } : {}),
    onProgress: (pass, pos, size) => progress.update(`pass ${pass}/2`, pos, size),
  });
  progress.end();
  if (a.format === 'text') r.flows = r.flows.slice(0, a.top);
  const text = renderReport(r, a.format, { color: !a.output && ctx.stderrIsTTY && !ctx.env['NO_COLOR'], top: a.top });
  if (a.output) {
    await writeFile(a.output, text);
    ctx.stdout(`${a.output}: ${a.format} report, ${r.totals.packets} packets, ${r.compartments.length} compartments, ${r.flowsTotal} flows\n`);
  } else ctx.stdout(text);
  return 0;
}

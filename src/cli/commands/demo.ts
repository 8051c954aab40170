/**
 * `wnvcap demo [--out <dir>]`: a capture on the built-in SIMULATED container host (synthetic
 * ETL and inventory made by wnvcap, not by Windows), then its compartment report. The run folder
 * gets capture.etl, snapshot.json, capture.pcapng and report.html.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { defineCommand } from '../command.js';
import type { CliContext } from '../context.js';
import { runDecode } from './decode.js';
import { runReport } from './report.js';

export default defineCommand({
  command: 'demo',
  describe: 'write a simulated capture (synthetic ETL) and decode it',
  options: (y) => y.option('out', { type: 'string', default: 'wnvcap-demo', describe: '<dir> for the simulated files' }),
  args: (a) => ({ out: a.out }),
  run: runDemo,
});

async function runDemo(a: { out: string }, ctx: CliContext): Promise<number> {
  const { containerHostCapture } = await import('../../sim/container-host.js');
  await mkdir(a.out, { recursive: true });
  const cap = containerHostCapture({ ps: '7', scale: 4 });
  await writeFile(join(a.out, 'capture.etl'), cap.etl);
  await writeFile(join(a.out, 'snapshot.json'), `${JSON.stringify(cap.snapshot, null, 2)}\n`);
  ctx.stdout(`simulated host ${cap.snapshot.host}: wrote ${join(a.out, 'capture.etl')} and snapshot.json (synthetic, not from Windows)\n`);
  await runDecode({ input: join(a.out, 'capture.etl'), output: join(a.out, 'capture.pcapng'), compat: false, json: false }, ctx);
  await runReport({ input: a.out, snapshot: undefined, format: 'html', output: join(a.out, 'report.html'), compartment: undefined, top: 20 }, ctx);
  ctx.stdout('\n');
  return runReport({ input: a.out, snapshot: undefined, format: 'text', output: undefined, compartment: undefined, top: 20 }, ctx);
}

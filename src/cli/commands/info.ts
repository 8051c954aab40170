/** `wnvcap info <capture.etl> [--json]`: what the file holds, from one pass over it. */
import type { EtlSummary } from '../../providers/capture-decoder.js';
import { defineCommand } from '../command.js';
import type { CliContext } from '../context.js';
import { makeProgress } from '../progress.js';
import { reportIssues } from './issues-output.js';

export default defineCommand({
  command: 'info <input>',
  describe: 'describe an ETL file: header, providers, events, packets, lost events',
  options: (y) => y
    .positional('input', { type: 'string', demandOption: true, describe: '<capture.etl>' })
    .option('json', { type: 'boolean', default: false, describe: 'print wnvcap.info/1 JSON (see docs/info-json.md)' }),
  args: (a) => ({ input: a.input, json: a.json }),
  run: runInfo,
});

async function runInfo(a: { input: string; json: boolean }, ctx: CliContext): Promise<number> {
  const { openFileSource } = await import('../../etl/file-source.js');
  const { summarizeEtl } = await import('../../providers/capture-decoder.js');
  const progress = makeProgress(ctx.stderrIsTTY && !a.json, ctx.stderr);
  const { summary } = await summarizeEtl(() => openFileSource(a.input), { onProgress: (_p, pos, size) => progress.update('reading', pos, size) });
  progress.end();
  if (a.json) {
    ctx.stdout(`${JSON.stringify(summary, null, 2)}\n`);
    return 0;
  }
  reportIssues(summary, ctx);
  ctx.stdout(renderInfo(summary));
  return 0;
}

function renderInfo(s: EtlSummary): string {
  const h = s.header;
  const lines: string[] = [];
  const row = (k: string, v: string | number): void => { lines.push(`${k.padEnd(18)} ${v}`); };
  row('file', `${s.file.name} (${s.file.sizeBytes} bytes)`);
  row('session', `${h.loggerName || '-'}  (${h.logFileName || '-'})`);
  row('OS', `Windows ${h.osVersion} build ${h.osBuild}, ${h.numberOfProcessors} CPUs, ${h.pointerSize * 8}-bit`);
  row('clock', `${h.clock}${h.clockType === 1 ? ` at ${h.perfFreq} Hz` : ''}`);
  row('start / end', `${h.startTime} / ${h.endTime ?? '(not stopped cleanly)'}`);
  row('events', `${s.time.firstEvent ?? '-'} .. ${s.time.lastEvent ?? '-'}${s.time.durationSeconds !== null ? ` (${s.time.durationSeconds.toFixed(3)} s)` : ''}`);
  row('buffers', `${s.buffers.count} (${s.buffers.compressed} compressed${h.compressedMode ? ', compressed mode' : ''}), buffer size ${h.bufferSize}, CPUs ${s.buffers.cpus.join(',')}`);
  row('lost', `events ${s.lost.eventsLost}, buffers ${s.lost.buffersLost}, buffers flagged ${s.lost.buffersFlaggedEventsLost + s.lost.buffersFlaggedBufferLost}`);
  row('records', `${s.records.total}: ${Object.entries(s.records.byKind).map(([k, n]) => `${k} ${n}`).join(', ')}`);
  row('packets', `${s.packets.total} (NDIS ${s.packets.ndis}${s.packets.vmswitch ? `, vSwitch ${s.packets.vmswitch}` : ''}, PktMon ${s.packets.pktmon}, drops ${s.packets.drops})`);
  lines.push('', 'providers:');
  for (const p of s.providers) {
    lines.push(`  ${p.guid}  ${p.name ?? '(unknown)'}: ${p.events} events`);
    lines.push(`    ${p.byEvent.map((e) => `${e.id}${e.version ? `v${e.version}` : ''}:${e.count}`).join('  ')}`);
  }
  for (const c of s.classicGuids) lines.push(`  ${c.guid}  ${c.name ?? '(classic)'}: ${c.count} classic records`);
  if (s.interfaces.length > 0) {
    lines.push('', 'interfaces with packets:');
    for (const i of s.interfaces) {
      lines.push(i.source === 'ndis'
        ? `  NDIS ifIndex ${i.ifIndex}${i.miniportIfIndex !== i.ifIndex ? ` (miniport ${i.miniportIfIndex})` : ''}: ${i.packets}`
        : `  PktMon ${i.componentId} ${i.name ?? '?'} ${i.description ?? ''}${i.ifIndex !== undefined ? ` ifIndex ${i.ifIndex}` : ''}: ${i.packets}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

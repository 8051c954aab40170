/**
 * `wnvcap demo --out <dir>`: writes a synthetic container-host capture (simulated: made by our
 * ETL writer, not by Windows) and decodes it, to show the pipeline on any OS.
 */
import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { writeNdisScenario, writePktmonScenario } from '../../sim/scenarios.js';
import type { CliContext } from '../context.js';
import { runDecode } from './decode.js';
import { runInfo } from './info.js';

async function writeScenario(path: string, make: (out: (c: Uint8Array) => void) => { header: Uint8Array }): Promise<void> {
  const chunks: Uint8Array[] = [];
  const r = make((c) => chunks.push(c));
  chunks[0] = r.header;
  const fh = await open(path, 'w');
  try {
    for (const c of chunks) await fh.write(c);
  } finally {
    await fh.close();
  }
}

export async function runDemo(a: { out: string }, ctx: CliContext): Promise<number> {
  await mkdir(a.out, { recursive: true });
  const ndis = join(a.out, 'simulated-ndis.etl');
  const pktmon = join(a.out, 'simulated-pktmon.etl');
  await writeScenario(ndis, (o) => writeNdisScenario({ seed: 1, packets: 2000, cpus: 4, bufferSize: 65536, fragmentEvery: 50, vmswitchEvery: 5, truncateEvery: 17 }, o));
  await writeScenario(pktmon, (o) => writePktmonScenario({ seed: 2, packets: 2000, cpus: 4 }, o));
  ctx.stdout(`simulated host: wrote ${ndis} and ${pktmon} (synthetic ETL, not from Windows)\n\n`);
  await runInfo({ input: ndis, json: false }, ctx);
  ctx.stdout('\n');
  await runDecode({ input: ndis, output: join(a.out, 'simulated-ndis.pcapng'), compat: false, json: false }, ctx);
  await runDecode({ input: pktmon, output: join(a.out, 'simulated-pktmon.pcapng'), compat: false, json: false }, ctx);
  return 0;
}

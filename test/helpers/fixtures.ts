import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { memorySource } from '../../src/etl/byte-source.js';
import { convertEtlToPcapng, type ConvertResult } from '../../src/pcapng/etl-to-pcapng.js';
import { memorySink } from '../../src/pcapng/file-sink.js';
import { readPcapng, type PcapngFile } from '../../src/pcapng/pcapng-reader.js';

const here = dirname(fileURLToPath(import.meta.url));
export const REPO = join(here, '..', '..');
/** The shared documents and real ETL files: WNVCAP_SHARED, else ../shared beside the repo. */
export const SHARED = process.env['WNVCAP_SHARED'] ?? join(REPO, '..', 'shared');
export const FIXTURES = join(SHARED, 'fixtures', 'etl');
const MISSING = existsSync(FIXTURES) ? undefined : `the real ETL fixtures are not at ${FIXTURES}: put ../shared beside the repo or set WNVCAP_SHARED`;
if (MISSING && process.env['CI'] === 'true') throw new Error(`CI: ${MISSING}`);
/** node:test option for a test that reads ../shared: skipped, saying why, where it is missing (never in CI). */
export const NEEDS_SHARED = MISSING ? { skip: MISSING } : {};

/** The fixture files; where ../shared is missing, none, and one skipped test says so. */
export function fixtureNames(): string[] {
  if (MISSING) {
    test('real ETL fixtures', NEEDS_SHARED, () => {});
    return [];
  }
  return readdirSync(FIXTURES).filter((f) => f.endsWith('.etl')).sort();
}

export function readFixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(FIXTURES, name)));
}

export function sha16(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex').slice(0, 16);
}

export async function convertBytes(bytes: Uint8Array, compat = false): Promise<ConvertResult & { pcapng: PcapngFile; raw: Uint8Array }> {
  const sink = memorySink();
  const r = await convertEtlToPcapng(async () => memorySource(bytes), sink, { application: 'wnvcap test', compat });
  const raw = sink.bytes();
  return { ...r, raw, pcapng: readPcapng(raw) };
}

/** Assembles a synthetic scenario's chunks into one file image (final header at offset 0). */
export function assemble(chunks: Uint8Array[], header: Uint8Array): Uint8Array {
  chunks[0] = header;
  return new Uint8Array(Buffer.concat(chunks));
}

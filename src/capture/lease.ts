/**
 * Leases: a small file per capture session in the state folder, written before the session is
 * created and removed after it is gone, so `wnvcap sessions list|cleanup` can find sessions a
 * killed agent left behind.
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface Lease {
  session: string;
  backend: 'netevent' | 'pktmon' | 'netsh';
  host: string;
  pid: number;
  runDir: string;
  etlPath: string;
  startedAt: string;
  simulated: boolean;
}

/** %ProgramData%\wnvcap on Windows, ~/.wnvcap elsewhere; WNVCAP_STATE_DIR overrides. */
export function defaultStateDir(env: Readonly<Record<string, string | undefined>>): string {
  if (env['WNVCAP_STATE_DIR']) return env['WNVCAP_STATE_DIR'];
  if (process.platform === 'win32') return join(env['ProgramData'] ?? 'C:\\ProgramData', 'wnvcap');
  return join(homedir(), '.wnvcap');
}

export async function writeLease(stateDir: string, l: Lease): Promise<void> {
  await mkdir(join(stateDir, 'leases'), { recursive: true });
  await writeFile(join(stateDir, 'leases', `${l.session}.json`), `${JSON.stringify(l, null, 2)}\n`);
}

export async function removeLease(stateDir: string, session: string): Promise<void> {
  await rm(join(stateDir, 'leases', `${session}.json`), { force: true });
}

export async function readLeases(stateDir: string): Promise<Lease[]> {
  let names: string[];
  try {
    names = await readdir(join(stateDir, 'leases'));
  } catch {
    return [];
  }
  const out: Lease[] = [];
  for (const n of names.filter((x) => x.endsWith('.json')).sort()) {
    try {
      out.push(JSON.parse(await readFile(join(stateDir, 'leases', n), 'utf8')) as Lease);
    } catch {
      // a half-written lease: ignore
    }
  }
  return out;
}

/** True when the process that holds the lease still runs (same machine only). */
export function leaseAlive(l: Lease): boolean {
  try {
    process.kill(l.pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

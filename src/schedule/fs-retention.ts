/** Run folders on disk for retention: run-* and fleet-* folders under a capture output folder. */
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunFolder } from './agent.js';

async function size(path: string): Promise<number> {
  const st = await stat(path);
  if (!st.isDirectory()) return st.size;
  let n = 0;
  for (const e of await readdir(path)) n += await size(join(path, e));
  return n;
}

export async function listRunFolders(out: string): Promise<RunFolder[]> {
  let names: string[];
  try {
    names = await readdir(out);
  } catch {
    return [];
  }
  const runs: RunFolder[] = [];
  for (const n of names.filter((x) => /^(run|fleet)-\d{8}T\d{6}Z/.test(x))) {
    const path = join(out, n);
    // Sort by the run id (time), whatever the prefix.
    runs.push({ path, name: n.replace(/^(run|fleet)-/, ''), bytes: await size(path) });
  }
  return runs;
}

export async function removeRunFolder(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true });
}

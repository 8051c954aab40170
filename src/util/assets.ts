/**
 * Files wnvcap needs at run time (profiles, the charting library): from the package folder, or,
 * inside the single executable (Node SEA), from its embedded assets. Keys are paths relative to
 * the package root, with forward slashes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface SeaModule {
  isSea(): boolean;
  getAsset(key: string, encoding: string): string;
}

let sea: SeaModule | null | undefined;

export function seaModule(): SeaModule | null {
  if (sea !== undefined) return sea;
  try {
    const m = createRequire(import.meta.url)('node:sea') as SeaModule;
    sea = m.isSea() ? m : null;
  } catch {
    sea = null;
  }
  return sea;
}

/** The package root (src/util and dist/util sit two levels below it; so does dist/sea). */
export function packageRoot(): string {
  return fileURLToPath(new URL('../../', import.meta.url));
}

export function readTextAsset(key: string): string | undefined {
  const s = seaModule();
  if (s) {
    try {
      return s.getAsset(key, 'utf8');
    } catch {
      return undefined;
    }
  }
  try {
    return readFileSync(join(packageRoot(), ...key.split('/')), 'utf8');
  } catch {
    return undefined;
  }
}

/** Names in an asset folder: the SEA build embeds `<folder>/index.json` listing them. */
export function listAssetFolder(folder: string): string[] {
  const s = seaModule();
  if (s) {
    const idx = readTextAsset(`${folder}/index.json`);
    return idx ? (JSON.parse(idx) as string[]) : [];
  }
  try {
    return readdirSync(join(packageRoot(), folder)).sort();
  } catch {
    return [];
  }
}

/** True inside the single executable. */
export function isSingleExecutable(): boolean {
  return seaModule() !== null;
}

/**
 * Version and commit. dist/build-info.json is written by scripts/build-info.mjs during
 * `npm run build`; run from the sources (tsx) there is none and the commit is "unknown". The single
 * executable gets the same values through __WNVCAP_BUILD__.
 */
import { readFileSync } from 'node:fs';

function load(): { version: string; commit: string } {
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'wnvcap' && pkg.version) {
        let commit = 'unknown';
        try {
          const info = JSON.parse(readFileSync(new URL('./build-info.json', import.meta.url), 'utf8')) as { commit?: string };
          if (info.commit) commit = info.commit;
        } catch {
          // not built with build info
        }
        return { version: pkg.version, commit };
      }
    } catch {
      // try the next location
    }
  }
  return { version: '0.0.0', commit: 'unknown' };
}

/** Set by the single-executable build (esbuild define). */
declare const __WNVCAP_BUILD__: { version: string; commit: string } | undefined;

export const VERSION = typeof __WNVCAP_BUILD__ !== 'undefined' ? __WNVCAP_BUILD__ : load();
export const APPLICATION = `wnvcap ${VERSION.version}`;

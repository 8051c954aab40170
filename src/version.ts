/**
 * Version and commit. dist/build-info.json is written by scripts/build-info.mjs during
 * `npm run build`; run from the sources (tsx) the commit is read from the checkout's .git, and is
 * "unknown" outside one. The single executable gets the same values through __WNVCAP_BUILD__.
 */
import { readFileSync } from 'node:fs';

/** The short commit of the checkout this file lies in (src/ run by tsx), from .git without running git. */
function sourceCommit(): string | undefined {
  try {
    const git = new URL('../.git/', import.meta.url);
    const head = readFileSync(new URL('HEAD', git), 'utf8').trim();
    const ref = /^ref: (.+)$/.exec(head)?.[1];
    if (!ref) return head.slice(0, 7);
    try {
      return readFileSync(new URL(ref, git), 'utf8').trim().slice(0, 7);
    } catch {
      const packed = readFileSync(new URL('packed-refs', git), 'utf8');
      return packed.split('\n').find((l) => l.endsWith(` ${ref}`))?.slice(0, 7);
    }
  } catch {
    return undefined;
  }
}

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
          commit = sourceCommit() ?? commit; // run from the sources
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

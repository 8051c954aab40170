/**
 * V8 settings of every wnvcap process, set before anything else is loaded: by bin.ts before the
 * bundle is compiled (V8 takes a code cache only under the flags it was made with, so the build's
 * cache writer sets the same, scripts/bundle.mjs) and by entry.ts for the single executable.
 * Measured in scripts/bench/RESULTS.md (issue 13):
 * - a small young generation (4 MB semi-spaces): lower peak memory on big captures (issue 3);
 * - --optimize-for-size: the old generation grows by less before it is collected; a report of
 *   5 M packets peaked at 428 MB without it, 203 MB with it, for about 5% more CPU.
 */
import { setFlagsFromString } from 'node:v8';

export const V8_FLAGS = ['--max-semi-space-size=4', '--optimize-for-size'] as const;

export function applyV8Flags(): void {
  for (const f of V8_FLAGS) setFlagsFromString(f);
}

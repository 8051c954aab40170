/**
 * Starts the CLI from its bundle (dist/bundle/wnvcap.cjs, made by `npm run build`) with the V8
 * code cache written beside it, so that start-up does not compile wnvcap and its packages again
 * (issue 13: start-up). Node 20 has no module compile cache; this is what Node's single
 * executables do with useCodeCache.
 *
 * V8 checks a cache against its own version, its flags and the source's length only: a cache of
 * another bundle of the same length would run that bundle's code. So each build gives its bundle a
 * new id (first line, scripts/bundle.mjs) and the cache file starts with the id of the bundle it was
 * made from; a cache of another build, or one V8 refuses, is not used, and the bundle is compiled
 * as usual: slower, never wrong.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { Script } from 'node:vm';

export interface BundleStart {
  file: string;
  /** True when a code cache was there and V8 took it. */
  cacheAccepted: boolean;
}

// A global, not a module variable: the bundle holds its own copy of this module.
const START = Symbol.for('wnvcap.bundle-start');

/** How this process started (the interop tests read it); undefined when it runs from the modules. */
export function bundleStart(): BundleStart | undefined {
  return (globalThis as Record<symbol, BundleStart | undefined>)[START];
}

/**
 * Runs the bundle at `file` as the main module; false when there is none (run from the sources).
 * With `writeCache`, the code cache of everything compiled until the process exits is written
 * to `<file>.cache` (the build does this).
 */
export function runBundle(file: string, o: { writeCache?: boolean } = {}): boolean {
  let source: string;
  try {
    // esbuild writes ASCII only (charset ascii): latin1 is the cheapest exact decoding.
    source = readFileSync(file, 'latin1');
  } catch {
    return false;
  }
  const cacheFile = `${file}.cache`;
  const id = BUILD_ID.exec(source.slice(0, 128))?.[1];
  let cachedData: Buffer | undefined;
  if (!o.writeCache && id) cachedData = cacheOf(cacheFile, id);
  // No importModuleDynamically: code from a code cache cannot use it (Node 20), so the bundle has no import() (scripts/bundle.mjs).
  const script = new Script(Module.wrap(source), { filename: file, ...(cachedData ? { cachedData } : {}) });
  (globalThis as Record<symbol, BundleStart>)[START] = { file, cacheAccepted: cachedData !== undefined && !script.cachedDataRejected };
  if (o.writeCache && id) process.once('exit', () => writeFileSync(cacheFile, Buffer.concat([Buffer.from(`${id}\n`, 'latin1'), script.createCachedData()])));
  const module = { exports: {} };
  const run = script.runInThisContext() as (e: object, r: NodeJS.Require, m: object, f: string, d: string) => void;
  run(module.exports, createRequire(file), module, file, dirname(file));
  return true;
}

/** The bundle's build id, on its first line (scripts/bundle.mjs). */
const BUILD_ID = /^\/\* wnvcap-build ([0-9a-f]{32}) \*\//;

/** The V8 data of `file` when it starts with `id` (the bundle's), else undefined. */
function cacheOf(file: string, id: string): Buffer | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch {
    return undefined;
  }
  return bytes.subarray(0, id.length + 1).toString('latin1') === `${id}\n` ? bytes.subarray(id.length + 1) : undefined;
}

#!/usr/bin/env node
/**
 * The `wnvcap` command. Built (`npm run build`), it runs the bundle with its code cache
 * (bundle.ts); from the sources (tsx) or without a bundle, it loads the modules (entry.ts).
 */
import { setFlagsFromString } from 'node:v8';
import { fileURLToPath } from 'node:url';
import { runBundle } from './bundle.js';

// Decoding allocates many short-lived objects per packet: a small young generation keeps them
// from being promoted, which holds peak memory down on big captures (scripts/bench/RESULTS.md).
// Set before the bundle is compiled: V8 takes a code cache only under the flags it was made with.
setFlagsFromString('--max-semi-space-size=4');

if (!runBundle(fileURLToPath(new URL('../bundle/wnvcap.cjs', import.meta.url)))) await import('./entry.js');

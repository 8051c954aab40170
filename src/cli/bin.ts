#!/usr/bin/env node
/**
 * The `wnvcap` command. Built (`npm run build`), it runs the bundle with its code cache
 * (bundle.ts); from the sources (tsx) or without a bundle, it loads the modules (entry.ts). A
 * bundle is preferred whenever it is there: after a bare `tsc`, run `npm run build` (it makes both).
 */
import { fileURLToPath } from 'node:url';
import { runBundle } from './bundle.js';
import { applyV8Flags } from './v8-flags.js';

applyV8Flags(); // before the bundle is compiled (v8-flags.ts)

if (!runBundle(fileURLToPath(new URL('../bundle/wnvcap.cjs', import.meta.url)))) await import('./entry.js');

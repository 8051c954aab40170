#!/usr/bin/env node
/**
 * The `wnvcap` command. Built (`npm run build`), it runs the bundle with its code cache
 * (bundle.ts); from the sources (tsx) or without a bundle, it loads the modules (entry.ts). A
 * bundle is preferred whenever it is there: after a bare `tsc`, run `npm run build` (it makes both).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startThreadEarly } from '../analysis/thread-start.js';
import { runBundle } from './bundle.js';
import { applyV8Flags } from './v8-flags.js';

applyV8Flags(); // before the bundle is compiled (v8-flags.ts)

const bundle = fileURLToPath(new URL('../bundle/wnvcap.cjs', import.meta.url));
// The report's analysis thread starts while the bundle loads (thread-start.ts); the bundle's report
// looks for the thread's script beside itself (analysis-thread.ts).
if (existsSync(bundle)) startThreadEarly(process.argv.slice(2), join(dirname(bundle), 'analysis-worker.cjs'));
if (!runBundle(bundle)) await import('./entry.js');

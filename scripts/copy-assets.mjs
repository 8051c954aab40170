#!/usr/bin/env node
// Copies run-time assets into dist/ after tsc: the uPlot charting library for HTML reports; and
// writes dist/build-info.json (version and git commit, for --version).
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { writeBuildInfo } from './build-info.mjs';

const root = new URL('..', import.meta.url).pathname;
const req = createRequire(join(root, 'package.json'));
const out = join(root, 'dist', 'report', 'assets');
mkdirSync(out, { recursive: true });
for (const f of ['uPlot.iife.min.js', 'uPlot.min.css']) copyFileSync(req.resolve(`uplot/dist/${f}`), join(out, f));
writeBuildInfo(root);
void dirname;

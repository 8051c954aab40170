/**
 * Loads the charting library inlined into HTML reports: from dist/report/assets (copied there
 * by scripts/copy-assets.mjs at build time, and packed into the executable), else from
 * node_modules when running from source.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { readTextAsset } from '../util/assets.js';
import type { HtmlAssets } from './html.js';

let cached: HtmlAssets | undefined;

export function loadHtmlAssets(): HtmlAssets {
  if (cached) return cached;
  // Inside the single executable the library is an embedded asset; else the build's copy, found
  // from the package root (the same from dist/report and from the bundle in dist/bundle).
  let js = readTextAsset('uplot/uPlot.iife.min.js') ?? readTextAsset('dist/report/assets/uPlot.iife.min.js');
  let css = readTextAsset('uplot/uPlot.min.css') ?? readTextAsset('dist/report/assets/uPlot.min.css');
  if (js === undefined || css === undefined) {
    const req = createRequire(import.meta.url);
    js = readFileSync(req.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8');
    css = readFileSync(req.resolve('uplot/dist/uPlot.min.css'), 'utf8');
  }
  cached = { uplotJs: js, uplotCss: css };
  return cached;
}

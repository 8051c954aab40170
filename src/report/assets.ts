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
  const tryRead = (u: URL): string | undefined => {
    try {
      return readFileSync(u, 'utf8');
    } catch {
      return undefined;
    }
  };
  // Inside the single executable the library is an embedded asset.
  let js = readTextAsset('uplot/uPlot.iife.min.js') ?? tryRead(new URL('./assets/uPlot.iife.min.js', import.meta.url));
  let css = readTextAsset('uplot/uPlot.min.css') ?? tryRead(new URL('./assets/uPlot.min.css', import.meta.url));
  if (js === undefined || css === undefined) {
    const req = createRequire(import.meta.url);
    js = readFileSync(req.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8');
    css = readFileSync(req.resolve('uplot/dist/uPlot.min.css'), 'utf8');
  }
  cached = { uplotJs: js, uplotCss: css };
  return cached;
}

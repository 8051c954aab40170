#!/usr/bin/env node
// The CLI as one CommonJS file, dist/bundle/wnvcap.cjs, and its V8 code cache (issue 13:
// start-up). `npm run build` runs this after tsc; dist/cli/bin.js starts from the bundle when it is
// there (src/cli/bundle.ts), and the single executable embeds the same file (build-exe.mjs).
//
// The bundle lies two levels below the package root, as each module does in dist/<folder>/, so
// paths found relative to a module (profiles, the package root) stay right; the version and
// commit are compiled in (__WNVCAP_BUILD__), as dist/build-info.json is not beside it.
//
// The code cache holds what V8 compiled while the bundle ran `report` on a small capture (written
// here by the simulator): start-up, yargs, the command table, the decoder, the analysis, winston.
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { writeBuildInfo } from './build-info.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const BUNDLE = join(ROOT, 'dist', 'bundle', 'wnvcap.cjs');
/** The analysis thread's script (src/analysis/analysis-thread.ts looks for it beside the bundle). */
export const WORKER_BUNDLE = join(ROOT, 'dist', 'bundle', 'analysis-worker.cjs');

/**
 * string-width (yargs, cliui, wrap-ansi) makes an Intl.Segmenter when it is loaded: ICU's break
 * rules, 20-30 ms of every start, for text layout that only --help and usage errors need. In the
 * bundle each copy is loaded on its first call instead.
 */
const lazyStringWidth = {
  name: 'lazy-string-width',
  setup(b) {
    b.onResolve({ filter: /^string-width$/ }, async (a) => {
      if (a.pluginData === 'real') return undefined;
      const real = await b.resolve('string-width', { resolveDir: a.resolveDir, kind: a.kind, pluginData: 'real' });
      if (real.errors.length > 0) return { errors: real.errors };
      return { path: real.path, namespace: 'lazy-string-width' };
    });
    b.onLoad({ filter: /.*/, namespace: 'lazy-string-width' }, (a) => ({
      contents: `let width;
export default function stringWidth(text, options) {
  width ??= require(${JSON.stringify(a.path)}).default;
  return width(text, options);
}`,
      loader: 'js',
      resolveDir: dirname(a.path),
    }));
  },
};

/** esbuild: src/cli/entry.ts and everything it loads, playwright-core left out (tests only). */
export async function bundleCli(root = ROOT, outfile = BUNDLE) {
  const esbuild = createRequire(join(root, 'package.json'))('esbuild');
  const build = writeBuildInfo(root);
  // What both bundles share: CommonJS for Node 20, ASCII only (read as latin1), import.meta.url
  // from the bundle's own file.
  const common = { bundle: true, platform: 'node', format: 'cjs', target: 'node20', charset: 'ascii', legalComments: 'none', logLevel: 'warning' };
  const metaUrl = "const __wnvcap_import_meta_url = require('node:url').pathToFileURL(__filename).href;";
  await esbuild.build({
    ...common,
    entryPoints: [join(root, 'src', 'cli', 'entry.ts')],
    outfile,
    external: ['playwright-core'],
    // import() as require(): code run from a V8 code cache has no dynamic-import callback (Node 20).
    supported: { 'dynamic-import': false },
    define: { 'import.meta.url': '__wnvcap_import_meta_url', __WNVCAP_BUILD__: JSON.stringify(build) },
    // A new id for every build: the code cache names the bundle it was made from (src/cli/bundle.ts).
    banner: { js: `/* wnvcap-build ${randomUUID().replace(/-/g, '')} */\n${metaUrl}` },
    plugins: [lazyStringWidth],
  });
  // The analysis thread runs its own bundle (the analysis and what it reads), without a code cache.
  await esbuild.build({
    ...common,
    entryPoints: [join(root, 'src', 'analysis', 'analysis-worker.ts')],
    outfile: join(dirname(outfile), 'analysis-worker.cjs'),
    define: { 'import.meta.url': '__wnvcap_import_meta_url' },
    banner: { js: metaUrl },
  });
  return build;
}

/** Runs the bundle once with the cache writer on (bundle.ts runBundle writeCache). */
async function writeCodeCache(argv) {
  const loader = pathToFileURL(join(ROOT, 'dist', 'cli', 'bundle.js')).href;
  const flags = pathToFileURL(join(ROOT, 'dist', 'cli', 'v8-flags.js')).href;
  // The flags bin.js sets (V8 refuses a cache made under others).
  const code = `process.argv.splice(1, 0, ${JSON.stringify(BUNDLE)}); (await import(${JSON.stringify(flags)})).applyV8Flags();
(await import(${JSON.stringify(loader)})).runBundle(${JSON.stringify(BUNDLE)}, { writeCache: true });`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code, '--', ...argv], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`the bundle failed to run ${argv.join(' ')} (exit ${r.status}): ${r.stderr}`);
}

/** A small NDIS capture from the simulator (dist/sim), for the cache run. */
async function smallCapture(dir) {
  const { writeNdisScenario } = await import(pathToFileURL(join(ROOT, 'dist', 'sim', 'scenarios.js')).href);
  const chunks = [];
  writeNdisScenario({ seed: 1, packets: 200, cpus: 2 }, (c) => chunks.push(Buffer.from(c)));
  const file = join(dir, 'small.etl');
  writeFileSync(file, Buffer.concat(chunks));
  return file;
}

// Run as a script (realpaths: the checkout may be reached through a symlink or a junction).
if (process.argv[1] && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))) {
  await bundleCli();
  const dir = mkdtempSync(join(tmpdir(), 'wnvcap-bundle-'));
  try {
    await writeCodeCache(['report', await smallCapture(dir), '--format', 'json', '-o', join(dir, 'report.json'), '-q']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

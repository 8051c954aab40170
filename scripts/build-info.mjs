#!/usr/bin/env node
// Build information for `wnvcap --version`: the package version and the git commit the build was
// made from (`git rev-parse --short HEAD`; "unknown" outside a git checkout of wnvcap). Written to
// dist/build-info.json by `npm run build` (copy-assets.mjs) and read there by src/version.ts; the
// single-executable build (build-exe.mjs) writes the same file and bundles its values.
// `node scripts/build-info.mjs` writes the file and prints it.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The short commit of `root`, or "unknown" when `root` is not the top of a git checkout. */
export function gitCommit(root = ROOT) {
  const git = (...args) => execFileSync('git', ['-C', root, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    // An npm install inside some other repository must not report that repository's commit.
    if (realpathSync(git('rev-parse', '--show-toplevel')) !== realpathSync(root)) return 'unknown';
    return git('rev-parse', '--short', 'HEAD');
  } catch {
    return 'unknown';
  }
}

/** Writes { version, commit } to dist/build-info.json (or `file`) and returns it. */
export function writeBuildInfo(root = ROOT, file = join(root, 'dist', 'build-info.json')) {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const info = { version: pkg.version, commit: gitCommit(root) };
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(info)}\n`);
  return info;
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) console.log(JSON.stringify(writeBuildInfo()));

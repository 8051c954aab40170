/**
 * One way imports: the folders under src/ form no cycle (a folder never imports one that imports
 * it back, directly or through others). Read from the import statements of every source file.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';

const SRC = resolve(import.meta.dirname, '..', '..', 'src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** src/<folder>/... → folder ('' for files directly in src). */
function folderOf(file: string): string {
  const parts = relative(SRC, file).split(/[\\/]/);
  return parts.length > 1 ? parts[0]! : '';
}

/** Folder → folders it imports (static and dynamic imports, type-only ones included). */
function folderGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const file of sources(SRC)) {
    const from = folderOf(file);
    const deps = graph.get(from) ?? new Set<string>();
    graph.set(from, deps);
    for (const m of readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*'(\.[^']+)'/g)) {
      const to = folderOf(resolve(dirname(file), m[1]!));
      if (to !== from) deps.add(to);
    }
  }
  return graph;
}

/** A cycle through the graph, as the list of folders on it, or undefined. */
function findCycle(graph: Map<string, Set<string>>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (n: string): string[] | undefined => {
    if (state.get(n) === 'done') return undefined;
    if (state.get(n) === 'open') return [...path.slice(path.indexOf(n)), n];
    state.set(n, 'open');
    path.push(n);
    for (const d of graph.get(n) ?? []) {
      const c = visit(d);
      if (c) return c;
    }
    path.pop();
    state.set(n, 'done');
    return undefined;
  };
  for (const n of graph.keys()) {
    const c = visit(n);
    if (c) return c;
  }
  return undefined;
}

test('the folders under src/ import one way: no cycle', () => {
  const graph = folderGraph();
  assert.ok(graph.size > 10, 'every folder was read');
  const cycle = findCycle(graph);
  assert.equal(cycle, undefined, `import cycle: ${cycle?.join(' -> ')}`);
});

test('the cycle finder finds a cycle (a graph with one, a graph without)', () => {
  const g = new Map([['a', new Set(['b'])], ['b', new Set(['c'])], ['c', new Set(['a'])], ['d', new Set(['a'])]]);
  assert.deepEqual(findCycle(g), ['a', 'b', 'c', 'a']);
  g.get('c')!.delete('a');
  assert.equal(findCycle(g), undefined);
});

test('session control does not decode or report: capture/ and remote/ import none of analysis, pcapng, report, run, fleet', () => {
  const graph = folderGraph();
  for (const f of ['capture', 'remote']) {
    const bad = [...graph.get(f)!].filter((d) => ['analysis', 'pcapng', 'report', 'run', 'fleet'].includes(d));
    assert.deepEqual(bad, [], `${f} imports ${bad.join(', ')}`);
  }
});

/** Files a file loads when it is loaded: its static imports that are not type-only, transitively (import() excluded). */
function startupClosure(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^\s*(?:import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?'(\.[^']+)'/gm)) {
      if (m[1]) continue; // import type: erased
      visit(resolve(dirname(file), m[2]!).replace(/\.js$/, '.ts'));
    }
  };
  visit(entry);
  return seen;
}

test('start-up loads the CLI and its options only: what a command runs is loaded by import() when it runs (wnvcap --version reads no decoder, PowerShell or simulator)', () => {
  const loaded = [...startupClosure(join(SRC, 'cli', 'main.ts'))].map((f) => relative(SRC, f).replace(/\\/g, '/'));
  assert.ok(loaded.includes('cli/commands/capture.ts') && loaded.includes('cli/commands/report.ts'), `every command's options are read: ${loaded.join(', ')}`);
  const heavy = loaded.filter((f) => !/^(cli\/|util\/|version\.ts$)/.test(f) || f === 'cli/hosts.ts');
  assert.deepEqual(heavy, [], `loaded at start-up: ${heavy.join(', ')}`);
});

test('start-up loads no process, network or terminal module of Node (child_process, net, readline, dgram): a command that needs one imports it when it runs', () => {
  const slow = /^import\s+(?!type\s)[^;]*from\s+'(?:node:)?(child_process|net|readline|dgram|tls|http|https|worker_threads)'/m;
  const loading = [...startupClosure(join(SRC, 'cli', 'bin.ts')), ...startupClosure(join(SRC, 'cli', 'entry.ts'))]
    .filter((f) => slow.test(readFileSync(f, 'utf8'))).map((f) => relative(SRC, f).replace(/\\/g, '/'));
  assert.deepEqual(loading, []);
});

test('start-up: winston is loaded when a line is logged, not before (--version and a quiet info never load it)', async () => {
  const { spawnSync } = await import('node:child_process');
  const script = `
    import { createRequire } from 'node:module';
    const { main } = await import(${JSON.stringify(join(SRC, 'cli', 'main.ts'))});
    const ctx = { stdout: () => {}, stderr: () => {}, stderrIsTTY: false, env: {}, cwd: process.cwd() };
    const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((k) => /[\\\\/]winston[\\\\/]/.test(k));
    const out = [];
    await main(['--version'], ctx); out.push(loaded());
    await main(['info', process.argv[1]], ctx); out.push(loaded());
    await main(['decode', '/no/such/file.etl', '-o', '/tmp/never.pcapng'], ctx); out.push(loaded());
    await main(['capture', '--simulate', '--duration', '1s', '--out', process.argv[2]], { ...ctx, env: { WNVCAP_STATE_DIR: process.argv[2] }, cwd: process.argv[2] }); out.push(loaded());
    console.log(JSON.stringify(out));`;
  const fixture = join(SRC, '..', 'test', 'architecture', 'imports.test.ts'); // any file: info fails before logging, as a quiet run
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, fixture, mkdtempSync(join(tmpdir(), 'wnvcap-lazy-'))], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  // --version, info and a failed decode log nothing; a capture logs, and then winston is there.
  assert.deepEqual(JSON.parse(r.stdout.trim().split('\n').pop()!), [false, false, false, true]);
});

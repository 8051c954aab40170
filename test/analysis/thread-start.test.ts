/**
 * The report's analysis thread started before the CLI loads (src/analysis/thread-start.ts): which
 * command lines start it, and how the report takes it over or ends it. Real threads on small
 * scripts; the built CLI's use of it is in test-interop/bundle.test.ts.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, truncateSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { startThreadEarly, takeEarlyThread, THREAD_MIN_BYTES } from '../../src/analysis/thread-start.js';

const dir = mkdtempSync(join(tmpdir(), 'wnvcap-thread-start-'));
const echo = join(dir, 'echo.cjs');
writeFileSync(echo, "const { parentPort } = require('node:worker_threads'); parentPort.on('message', (m) => parentPort.postMessage(m));\n");
const failing = join(dir, 'failing.cjs');
writeFileSync(failing, "throw new Error('no start');\n");
const big = join(dir, 'big.etl');
writeFileSync(big, '');
truncateSync(big, THREAD_MIN_BYTES); // sparse: only its size is read
const small = join(dir, 'small.etl');
writeFileSync(small, new Uint8Array(4096));
const runFolder = join(dir, 'run');
mkdirSync(runFolder);
writeFileSync(join(runFolder, 'capture.etl'), '');
truncateSync(join(runFolder, 'capture.etl'), THREAD_MIN_BYTES + 1);

const EARLY = Symbol.for('wnvcap.analysis-thread');
const early = (): { worker: Worker } | undefined => (globalThis as Record<symbol, { worker: Worker } | undefined>)[EARLY];
/** The thread's exit code, once it ends (a timer keeps this test's loop alive: the early thread does not). */
const exited = (w: Worker): Promise<number> => new Promise((r) => {
  const alive = setInterval(() => {}, 1000);
  w.once('exit', (code) => { clearInterval(alive); r(code); });
});

test('thread start: a report of a big capture (a file, or a run folder\'s capture.etl) starts the thread; others do not', { skip: availableParallelism() < 2 && 'one core: a report never uses a second thread' }, async () => {
  for (const args of [['report', big], ['report', '--format', 'json', big, '-o', join(dir, 'r.json')], ['report', runFolder], ['report', big, '--threads', '2']]) {
    startThreadEarly(args, echo);
    const w = takeEarlyThread(echo);
    assert.ok(w, args.join(' '));
    await w.terminate();
  }
  for (const args of [['report', small], ['report', join(dir, 'missing.etl')], ['report', big, '--threads', '1'], ['report', big, '--threads=1'], ['decode', big], ['info', big], []]) {
    startThreadEarly(args, echo);
    assert.equal(early(), undefined, args.join(' '));
    assert.equal(takeEarlyThread(echo), undefined, args.join(' '));
  }
});

test('thread start: the thread taken over answers and keeps the process alive; it is taken once', { skip: availableParallelism() < 2 && 'one core' }, async () => {
  startThreadEarly(['report', big], echo);
  const w = takeEarlyThread(echo)!;
  assert.equal(takeEarlyThread(echo), undefined, 'taken once');
  const answer = new Promise((r) => w.once('message', r));
  w.postMessage({ t: 'ping' });
  assert.deepEqual(await answer, { t: 'ping' });
  const end = exited(w);
  await w.terminate();
  await end;
});

test('thread start: a thread started from another script than the report\'s is ended, not adopted', { skip: availableParallelism() < 2 && 'one core' }, async () => {
  startThreadEarly(['report', big], echo);
  const w = early()!.worker;
  const end = exited(w);
  assert.equal(takeEarlyThread(join(dir, 'other.cjs')), undefined);
  await end;
  startThreadEarly(['report', big], echo);
  const w2 = early()!.worker;
  const end2 = exited(w2);
  assert.equal(takeEarlyThread(undefined), undefined, 'a report on one thread ends it');
  await end2;
});

test('thread start: a thread that failed to start is not adopted (the report starts another, which says why)', { skip: availableParallelism() < 2 && 'one core' }, async () => {
  startThreadEarly(['report', big], failing);
  const w = early()!.worker;
  assert.equal(await exited(w), 1);
  assert.equal(takeEarlyThread(failing), undefined);
});

test('thread start: a thread not taken over does not keep the process from ending', { skip: availableParallelism() < 2 && 'one core' }, () => {
  const module = pathToFileURL(join(import.meta.dirname, '..', '..', 'src', 'analysis', 'thread-start.ts')).href;
  const child = join(dir, 'child.mts'); // a file: tsx's -e exits once the code has run
  writeFileSync(child, `const t = await import(${JSON.stringify(module)}); t.startThreadEarly(['report', ${JSON.stringify(big)}], ${JSON.stringify(echo)}); if (!globalThis[Symbol.for('wnvcap.analysis-thread')]) process.exit(3);\n`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', child], { encoding: 'utf8', timeout: 15_000 });
  assert.equal(r.status, 0, `${r.signal ?? ''} ${r.stderr}`);
});

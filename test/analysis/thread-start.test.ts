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
  for (const args of [['report', big], ['report', big, '--format', 'json', '-o', join(dir, 'r.json')], ['report', runFolder], ['report', big, '--threads', '2']]) {
    startThreadEarly(args, echo);
    const w = takeEarlyThread(echo);
    assert.ok(w, args.join(' '));
    await w.terminate();
  }
  // Not a capture the report would thread, only an option's value (never looked at), or a path that
  // cannot be read (ENOTDIR, ENAMETOOLONG): no thread, and no error (the report says what is wrong).
  for (const args of [
    ['report', small], ['report', join(dir, 'missing.etl')], ['report', big, '--threads', '1'], ['report', big, '--threads=1'], ['decode', big], ['info', big], [],
    ['report', small, '-o', big], ['report', '--snapshot', big, small], ['report', join(small, 'x.etl')], ['report', join(dir, 'x'.repeat(300))],
  ]) {
    assert.doesNotThrow(() => startThreadEarly(args, echo), args.join(' '));
    assert.equal(early(), undefined, args.join(' '));
    assert.equal(takeEarlyThread(echo), undefined, args.join(' '));
  }
});

test('thread start: the thread taken over answers; it is taken once', { skip: availableParallelism() < 2 && 'one core' }, async () => {
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
  const end = exited(w);
  await new Promise((r) => w.once('error', r)); // taken over between its error and its exit
  assert.equal(takeEarlyThread(failing), undefined);
  assert.equal(await end, 1);
});

/** Runs `code` (after `t`, this module, is imported) in a child process with tsx; its exit status and output. */
function child(name: string, code: string): { status: number | null; stdout: string; stderr: string } {
  const module = pathToFileURL(join(import.meta.dirname, '..', '..', 'src', 'analysis', 'thread-start.ts')).href;
  const file = join(dir, `${name}.mts`); // a file: tsx's -e exits once the code has run
  writeFileSync(file, `const t = await import(${JSON.stringify(module)});\n${code}\n`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', file], { encoding: 'utf8', timeout: 15_000 });
  return { status: r.status, stdout: r.stdout, stderr: `${r.signal ?? ''} ${r.stderr}` };
}

test('thread start: a thread not taken over does not keep the process from ending', { skip: availableParallelism() < 2 && 'one core' }, () => {
  const r = child('not-taken', `t.startThreadEarly(['report', ${JSON.stringify(big)}], ${JSON.stringify(echo)}); if (!globalThis[Symbol.for('wnvcap.analysis-thread')]) process.exit(3);`);
  assert.equal(r.status, 0, r.stderr);
});

test('thread start: a thread taken over keeps the process alive', { skip: availableParallelism() < 2 && 'one core' }, () => {
  // Nothing else keeps this process alive (the timer does not): it prints only if the adopted thread holds it open.
  const r = child('taken', `t.startThreadEarly(['report', ${JSON.stringify(big)}], ${JSON.stringify(echo)});
const w = t.takeEarlyThread(${JSON.stringify(echo)});
setTimeout(() => { console.log('still running'); void w.terminate(); }, 300).unref();`);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'still running');
});

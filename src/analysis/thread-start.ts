/**
 * When the report's analysis runs on a second thread, and that thread's early start (issue 13).
 * A worker's own start-up (Node's bootstrap of a new thread, some 90 ms here) is on the report's
 * critical path: the decode fills its merge and then waits for the thread. bin.ts therefore starts
 * the thread for `wnvcap report` before it loads the CLI, and the analysis adopts it
 * (analysis-thread.ts). Only node: modules here: bin.ts loads this file before anything else, for every command.
 */
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';

/** From this capture size up, a report analyses on a second thread by default (its start-up is some 50-90 ms of CPU). */
export const THREAD_MIN_BYTES = 16 * 1024 * 1024;

/** Whether a second thread pays for a capture of `captureBytes` on this machine. */
export function threadPays(captureBytes: number): boolean {
  return availableParallelism() > 1 && captureBytes >= THREAD_MIN_BYTES;
}

// A global, not a module variable: bin.ts and the bundle each hold their own copy of this module.
const EARLY = Symbol.for('wnvcap.analysis-thread');

interface EarlyThread {
  file: string;
  worker: Worker;
  /** It ended before it was adopted (it failed to start): the report starts another, which says why. */
  ended: boolean;
}

/**
 * Starts the analysis thread from `file` when `args` (the command line after `wnvcap`) are a
 * report the report will analyse on a second thread: `report <input> ...` where <input> (the
 * argument right after the command, as the usage has it) is a file of THREAD_MIN_BYTES or more,
 * or a folder with such a capture.etl, on a machine with two cores or more, without
 * `--threads 1`. A guess from the arguments alone, before they are checked: a wrong guess costs a
 * thread's start-up or its absence, never a result or an error (the report adopts the thread or
 * ends it, analysis-thread.ts, and says itself what is wrong with its arguments). Only <input> is
 * looked at, never an option's value (a path the command would not otherwise open). The thread
 * does not keep the process alive until it is adopted.
 */
export function startThreadEarly(args: readonly string[], file: string): void {
  const input = args[1];
  if (args[0] !== 'report' || input === undefined || input.startsWith('-') || singleThread(args) || availableParallelism() < 2) return; // no stat on one core
  try {
    if (!threadPays(captureSize(input))) return;
    // Loaded here, not with this module: 2 ms of every other command's start.
    const { Worker } = createRequire(import.meta.url)('node:worker_threads') as typeof import('node:worker_threads');
    const t: EarlyThread = { file, worker: new Worker(file), ended: false };
    t.worker.unref();
    // A thread that failed is not adopted: the report starts its own, which says why.
    t.worker.on('error', () => { t.ended = true; });
    t.worker.once('exit', () => { t.ended = true; });
    (globalThis as Record<symbol, EarlyThread | undefined>)[EARLY] = t;
  } catch {
    // Not a path this process can read (ENOTDIR, ENAMETOOLONG, EACCES...): the report says so.
  }
}

/** The thread started early from `file`, taken over by the caller (then undefined for anyone else); ended if it was started from another file. */
export function takeEarlyThread(file: string | undefined): Worker | undefined {
  const g = globalThis as Record<symbol, EarlyThread | undefined>;
  const t = g[EARLY];
  g[EARLY] = undefined;
  if (!t || t.ended) return undefined;
  if (t.file === file) {
    t.worker.ref();
    return t.worker;
  }
  void t.worker.terminate();
  return undefined;
}

function singleThread(args: readonly string[]): boolean {
  return args.some((a, i) => a === '--threads=1' || (a === '--threads' && args[i + 1] === '1'));
}

/** The size of the file at `path`, or of the capture.etl in the folder at `path` (a run folder's); 0 when there is none. */
function captureSize(path: string): number {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return 0;
  if (st.isFile()) return st.size;
  return st.isDirectory() ? statSync(join(path, 'capture.etl'), { throwIfNoEntry: false })?.size ?? 0 : 0;
}

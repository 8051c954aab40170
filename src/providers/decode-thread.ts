/**
 * decodeCapture of a file on a second thread (issue 13: the report at four times tshark). The
 * decode thread (decode-worker.ts) reads, merges and decodes the ETL and sends the packets in
 * batches (packet-batch.ts); this thread replays them to the consumers (the analysis, the pcapng
 * writers) in the same order, with the same interfaces, starts and restarts, so every output is
 * the one decodeCapture gives. The two halves each take about half of a report's time.
 *
 * A small file (start-up of a thread costs more than it saves), a machine with one core, or a
 * build without the worker's file (the single executable) decode on this thread.
 */
import { on } from 'node:events';
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { openFileSource } from '../etl/file-source.js';
import { errorFromWire, type WireError } from '../util/errors.js';
import { decodeCapture, type CaptureConsumer, type DecodeCaptureOptions, type DecodeCaptureResult, type DecodeStart } from './decode-capture.js';
import type { CaptureInterface } from './interfaces.js';
import { readBatch, type PacketBatch } from './packet-batch.js';
import { PacketRecord } from './packet-record.js';
import { PktmonComponents } from './pktmon.js';

export interface FileDecodeOptions extends DecodeCaptureOptions {
  /** Decode on a second thread: 'auto' (files of THREAD_MIN_BYTES and more, two cores or more). */
  thread?: 'auto' | 'always' | 'never';
}

export interface FileDecodeResult extends DecodeCaptureResult {
  /** Times the file was opened (1 per pass). */
  fileOpens: number;
  /** True when the decode ran on a second thread. */
  threaded: boolean;
}

/** Below this, a report decodes on its own thread (a thread's start-up is some 30 ms). */
export const THREAD_MIN_BYTES = 16 * 1024 * 1024;

/** What the decode thread is given. */
export interface WorkerInput {
  file: string;
  options: Pick<DecodeCaptureOptions, 'compat' | 'budgetBytes' | 'forceTwoPasses'>;
  progress: boolean;
}

/** The decode thread's messages, in the order decodeCapture calls its consumers. */
export type FromWorker =
  | { t: 'start'; start: DecodeStart }
  | { t: 'batch'; batch: PacketBatch }
  | { t: 'restart' }
  | { t: 'progress'; pass: 1 | 2; position: number; size: number }
  | { t: 'done'; result: DecodeCaptureResult; fileOpens: number }
  | { t: 'error'; error: WireError };

/** A batch's buffer given back for reuse: the thread waits for these (back-pressure). */
export interface ToWorker {
  buffer: ArrayBuffer;
}

/** Decodes the ETL file at `path` into every consumer, on a second thread when it pays. */
export async function decodeCaptureFile(path: string, consumers: readonly CaptureConsumer[], o: FileDecodeOptions = {}): Promise<FileDecodeResult> {
  const { thread = 'auto', ...options } = o;
  const script = thread === 'never' ? undefined : workerScript();
  if (script && (thread === 'always' || (availableParallelism() > 1 && (await sizeOf(path)) >= THREAD_MIN_BYTES))) {
    return decodeOnThread(script, path, consumers, options);
  }
  let fileOpens = 0;
  const r = await decodeCapture(() => { fileOpens++; return openFileSource(path); }, consumers, options);
  return { ...r, fileOpens, threaded: false };
}

async function sizeOf(path: string): Promise<number> {
  return stat(path).then((s) => s.size, () => 0); // a missing file: the decode says so
}

/**
 * The worker's file beside this module: decode-worker.js (built), or decode-worker.cjs beside the
 * bundle (scripts/bundle.mjs); undefined where there is none. From the sources (tsx: the tests),
 * decode-worker.ts, which the thread requires through tsx's require hook (Node 20 does not give a
 * worker the loader of its parent's --import).
 */
function workerScript(): WorkerScript | undefined {
  const here = fileURLToPath(import.meta.url);
  const ext = /\.(cjs|ts|js)$/.exec(basename(here))?.[1];
  if (!ext) return undefined;
  const file = join(dirname(here), `decode-worker.${ext}`);
  if (!existsSync(file)) return undefined;
  if (ext !== 'ts') return { file };
  const tsx = createRequire(import.meta.url).resolve('tsx/cjs/api');
  return { file: `require(${JSON.stringify(tsx)}).register(); require(${JSON.stringify(file)});`, eval: true };
}

interface WorkerScript {
  file: string;
  eval?: true;
}

async function decodeOnThread(script: WorkerScript, path: string, consumers: readonly CaptureConsumer[], o: DecodeCaptureOptions): Promise<FileDecodeResult> {
  const { onProgress, ...rest } = o;
  const options: WorkerInput['options'] = {};
  if (rest.compat !== undefined) options.compat = rest.compat;
  if (rest.budgetBytes !== undefined) options.budgetBytes = rest.budgetBytes;
  if (rest.forceTwoPasses) options.forceTwoPasses = true;
  const input: WorkerInput = { file: path, options, progress: onProgress !== undefined };
  const worker = new Worker(script.file, { workerData: input, ...(script.eval ? { eval: true } : {}) });
  const exited = new AbortController();
  let exitCode = 0;
  worker.once('exit', (code) => { exitCode = code; exited.abort(); });
  const replay = new Replay(consumers);
  try {
    for await (const [m] of on(worker, 'message', { signal: exited.signal }) as AsyncIterable<[FromWorker]>) {
      switch (m.t) {
        case 'start': replay.start(m.start); break;
        case 'batch':
          await replay.batch(m.batch);
          worker.postMessage({ buffer: m.batch.buffer } satisfies ToWorker, [m.batch.buffer]);
          break;
        case 'restart': await replay.restart(); break;
        case 'progress': onProgress?.(m.pass, m.position, m.size); break;
        case 'error': throw errorFromWire(m.error);
        case 'done': return { ...replay.finish(m.result), fileOpens: m.fileOpens, threaded: true };
      }
    }
  } catch (e) {
    if (exited.signal.aborted && (e as Error).name === 'AbortError') throw new Error(`the decode thread stopped (exit code ${exitCode}) before the end of ${path}`, { cause: e });
    throw e;
  } finally {
    await worker.terminate();
  }
  throw new Error('unreachable: the message stream ends only by an abort');
}

/** The consumers' side: the calls decodeCapture makes, rebuilt from the thread's messages. */
class Replay {
  private readonly record = new PacketRecord();
  private interfaces: CaptureInterface[] = [];
  private components: PktmonComponents | undefined;
  private readonly waiting: CaptureConsumer[];
  private readonly onInterface = (i: CaptureInterface): void => {
    this.interfaces.push(i);
    for (const c of this.consumers) c.addInterface(i);
  };
  private readonly onPacket: (p: PacketRecord) => void;

  constructor(private readonly consumers: readonly CaptureConsumer[]) {
    this.waiting = consumers.filter((c) => c.afterBuffer);
    this.onPacket = (p) => {
      const i = this.interfaces[p.interfaceId]!;
      i.packets++;
      i.bytes += p.data.length;
      for (const c of consumers) c.packet(p, i);
    };
  }

  start(s: DecodeStart): void {
    this.interfaces = []; // each pass numbers its interfaces from 0 (capture-decoder.ts)
    this.components = Object.assign(new PktmonComponents(), s.components);
    const start = { ...s, components: this.components };
    for (const c of this.consumers) c.start(start);
  }

  async batch(b: PacketBatch): Promise<void> {
    readBatch(b, this.record, this.onInterface, this.onPacket);
    for (const c of this.waiting) await c.afterBuffer!();
  }

  async restart(): Promise<void> {
    for (const c of this.consumers) await c.restart();
  }

  /** The thread's result, with this side's interfaces (the ones the consumers were given) and components. */
  finish(r: DecodeCaptureResult): DecodeCaptureResult {
    const components = this.components ?? new PktmonComponents();
    // The one the consumers hold, brought up to date as decodeCapture's own would be.
    components.components.clear();
    for (const [id, c] of r.components.components) components.components.set(id, c);
    components.filters.splice(0, components.filters.length, ...r.components.filters);
    components.malformed = r.components.malformed;
    return { ...r, stats: { ...r.stats, interfaces: this.interfaces }, components };
  }
}

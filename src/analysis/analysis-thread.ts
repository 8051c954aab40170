/**
 * The report's analysis on a second thread (issue 13: the report at four times tshark). This
 * thread decodes the ETL as before and hands every packet, interface, start and restart to a
 * consumer that batches them (providers/packet-batch.ts) to the analysis thread
 * (analysis-worker.ts), which replays them to an AnalysisConsumer in the same order: the report is
 * the one of one thread. Decoding and analysing each take about half of a report's time; the
 * thread starts while this one reads the first buffers, or before the CLI is loaded (thread-start.ts).
 *
 * A small capture (a thread's start costs more than it saves), a machine with one core, or a build
 * without the worker's script analyse on this thread.
 */
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { openFileSource } from '../etl/file-source.js';
import { decodeCapture, type CaptureConsumer, type DecodeCaptureOptions, type DecodeCaptureResult, type DecodeStart } from '../providers/decode-capture.js';
import type { CaptureInterface } from '../providers/interfaces.js';
import { BATCH_BYTES, BatchWriter, type PacketBatch } from '../providers/packet-batch.js';
import type { PacketRecord } from '../providers/packet-record.js';
import type { Topology } from '../topology/topology.js';
import { isSingleExecutable, readTextAsset } from '../util/assets.js';
import { errorFromWire, type WireError } from '../util/errors.js';
import type { AnalyzerOptions } from './analyzer.js';
import type { ReportData } from './report-data.js';
import { AnalysisConsumer } from './run-analysis.js';
import { takeEarlyThread, threadPays } from './thread-start.js';

export type ThreadChoice = 'auto' | 'always' | 'never';

/** The analysis thread's bundle, as the single executable embeds it. */
export const WORKER_ASSET = 'bundle/analysis-worker.cjs';

/** Batches the analysis thread has not given back yet: then the decode waits (back-pressure). */
const MAX_IN_FLIGHT = 4;

/** The analysis as a decode consumer, on this thread or another: report() once the decode is done. */
export interface ReportAnalysis extends CaptureConsumer {
  readonly threaded: boolean;
  report(d: DecodeCaptureResult): Promise<ReportData>;
  /** Ends the thread (also after a failed decode); idempotent. */
  close(): Promise<void>;
}

/** What the analysis thread is given (its first message). */
export interface WorkerInput {
  topology: Topology | undefined;
  options: AnalyzerOptions;
}

/** This thread's messages, in the order decodeCapture calls its consumers, then the result. */
export type ToWorker =
  | { t: 'init'; input: WorkerInput }
  | { t: 'start'; start: DecodeStart }
  | { t: 'batch'; batch: PacketBatch }
  | { t: 'restart' }
  | { t: 'report'; result: DecodeCaptureResult };

export type FromWorker =
  | { t: 'ack'; buffer: ArrayBuffer }
  | { t: 'report'; report: ReportData }
  | { t: 'error'; error: WireError };

/**
 * Decodes the ETL file at `path` and analyses it (the report command), on two threads when that
 * pays; `threaded` says whether it did.
 */
export async function analyzeCaptureFile(
  path: string,
  topo: Topology | undefined,
  o: AnalyzerOptions & DecodeCaptureOptions & { thread?: ThreadChoice },
): Promise<{ report: ReportData; threaded: boolean }> {
  const { thread = 'auto', ...rest } = o;
  const captureBytes = await stat(path).then((s) => s.size, () => 0); // a missing file: the decode says so
  const analysis = openAnalysis(topo, rest, { thread, captureBytes });
  try {
    const d = await decodeCapture(() => openFileSource(path), [analysis], rest);
    return { report: await analysis.report(d), threaded: analysis.threaded };
  } finally {
    await analysis.close();
  }
}

/** The analysis of a capture of `captureBytes`, on a second thread when `thread` and the machine say so. */
export function openAnalysis(topo: Topology | undefined, o: AnalyzerOptions, how: { thread: ThreadChoice; captureBytes: number }): ReportAnalysis {
  const worth = how.thread === 'always' || (how.thread === 'auto' && threadPays(how.captureBytes));
  const script = worth ? workerScript() : undefined;
  const early = takeEarlyThread(script && !script.eval ? script.file : undefined); // ended when not adopted
  if (script) return new ThreadedAnalysis(early ?? startWorker(script), { topology: topo, options: analyzerOptions(o) });
  return new LocalAnalysis(topo, o);
}

/** Every AnalyzerOptions field (the compiler says when one is added and not listed here). */
const ANALYZER_OPTION_KEYS = { application: true, compartment: true, topFlows: true, filters: true } satisfies Record<keyof AnalyzerOptions, true>;

/** The analyzer's options alone: the caller's object may hold others (a progress callback cannot cross). */
function analyzerOptions(o: AnalyzerOptions): AnalyzerOptions {
  const r: Record<string, unknown> = {};
  for (const k of Object.keys(ANALYZER_OPTION_KEYS) as Array<keyof AnalyzerOptions>) if (o[k] !== undefined) r[k] = o[k];
  return r as unknown as AnalyzerOptions;
}

class LocalAnalysis implements ReportAnalysis {
  readonly threaded = false;
  private readonly a: AnalysisConsumer;
  constructor(topo: Topology | undefined, o: AnalyzerOptions) {
    this.a = new AnalysisConsumer(topo, o);
  }

  start(s: DecodeStart): void {
    this.a.start(s);
  }

  addInterface(): void {}

  packet(p: PacketRecord, i: CaptureInterface): void {
    this.a.packet(p, i);
  }

  restart(): Promise<void> {
    return this.a.restart();
  }

  async report(d: DecodeCaptureResult): Promise<ReportData> {
    return this.a.report(d);
  }

  async close(): Promise<void> {}
}

/** A script's path, or (eval) the script's text itself. */
interface WorkerScript {
  file: string;
  eval?: true;
}

/**
 * The worker's file beside this module: analysis-worker.js (built), or analysis-worker.cjs beside
 * the bundle (scripts/bundle.mjs); in the single executable, that bundle's text, an embedded asset
 * (scripts/build-exe.mjs). From the sources (tsx: the tests), analysis-worker.ts, which the thread
 * requires through tsx's require hook (Node 20 does not give a worker the loader of its parent's
 * --import). Undefined where there is none.
 */
function workerScript(): WorkerScript | undefined {
  if (isSingleExecutable()) {
    const code = readTextAsset(WORKER_ASSET);
    return code === undefined ? undefined : { file: code, eval: true };
  }
  const here = fileURLToPath(import.meta.url);
  const ext = /\.(cjs|ts|js)$/.exec(basename(here))?.[1];
  if (!ext) return undefined;
  const file = join(dirname(here), `analysis-worker.${ext}`);
  if (!existsSync(file)) return undefined;
  if (ext !== 'ts') return { file };
  let tsx: string;
  try {
    tsx = createRequire(import.meta.url).resolve('tsx/cjs/api');
  } catch {
    return undefined; // run from the sources by something else: one thread
  }
  return { file: `require(${JSON.stringify(tsx)}).register(); require(${JSON.stringify(file)});`, eval: true };
}

function startWorker(script: WorkerScript): Worker {
  return new Worker(script.file, script.eval ? { eval: true } : {});
}

class ThreadedAnalysis implements ReportAnalysis {
  readonly threaded = true;
  private readonly writer = new BatchWriter();
  private readonly free: ArrayBuffer[] = [];
  private inFlight = 0;
  private wake: (() => void) | undefined;
  private failure: Error | undefined;
  private closed = false;
  private result: { resolve: (r: ReportData) => void; reject: (e: Error) => void } | undefined;

  /** On `worker`, just started (thread-start.ts, or startWorker()): its input is the first message. */
  constructor(private readonly worker: Worker, input: WorkerInput) {
    this.worker.postMessage({ t: 'init', input } satisfies ToWorker);
    this.worker.on('message', (m: FromWorker) => this.receive(m));
    this.worker.on('error', (e) => this.fail(e));
    this.worker.on('messageerror', (e) => this.fail(new Error(`a message from the analysis thread could not be read: ${e.message}`)));
    this.worker.on('exit', (code) => {
      if (!this.closed) this.fail(new Error(`the analysis thread stopped (exit code ${code})`));
    });
  }

  start(s: DecodeStart): void {
    this.send();
    this.post({ t: 'start', start: s });
  }

  addInterface(i: CaptureInterface): void {
    this.writer.addInterface(i);
  }

  packet(p: PacketRecord): void {
    if (!this.writer.fits(p.data.length)) this.send();
    this.writer.add(p);
  }

  async afterBuffer(): Promise<void> {
    this.send();
    while (this.inFlight >= MAX_IN_FLIGHT && !this.failure) await new Promise<void>((r) => { this.wake = r; });
    this.wake = undefined;
    if (this.failure) throw this.failure;
  }

  async restart(): Promise<void> {
    this.send();
    this.post({ t: 'restart' });
  }

  async report(d: DecodeCaptureResult): Promise<ReportData> {
    this.send();
    if (this.failure) throw this.failure;
    const done = new Promise<ReportData>((resolve, reject) => { this.result = { resolve, reject }; });
    this.post({ t: 'report', result: d });
    return done;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.worker.terminate();
  }

  private post(m: ToWorker, transfer?: ArrayBuffer[]): void {
    if (!this.failure) this.worker.postMessage(m, transfer);
  }

  /** Sends the batch so far. */
  private send(): void {
    if (this.writer.isEmpty || this.failure) return;
    const batch = this.writer.take(this.free.pop() ?? new ArrayBuffer(BATCH_BYTES));
    this.inFlight++;
    this.post({ t: 'batch', batch }, [batch.buffer]);
  }

  private receive(m: FromWorker): void {
    if (m.t === 'ack') {
      this.free.push(m.buffer);
      this.inFlight--;
      this.wake?.();
    } else if (m.t === 'report') this.result?.resolve(m.report);
    else this.fail(errorFromWire(m.error));
  }

  private fail(e: Error): void {
    this.failure ??= e;
    this.wake?.();
    this.result?.reject(this.failure);
  }
}

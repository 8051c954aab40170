/**
 * The decode thread (decode-thread.ts): decodeCapture of one file into a consumer that forwards
 * every call, packets in batches. It keeps at most MAX_IN_FLIGHT batches unread by the main
 * thread: then it waits, and so does its reading of the file.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openFileSource } from '../etl/file-source.js';
import { errorToWire } from '../util/errors.js';
import { decodeCapture, type CaptureConsumer, type DecodeStart } from './decode-capture.js';
import type { FromWorker, ToWorker, WorkerInput } from './decode-thread.js';
import type { CaptureInterface } from './interfaces.js';
import { BATCH_BYTES, BatchWriter } from './packet-batch.js';
import type { PacketRecord } from './packet-record.js';

const MAX_IN_FLIGHT = 4;

class Forwarder implements CaptureConsumer {
  private readonly writer = new BatchWriter();
  private readonly free: ArrayBuffer[] = [];
  private inFlight = 0;
  private wake: (() => void) | undefined;

  constructor(private readonly port: NonNullable<typeof parentPort>) {
    port.on('message', (m: ToWorker) => {
      this.free.push(m.buffer);
      this.inFlight--;
      this.wake?.();
    });
  }

  post(m: FromWorker, transfer?: ArrayBuffer[]): void {
    this.port.postMessage(m, transfer);
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
    while (this.inFlight >= MAX_IN_FLIGHT) await new Promise<void>((r) => { this.wake = r; });
    this.wake = undefined;
  }

  async restart(): Promise<void> {
    this.send();
    this.post({ t: 'restart' });
  }

  /** Sends what the batch holds. */
  send(): void {
    if (this.writer.isEmpty) return;
    const batch = this.writer.take(this.free.pop() ?? new ArrayBuffer(BATCH_BYTES));
    this.inFlight++;
    this.post({ t: 'batch', batch }, [batch.buffer]);
  }
}

async function run(port: NonNullable<typeof parentPort>, input: WorkerInput): Promise<void> {
  const out = new Forwarder(port);
  try {
    let fileOpens = 0;
    const result = await decodeCapture(() => { fileOpens++; return openFileSource(input.file); }, [out], {
      ...input.options,
      ...(input.progress ? { onProgress: (pass: 1 | 2, position: number, size: number) => out.post({ t: 'progress', pass, position, size }) } : {}),
    });
    out.send();
    out.post({ t: 'done', result, fileOpens });
  } catch (e) {
    out.post({ t: 'error', error: errorToWire(e) });
  }
}

if (parentPort) void run(parentPort, workerData as WorkerInput);

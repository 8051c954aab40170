/**
 * The analysis thread (analysis-thread.ts): replays the decode's calls to an AnalysisConsumer,
 * packets from batches, each batch's buffer given back once read; at the end, the report of the
 * decode's result with this side's interfaces (the ones the analysis counted).
 */
import { parentPort, type MessagePort } from 'node:worker_threads';
import type { CaptureInterface } from '../providers/interfaces.js';
import { readBatch } from '../providers/packet-batch.js';
import { PacketRecord } from '../providers/packet-record.js';
import { PktmonComponents } from '../providers/pktmon.js';
import type { DecodeCaptureResult } from '../providers/decode-capture.js';
import { errorToWire } from '../util/errors.js';
import type { FromWorker, ToWorker, WorkerInput } from './analysis-thread.js';
import { AnalysisConsumer } from './run-analysis.js';

class Replay {
  private readonly analysis: AnalysisConsumer;
  private readonly record = new PacketRecord();
  private interfaces: CaptureInterface[] = [];
  private components = new PktmonComponents();
  private readonly onInterface = (i: CaptureInterface): void => {
    this.interfaces.push(i);
  };
  private readonly onPacket = (p: PacketRecord, bytes: Uint8Array, start: number, end: number): void => {
    const i = this.interfaces[p.interfaceId]!;
    i.packets++;
    i.bytes += end - start;
    this.analysis.frame(p, i, bytes, start, end);
  };

  constructor(private readonly port: MessagePort, input: WorkerInput) {
    this.analysis = new AnalysisConsumer(input.topology, input.options);
  }

  /** Every message after the first ('init', which made this Replay). */
  receive(m: Exclude<ToWorker, { t: 'init' }>): void {
    switch (m.t) {
      case 'start': {
        this.interfaces = []; // each pass numbers its interfaces from 0 (capture-decoder.ts)
        this.components = Object.assign(new PktmonComponents(), m.start.components);
        this.analysis.start({ ...m.start, components: this.components });
        break;
      }
      case 'batch':
        readBatch(m.batch, this.record, this.onInterface, this.onPacket);
        this.post({ t: 'ack', buffer: m.batch.buffer }, [m.batch.buffer]);
        break;
      case 'restart':
        void this.analysis.restart();
        break;
      case 'report':
        this.post({ t: 'report', report: this.analysis.report(this.result(m.result)) });
        break;
    }
  }

  post(m: FromWorker, transfer?: ArrayBuffer[]): void {
    this.port.postMessage(m, transfer);
  }

  /** The decode's result with the interfaces counted here, and the components the analysis was started with, brought up to date. */
  private result(r: DecodeCaptureResult): DecodeCaptureResult {
    const c = this.components;
    c.components.clear();
    for (const [id, x] of r.components.components) c.components.set(id, x);
    c.filters.splice(0, c.filters.length, ...r.components.filters);
    c.malformed = r.components.malformed;
    return { ...r, stats: { ...r.stats, interfaces: this.interfaces }, components: c };
  }
}

if (parentPort) {
  const port = parentPort;
  let replay: Replay | undefined; // from the first message, 'init'
  let failed = false;
  const fail = (e: unknown): void => {
    failed = true;
    port.postMessage({ t: 'error', error: errorToWire(e) } satisfies FromWorker);
  };
  port.on('message', (m: ToWorker) => {
    if (failed) return; // the main thread stops at the first error
    try {
      if (m.t === 'init') replay = new Replay(port, m.input);
      else if (replay) replay.receive(m);
      else throw new Error(`the analysis thread got '${m.t}' before its input ('init')`);
    } catch (e) {
      fail(e);
    }
  });
  port.on('messageerror', (e) => fail(new Error(`a message to the analysis thread could not be read: ${e.message}`)));
}

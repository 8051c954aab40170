/**
 * The report's analysis as one of decodeCapture's consumers (providers/decode-capture.ts), and
 * analyzeCapture for a capture on its own.
 */
import type { ByteSource } from '../etl/byte-source.js';
import type { CaptureInterface } from '../providers/interfaces.js';
import { decodeCapture, type CaptureConsumer, type DecodeCaptureOptions, type DecodeCaptureResult, type DecodeStart } from '../providers/decode-capture.js';
import type { PacketRecord } from '../providers/packet-record.js';
import type { Topology } from '../topology/topology.js';
import { Analyzer, type AnalyzerOptions } from './analyzer.js';
import type { ReportData } from './report-data.js';

/** Feeds every packet to an Analyzer; report() once the decode is done. */
export class AnalysisConsumer implements CaptureConsumer {
  private analyzer: Analyzer | undefined;
  constructor(private readonly topo: Topology | undefined, private readonly o: AnalyzerOptions) {}

  start(s: DecodeStart): void {
    this.analyzer = new Analyzer(this.topo, this.o, s.header.startTime);
  }

  addInterface(): void {}

  packet(p: PacketRecord, i: CaptureInterface): void {
    this.analyzer!.add(p, i);
  }

  /** packet() of a record whose frame is `bytes[start, end)` (the analysis thread's, read in place from its batch). */
  frame(p: PacketRecord, i: CaptureInterface, bytes: Uint8Array, start: number, end: number): void {
    this.analyzer!.addFrame(p, i, bytes, start, end);
  }

  async restart(): Promise<void> {
    this.analyzer = undefined;
  }

  report(d: DecodeCaptureResult): ReportData {
    return this.analyzer!.finish(d.summary, d.stats, d.components.components);
  }
}

export async function analyzeCapture(openSource: () => Promise<ByteSource>, topo: Topology | undefined, o: AnalyzerOptions & DecodeCaptureOptions): Promise<ReportData> {
  const analysis = new AnalysisConsumer(topo, o);
  return analysis.report(await decodeCapture(openSource, [analysis], o));
}

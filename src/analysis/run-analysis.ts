/**
 * Decodes a capture and feeds every packet to the Analyzer: in one pass for captures without
 * PktMon packets, else in two (PktMon component names come from a rundown logged last).
 */
import type { ByteSource } from '../etl/byte-source.js';
import { openEtl } from '../etl/etl-reader.js';
import { IssueLog } from '../etl/issues.js';
import { decodePackets, PKTMON_SEEN, SummaryBuilder, summarizeEtl } from '../providers/capture-decoder.js';
import type { Topology } from '../topology/topology.js';
import { Analyzer, type AnalyzerOptions } from './analyzer.js';
import type { ReportData } from './report-data.js';

export async function analyzeCapture(
  openSource: () => Promise<ByteSource>,
  topo: Topology | undefined,
  o: AnalyzerOptions & { onProgress?: (pass: 1 | 2, position: number, size: number) => void; budgetBytes?: number; forceTwoPasses?: boolean },
): Promise<ReportData> {
  const budget = o.budgetBytes ? { budgetBytes: o.budgetBytes } : {};
  if (!o.forceTwoPasses) {
    const issues = new IssueLog();
    const src = await openSource();
    const reader = await openEtl(src, issues);
    const builder = new SummaryBuilder();
    const a = new Analyzer(topo, o);
    try {
      const stats = await decodePackets(openSource, builder.components, {
        ...budget, single: { reader, summary: builder, issues, abortOnPktmon: true },
        ...(o.onProgress ? { onProgress: (_p: 1 | 2, pos: number, size: number) => o.onProgress!(2, pos, size) } : {}),
      }, () => {}, (p, i) => a.add(p, i));
      return a.finish(builder.finish(reader, src, issues, stats.recordProblems), stats, builder.components.components);
    } catch (e) {
      if (e !== PKTMON_SEEN) throw e;
    }
  }
  const progress = o.onProgress ? { onProgress: o.onProgress } : {};
  const { summary, components } = await summarizeEtl(openSource, progress);
  const a = new Analyzer(topo, o);
  const stats = await decodePackets(openSource, components, { ...progress, ...budget }, () => {}, (p, i) => a.add(p, i));
  return a.finish(summary, stats, components.components);
}

/** Decodes a capture (both passes) and feeds every packet to the Analyzer. */
import type { ByteSource } from '../etl/byte-source.js';
import { decodePackets, summarizeEtl } from '../providers/capture-decoder.js';
import type { Topology } from '../topology/topology.js';
import { Analyzer, type AnalyzerOptions } from './analyzer.js';
import type { ReportData } from './report-data.js';

export async function analyzeCapture(
  openSource: () => Promise<ByteSource>,
  topo: Topology | undefined,
  o: AnalyzerOptions & { onProgress?: (pass: 1 | 2, position: number, size: number) => void; budgetBytes?: number },
): Promise<ReportData> {
  const progress = o.onProgress ? { onProgress: o.onProgress } : {};
  const { summary, components } = await summarizeEtl(openSource, progress);
  const a = new Analyzer(topo, o);
  const stats = await decodePackets(openSource, components, { ...progress, ...(o.budgetBytes ? { budgetBytes: o.budgetBytes } : {}) }, () => {}, (p, i) => a.add(p, i));
  return a.finish(summary, stats, components.components);
}

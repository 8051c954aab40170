/**
 * A run folder turned into what users read: capture.etl (with snapshot.json) decoded once into
 * capture.pcapng, the analysis, and report.txt/.html/.json. The capture itself (session control,
 * capture/) knows nothing of decoding: captureRun hands it this step.
 */
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SnapshotLabels, TargetLabels } from '../analysis/labels.js';
import { openAnalysis } from '../analysis/analysis-thread.js';
import { openFileSource } from '../etl/file-source.js';
import { PcapngConsumer } from '../pcapng/etl-to-pcapng.js';
import { openFileSink } from '../pcapng/file-sink.js';
import { decodeCapture } from '../providers/decode-capture.js';
import { loadHtmlAssets } from '../report/assets.js';
import { renderHtml } from '../report/html.js';
import { renderText } from '../report/text.js';
import { loadTopology } from '../topology/snapshot-file.js';
import type { Topology } from '../topology/topology.js';
import type { RunFolderFinished } from '../capture/lifecycle.js';
import type { CaptureFilters } from '../util/filters.js';
import type { Target } from '../topology/target.js';

export interface FinishOptions {
  application: string;
  /** The capture's filters, shown in the report. */
  filters?: CaptureFilters;
  /** Also write the target's packets alone to target.pcapng (sniff); kept: how many were. */
  only?: { target: Target; kept?: number };
}

/** The run's snapshot as a topology; without one (or with a damaged one, said in warnings) the report has no compartments. */
async function topologyOf(runDir: string, warnings: string[]): Promise<Topology | undefined> {
  const path = join(runDir, 'snapshot.json');
  if (!(await stat(path).then(() => true, () => false))) return undefined;
  try {
    return await loadTopology(path);
  } catch (e) {
    warnings.push(`${(e as Error).message}: the report has no compartments`);
    return undefined;
  }
}

/** Decodes runDir/capture.etl once into the pcapng and the report; a failure is a warning, the ETL stays. */
export async function finishRunFolder(runDir: string, o: FinishOptions): Promise<RunFolderFinished> {
  const etl = join(runDir, 'capture.etl');
  const size = await stat(etl).then((s) => s.size, () => 0);
  if (size === 0) return { haveEtl: false, files: {}, warnings: [] };
  const files: Record<string, string> = { etl: 'capture.etl' };
  const warnings: string[] = [];
  // Closed on a failure too: no handle left open (on Windows, no file left locked), no thread left running.
  const opened: Array<{ close(): Promise<void> }> = [];
  try {
    const sink = await openFileSink(join(runDir, 'capture.pcapng'));
    opened.push(sink);
    const topo = await topologyOf(runDir, warnings);
    const labels = topo ? new SnapshotLabels(topo) : undefined;
    const pcapng = new PcapngConsumer(sink, o.application, labels);
    const analysis = openAnalysis(topo, { application: o.application, ...(o.filters ? { filters: o.filters } : {}) }, { thread: 'auto', captureBytes: size });
    opened.push(analysis);
    let fileOpens = 0;
    // The target's labels read the attribution the whole capture's labels made: its consumer comes after theirs.
    const only = o.only && labels ? new TargetLabels(labels, o.only.target) : undefined;
    const targetSink = only ? await openFileSink(join(runDir, 'target.pcapng')) : undefined;
    if (targetSink) opened.push(targetSink);
    const targetPcapng = only && targetSink ? new PcapngConsumer(targetSink, o.application, only) : undefined;
    if (o.only && !topo) warnings.push(`no snapshot: the packets of ${o.only.target.label} cannot be told apart`);
    const decoded = await decodeCapture(() => { fileOpens++; return openFileSource(etl); }, [pcapng, analysis, ...(targetPcapng ? [targetPcapng] : [])]);
    await pcapng.finish();
    await sink.close();
    if (targetPcapng && o.only) {
      await targetPcapng.finish();
      await targetSink!.close();
      o.only.kept = only!.packets;
      files['target'] = 'target.pcapng';
    }
    files['pcapng'] = 'capture.pcapng';
    const report = await analysis.report(decoded);
    await analysis.close();
    await writeFile(join(runDir, 'report.txt'), renderText(report, { color: false, top: 20 }));
    await writeFile(join(runDir, 'report.html'), renderHtml(report, loadHtmlAssets()));
    await writeFile(join(runDir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
    Object.assign(files, { report: 'report.txt', html: 'report.html', json: 'report.json' });
    return { haveEtl: true, files, packets: decoded.stats.packets, decode: { passes: decoded.passes, fileOpens }, warnings };
  } catch (e) {
    for (const s of opened) await s.close().catch(() => undefined);
    return { haveEtl: true, files, warnings: [...warnings, `decoding the capture failed: ${(e as Error).message}`] };
  }
}

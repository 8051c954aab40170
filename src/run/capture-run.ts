/** A capture on one host, then its run folder finished: what the CLI, the fleet and the agent run. */
import { runCapture, type CaptureContext, type CaptureResult } from '../capture/lifecycle.js';
import type { CaptureOptions } from '../capture/options.js';
import { finishRunFolder, type FinishOptions } from './finish.js';

/** extra: more for the finish (sniff: the target's packets alone). */
export function captureRun(o: CaptureOptions, ctx: Omit<CaptureContext, 'finish'>, extra: Pick<FinishOptions, 'only'> = {}): Promise<CaptureResult> {
  return runCapture(o, { ...ctx, finish: (dir, f) => finishRunFolder(dir, { ...f, ...extra }) });
}

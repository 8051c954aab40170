/** A capture on one host, then its run folder finished: what the CLI, the fleet and the agent run. */
import { runCapture, type CaptureContext, type CaptureResult } from '../capture/lifecycle.js';
import type { CaptureOptions } from '../capture/options.js';
import { finishRunFolder } from './finish.js';

export function captureRun(o: CaptureOptions, ctx: Omit<CaptureContext, 'finish'>): Promise<CaptureResult> {
  return runCapture(o, { ...ctx, finish: finishRunFolder });
}

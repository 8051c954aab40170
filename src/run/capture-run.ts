/** A capture on one host, then its run folder finished: what the CLI, the fleet and the agent run. */
import { runCapture, type CaptureContext, type CaptureResult } from '../capture/lifecycle.js';
import type { CaptureOptions } from '../capture/options.js';
import { finishRunFolder, type FinishOptions } from './finish.js';
import { startFollow, type FollowCounts, type FollowRequest } from './follow.js';

export interface CaptureRunExtra extends Pick<FinishOptions, 'only'> {
  /** Follow mode: the packets streamed while the session runs (run/follow.ts); counts are filled in. */
  follow?: FollowRequest & { counts?: FollowCounts };
}

/** extra: more for the finish (sniff: the target's packets alone) and the stream (follow mode). */
export function captureRun(o: CaptureOptions, ctx: Omit<CaptureContext, 'finish' | 'follow'>, extra: CaptureRunExtra = {}): Promise<CaptureResult> {
  const { follow, ...finish } = extra;
  return runCapture(o, {
    ...ctx,
    finish: (dir, f) => finishRunFolder(dir, { ...f, ...finish }),
    ...(follow ? {
      follow: (dir: string, etl: string) => {
        const live = startFollow(dir, etl, follow);
        follow.counts = live.counts;
        return live;
      },
    } : {}),
  });
}

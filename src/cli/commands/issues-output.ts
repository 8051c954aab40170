/** Prints decode issues (damage, lost events) to the log: a summary line per kind plus samples. */
import type { EtlSummary } from '../../providers/capture-decoder.js';
import type { CliContext } from '../context.js';

export function reportIssues(summary: EtlSummary, ctx: CliContext): void {
  const { counts, samples } = summary.issues;
  const shown = new Map<string, number>();
  for (const s of samples) {
    const n = shown.get(s.kind) ?? 0;
    if (n >= 3) continue;
    shown.set(s.kind, n + 1);
    if (s.severity === 'warning') ctx.logger.warn(s.message);
    else ctx.logger.info(s.message);
  }
  for (const [kind, n] of Object.entries(counts)) {
    const k = shown.get(kind) ?? 0;
    if (n > k) ctx.logger.warn(`... and ${n - k} more ${kind} issues`);
  }
}

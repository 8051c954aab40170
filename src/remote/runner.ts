/** What runs a step on a host: the local PowerShell (local-runner.ts) or the simulated host (sim/). */
import type { Step } from '../powershell/script.js';

export interface StepError {
  message: string;
  id?: string;
  category?: string;
  hresult?: number;
}

export interface StepResult {
  ok: boolean;
  result: Record<string, unknown>;
  error?: StepError;
}

export interface PsRunner {
  readonly host: string;
  readonly simulated: boolean;
  /** Runs one step. Rejects with RemoteError when PowerShell itself fails (died, timed out, no JSON). */
  run(step: Step, opts?: { timeoutMs?: number }): Promise<StepResult>;
  dispose(): Promise<void>;
}

/** Parses the envelope a step prints. */
export function parseEnvelope(text: string): StepResult | undefined {
  const t = text.trim();
  const start = t.lastIndexOf('\n{') >= 0 ? t.lastIndexOf('\n{') + 1 : t.indexOf('{');
  if (start < 0) return undefined;
  try {
    const v = JSON.parse(t.slice(start)) as { ok?: unknown; result?: unknown; error?: unknown };
    if (typeof v.ok !== 'boolean') return undefined;
    return {
      ok: v.ok,
      result: typeof v.result === 'object' && v.result !== null ? (v.result as Record<string, unknown>) : {},
      ...(typeof v.error === 'object' && v.error !== null ? { error: v.error as StepError } : {}),
    };
  } catch {
    return undefined;
  }
}

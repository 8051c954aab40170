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
  /** Optional commands this host lacks (Statement.optional). */
  absent?: string[];
  /** What PowerShell printed, for the log when a result does not match its schema. */
  raw?: string;
}

export interface PsRunner {
  readonly host: string;
  readonly simulated: boolean;
  /** Runs one step. Rejects with RemoteError when PowerShell itself fails (died, timed out, no JSON). */
  run(step: Step, opts?: { timeoutMs?: number }): Promise<StepResult>;
  dispose(): Promise<void>;
}

/** .NET on a Unix console may write terminal mode sequences (ESC [ ? 1 h) around the output. */
export function stripTerminalSequences(text: string): string {
  return text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
}

/** Output lines that are not a JSON envelope (what ssh and PowerShell printed besides it), terminal sequences removed. */
export function strayLines(raw: string): string[] {
  return stripTerminalSequences(raw).split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('{'));
}

/** Parses the envelope a step prints (the last JSON object line of its output). */
export function parseEnvelope(text: string): StepResult | undefined {
  const t = stripTerminalSequences(text).trim();
  const start = t.lastIndexOf('\n{') >= 0 ? t.lastIndexOf('\n{') + 1 : t.indexOf('{');
  if (start < 0) return undefined;
  try {
    const v = JSON.parse(t.slice(start)) as { ok?: unknown; result?: unknown; error?: unknown; absent?: unknown };
    if (typeof v.ok !== 'boolean') return undefined;
    const absent = Array.isArray(v.absent) ? v.absent.filter((x): x is string => typeof x === 'string') : typeof v.absent === 'string' ? [v.absent] : [];
    return {
      ok: v.ok,
      result: typeof v.result === 'object' && v.result !== null ? (v.result as Record<string, unknown>) : {},
      ...(typeof v.error === 'object' && v.error !== null ? { error: v.error as StepError } : {}),
      absent,
      raw: text,
    };
  } catch {
    return undefined;
  }
}

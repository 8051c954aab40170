/**
 * A command with its parameters and literal argument values, as the simulated host reads a typed
 * step (sim/step-commands.ts) and as the tests read rendered text back with the PowerShell grammar
 * (test/helpers/ps-parse.ts): one model for both.
 */
export type ArgValue =
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'bool'; value: boolean }
  | { kind: 'array'; items: ArgValue[] }
  | { kind: 'word'; value: string }
  | { kind: 'raw'; text: string };

export interface ParsedParam {
  name: string;
  /** undefined for a switch. */
  value: ArgValue | undefined;
}

export interface ParsedCommand {
  /** Cmdlet name, or the program for `& 'program' args`. */
  name: string;
  native: boolean;
  params: ParsedParam[];
  /** Positional arguments (natives: all of them). */
  args: ArgValue[];
  text: string;
}

export function argText(v: ArgValue | undefined): string | undefined {
  if (!v) return undefined;
  if (v.kind === 'string' || v.kind === 'word') return v.value;
  if (v.kind === 'number') return String(v.value);
  if (v.kind === 'bool') return String(v.value);
  return undefined;
}

export function argList(v: ArgValue | undefined): ArgValue[] {
  if (!v) return [];
  return v.kind === 'array' ? v.items : [v];
}

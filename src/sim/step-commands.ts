/**
 * The simulated host reads the typed step (not its rendered text): each statement becomes the
 * commands and literal values it would run. The text itself is held to PowerShell elsewhere: the
 * real-PowerShell suite (test-pwsh/) runs it in pwsh against fake Windows hosts, and the tests
 * check it against the grammar, the cmdlet schema and the Windows PowerShell 5.1 rules.
 */
import type { ArgValue, ParsedCommand } from '../powershell/parsed.js';
import { PsRaw, type PsValue } from '../powershell/quote.js';
import { NativeCall, PsCommand, type Statement, type Step } from '../powershell/script.js';

export interface SimStatement {
  resultKey?: string;
  variable?: string;
  expression?: string;
  commands: ParsedCommand[];
  /** Errors are ignored (SilentlyContinue for cmdlets, no exit-code check for natives). */
  tolerate: boolean;
  /** Runs only where the command exists (Statement.optional). */
  optional: boolean;
}

function argOf(v: PsValue): ArgValue {
  if (v instanceof PsRaw) return { kind: 'raw', text: v.text };
  if (typeof v === 'string') return { kind: 'string', value: v };
  if (typeof v === 'number') return { kind: 'number', value: v };
  if (typeof v === 'bigint') return { kind: 'number', value: Number(v) };
  if (typeof v === 'boolean') return { kind: 'bool', value: v };
  return { kind: 'array', items: v.map(argOf) };
}

function commandOf(c: PsCommand | NativeCall): ParsedCommand {
  if (c instanceof NativeCall) return { name: c.program, native: true, params: [], args: c.args.map((a) => argOf(a)), text: c.render() };
  const params = c.params.map((p) => ({ name: p.name, value: p.explicit !== undefined ? argOf(p.explicit) : p.value === undefined ? undefined : argOf(p.value) }));
  return { name: c.name, native: false, params, args: [], text: c.render() };
}

function statementOf(s: Statement): SimStatement {
  return {
    ...(s.resultKey !== undefined ? { resultKey: s.resultKey } : {}),
    ...(s.assign !== undefined ? { variable: s.assign.replace(/^global:/, '') } : {}),
    ...(s.expression !== undefined ? { expression: s.expression } : {}),
    commands: s.stages.map(commandOf),
    tolerate: s.tolerateErrors === true,
    optional: s.optional === true,
  };
}

export function stepStatements(step: Step): SimStatement[] {
  return step.statements.map(statementOf);
}

/**
 * The one quoting function. Every value that reaches PowerShell goes through renderValue():
 * strings become single-quoted literals with every single-quote character doubled (' and
 * U+2018..U+201B, which PowerShell also treats as quotes); no other character is special inside
 * them ($, `, ;, |, newlines and --% are inert). NUL cannot appear in a literal, so a string with
 * NUL becomes one parenthesized concatenation of literals and [char]0. Numbers must be finite;
 * booleans are $true/$false; arrays @(...). Parameter names must be identifiers.
 */
export type PsValue = string | number | bigint | boolean | PsRaw | readonly PsValue[];

/** Trusted PowerShell text written by wnvcap itself (never user input). */
export class PsRaw {
  constructor(readonly text: string) {}
}

export function raw(text: string): PsRaw {
  return new PsRaw(text);
}

const QUOTES = /['\u2018\u2019\u201a\u201b]/g;

export function quoteString(s: string): string {
  if (s.includes('\0')) {
    const parts = s.split('\0').map((p) => `'${p.replace(QUOTES, (q) => q + q)}'`);
    return `(${parts.join(' + [char]0 + ')})`;
  }
  return `'${s.replace(QUOTES, (q) => q + q)}'`;
}

export class PsValueError extends Error {
  override readonly name = 'PsValueError';
}

export function renderValue(v: PsValue): string {
  if (v instanceof PsRaw) return v.text;
  if (typeof v === 'string') return quoteString(v);
  if (typeof v === 'boolean') return v ? '$true' : '$false';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new PsValueError(`not a finite number: ${v}`);
    return String(v);
  }
  if (Array.isArray(v)) return `@(${v.map((x) => renderValue(x as PsValue)).join(', ')})`;
  throw new PsValueError(`cannot render ${typeof v}`);
}

const IDENT = /^[A-Za-z][A-Za-z0-9]*$/;

export function checkParamName(name: string): string {
  if (!IDENT.test(name)) throw new PsValueError(`invalid parameter name: ${JSON.stringify(name)}`);
  return name;
}

const CMDLET = /^[A-Za-z]+-[A-Za-z0-9]+$/;

export function checkCommandName(name: string): string {
  if (!CMDLET.test(name)) throw new PsValueError(`invalid command name: ${JSON.stringify(name)}`);
  return name;
}

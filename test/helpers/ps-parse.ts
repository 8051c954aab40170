/**
 * Reads PowerShell text back with the tree-sitter PowerShell grammar: syntax errors, and every
 * command with its parameters and literal argument values. The tests check each generated script
 * with it against the cmdlet schema and the Windows PowerShell 5.1 rules; wnvcap itself never
 * parses PowerShell (the simulated host runs the typed steps), so the grammar is a dev dependency.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

type Node = {
  type: string;
  text: string;
  namedChildren: Node[];
  children: Node[];
  hasError: boolean;
  isMissing: boolean;
  startIndex: number;
};

import type { ArgValue, ParsedCommand, ParsedParam } from '../../src/powershell/parsed.js';

export type { ArgValue, ParsedCommand, ParsedParam };

export interface ParsedScript {
  hasError: boolean;
  errors: string[];
  commands: ParsedCommand[];
}

interface TreeSitterParser {
  setLanguage(l: unknown): void;
  parse(text: string): { rootNode: Node };
}

let parser: TreeSitterParser | undefined;

function getParser(): TreeSitterParser {
  if (parser) return parser;
  const req = createRequire(import.meta.url);
  let Parser: new () => TreeSitterParser;
  try {
    Parser = req('tree-sitter') as new () => TreeSitterParser;
  } catch (e) {
    throw new Error(`the PowerShell grammar (tree-sitter) is not available here (${(e as Error).message.split('\n')[0]}); the simulated host and script checks need wnvcap installed from npm, not the single executable`, { cause: e });
  }
  const p = new Parser();
  // The grammar package is an ES module with top-level await; load its prebuilt binding directly.
  const grammarDir = dirname(req.resolve('tree-sitter-powershell/package.json'));
  const gyp = createRequire(join(grammarDir, 'package.json'))('node-gyp-build') as (dir: string) => unknown;
  p.setLanguage(gyp(grammarDir));
  parser = p;
  return p;
}

function unquote(lit: string): string {
  return lit.slice(1, -1).replace(/(['\u2018\u2019\u201a\u201b])\1/g, '$1');
}

/** Evaluates a literal argument expression (what our quoting produces). */
export function evaluate(n: Node): ArgValue {
  switch (n.type) {
    case 'array_literal_expression': {
      const items = n.namedChildren.map(evaluate);
      return items.length === 1 ? items[0]! : { kind: 'array', items };
    }
    case 'unary_expression':
    case 'pipeline':
    case 'pipeline_chain':
    case 'logical_expression':
    case 'bitwise_expression':
    case 'comparison_expression':
    case 'additive_expression':
    case 'multiplicative_expression':
    case 'format_expression':
    case 'range_expression': {
      if (n.namedChildren.length === 1) return evaluate(n.namedChildren[0]!);
      if (n.type === 'additive_expression') return concat(n);
      return { kind: 'raw', text: n.text };
    }
    case 'string_literal': {
      const t = n.text;
      if (t.startsWith("'") || /^[\u2018-\u201b]/.test(t)) return { kind: 'string', value: unquote(t) };
      return { kind: 'raw', text: t };
    }
    case 'integer_literal': {
      const t = n.text.toLowerCase();
      return { kind: 'number', value: t.startsWith('0x') ? parseInt(t, 16) : Number(t) };
    }
    case 'real_literal':
      return { kind: 'number', value: Number(n.text) };
    case 'variable': {
      const t = n.text.toLowerCase();
      if (t === '$true' || t === '$false') return { kind: 'bool', value: t === '$true' };
      return { kind: 'raw', text: n.text };
    }
    case 'array_expression': {
      const list = n.namedChildren.find((c) => c.type === 'statement_list');
      if (!list) return { kind: 'array', items: [] };
      const v = list.namedChildren.length === 1 ? evaluate(list.namedChildren[0]!) : { kind: 'raw' as const, text: n.text };
      return v.kind === 'array' ? v : v.kind === 'raw' ? v : { kind: 'array', items: [v] };
    }
    case 'parenthesized_expression': {
      const inner = n.namedChildren[0];
      return inner ? evaluate(inner) : { kind: 'raw', text: n.text };
    }
    case 'generic_token':
      return { kind: 'word', value: n.text };
    default:
      return { kind: 'raw', text: n.text };
  }
}

/** 'a' + [char]0 + 'b' (how NUL is written) -> one string. */
function concat(n: Node): ArgValue {
  let out = '';
  const parts = n.namedChildren;
  for (const p of parts) {
    const t = p.text.trim();
    if (/^\[char\]0$/i.test(t)) {
      out += '\0';
      continue;
    }
    const v = evaluate(p);
    if (v.kind !== 'string') return { kind: 'raw', text: n.text };
    out += v.value;
  }
  return { kind: 'string', value: out };
}

function readCommand(n: Node): ParsedCommand {
  const nameNode = n.namedChildren.find((c) => c.type === 'command_name' || c.type === 'command_name_expr');
  const native = nameNode?.type === 'command_name_expr';
  let name = nameNode?.text ?? '';
  if (native && nameNode) {
    const v = evaluate(nameNode.namedChildren[0] ?? nameNode);
    name = v.kind === 'string' ? v.value : nameNode.text;
  }
  const elems = n.namedChildren.find((c) => c.type === 'command_elements')?.namedChildren.filter((c) => c.type !== 'command_argument_sep' && c.type !== 'redirection') ?? [];
  const params: ParsedParam[] = [];
  const args: ArgValue[] = [];
  for (let i = 0; i < elems.length; i++) {
    const e = elems[i]!;
    if (e.type === 'command_parameter' && !native) {
      const m = /^-([A-Za-z][A-Za-z0-9]*)(?::(.*))?$/s.exec(e.text);
      const pname = m?.[1] ?? e.text.replace(/^-/, '');
      if (m?.[2] !== undefined) {
        params.push({ name: pname, value: m[2] === '$true' || m[2] === '$false' ? { kind: 'bool', value: m[2] === '$true' } : { kind: 'raw', text: m[2] } });
        continue;
      }
      const next = elems[i + 1];
      if (next && next.type !== 'command_parameter') {
        params.push({ name: pname, value: evaluate(next) });
        i++;
      } else params.push({ name: pname, value: undefined });
    } else args.push(evaluate(e));
  }
  return { name, native, params, args, text: n.text };
}

function collectCommands(n: Node, out: ParsedCommand[]): void {
  // `& { ... }` runs a script block (the native-call wrapper): its commands are collected inside it.
  if (n.type === 'command') {
    const c = readCommand(n);
    if (!(c.native && c.name.startsWith('{'))) out.push(c);
  }
  for (const c of n.namedChildren) collectCommands(c, out);
}

function collectErrors(n: Node, out: string[]): void {
  if (n.type === 'ERROR' || n.isMissing) out.push(`${n.isMissing ? 'missing' : 'syntax error'} at ${n.startIndex}: ${JSON.stringify(n.text.slice(0, 60))}`);
  for (const c of n.children) if (c.hasError || c.isMissing || c.type === 'ERROR') collectErrors(c, out);
}

/**
 * The syntax tree of a script, for checks that need more than the commands (the Windows
 * PowerShell 5.1 rules in the tests). Its node type is tree-sitter's; callers describe the part
 * they read.
 */
export function parsePowerShellTree(text: string): unknown {
  return getParser().parse(text).rootNode;
}

export function parsePowerShell(text: string): ParsedScript {
  const root = getParser().parse(text).rootNode;
  const errors: string[] = [];
  if (root.hasError) collectErrors(root, errors);
  const commands: ParsedCommand[] = [];
  collectCommands(root, commands);
  return { hasError: root.hasError || errors.length > 0, errors, commands };
}

export { argList, argText } from '../../src/powershell/parsed.js';

/**
 * Windows PowerShell 5.1 rules for the scripts wnvcap generates, checked statically on the
 * tree-sitter PowerShell parse tree (nobody here can run 5.1). Each rule R1..R9 is one function
 * below and one paragraph of docs/powershell-5.1.md, which says why the rule exists and cites the
 * source. Scripts embedded as `[scriptblock]::Create('<literal>')` (remote steps) are checked too,
 * with their lines counted in the outer script.
 *
 *   checkPs51(renderStep(step), { proven: ['New-NetEventSession', ...] })
 *     -> [{ rule: 'R1', line: 12, text: "& 'pktmon.exe' 'status'", message: '...', embedded: false }]
 */
import { evaluate, parsePowerShellTree } from './ps-parse.js';

export const PS51_RULES = {
  R1: 'native call: inside & { $ErrorActionPreference = \'Continue\'; ... } and with 2>&1',
  R2: 'Invoke-Command output stored: re-create strings with ForEach-Object { -join ([string]$_).ToCharArray() }',
  R3: 'no PowerShell 7-only syntax, parameters or automatic variables',
  R4: 'ConvertTo-Json: explicit -Depth and -InputObject, never pipeline input',
  R5: 'Select-Object: enum properties as [string], dates as .ToString(\'o\')',
  R6: 'no file redirection; Out-File/Set-Content/Add-Content with -Encoding',
  R7: 'optional command: guarded by if (Get-Command -Name ... -ErrorAction Ignore) or proven by the preflight',
  R8: 'Start-Sleep only with an integer -Seconds or -Milliseconds',
  R9: "$ErrorActionPreference = 'Stop' set by the script itself",
  R10: 'no ::new() (PowerShell 5.0+; Server 2012 R2 ships 4.0): New-Object or operators instead',
} as const;
export type Ps51Rule = keyof typeof PS51_RULES;

export interface Ps51Violation {
  rule: Ps51Rule;
  /** 1-based line in the text given to checkPs51 (embedded scripts: the line in the outer text). */
  line: number;
  /** The offending text (first line, shortened). */
  text: string;
  message: string;
  /** Found inside a `[scriptblock]::Create('...')` literal (a script that runs on a remote host). */
  embedded: boolean;
}

export interface Ps51Options {
  /** Optional commands that this step may call unguarded: the preflight proved they exist (R7). */
  proven?: readonly string[];
}

// ---------------------------------------------------------------------------------------------
// Parse tree access. ps-parse.ts keeps its tree-sitter parser private (and flattens the tree), so
// the parser is loaded here the same way; src/ stays untouched.

interface TsNode {
  type: string;
  text: string;
  isNamed: boolean;
  isMissing: boolean;
  hasError: boolean;
  children: TsNode[];
  namedChildren: TsNode[];
  parent: TsNode | null;
  startIndex: number;
  endIndex: number;
  startPosition: { row: number; column: number };
}

/** The tree of test/helpers/ps-parse.ts's own parser (one grammar loader in the project). */
function parseTree(text: string): TsNode {
  return parsePowerShellTree(text) as TsNode;
}

function* descendants(n: TsNode): Generator<TsNode> {
  for (const c of n.children) {
    yield c;
    yield* descendants(c);
  }
}

function ancestors(n: TsNode): TsNode[] {
  const out: TsNode[] = [];
  for (let p = n.parent; p; p = p.parent) out.push(p);
  return out;
}

function isInside(n: TsNode, outer: TsNode): boolean {
  return n.startIndex >= outer.startIndex && n.endIndex <= outer.endIndex;
}

/** node-tree-sitter hands out a new object on every access: compare nodes by their span. */
function sameNode(a: TsNode, b: TsNode): boolean {
  return a.type === b.type && a.startIndex === b.startIndex && a.endIndex === b.endIndex;
}

function shorten(text: string): string {
  const first = text.trim().split(/\r?\n/)[0] ?? '';
  return first.length > 160 ? `${first.slice(0, 157)}...` : first;
}

/** The value of a string literal without expansion ('...' or "..." with no $ or backtick), else undefined. */
function literalString(n: TsNode | undefined): string | undefined {
  if (!n) return undefined;
  const v = evaluate(n);
  if (v.kind === 'string' || v.kind === 'word') return v.value;
  const t = n.text.trim();
  if (/^"[^"$`]*"$/.test(t)) return t.slice(1, -1);
  return undefined;
}

/** Strips the single-child expression wrappers tree-sitter puts around every operand. */
function unwrap(n: TsNode): TsNode {
  let cur = n;
  while (cur.namedChildren.length === 1 && cur.children.length === 1 && !cur.type.endsWith('literal') && cur.type !== 'variable') cur = cur.namedChildren[0]!;
  return cur;
}

// ---------------------------------------------------------------------------------------------
// Commands: name, parameters (by name, with their value node), positional arguments, redirections.

interface CommandView {
  node: TsNode;
  /** Cmdlet name, or the program of `& 'program' ...` ('' for `& { ... }`). */
  name: string;
  params: Map<string, { node: TsNode; value: TsNode | undefined }>;
  args: TsNode[];
  redirections: TsNode[];
  /** Position in its pipeline: 0 is the first stage (no pipeline input). */
  stage: number;
}

function commandNameOf(cmd: TsNode): string {
  const nameNode = cmd.namedChildren.find((c) => c.type === 'command_name' || c.type === 'command_name_expr');
  if (!nameNode) return '';
  if (nameNode.type === 'command_name') return nameNode.text;
  const inner = nameNode.namedChildren[0];
  return inner && inner.type !== 'script_block_expression' ? (literalString(inner) ?? nameNode.text) : '';
}

function readCommand(cmd: TsNode): CommandView {
  const elements = cmd.namedChildren.find((c) => c.type === 'command_elements')?.children ?? [];
  const params: CommandView['params'] = new Map();
  const args: TsNode[] = [];
  const redirections: TsNode[] = [];
  let pending: { name: string; node: TsNode; colon: boolean } | undefined;
  const settle = (value: TsNode | undefined): void => {
    if (pending) params.set(pending.name.toLowerCase(), { node: pending.node, value });
    pending = undefined;
  };
  for (const e of elements) {
    if (e.type === 'command_argument_sep') {
      if (pending && e.text.includes(':')) pending.colon = true; // -Confirm:$false
      continue;
    }
    if (e.type === 'redirection') {
      redirections.push(e);
      continue;
    }
    if (e.type === 'command_parameter') {
      settle(undefined);
      const m = /^-([^:]+)(:?)$/.exec(e.text);
      pending = { name: m?.[1] ?? e.text.replace(/^-/, ''), node: e, colon: m?.[2] === ':' };
      continue;
    }
    // The grammar reads `2>$null` (no space) as a word: it is a redirection all the same.
    if (e.type === 'generic_token' && /^(\*|[1-6])?>>?(?!&)/.test(e.text)) {
      redirections.push(e);
      continue;
    }
    if (pending) settle(e);
    else args.push(e);
  }
  settle(undefined);
  return { node: cmd, name: commandNameOf(cmd), params, args, redirections, stage: stageOf(cmd) };
}

/** Stages of a pipeline_chain: its named children that are not separators. */
function stagesOf(chain: TsNode): TsNode[] {
  return chain.namedChildren.filter((c) => c.type !== 'comment');
}

function stageOf(cmd: TsNode): number {
  return cmd.parent?.type === 'pipeline_chain' ? stagesOf(cmd.parent).findIndex((s) => sameNode(s, cmd)) : 0;
}

function param(c: CommandView, ...names: string[]): { node: TsNode; value: TsNode | undefined } | undefined {
  for (const n of names) {
    const p = c.params.get(n.toLowerCase());
    if (p) return p;
  }
  return undefined;
}

const is = (c: CommandView, ...names: string[]): boolean => names.some((n) => n.toLowerCase() === c.name.toLowerCase());

/** The body of a `{ ... }` argument, whitespace removed (for comparing with the expected form). */
function blockBody(n: TsNode | undefined): string | undefined {
  if (!n) return undefined;
  const u = unwrap(n);
  if (u.type !== 'script_block_expression') return undefined;
  return u.text.slice(1, -1).replace(/\s+/g, '');
}

/** The statements of a script block or statement list, without empty statements and comments. */
function statementsOf(list: TsNode | undefined): TsNode[] {
  return list?.namedChildren.filter((c) => c.type !== 'empty_statement' && c.type !== 'comment') ?? [];
}

/** `$ErrorActionPreference = '<value>'` as one statement (a pipeline holding the assignment). */
function isPreferenceAssignment(stmt: TsNode | undefined, value: string): boolean {
  const a = stmt?.type === 'pipeline' ? stmt.namedChildren.find((c) => c.type === 'assignment_expression') : undefined;
  if (!a) return false;
  const left = a.namedChildren.find((c) => c.type === 'left_assignment_expression');
  const op = a.namedChildren.find((c) => c.type === 'assignement_operator');
  const right = a.namedChildren.find((c) => c.type === 'pipeline');
  return /^\$ErrorActionPreference$/i.test(left?.text.trim() ?? '') && op?.text === '=' && literalString(right)?.toLowerCase() === value.toLowerCase();
}

// ---------------------------------------------------------------------------------------------
// The check.

interface Ctx {
  root: TsNode;
  text: string;
  /** Row in the outer text where this (embedded) script starts. */
  rowOffset: number;
  embedded: boolean;
  proven: Set<string>;
  commands: CommandView[];
  out: Ps51Violation[];
}

function report(ctx: Ctx, rule: Ps51Rule, node: TsNode, message: string): void {
  ctx.out.push({ rule, line: ctx.rowOffset + node.startPosition.row + 1, text: shorten(node.text), message, embedded: ctx.embedded });
}

/** Every violation of R1..R9 in one rendered script (empty when it follows all of them). */
export function checkPs51(scriptText: string, opts: Ps51Options = {}): Ps51Violation[] {
  const out: Ps51Violation[] = [];
  checkText(scriptText, 0, false, new Set((opts.proven ?? []).map((p) => p.toLowerCase())), out);
  return out.sort((a, b) => a.line - b.line || a.rule.localeCompare(b.rule));
}

function checkText(text: string, rowOffset: number, embedded: boolean, proven: Set<string>, out: Ps51Violation[]): void {
  const root = parseTree(text);
  const commands = [...descendants(root)].filter((n) => n.type === 'command').map(readCommand);
  const ctx: Ctx = { root, text, rowOffset, embedded, proven, commands, out };
  const rules = [
    checkNativeCalls, checkInvokeCommandOutput, checkPs7Syntax, checkConvertToJson, checkEnumsAndDates, checkEncoding, checkOptionalCommands, checkStartSleep,
    checkErrorPreference, checkStaticNew,
  ];
  for (const rule of rules) rule(ctx);
  for (const e of embeddedScripts(root)) checkText(e.text, rowOffset + e.row, true, proven, out);
}

/** `[scriptblock]::Create('<literal>')`: the script a remote step sends (remote-steps.ts); `.AddScript('<literal>')`: a controller job (session-pool.ts). */
function embeddedScripts(root: TsNode): Array<{ text: string; row: number }> {
  const found: Array<{ text: string; row: number }> = [];
  for (const n of descendants(root)) {
    if (n.type !== 'invokation_expression') continue;
    const [type, member] = [n.namedChildren.find((c) => c.type === 'type_literal'), n.namedChildren.find((c) => c.type === 'member_name')];
    const create = /^\[(System\.Management\.Automation\.)?scriptblock\]$/i.test(type?.text ?? '') && /^create$/i.test(member?.text ?? '');
    if (!create && !/^addscript$/i.test(member?.text ?? '')) continue;
    const argList = n.namedChildren.find((c) => c.type === 'argument_list');
    const lit = argList ? [...descendants(argList)].find((c) => c.type === 'string_literal') : undefined;
    const value = literalString(lit);
    if (lit && value !== undefined) found.push({ text: value, row: lit.startPosition.row });
  }
  return found;
}

// R10 ------------------------------------------------------------------------------------------
// The intrinsic static `new` member arrived in PowerShell 5.0; a stock Server 2012 R2 has 4.0
// (docs/powershell-5.1.md, "Other differences").

function checkStaticNew(ctx: Ctx): void {
  for (const n of descendants(ctx.root)) {
    if (n.type !== 'invokation_expression') continue;
    const member = n.namedChildren.find((c) => c.type === 'member_name');
    if (/^new$/i.test(member?.text ?? '') && n.text.includes('::')) report(ctx, 'R10', n, `${n.text.split('(')[0]}::new() needs PowerShell 5.0: use New-Object`);
  }
}

// R1 -------------------------------------------------------------------------------------------
// 5.1 turns the first stderr line of a redirected native command into a terminating error under
// $ErrorActionPreference = 'Stop'; unredirected stderr reaches the host's stderr (docs/powershell-5.1.md §1).

function checkNativeCalls(ctx: Ctx): void {
  for (const c of ctx.commands) {
    if (!/\.exe$/i.test(c.name)) continue;
    if (!c.redirections.some((r) => r.text.trim() === '2>&1')) report(ctx, 'R1', c.node, `${c.name}: stderr must be merged with 2>&1 (else it reaches the host's stderr)`);
    if (!inContinueBlock(c.node)) report(ctx, 'R1', c.node, `${c.name}: must run inside & { $ErrorActionPreference = 'Continue'; ... } (5.1 makes redirected stderr terminating under 'Stop')`);
  }
}

/** The nearest enclosing script block is invoked with & and starts with $ErrorActionPreference = 'Continue'. */
function inContinueBlock(n: TsNode): boolean {
  const block = ancestors(n).find((a) => a.type === 'script_block');
  const expr = block?.parent;
  const nameExpr = expr?.parent;
  const invoker = nameExpr?.parent;
  // & (not .): a child scope, so the 'Continue' does not leak into the rest of the script.
  const called = expr?.type === 'script_block_expression' && nameExpr?.type === 'command_name_expr' && invoker?.type === 'command'
    && invoker.namedChildren.some((c) => c.type === 'command_invokation_operator' && c.text === '&');
  const list = block?.namedChildren.find((c) => c.type === 'script_block_body')?.namedChildren.find((c) => c.type === 'statement_list');
  return called && isPreferenceAssignment(statementsOf(list)[0], 'Continue');
}

// R2 -------------------------------------------------------------------------------------------
// Strings returned by Invoke-Command carry PSComputerName/RunspaceId/PSShowComputerName, which
// 5.1's ConvertTo-Json writes as {"value":...} objects (§2).

const RECREATE = '-join ([string]$_).ToCharArray()'.replace(/\s+/g, '').toLowerCase();

function isRecreateStage(stage: TsNode): boolean {
  if (stage.type !== 'command') return false;
  const c = readCommand(stage);
  if (!is(c, 'ForEach-Object')) return false;
  const block = param(c, 'Process')?.value ?? c.args[0];
  return blockBody(block)?.toLowerCase() === RECREATE;
}

interface OutputUse {
  use: 'stored' | 'discarded' | 'emitted';
  recreated: boolean;
}

/**
 * Follows a command's output up the tree: through pipelines (a later `| Out-Null` discards it, a
 * later re-create stage fixes it), @(...), $(...), (...), if/try bodies and `& { }` blocks, to an
 * assignment (stored; `$null = ` discards) or to the script's output (emitted). An argument of
 * another command counts as stored: its value goes on to that command.
 */
function followOutput(cmd: TsNode): OutputUse {
  let recreated = false;
  let n = cmd;
  for (let p = n.parent; p; n = p, p = p.parent) {
    if (p.type === 'pipeline_chain') {
      const stages = stagesOf(p);
      const later = stages.slice(stages.findIndex((s) => isInside(n, s)) + 1);
      const last = later[later.length - 1];
      if (last?.type === 'command' && is(readCommand(last), 'Out-Null')) return { use: 'discarded', recreated };
      if (last && isRecreateStage(last)) recreated = true;
    } else if (p.type === 'assignment_expression') {
      const left = p.namedChildren.find((c) => c.type === 'left_assignment_expression');
      return { use: /^\$null$/i.test(left?.text.trim() ?? '') ? 'discarded' : 'stored', recreated };
    } else if (p.type === 'command_elements') {
      return { use: 'stored', recreated };
    } else if (p.type === 'script_block') {
      const invoker = p.parent?.parent?.parent;
      // Only `& { ... }` passes its output on; a block given as an argument belongs to that command.
      if (p.parent?.parent?.type !== 'command_name_expr' || !invoker) return { use: 'stored', recreated };
      p = invoker;
    } else if (p.type === 'program') {
      return { use: 'emitted', recreated };
    }
  }
  return { use: 'emitted', recreated };
}

function checkInvokeCommandOutput(ctx: Ctx): void {
  for (const c of ctx.commands) {
    if (!is(c, 'Invoke-Command', 'icm')) continue;
    const o = followOutput(c.node);
    if (o.use === 'stored' && !o.recreated) report(ctx, 'R2', c.node, 'Invoke-Command output is stored without the stage ForEach-Object { -join ([string]$_).ToCharArray() }');
    if (o.use === 'emitted') report(ctx, 'R2', c.node, 'Invoke-Command output is neither stored nor discarded (| Out-Null or $null = ...): it reaches the step\'s stdout');
  }
}

// R3 -------------------------------------------------------------------------------------------
// Syntax, parameters and variables that Windows PowerShell 5.1 does not have (§8).

/** Parameters added after 5.1, per cmdlet ('*': any command). */
const PS7_PARAMS: Record<string, readonly string[]> = {
  'foreach-object': ['Parallel', 'ThrottleLimit', 'TimeoutSeconds', 'AsJob', 'UseNewRunspace'],
  'start-sleep': ['Duration'],
  'convertfrom-json': ['AsHashtable', 'Depth', 'NoEnumerate', 'DateKind'],
  'convertto-json': ['AsArray', 'EnumsAsStrings', 'EscapeHandling'],
  'get-content': ['AsByteStream'],
  'set-content': ['AsByteStream'],
  'add-content': ['AsByteStream'],
  // SSH remoting (PowerShell 6+); steps that use it are marked requiresPs7.
  'new-pssession': ['HostName', 'UserName', 'KeyFilePath', 'SSHTransport', 'SSHConnection', 'Subsystem', 'Options', 'ConnectingTimeout'],
  'invoke-command': ['HostName', 'UserName', 'KeyFilePath', 'SSHTransport', 'SSHConnection', 'Subsystem', 'Options', 'ConnectingTimeout', 'RemoteDebug'],
  '*': ['SkipCertificateCheck'],
};

const PS7_VARIABLES = /^\$(\{)?(IsWindows|IsLinux|IsMacOS|IsCoreCLR)\}?$/i;

function checkPs7Syntax(ctx: Ctx): void {
  for (const n of descendants(ctx.root)) {
    if (n.type === 'pipeline_chain_tail') report(ctx, 'R3', n.parent ?? n, `pipeline chain operator ${n.text.trim() || '&&/||'} (PowerShell 7)`);
    if (n.type === 'variable' && PS7_VARIABLES.test(n.text)) report(ctx, 'R3', n, `${n.text} does not exist in 5.1 (it is $null there)`);
    if (n.type === 'string_literal' && /^@?"/.test(n.text) && /`u\{/.test(n.text)) report(ctx, 'R3', n, '`u{...} escape (PowerShell 6+; 5.1 reads it as the letter u)');
    if (n.type === 'ERROR' && n.parent?.type !== 'ERROR') reportSyntaxError(ctx, n);
  }
  for (const c of ctx.commands) {
    if (is(c, 'clean') && c.args.length === 1 && unwrap(c.args[0]!).type === 'script_block_expression') report(ctx, 'R3', c.node, 'clean { } block (PowerShell 7.3)');
    const banned = [...(PS7_PARAMS[c.name.toLowerCase()] ?? []), ...PS7_PARAMS['*']!];
    for (const [given, p] of c.params) {
      const hit = banned.find((b) => b.toLowerCase().startsWith(given));
      if (hit) report(ctx, 'R3', p.node, `${c.name} -${hit} exists only in PowerShell 6/7`);
    }
  }
}

/** Names the 7-only construct behind a parse error (the 5.1-era grammar has none of them). */
function reportSyntaxError(ctx: Ctx, err: TsNode): void {
  const found = new Set<string>();
  for (const leaf of [err, ...descendants(err)]) {
    if (leaf.children.length > 0 && leaf.type !== 'ERROR') continue;
    const rest = ctx.text.slice(leaf.startIndex).trimStart();
    if (rest.startsWith('??=')) found.add('??= (null-coalescing assignment, PowerShell 7)');
    else if (rest.startsWith('??')) found.add('?? (null-coalescing operator, PowerShell 7)');
    else if (rest.startsWith('?.') || rest.startsWith('?[')) found.add(`${rest.slice(0, 2)} (null-conditional access, PowerShell 7.1)`);
    else if (rest.startsWith('?')) found.add('? : (ternary operator, PowerShell 7)');
    else if (leaf.text === '&' && leaf.parent?.type === 'ERROR' && /^&\s*(\r?\n|$)/.test(rest)) found.add('trailing & (background job operator, PowerShell 6)');
    else if (/^clean\s*\{/i.test(rest) && leaf.type === 'simple_name') found.add('clean { } block (PowerShell 7.3)');
  }
  if (found.size === 0) found.add('does not parse (a syntax error, or syntax 5.1 does not have)');
  for (const f of found) report(ctx, 'R3', err, f);
}

// R4 -------------------------------------------------------------------------------------------
// 5.1's ConvertTo-Json truncates silently at the default -Depth 2 and unwraps a single pipeline
// object, and writes nothing for none (§3, §6).

function checkConvertToJson(ctx: Ctx): void {
  for (const c of ctx.commands) {
    if (!is(c, 'ConvertTo-Json')) continue;
    if (!param(c, 'Depth')?.value) report(ctx, 'R4', c.node, 'ConvertTo-Json without an explicit -Depth (default 2, truncated silently in 5.1)');
    if (!param(c, 'InputObject')?.value) report(ctx, 'R4', c.node, 'ConvertTo-Json without -InputObject (one piped object is unwrapped, none writes nothing)');
    if (c.stage > 0) report(ctx, 'R4', c.node, 'ConvertTo-Json receives pipeline input');
  }
}

// R5 -------------------------------------------------------------------------------------------
// Enums serialize as numbers and DateTime as "\/Date(ms)\/" (+ ETS members) in 5.1 (§4, §5).

const ENUM_PROPERTIES = ['AddressFamily', 'AddressState', 'ConnectionState', 'CompartmentType', 'SessionStatus', 'CaptureMode', 'CaptureType', 'SwitchType', 'State', 'LogonType', 'RunLevel', 'MultipleInstances', 'Status', 'Dhcp', 'PrefixOrigin', 'SuffixOrigin'];
const DATE_PROPERTIES = ['LastRunTime', 'NextRunTime', 'StartTime', 'CreationTime', 'LastWriteTime'];

type PropertyItem = { kind: 'name'; name: string; node: TsNode } | { kind: 'calculated'; name: string | undefined; body: string | undefined; node: TsNode };

/** The items of a -Property value: names and @{n=...;e={...}} hashtables, however the list is written. */
function propertyItems(n: TsNode, out: PropertyItem[] = []): PropertyItem[] {
  if (n.type === 'hash_literal_expression') out.push(calculatedProperty(n));
  else if (n.type === 'string_literal') out.push({ kind: 'name', name: literalString(n) ?? n.text, node: n });
  else if (n.type === 'generic_token') for (const name of n.text.split(',').filter(Boolean)) out.push({ kind: 'name', name, node: n });
  else if (n.type !== 'script_block_expression') for (const c of n.namedChildren) propertyItems(c, out);
  return out;
}

function calculatedProperty(hash: TsNode): PropertyItem {
  let name: string | undefined;
  let expression: string | undefined;
  const body = hash.namedChildren.find((c) => c.type === 'hash_literal_body');
  for (const entry of body?.namedChildren.filter((c) => c.type === 'hash_entry') ?? []) {
    const key = (entry.namedChildren.find((c) => c.type === 'key_expression')?.text ?? '').toLowerCase();
    const value = entry.namedChildren.find((c) => c.type === 'pipeline');
    // Select-Object accepts any prefix of Name/Label/Expression as the key.
    if (key && ('name'.startsWith(key) || 'label'.startsWith(key))) name = literalString(value);
    else if (key && 'expression'.startsWith(key) && value) expression = blockBody(value);
  }
  return { kind: 'calculated', name, body: expression, node: hash };
}

function checkEnumsAndDates(ctx: Ctx): void {
  for (const c of ctx.commands) {
    if (!is(c, 'Select-Object', 'select')) continue;
    const list = param(c, 'Property')?.value ?? c.args[0];
    if (!list) continue;
    const chain = c.node.parent?.type === 'pipeline_chain' ? stagesOf(c.node.parent) : [];
    const source = chain[0]?.type === 'command' ? commandNameOf(chain[0]) : '';
    const enums = /^Get-NetIPAddress$/i.test(source) ? [...ENUM_PROPERTIES, 'Type'] : ENUM_PROPERTIES;
    for (const item of propertyItems(list)) checkPropertyItem(ctx, item, enums);
  }
}

function checkPropertyItem(ctx: Ctx, item: PropertyItem, enums: readonly string[]): void {
  const name = item.name ?? '';
  const isEnum = enums.some((e) => e.toLowerCase() === name.toLowerCase());
  const isDate = DATE_PROPERTIES.some((d) => d.toLowerCase() === name.toLowerCase());
  if (!isEnum && !isDate) return;
  const how = isDate ? ".ToString('o')" : '[string]';
  if (item.kind === 'name') {
    report(ctx, 'R5', item.node, `property ${name} selected as is: use @{n='${name}';e={${isDate ? `$_.${name}.ToString('o')` : `[string]$_.${name}`}}}`);
    return;
  }
  const body = item.body ?? '';
  const ok = isDate ? /\.ToString\('o'\)/i.test(body) : /^\[string\]/i.test(body);
  if (!ok) report(ctx, 'R5', item.node, `calculated property ${name} must convert with ${how}`);
}

// R6 -------------------------------------------------------------------------------------------
// 5.1 writes UTF-16LE with > / Out-File and ANSI with Set-Content (§7).

const NEEDS_ENCODING = ['Out-File', 'Set-Content', 'Add-Content', 'sc', 'ac'];

function checkEncoding(ctx: Ctx): void {
  for (const c of ctx.commands) {
    for (const r of c.redirections) {
      const target = r.type === 'redirection' ? (r.namedChildren.find((x) => x.type === 'redirected_file_name')?.text.trim() ?? '') : r.text.replace(/^(\*|[1-6])?>>?/, '');
      const toFile = r.type !== 'redirection' || r.namedChildren.some((x) => x.type === 'file_redirection_operator');
      if (toFile && !/^\$null$/i.test(target)) report(ctx, 'R6', r, `file redirection ${shorten(r.text)} (UTF-16LE in 5.1): use Set-Content/Out-File with -Encoding`);
    }
    if (NEEDS_ENCODING.some((n) => is(c, n)) && !param(c, 'Encoding')) report(ctx, 'R6', c.node, `${c.name} without -Encoding (5.1 default: ${is(c, 'Out-File') ? 'UTF-16LE' : 'ANSI'})`);
    // Tee-Object has -Encoding only from 7.2 (PR 12135): in 5.1 its file is always UTF-16LE.
    if (is(c, 'Tee-Object') && (param(c, 'FilePath', 'LiteralPath', 'Path') || (c.args.length > 0 && !param(c, 'Variable')))) report(ctx, 'R6', c.node, 'Tee-Object to a file (UTF-16LE in 5.1, no -Encoding there)');
  }
}

// R7 -------------------------------------------------------------------------------------------
// A missing command is a CommandNotFoundException that -ErrorAction cannot suppress (§9).

const OPTIONAL_COMMANDS = ['docker.exe', 'pktmon.exe', 'Get-HnsNetwork', 'Get-HnsEndpoint', 'Get-HnsNamespace', 'Get-VMNetworkAdapter', 'Get-VMSwitch', 'Add-NetEventVmSwitchProvider', 'Add-NetEventVFPProvider', 'Get-EtwTraceSession', 'Update-EtwTraceSession'];
/** Every cmdlet of the NetEventPacketCapture module (windows-capture.md 1.1) has the NetEvent noun prefix. */
const NETEVENT_CMDLET = /^(Add|Get|Set|Remove|New|Start|Stop)-NetEvent[A-Za-z]+$/i;

export function isOptionalCommand(name: string): boolean {
  return NETEVENT_CMDLET.test(name) || OPTIONAL_COMMANDS.some((o) => o.toLowerCase() === name.toLowerCase());
}

function checkOptionalCommands(ctx: Ctx): void {
  for (const c of ctx.commands) {
    if (!isOptionalCommand(c.name) || ctx.proven.has(c.name.toLowerCase())) continue;
    if (!guarded(c.node, c.name)) report(ctx, 'R7', c.node, `${c.name} may be absent: wrap it in if (Get-Command -Name '${c.name}' -ErrorAction Ignore) { ... }`);
  }
}

/** Inside the then-block of `if (Get-Command -Name '<name>' -ErrorAction Ignore)`. */
function guarded(n: TsNode, name: string): boolean {
  return ancestors(n).some((a) => {
    if (a.type !== 'if_statement') return false;
    const thenBlock = a.namedChildren.find((c) => c.type === 'statement_block');
    const cond = a.namedChildren.find((c) => c.type === 'pipeline');
    if (!thenBlock || !cond || !isInside(n, thenBlock)) return false;
    const cmds = [...descendants(cond)].filter((d) => d.type === 'command').map(readCommand);
    const probe = cmds[0];
    return cmds.length === 1 && !!probe && is(probe, 'Get-Command')
      && literalString(param(probe, 'Name')?.value)?.toLowerCase() === name.toLowerCase()
      && literalString(param(probe, 'ErrorAction')?.value)?.toLowerCase() === 'ignore';
  });
}

// R8 -------------------------------------------------------------------------------------------
// 5.1's Start-Sleep has Int32 -Seconds/-Milliseconds only: 1.5 silently becomes 2 (§8).

function checkStartSleep(ctx: Ctx): void {
  for (const c of ctx.commands) {
    if (!is(c, 'Start-Sleep', 'sleep')) continue;
    const names = [...c.params.keys()];
    const value = param(c, 'Seconds', 'Milliseconds')?.value;
    const ok = names.length === 1 && ['seconds', 'milliseconds'].includes(names[0]!) && c.args.length === 0 && value && /^\d+$/.test(value.text.trim());
    if (!ok) report(ctx, 'R8', c.node, 'Start-Sleep must be -Seconds <integer> or -Milliseconds <integer>');
  }
}

// R9 -------------------------------------------------------------------------------------------
// The caller's preference does not carry into a script sent on stdin (issue 21808, §10).

function checkErrorPreference(ctx: Ctx): void {
  const top = statementsOf(ctx.root.namedChildren.find((c) => c.type === 'statement_list'));
  for (const s of top) {
    if (isPreferenceAssignment(s, 'Stop')) return;
    if (s.type === 'command' || [...descendants(s)].some((d) => d.type === 'command')) {
      report(ctx, 'R9', s, "a command runs before $ErrorActionPreference = 'Stop' is set");
      return;
    }
  }
  report(ctx, 'R9', ctx.root, "$ErrorActionPreference = 'Stop' is not set at the top of the script");
}

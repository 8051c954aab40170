/**
 * Typed PowerShell scripts: commands with named parameters, switches and pipelines, assembled into
 * statements and rendered to text. Nothing here runs anything (remote/ and sim/ do).
 *
 *   cmd('New-NetEventSession').param('Name', name).param('MaxFileSize', 512)
 *   pipeline(cmd('Get-NetAdapter').flag('IncludeHidden'), cmd('Select-Object').param('Property', [...]))
 */
import { checkCommandName, checkParamName, renderValue, type PsValue } from './quote.js';

export interface PsParam {
  name: string;
  /** undefined for a switch. */
  value: PsValue | undefined;
  /** A switch with an explicit value (-Name:$false). */
  explicit?: boolean;
}

export class PsCommand {
  readonly params: PsParam[] = [];
  constructor(readonly name: string) {
    checkCommandName(name);
  }
  param(name: string, value: PsValue | undefined): this {
    if (value === undefined) return this;
    this.params.push({ name: checkParamName(name), value });
    return this;
  }
  flag(name: string, on = true): this {
    if (on) this.params.push({ name: checkParamName(name), value: undefined });
    return this;
  }
  /** A switch given an explicit value: -Name:$true / -Name:$false (e.g. -Confirm:$false). */
  switchValue(name: string, on: boolean): this {
    this.params.push({ name: checkParamName(name), value: undefined, explicit: on });
    return this;
  }
  render(): string {
    return [this.name, ...this.params.map((p) => (p.explicit !== undefined ? `-${p.name}:${p.explicit ? '$true' : '$false'}` : p.value === undefined ? `-${p.name}` : `-${p.name} ${renderValue(p.value)}`))].join(' ');
  }
}

export function cmd(name: string): PsCommand {
  return new PsCommand(name);
}

/** An external program call: `& 'pktmon.exe' 'start' '--capture' ...` (every argument quoted). */
export class NativeCall {
  constructor(readonly program: string, readonly args: readonly string[]) {}
  render(): string {
    return `& ${renderValue(this.program)} ${this.args.map((a) => renderValue(a)).join(' ')}`.trimEnd();
  }
}

export type PsStage = PsCommand;

export interface Statement {
  /** Store the pipeline's output under this key of the step result ($r['key'] = @(...)). */
  resultKey?: string;
  stages: readonly (PsCommand | NativeCall)[];
  /** Ignore this statement's errors (-ErrorAction SilentlyContinue on cmdlets / no check on exit code). */
  tolerateErrors?: boolean;
  comment?: string | undefined;
  /** A trusted expression written by wnvcap, for statements without commands ($r['k'] = @(expr)). */
  expression?: string;
  /** Assign the pipeline's output to this variable ($name = ...), e.g. a remoting session. */
  assign?: string;
}

/** One step: statements run in order inside the envelope; the first error that is not tolerated ends it. */
export interface Step {
  name: string;
  description: string;
  statements: Statement[];
  /** Uses PowerShell 7-only parameters (SSH remoting): never sent to Windows PowerShell 5.1. */
  requiresPs7?: boolean;
}

export function stmt(stages: PsCommand | NativeCall | readonly (PsCommand | NativeCall)[], opts: Omit<Statement, 'stages'> = {}): Statement {
  return { stages: Array.isArray(stages) ? stages : [stages as PsCommand | NativeCall], ...opts };
}

function renderStatement(s: Statement): string {
  const stages = s.stages.map((st, i) => {
    if (st instanceof PsCommand && i === 0 && s.tolerateErrors && !st.params.some((p) => p.name === 'ErrorAction')) {
      return `${st.render()} -ErrorAction SilentlyContinue`;
    }
    return st.render();
  });
  const body = s.stages.length === 0 && s.expression !== undefined ? s.expression : stages.join(' | ');
  const native = s.stages[0] instanceof NativeCall;
  const lines: string[] = [];
  if (s.comment) lines.push(`# ${s.comment.replace(/[\r\n]+/g, ' ')}`);
  if (s.assign !== undefined) {
    if (!/^(global:)?[A-Za-z][A-Za-z0-9]*$/.test(s.assign)) throw new Error(`invalid variable name ${s.assign}`);
    lines.push(`$${s.assign} = ${body}`);
  } else if (s.resultKey !== undefined) {
    lines.push(`$r[${renderValue(s.resultKey)}] = @(${body}${native ? ' 2>&1' : ''})`);
  } else lines.push(native ? `${body} 2>&1 | Out-Null` : body);
  if (native && !s.tolerateErrors) lines.push(`if ($LASTEXITCODE -ne 0) { throw ${renderValue(`${(s.stages[0] as NativeCall).program} exited with code `)} + $LASTEXITCODE }`);
  return lines.join('\n');
}

/**
 * Renders a step as a complete script: preferences, the statements inside try/catch, and one JSON
 * envelope on stdout: {"ok":true,"result":{...}} or {"ok":false,"error":{message,id,category,hresult}}.
 * Works on Windows PowerShell 5.1 and PowerShell 7 (no 7-only syntax or parameters).
 */
export function renderStep(step: Step): string {
  const body = step.statements.map(renderStatement).join('\n');
  return [
    `# wnvcap step: ${step.name.replace(/[\r\n]+/g, ' ')}`,
    "$ErrorActionPreference = 'Stop'",
    "$ProgressPreference = 'SilentlyContinue'",
    "$WarningPreference = 'SilentlyContinue'",
    '$r = [ordered]@{}',
    'try {',
    body, // not indented: a value may be a multi-line literal
    '$out = @{ ok = $true; result = $r }',
    '} catch {',
    '  $out = @{ ok = $false; error = @{ message = $_.Exception.Message; id = $_.FullyQualifiedErrorId; category = $_.CategoryInfo.Category.ToString(); hresult = $_.Exception.HResult } }',
    '}',
    'ConvertTo-Json -InputObject $out -Depth 8 -Compress',
  ].join('\n');
}

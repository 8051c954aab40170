/**
 * Typed PowerShell scripts: commands with named parameters, switches and pipelines, assembled into
 * statements and rendered to text. Nothing here runs anything (remote/ and sim/ do).
 *
 *   cmd('New-NetEventSession').param('Name', name).param('MaxFileSize', 512)
 *   pipeline(cmd('Get-NetAdapter').flag('IncludeHidden'), cmd('Select-Object').param('Property', [...]))
 */
import { checkCommandName, checkParamName, PsRaw, renderValue, type PsValue } from './quote.js';

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

/** An external program call: `& 'pktmon.exe' 'start' '--capture' ...` (every argument quoted; a PsRaw argument is a variable written by wnvcap). */
export class NativeCall {
  constructor(readonly program: string, readonly args: readonly (string | PsRaw)[]) {}
  render(): string {
    return `& ${renderValue(this.program)} ${this.args.map((a) => renderValue(a)).join(' ')}`.trimEnd();
  }
}

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
  /**
   * The command may be absent on some hosts (docker.exe on containerd nodes, the HNS module, the
   * Hyper-V module, pktmon before 1809): run the statement only when Get-Command finds it, else
   * add its name to the envelope's `absent` list. A missing command is terminating
   * (CommandNotFoundException) and -ErrorAction never binds, so a probe is the only safe way.
   */
  optional?: boolean;
}

/** One step: statements run in order inside the envelope; the first error that is not tolerated ends it. */
export interface Step {
  name: string;
  description: string;
  statements: Statement[];
  /** Uses PowerShell 7-only parameters (SSH remoting): never sent to Windows PowerShell 5.1. */
  requiresPs7?: boolean;
  /** How long the step may take before PowerShell is stopped (default: the runner's, 2 minutes). */
  timeoutMs?: number;
  /** Only reads: running it again is harmless (a remote runner repeats it once when its controller was lost). */
  repeatable?: boolean;
}

export function stmt(stages: PsCommand | NativeCall | readonly (PsCommand | NativeCall)[], opts: Omit<Statement, 'stages'> = {}): Statement {
  return { stages: Array.isArray(stages) ? stages : [stages as PsCommand | NativeCall], ...opts };
}

/** The envelope key that holds a tolerated statement's terminating error. */
export function errorKey(key: string): string {
  return `${key}#error`;
}

/** The envelope key that holds a native statement's exit code. */
export function exitCodeKey(resultKey: string): string {
  return `${resultKey}#exitCode`;
}

/**
 * A native program runs inside a child scope with ErrorActionPreference Continue and its stderr
 * merged into its output: under 'Stop', Windows PowerShell 5.1 turns the first stderr line of a
 * redirected native command into a terminating NativeCommandError (PowerShell issue 4002), and
 * stderr that is not redirected reaches the host's stderr (node-powershell then reports failure).
 * Each output line (stderr lines arrive as ErrorRecords) becomes a plain string.
 */
function renderNative(n: NativeCall): string {
  return `& { $ErrorActionPreference = 'Continue'; ${n.render()} 2>&1 } | ForEach-Object { [string]$_ }`;
}

/**
 * Strings from Invoke-Command carry PSComputerName notes that 5.1's ConvertTo-Json writes as
 * {"value":...}: re-create each as a new string instance (docs/powershell-5.1.md §2; -join over its
 * characters, not ::new, which PowerShell 4.0 on a stock Server 2012 R2 lacks).
 */
export const RECREATE_STRINGS = 'ForEach-Object { -join ([string]$_).ToCharArray() }';

function renderPipeline(s: Statement): string {
  if (s.stages.length === 0) return s.expression ?? '$null';
  const first = s.stages[0]!;
  if (first instanceof NativeCall) return renderNative(first);
  const stages = s.stages.map((st, i) => {
    if (st instanceof PsCommand && i === 0 && s.tolerateErrors && !st.params.some((p) => p.name === 'ErrorAction')) {
      return `${st.render()} -ErrorAction SilentlyContinue`;
    }
    return st.render();
  });
  const invokes = s.stages.some((st) => st instanceof PsCommand && st.name === 'Invoke-Command');
  if (invokes && (s.resultKey !== undefined || s.assign !== undefined)) stages.push(RECREATE_STRINGS);
  return stages.join(' | ');
}

function optionalName(s: Statement): string | undefined {
  const first = s.stages[0];
  if (!s.optional || !first) return undefined;
  return first instanceof NativeCall ? first.program : first.name;
}

function renderStatement(s: Statement): string {
  const body = renderPipeline(s);
  const native = s.stages[0] instanceof NativeCall ? (s.stages[0] as NativeCall) : undefined;
  const lines: string[] = [];
  if (s.comment) lines.push(`# ${s.comment.replace(/[\r\n]+/g, ' ')}`);
  if (s.assign !== undefined) {
    if (!/^(global:)?[A-Za-z][A-Za-z0-9]*$/.test(s.assign)) throw new Error(`invalid variable name ${s.assign}`);
    lines.push(`$${s.assign} = ${body}`);
  } else if (s.resultKey !== undefined) lines.push(`$r[${renderValue(s.resultKey)}] = @(${body})`);
  else lines.push(native ? `$wnvcapOut = @(${body})` : `$null = ${body}`);
  if (native && s.resultKey !== undefined) lines.push(`$r[${renderValue(exitCodeKey(s.resultKey))}] = $LASTEXITCODE`);
  if (native && !s.tolerateErrors) {
    const out = s.resultKey !== undefined ? `$r[${renderValue(s.resultKey)}]` : '$wnvcapOut';
    lines.push(`if ($LASTEXITCODE -ne 0) { throw (${renderValue(`${native.program} exited with code `)} + $LASTEXITCODE + ': ' + (${out} -join ' ')) }`);
  }
  if (s.tolerateErrors) {
    // -ErrorAction does not reach a terminating error (a throw inside a module function, a
    // CIM failure): catch it here, record it, and let the step go on.
    const key = s.resultKey ?? s.assign ?? optionalName({ ...s, optional: true }) ?? 'statement';
    lines.unshift('try {');
    lines.push(`} catch { $r[${renderValue(errorKey(key))}] = $_.Exception.Message }`);
  }
  const name = optionalName(s);
  if (name === undefined) return lines.join('\n');
  return [`if (Get-Command -Name ${renderValue(name)} -ErrorAction Ignore) {`, ...lines, `} else { $absent.Add(${renderValue(name)}) }`].join('\n');
}

/**
 * Renders a step as a complete script: preferences, the statements inside try/catch, and one JSON
 * envelope on stdout: {"ok":true,"result":{...},"absent":[...]} or
 * {"ok":false,"error":{message,id,category,hresult},"absent":[...]}. Written for Windows
 * PowerShell 5.1 and PowerShell 7 alike (docs/powershell-5.1.md): no 7-only syntax or parameters.
 */
export function renderStep(step: Step): string {
  const body = step.statements.map(renderStatement).join('\n');
  return [
    `# wnvcap step: ${step.name.replace(/[\r\n]+/g, ' ')}`,
    "$ErrorActionPreference = 'Stop'",
    "$ProgressPreference = 'SilentlyContinue'",
    "$WarningPreference = 'SilentlyContinue'",
    '$r = [ordered]@{}',
    '$absent = New-Object System.Collections.Generic.List[string]',
    'try {',
    body, // not indented: a value may be a multi-line literal
    '$out = @{ ok = $true; result = $r; absent = @($absent) }',
    '} catch {',
    '  $out = @{ ok = $false; absent = @($absent); error = @{ message = $_.Exception.Message; id = $_.FullyQualifiedErrorId; category = $_.CategoryInfo.Category.ToString(); hresult = $_.Exception.HResult } }',
    '}',
    // Depth: HNS objects nest about 6 levels below the envelope's 3; 5.1 truncates silently.
    'ConvertTo-Json -InputObject $out -Depth 24 -Compress',
  ].join('\n');
}

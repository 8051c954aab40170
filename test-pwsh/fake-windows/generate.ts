/**
 * Generates the fake Windows PowerShell modules (test-pwsh/fake-windows/README.md): for each host
 * type, one folder per module (<Module>/<Module>.psd1 + .psm1) whose functions have the real
 * cmdlets' parameters, generated from ../shared/docs/cmdlet-reference.json (names, .NET types,
 * aliases, accepted values as ValidateSet) plus syntax.ts (parameter sets, mandatory, positions,
 * pipeline, from windows-capture.md) and test/helpers/ps-schema.ts MANDATORY. Every function's
 * body is one call into FakeWindows.Core (hand-written behaviour). Also: the fake native programs
 * each host type has (symlinks to bin/), and FakeWindows.Types.dll compiled from
 * FakeWindows.Core/FakeWindows.cs (the pwsh startup hook).
 *
 *   npx tsx test-pwsh/fake-windows/generate.ts [outDir]     (default: the cache dir, printed)
 *
 * The reference path is $WNVCAP_SHARED/docs/cmdlet-reference.json (default <repo>/../shared).
 * Output is cached under the OS temp dir, keyed by a hash of the reference and of these sources.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MANDATORY } from '../../test/helpers/ps-schema.js';
import { EXTRA_CMDLETS, parseSyntax, SYNTAX, type ParamInSet } from './syntax.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '..', '..');
const CORE = join(HERE, 'FakeWindows.Core', 'FakeWindows.Core.psm1');
const TYPES_CS = join(HERE, 'FakeWindows.Core', 'FakeWindows.cs');
const BIN = join(HERE, 'bin');

export type HostType = 'ws2022-docker' | 'aks-containerd' | 'hyperv' | 'ws2016' | 'ws2019-1809' | 'ws2025';
export const HOST_TYPES: readonly HostType[] = ['ws2022-docker', 'aks-containerd', 'hyperv', 'ws2016', 'ws2019-1809', 'ws2025'];

export type ModuleName = 'NetEventPacketCapture' | 'NetTCPIP' | 'NetAdapter' | 'Hyper-V' | 'HostNetworkingService' | 'ScheduledTasks' | 'CimCmdlets' | 'EventTracingManagement';
export type NativeName = 'pktmon.exe' | 'netsh.exe' | 'docker.exe' | 'crictl.exe';

export interface HostTypeSpec {
  /** The reference docset whose parameters this host's cmdlets have. */
  docset: 'winserver2016-ps' | 'winserver2019-ps' | 'winserver2022-ps' | 'winserver2025-ps';
  build: number;
  caption: string;
  modules: readonly ModuleName[];
  natives: readonly NativeName[];
  /** pktmon command syntax: '2004' (start --capture ...) or '1809' (start --etw ...). */
  pktmon?: '2004' | '1809';
}

const BASE: readonly ModuleName[] = ['NetEventPacketCapture', 'NetTCPIP', 'NetAdapter', 'ScheduledTasks', 'CimCmdlets', 'EventTracingManagement'];

/** What each host type has (README.md says why; [U] where windows-capture.md does not settle it). */
export const HOST_SPECS: Readonly<Record<HostType, HostTypeSpec>> = {
  'ws2022-docker': { docset: 'winserver2022-ps', build: 20348, caption: 'Microsoft Windows Server 2022 Datacenter', modules: [...BASE, 'Hyper-V', 'HostNetworkingService'], natives: ['pktmon.exe', 'netsh.exe', 'docker.exe'], pktmon: '2004' },
  // [U] an AKS node has no Hyper-V PowerShell module (the role may be there, the RSAT tools are not).
  'aks-containerd': { docset: 'winserver2022-ps', build: 20348, caption: 'Microsoft Windows Server 2022 Datacenter', modules: [...BASE, 'HostNetworkingService'], natives: ['pktmon.exe', 'netsh.exe', 'crictl.exe'], pktmon: '2004' },
  hyperv: { docset: 'winserver2022-ps', build: 20348, caption: 'Microsoft Windows Server 2022 Datacenter', modules: [...BASE, 'Hyper-V'], natives: ['pktmon.exe', 'netsh.exe'], pktmon: '2004' },
  ws2016: { docset: 'winserver2016-ps', build: 14393, caption: 'Microsoft Windows Server 2016 Datacenter', modules: [...BASE, 'Hyper-V'], natives: ['netsh.exe', 'docker.exe'] },
  'ws2019-1809': { docset: 'winserver2019-ps', build: 17763, caption: 'Microsoft Windows Server 2019 Datacenter', modules: [...BASE, 'Hyper-V'], natives: ['pktmon.exe', 'netsh.exe', 'docker.exe'], pktmon: '1809' },
  ws2025: { docset: 'winserver2025-ps', build: 26100, caption: 'Microsoft Windows Server 2025 Datacenter', modules: [...BASE, 'Hyper-V', 'HostNetworkingService'], natives: ['pktmon.exe', 'netsh.exe', 'docker.exe'], pktmon: '2004' },
};

interface RefParam {
  name: string;
  type: string;
  aliases: string[];
  accepted: string[] | null;
  sources: string[];
}
interface RefCmdlet {
  name: string;
  sources: string[];
  params: Record<string, RefParam>;
}
interface Reference {
  cmdlets: Record<string, RefCmdlet>;
}

/** The module GUID of NetEventPacketCapture is the real one (windows-capture.md 1.1); the others are made up. */
const MODULE_GUID: Partial<Record<ModuleName, string>> = { NetEventPacketCapture: '7e984f2f-35da-48a2-a3c1-40ce59930a7c' };

const FIXED_CMDLETS: Record<Exclude<ModuleName, 'NetEventPacketCapture'>, readonly string[]> = {
  NetTCPIP: ['Get-NetIPAddress', 'Get-NetIPInterface', 'Get-NetCompartment', 'Get-NetRoute'],
  NetAdapter: ['Get-NetAdapter'],
  'Hyper-V': ['Get-VMNetworkAdapter', 'Get-VMSwitch'],
  HostNetworkingService: ['Get-HnsNetwork', 'Get-HnsEndpoint', 'Get-HnsNamespace'],
  ScheduledTasks: ['New-ScheduledTaskAction', 'New-ScheduledTaskTrigger', 'New-ScheduledTaskPrincipal', 'New-ScheduledTaskSettingsSet', 'Register-ScheduledTask',
    'Unregister-ScheduledTask', 'Get-ScheduledTask', 'Get-ScheduledTaskInfo', 'Start-ScheduledTask', 'Stop-ScheduledTask'],
  CimCmdlets: ['Get-CimInstance'],
  // Get-/Update-EtwTraceSession are not in the reference: syntax.ts EXTRA_CMDLETS.
  EventTracingManagement: ['Get-EtwTraceSession', 'Update-EtwTraceSession'],
};

export function sharedDir(): string {
  return process.env['WNVCAP_SHARED'] ?? resolve(REPO, '..', 'shared');
}

export function referencePath(): string {
  return join(sharedDir(), 'docs', 'cmdlet-reference.json');
}

function loadReference(): Reference {
  const ref = JSON.parse(readFileSync(referencePath(), 'utf8')) as Reference;
  for (const [name, params] of Object.entries(EXTRA_CMDLETS)) {
    if (ref.cmdlets[name.toLowerCase()]) continue;
    const p: Record<string, RefParam> = {};
    for (const x of params) p[x.name.toLowerCase()] = { ...x, aliases: [], accepted: null, sources: ['windows-capture.md'] };
    ref.cmdlets[name.toLowerCase()] = { name, sources: ['windows-capture.md'], params: p };
  }
  return ref;
}

/** The cmdlets of a module on a host type: those the reference lists for its docset. */
export function moduleCmdlets(ref: Reference, module: ModuleName, docset: string): RefCmdlet[] {
  const names = module === 'NetEventPacketCapture'
    ? Object.values(ref.cmdlets).filter((c) => /^[A-Z][a-z]+-NetEvent/.test(c.name)).map((c) => c.name).sort()
    : FIXED_CMDLETS[module];
  return names.map((n) => ref.cmdlets[n.toLowerCase()]).filter((c): c is RefCmdlet => c !== undefined && availableIn(c.sources, docset));
}

/** Windows docsets filter by host type; PowerShell (ps5.1/ps7.4) and windows-capture.md entries are everywhere. */
function availableIn(sources: readonly string[], docset: string): boolean {
  return sources.includes(docset) || !sources.some((s) => s.startsWith('winserver'));
}

const TYPES: Record<string, string> = {
  string: 'string', char: 'char', byte: 'byte', sbyte: 'sbyte', int16: 'int16', uint16: 'uint16', int32: 'int', uint32: 'uint32', int64: 'long', uint64: 'uint64',
  boolean: 'bool', double: 'double', single: 'single', decimal: 'decimal', switchparameter: 'switch', timespan: 'timespan', datetime: 'datetime', guid: 'guid',
  uri: 'uri', pscredential: 'pscredential', securestring: 'securestring', hashtable: 'hashtable', scriptblock: 'scriptblock',
};

/**
 * The PowerShell type of a reference parameter. Enums with accepted values become strings with a
 * ValidateSet; CimInstance/CimSession (no CIM on Linux) and unknown types (VirtualMachine,
 * VMSnapshot, enums without accepted values) become [object].
 */
export function psType(p: RefParam): { type: string; validateSet?: string[] } {
  const array = p.type.endsWith('[]');
  const base = p.type.replace(/\[\]$/, '').split('.').pop()!.toLowerCase();
  if (p.accepted && p.accepted.length > 0) return { type: array ? 'string[]' : 'string', validateSet: p.accepted };
  const t = TYPES[base] ?? 'object';
  if (t === 'switch') return { type: 'switch' };
  return { type: array ? `${t}[]` : t };
}

const q = (s: string): string => `'${s.replace(/'/g, "''")}'`;
const SKIP = new Set(['confirm', 'whatif']); // CmdletBinding(SupportsShouldProcess) adds them

/** One advanced function with the real cmdlet's parameters, bound by real PowerShell. */
export function renderFunction(c: RefCmdlet, docset: string): string {
  const all = Object.values(c.params).filter((p) => p.type !== 'common');
  const params = all.filter((p) => !SKIP.has(p.name.toLowerCase()) && availableIn(p.sources, docset));
  const syntax = SYNTAX[c.name] ? parseSyntax(c.name, SYNTAX[c.name]!) : { defaultSet: undefined, params: new Map<string, ParamInSet[]>() };
  for (const name of syntax.params.keys()) {
    if (!all.some((p) => p.name === name)) throw new Error(`syntax.ts names ${c.name} -${name}, which the reference does not have`);
  }
  const defaultSet = syntax.defaultSet ?? '';
  for (const m of MANDATORY[c.name.toLowerCase()] ?? []) {
    const sets = syntax.params.get(m) ?? [];
    const inDefault = sets.find((s) => s.set === defaultSet || s.set === '');
    if (inDefault?.optional) continue;
    if (inDefault) inDefault.mandatory = true;
    else syntax.params.set(m, [...sets, { set: defaultSet, mandatory: true, pipeline: false }]);
  }
  const shouldProcess = all.some((p) => SKIP.has(p.name.toLowerCase()));
  const binding = ['PositionalBinding = $false'];
  if (syntax.defaultSet) binding.push(`DefaultParameterSetName = ${q(syntax.defaultSet)}`);
  if (shouldProcess) binding.push('SupportsShouldProcess = $true', `ConfirmImpact = ${q(SYNTAX[c.name]?.confirmImpact ?? 'Medium')}`);
  const blocks = params.map((p) => {
    const t = psType(p);
    const lines = (syntax.params.get(p.name) ?? [{ set: '', mandatory: false, pipeline: false }]).map((e) => {
      const args = [
        ...(e.set ? [`ParameterSetName = ${q(e.set)}`] : []),
        ...(e.mandatory ? ['Mandatory = $true'] : []),
        ...(e.position !== undefined && t.type !== 'switch' ? [`Position = ${e.position}`] : []),
        ...(e.pipeline ? ['ValueFromPipeline = $true'] : []),
      ];
      return `        [Parameter(${args.join(', ')})]`;
    });
    if (p.aliases.length) lines.push(`        [Alias(${p.aliases.map(q).join(', ')})]`);
    if (t.validateSet) lines.push(`        [ValidateSet(${t.validateSet.map(q).join(', ')})]`);
    lines.push(`        [${t.type}]$${p.name}`);
    return lines.join('\n');
  });
  return [
    `function ${c.name} {`,
    `    [CmdletBinding(${binding.join(', ')})]`,
    '    param(',
    blocks.join(',\n'),
    '    )',
    `    process { Invoke-FakeCommand -Command ${q(c.name)} -Bound $PSBoundParameters -Cmdlet $PSCmdlet }`,
    '}',
  ].join('\n');
}

function fakeGuid(name: string): string {
  const h = createHash('md5').update(`wnvcap-fake-windows/${name}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Writes <outDir>/<Module>/<Module>.psd1 and .psm1 for every module of the host type. */
export function writeModules(outDir: string, type: HostType, typesDll: string | undefined, ref: Reference = loadReference()): void {
  const spec = HOST_SPECS[type];
  for (const module of spec.modules) {
    const cmdlets = moduleCmdlets(ref, module, spec.docset);
    if (cmdlets.length === 0) continue;
    const dir = join(outDir, module);
    mkdirSync(dir, { recursive: true });
    const psm1 = [
      `# FAKE ${module} module for wnvcap's tests, host type ${type} (${spec.docset}).`,
      `# Generated by test-pwsh/fake-windows/generate.ts from ${referencePath()}: do not edit.`,
      '# Parameters are those of the real cmdlets; the behaviour is in FakeWindows.Core.',
      `Import-Module -Name ${q(CORE)} -ArgumentList ${q(typesDll ?? '')}`,
      '',
      ...cmdlets.map((c) => `${renderFunction(c, spec.docset)}\n`),
    ].join('\n');
    writeFileSync(join(dir, `${module}.psm1`), psm1);
    const psd1 = [
      '@{',
      `    RootModule = ${q(`${module}.psm1`)}`,
      "    ModuleVersion = '1.0.0.0'",
      `    GUID = ${q(MODULE_GUID[module] ?? fakeGuid(module))}`,
      "    Author = 'wnvcap test-pwsh/fake-windows (generated)'",
      `    Description = ${q(`FAKE ${module} for tests: the real cmdlets' parameters, simulated behaviour.`)}`,
      "    PowerShellVersion = '5.1'",
      "    CompatiblePSEditions = @('Desktop', 'Core')",
      `    FunctionsToExport = @(${cmdlets.map((c) => q(c.name)).join(', ')})`,
      '    CmdletsToExport = @()',
      '    AliasesToExport = @()',
      '    VariablesToExport = @()',
      '}',
      '',
    ].join('\n');
    writeFileSync(join(dir, `${module}.psd1`), psd1);
  }
}

/** pwsh to use: $WNVCAP_TEST_PWSH, else pwsh on PATH, else /opt/pwsh-tool/pwsh. */
export function findPwsh(): string | undefined {
  const env = process.env['WNVCAP_TEST_PWSH'];
  if (env && existsSync(env)) return env;
  for (const d of (process.env['PATH'] ?? '').split(delimiter)) {
    if (d && existsSync(join(d, 'pwsh'))) return join(d, 'pwsh');
  }
  return existsSync('/opt/pwsh-tool/pwsh') ? '/opt/pwsh-tool/pwsh' : undefined;
}

/** Compiles FakeWindows.cs into a library (also the .NET startup hook). */
function compileTypes(pwsh: string, dll: string): void {
  const cmd = `$ErrorActionPreference = 'Stop'; Add-Type -TypeDefinition ([IO.File]::ReadAllText(${q(TYPES_CS)})) -OutputAssembly ${q(dll)} -OutputType Library`;
  execFileSync(pwsh, ['-NoProfile', '-NonInteractive', '-Command', cmd], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, POWERSHELL_TELEMETRY_OPTOUT: '1', POWERSHELL_UPDATECHECK: 'Off' } });
}

export interface Generated {
  root: string;
  /** FakeWindows.Types.dll, when pwsh could compile it. */
  typesDll: string | undefined;
  modulesDir(type: HostType): string;
  binDir(type: HostType): string;
}

function sourcesHash(pwsh: string | undefined): string {
  const h = createHash('sha256');
  for (const f of [referencePath(), fileURLToPath(import.meta.url), join(HERE, 'syntax.ts'), TYPES_CS]) h.update(readFileSync(f));
  h.update(JSON.stringify(MANDATORY)).update(HERE).update(pwsh ?? '');
  return h.digest('hex').slice(0, 16);
}

function layout(root: string, typesDll: string | undefined): Generated {
  return { root, typesDll, modulesDir: (t) => join(root, t, 'Modules'), binDir: (t) => join(root, t, 'bin') };
}

/** Writes everything for every host type into outDir (which will be found at finalDir). */
export function generateAll(outDir: string, pwsh: string | undefined = findPwsh(), finalDir = outDir): Generated {
  mkdirSync(outDir, { recursive: true });
  const typesDll = pwsh ? join(outDir, 'FakeWindows.Types.dll') : undefined;
  if (pwsh) compileTypes(pwsh, typesDll!);
  const ref = loadReference();
  const g = layout(outDir, typesDll);
  for (const type of HOST_TYPES) {
    writeModules(g.modulesDir(type), type, typesDll && join(finalDir, 'FakeWindows.Types.dll'), ref);
    const bin = g.binDir(type);
    mkdirSync(bin, { recursive: true });
    for (const n of HOST_SPECS[type].natives) symlinkSync(join(BIN, n), join(bin, n));
  }
  return g;
}

const memo = new Map<string, Generated>();

/** Removes kits of other inputs not used for a week. */
function pruneStale(base: string, keep: string): void {
  const weekAgo = Date.now() - 7 * 86400 * 1000;
  for (const d of readdirSync(base)) {
    if (d === keep || d.includes('.')) continue;
    try {
      if (statSync(join(base, d)).mtimeMs < weekAgo) rmSync(join(base, d), { recursive: true, force: true });
    } catch {
      // removed meanwhile
    }
  }
}

/** The generated kit, from the cache (made once per inputs; safe when processes race). */
export function ensureGenerated(pwsh: string | undefined = findPwsh()): Generated {
  const key = sourcesHash(pwsh);
  const hit = memo.get(key);
  if (hit) return hit;
  const base = join(tmpdir(), 'wnvcap-fake-windows');
  const root = join(base, key);
  const dll = join(root, 'FakeWindows.Types.dll');
  if (!existsSync(join(root, 'complete'))) {
    const work = join(base, `${key}.${process.pid}.tmp`);
    rmSync(work, { recursive: true, force: true });
    generateAll(work, pwsh, root);
    writeFileSync(join(work, 'complete'), `${new Date().toISOString()}\n`);
    try {
      renameSync(work, root);
    } catch {
      rmSync(work, { recursive: true, force: true }); // another process won the race
    }
    pruneStale(base, key);
  }
  const g = layout(root, existsSync(dll) ? dll : undefined);
  try {
    const now = new Date();
    utimesSync(root, now, now); // in use: not stale
  } catch {
    // read-only cache: fine
  }
  memo.set(key, g);
  return g;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = process.argv[2];
  const g = out ? generateAll(resolve(out)) : ensureGenerated();
  console.log(g.root);
}

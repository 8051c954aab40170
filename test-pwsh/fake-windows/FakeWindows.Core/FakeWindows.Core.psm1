<#
FakeWindows.Core: what the fake Windows host does when one of its generated cmdlets runs
(windows-capture.md 1.2, 1.10, 2, 3, 4). The generated modules (generate.ts) only bind parameters,
exactly as the real ones would, and call Invoke-FakeCommand with the command name, the bound
parameters and their $PSCmdlet.

State lives in ONE JSON file named by $env:WNVCAP_FAKE_STATE (format: ../README.md), shared with
the fake native programs (../bin) and the TypeScript helper (../fake-host.ts): every call takes
the lock file "<state>.lock", reads, changes and writes the state (temp file + move) and releases
the lock, so a second pwsh process sees what the first one did. The Handle-<Cmdlet> functions
are in NetEventPacketCapture.ps1, Inventory.ps1 and ScheduledTasks.ps1 (dot-sourced below).

Each call: (1) is appended to state.executed and counted per command (state.counts), (2) an
injected fault for that command and count fires (error / die / hang), (3) -WhatIf/-Confirm are
honoured, (4) the command's Handle-<Command> function changes the state and produces objects and
error records, written after the state is saved. Errors are non-terminating, like CDXML cmdlets:
the caller's -ErrorAction / $ErrorActionPreference decides.

[U] marks behaviour windows-capture.md calls unverified: the most plausible choice.
#>
param([string]$TypesDll)

Set-StrictMode -Off
# No module-wide $ErrorActionPreference: it would decide for every caller (see Write-FakeErrors).

#region types ------------------------------------------------------------------------------------
if (-not ([AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetType('FakeWindows.FakeState', $false) })) {
    if ($TypesDll -and (Test-Path -LiteralPath $TypesDll)) { Add-Type -LiteralPath $TypesDll }
    else { Add-Type -TypeDefinition ([IO.File]::ReadAllText((Join-Path $PSScriptRoot 'FakeWindows.cs'))) }
}
$script:JsonDateKind = (Get-Command ConvertFrom-Json).Parameters.ContainsKey('DateKind')
$script:Inventory = @{}
$script:NS = 'root/StandardCimv2'
$script:TaskNS = 'Root/Microsoft/Windows/TaskScheduler'
#endregion

#region state ------------------------------------------------------------------------------------
function Get-FakeStatePath {
    if (-not $env:WNVCAP_FAKE_STATE) { throw 'FakeWindows: $env:WNVCAP_FAKE_STATE is not set (see test-pwsh/fake-windows/README.md)' }
    if (-not [IO.File]::Exists($env:WNVCAP_FAKE_STATE)) { throw "FakeWindows: the state file $env:WNVCAP_FAKE_STATE does not exist" }
    $env:WNVCAP_FAKE_STATE
}

function Enter-FakeLock([string]$Path) {
    $lock = "$Path.lock"
    $deadline = [DateTime]::UtcNow.AddSeconds(30)
    while ($true) {
        try {
            ([IO.File]::Open($lock, [IO.FileMode]::CreateNew, [IO.FileAccess]::Write, [IO.FileShare]::None)).Dispose()
            return $lock
        } catch {
            # A holder that died leaves the file behind: after 10 s it is stale.
            if (([DateTime]::UtcNow - [IO.File]::GetLastWriteTimeUtc($lock)).TotalSeconds -gt 10) { [IO.File]::Delete($lock); continue }
            if ([DateTime]::UtcNow -gt $deadline) { throw "FakeWindows: the state lock $lock was held for 30 s" }
            Start-Sleep -Milliseconds 5
        }
    }
}

function Read-FakeState([string]$Path) {
    $text = [IO.File]::ReadAllText($Path)
    if ($script:JsonDateKind) { return ConvertFrom-Json -InputObject $text -AsHashtable -DateKind String }
    ConvertFrom-Json -InputObject $text -AsHashtable
}

function Save-FakeState([string]$Path, $State) {
    $tmp = "$Path.$PID.tmp"
    [IO.File]::WriteAllText($tmp, (ConvertTo-Json -InputObject $State -Depth 64 -Compress))
    [IO.File]::Move($tmp, $Path, $true)
}

<# Runs $Body with the state (a hashtable) under the lock, then saves it. #>
function Use-FakeState([scriptblock]$Body) {
    $ErrorActionPreference = 'Stop'   # a mistake in the fake itself must not pass silently
    $path = Get-FakeStatePath
    $lock = Enter-FakeLock $path
    try {
        $s = Read-FakeState $path
        $null = & $Body $s
        Save-FakeState $path $s
    } finally { [IO.File]::Delete($lock) }
}

<# Plain JSON-able value of a bound parameter, for state.executed. #>
function ConvertTo-FakeSimple($v) {
    if ($null -eq $v) { return $null }
    if ($v -is [System.Management.Automation.SwitchParameter]) { return $v.IsPresent }
    if ($v -is [enum]) { return $v.ToString() }
    if ($v -is [uint64] -or $v -is [decimal]) { if ($v -le 9007199254740991) { return [long]$v } return $v.ToString() }
    if ($v -is [string] -or $v -is [bool]) { return $v }
    if (($v -is [ValueType]) -and -not ($v -is [datetime] -or $v -is [timespan] -or $v -is [guid])) { return $v }
    if ($v -is [datetime]) { return $v.ToString('o') }
    if ($v -is [timespan]) { return [Xml.XmlConvert]::ToString($v) }
    if ($v -is [guid]) { return $v.ToString() }
    if ($v -is [pscredential]) { return "[PSCredential $($v.UserName)]" }
    if ($v -is [securestring]) { return '[SecureString]' }
    if ($v -is [System.Collections.IDictionary]) { $h = [ordered]@{}; foreach ($k in $v.Keys) { $h[[string]$k] = ConvertTo-FakeSimple $v[$k] }; return $h }
    if ($v -is [array] -or $v -is [System.Collections.IList]) { return , @(foreach ($x in $v) { ConvertTo-FakeSimple $x }) }
    $cim = @($v.PSObject.TypeNames) -like 'Microsoft.Management.Infrastructure.CimInstance#*/*' | Select-Object -First 1
    if ($cim) { return '[' + ($cim -replace '^.*/', '') + ']' }
    if ($v.PSObject.TypeNames[0] -like 'Microsoft.HyperV.*') { return '[' + $v.PSObject.TypeNames[0] + ']' }
    [string]$v
}

<# Records the call and returns the fault to inject, if any (counted per command, across processes). #>
function Register-FakeCall([string]$Command, [hashtable]$P) {
    $script:FakeFault = $null
    $script:FakeSlowMs = 0
    Use-FakeState {
        param($s)
        $script:FakeSlowMs = [int]$s.slowMs
        $params = [ordered]@{}
        foreach ($k in $P.Keys) { $params[$k] = ConvertTo-FakeSimple $P[$k] }
        $s.executed = @($s.executed | Where-Object { $_ }) + @(@{ command = $Command; params = $params })
        if ($null -eq $s.counts) { $s.counts = @{} }
        $key = $Command.ToLowerInvariant()
        $n = 1 + [int]$s.counts[$key]
        $s.counts[$key] = $n
        foreach ($f in @($s.faults)) {
            if ($f -and $f.command -eq $Command -and ($null -eq $f.nth -or [int]$f.nth -eq $n)) { $script:FakeFault = @{ kind = $f.kind; message = $f.message; count = $n }; break }
        }
    }
    $script:FakeFault
}
#endregion

#region errors and objects -----------------------------------------------------------------------
<# A CIM error (CDXML cmdlets report Win32 errors as HRESULTs): FullyQualifiedErrorId "HRESULT 0x8007xxxx,<Cmdlet>" [U]. #>
function Add-FakeCimError($c, [int]$HResult, [string]$Message, [string]$Category, $Target = $null) {
    $c.Err.Add(@{ Kind = 'Cim'; HResult = $HResult; Message = $Message; Category = $Category; Target = $Target; Id = ('HRESULT 0x{0:x8}' -f $HResult) })
}

<# What a CDXML Get/Set/Remove query that matches nothing writes. #>
function Add-FakeNotFound($c, [string]$Class, [string]$Property, $Value) {
    $c.Err.Add(@{ Kind = 'NotFound'; Message = "No $Class objects found with property '$Property' equal to '$Value'.  Verify the value of the property and retry."; Category = 'ObjectNotFound'; Target = $Value; Id = "CmdletizationQuery_NotFound_$Property" })
}

function Add-FakeError($c, [string]$Message, [string]$Category, [string]$Id, $Target = $null, [int]$HResult = -2146233087) {
    $c.Err.Add(@{ Kind = 'Plain'; HResult = $HResult; Message = $Message; Category = $Category; Target = $Target; Id = $Id })
}

function Write-FakeErrors($c) {
    if ($c.Err.Count -eq 0) { return }
    # A compiled cmdlet follows the caller's $ErrorActionPreference; a module function would see
    # only the global one (PowerShell issue #4568). So take the caller's value into this scope,
    # where WriteError reads it (-ErrorAction, when bound, still wins).
    $pref = $c.Cmdlet.SessionState.PSVariable.GetValue('ErrorActionPreference')
    if ($null -ne $pref) { $ErrorActionPreference = $pref }
    foreach ($e in $c.Err) {
        $ex = switch ($e.Kind) {
            'Cim' { [Microsoft.Management.Infrastructure.CimException]::new($e.Message, $e.HResult, [uint32]($e.HResult -band 0xFFFF), $e.Id) }
            'NotFound' { [Microsoft.PowerShell.Cmdletization.Cim.CimJobException]::new($e.Message) }
            default { $x = [Exception]::new($e.Message); $x.HResult = $e.HResult; $x }
        }
        # PowerShell appends ",<command name>" to the error id.
        $c.Cmdlet.WriteError([System.Management.Automation.ErrorRecord]::new($ex, $e.Id, [System.Management.Automation.ErrorCategory]$e.Category, $e.Target))
    }
}

function Get-FakeCimType($v) {
    if ($null -eq $v) { return 'String' }
    $t = if ($v -is [array]) { $v.GetType().GetElementType() } else { $v.GetType() }
    if ($t.IsEnum) { $t = [Enum]::GetUnderlyingType($t) }
    $name = switch ($t.Name) { 'Byte' { 'UInt8' } 'SByte' { 'SInt8' } 'Int16' { 'SInt16' } 'Int32' { 'SInt32' } 'Int64' { 'SInt64' } 'TimeSpan' { 'DateTime' } { $_ -in 'Object', 'PSObject', 'PSCustomObject' } { 'Instance' } default { $t.Name } }
    if ($v -is [array]) { "${name}Array" } else { $name }
}

<#
A PSObject shaped like the CimInstance a CDXML cmdlet returns: the class's properties, the
type names PowerShell shows (CimInstance#<namespace>/<class> ...), and the heavy members every
CimInstance carries (CimClass, CimInstanceProperties, CimSystemProperties), which is what makes
piping a raw object into ConvertTo-Json big and nested (windows-capture.md 2.9).
#>
function New-FakeCim([string]$Class, [System.Collections.IDictionary]$Props, [string]$Namespace = $script:NS, [string[]]$Bases = @(), [string[]]$Keys = @()) {
    $o = [pscustomobject]$Props
    $names = $o.PSObject.TypeNames
    $names.Clear()
    foreach ($k in @($Class) + $Bases) { $names.Add("Microsoft.Management.Infrastructure.CimInstance#$Namespace/$k") }
    foreach ($k in @($Class) + $Bases) { $names.Add("Microsoft.Management.Infrastructure.CimInstance#$k") }
    $names.Add('Microsoft.Management.Infrastructure.CimInstance')
    $names.Add('System.Object')
    $sys = [pscustomobject][ordered]@{ Namespace = $Namespace; ServerName = $env:COMPUTERNAME; ClassName = $Class; Path = $null }
    $flags = { param($k) if ($Keys -contains $k) { 'Property, Key, ReadOnly, NotModified' } else { 'Property, ReadOnly, NotModified' } }
    $instanceProps = @(foreach ($k in $Props.Keys) { [pscustomobject][ordered]@{ Name = $k; Value = $Props[$k]; CimType = (Get-FakeCimType $Props[$k]); Flags = (& $flags $k); IsValueModified = $false } })
    $classProps = @(foreach ($k in $Props.Keys) {
            [pscustomobject][ordered]@{ Name = $k; Value = $null; CimType = (Get-FakeCimType $Props[$k]); Flags = (& $flags $k); Qualifiers = @([pscustomobject][ordered]@{ Name = 'read'; Value = $true; CimType = 'Boolean'; Flags = 'EnableOverride, ToSubclass' }); ReferenceClassName = $null }
        })
    $cimClass = [pscustomobject][ordered]@{
        CimSuperClassName = $(if ($Bases) { $Bases[0] } else { $null })
        CimSuperClass = $(if ($Bases) { [pscustomobject][ordered]@{ CimSuperClassName = $null; CimSuperClass = $null; CimClassProperties = $classProps; CimClassQualifiers = @(); CimClassMethods = @(); CimSystemProperties = [pscustomobject][ordered]@{ Namespace = $Namespace; ServerName = $env:COMPUTERNAME; ClassName = $Bases[0]; Path = $null } } } else { $null })
        CimClassProperties = $classProps
        CimClassQualifiers = @([pscustomobject][ordered]@{ Name = 'dynamic'; Value = $true; CimType = 'Boolean'; Flags = 'DisableOverride, ToSubclass' }, [pscustomobject][ordered]@{ Name = 'provider'; Value = $Class; CimType = 'String'; Flags = 'ToSubclass' })
        CimClassMethods = @()
        CimSystemProperties = $sys
    }
    Add-Member -InputObject $o -NotePropertyName CimClass -NotePropertyValue $cimClass
    Add-Member -InputObject $o -NotePropertyName CimInstanceProperties -NotePropertyValue $instanceProps
    Add-Member -InputObject $o -NotePropertyName CimSystemProperties -NotePropertyValue $sys
    # Format views of the real modules show the class's own properties, not the CIM members
    # (PowerShell's own types.ps1xml already has views for some classes, e.g. Win32_OperatingSystem).
    if ($o.PSObject.Members['PSStandardMembers']) { return $o }
    $shown = @($Props.Keys | Where-Object { $null -ne $Props[$_] })
    if (-not $shown) { $shown = @($Props.Keys) }
    $display = [System.Management.Automation.PSPropertySet]::new('DefaultDisplayPropertySet', [string[]]$shown)
    Add-Member -InputObject $o -MemberType MemberSet -Name PSStandardMembers -Value ([System.Management.Automation.PSMemberInfo[]]@($display))
    $o
}

function Get-FakeCimClass($o) {
    if ($null -eq $o) { return $null }
    if ($o.PSObject.Properties['CimSystemProperties']) { return $o.CimSystemProperties.ClassName }
    $null
}

<# The inventory (containerHostSnapshot('7').commands, written by fake-host.ts), read once per process. #>
function Get-FakeInventory($c, [switch]$AsObjects) {
    $path = $c.S.inventory
    $key = "$path|$AsObjects"
    if (-not $script:Inventory.ContainsKey($key)) {
        $text = [IO.File]::ReadAllText($path)
        $script:Inventory[$key] = if ($AsObjects) { ConvertFrom-Json -InputObject $text } elseif ($script:JsonDateKind) { ConvertFrom-Json -InputObject $text -AsHashtable -DateKind String } else { ConvertFrom-Json -InputObject $text -AsHashtable }
    }
    $script:Inventory[$key]
}

function Get-FakeRows($c, [string]$Command) { @($(Get-FakeInventory $c)[$Command] | Where-Object { $null -ne $_ }) }

<# Rows whose property matches each bound filter parameter; a literal value that matches nothing writes the CDXML NotFound error. #>
function Select-FakeRows($c, [object[]]$Rows, [System.Collections.IDictionary]$Filters, [string]$Class, [string[]]$Required = @()) {
    $out = @($Rows | Where-Object { $null -ne $_ })
    $emptied = $false   # an earlier filter left nothing: no NotFound for the later ones
    foreach ($param in $Filters.Keys) {
        if (-not $c.P.ContainsKey($param)) { continue }
        $prop = $Filters[$param]
        $kept = [System.Collections.Generic.List[object]]::new()
        foreach ($v in @($c.P[$param])) {
            $m = @($out | Where-Object { $x = $_[$prop]; if ($v -is [string]) { [string]$x -like $v } else { $x -eq $v } })
            $literal = -not ($v -is [string] -and [WildcardPattern]::ContainsWildcardCharacters($v))
            if (-not $m -and -not $emptied -and $literal -and ($Required -contains $param)) { Add-FakeNotFound $c $Class $param $v }
            foreach ($x in $m) { if (-not $kept.Contains($x)) { $kept.Add($x) } }   # Contains: reference equality for hashtables
        }
        $out = $kept.ToArray()
        if ($out.Count -eq 0) { $emptied = $true }
    }
    , @($out)
}

function Test-FakeAdmin($c) {
    if ($c.S.elevated) { return $true }
    Add-FakeCimError $c 0x80070005 'Access is denied.' PermissionDenied $c.Cmd
    $false
}

<# Where a file path lands on this machine: Windows-only paths do not exist here; a relative path is relative to the CIM provider's working directory (system32) [U]. #>
function Resolve-FakeHostPath($c, [string]$Path) {
    if ([IO.Path]::IsPathRooted($Path)) { return $Path }
    if ($Path -match '^[A-Za-z]:[\\/]' -or $Path.StartsWith('\\')) { return $Path }
    Join-Path (Join-Path $c.S.hostDir 'Windows/System32') $Path
}

function Test-FakeParentDir([string]$Path) {
    if ($Path -match '^[A-Za-z]:[\\/]' -or $Path.StartsWith('\\')) { return $false }
    $d = [IO.Path]::GetDirectoryName($Path)
    -not $d -or [IO.Directory]::Exists($d)
}

function Copy-FakeEtl($c, [string]$Path, [switch]$HeaderOnly) {
    $bytes = [IO.File]::ReadAllBytes($c.S.etlTemplate)
    if ($HeaderOnly) {
        $n = [Math]::Min($bytes.Length, [int][BitConverter]::ToUInt32($bytes, 0))
        $head = [byte[]]::new($n)
        [Array]::Copy($bytes, $head, $n)
        $bytes = $head
    }
    # What a flush timer wrote is a prefix of the capture: the rest is written after it, never over it.
    $have = if ([IO.File]::Exists($Path)) { (Get-Item -LiteralPath $Path).Length } else { 0 }
    if ($HeaderOnly -or $have -eq 0 -or $have -ge $bytes.Length) { [IO.File]::WriteAllBytes($Path, $bytes); return }
    $f = [IO.File]::Open($Path, [IO.FileMode]::Open, [IO.FileAccess]::Write, [IO.FileShare]::ReadWrite)
    try { $f.Position = $have; $f.Write($bytes, [int]$have, $bytes.Length - [int]$have) } finally { $f.Dispose() }
}

<# A flush timer (Update-EtwTraceSession): bin/fake-etw-flush.cjs writes the capture's buffers into the file while the session runs. #>
function Start-FakeFlusher($c, [string]$Session, [string]$Path, [uint32]$Seconds) {
    $psi = [Diagnostics.ProcessStartInfo]::new('node')
    foreach ($a in @((Join-Path $PSScriptRoot '../bin/fake-etw-flush.cjs'), $env:WNVCAP_FAKE_STATE, $Session, $c.S.etlTemplate, $Path, [string]$Seconds)) { $psi.ArgumentList.Add($a) }
    $psi.UseShellExecute = $false
    # Its own pipes: it must not hold the pwsh's stdout open.
    $psi.RedirectStandardInput = $true; $psi.RedirectStandardOutput = $true; $psi.RedirectStandardError = $true
    [void][Diagnostics.Process]::Start($psi)
}
#endregion

#region entry point ------------------------------------------------------------------------------
function Test-FakeNonInteractive { [bool]([Environment]::GetCommandLineArgs() | Where-Object { $_ -match '^-noni' }) }

<# -WhatIf / -Confirm. Unregister-ScheduledTask (ConfirmImpact High) prompts without -Confirm:$false: in a -NonInteractive pwsh that is PowerShell's own error; in an interactive one it would wait on stdin, so it fails here. #>
function Test-FakeShouldProcess([string]$Command, [hashtable]$P, $Cmdlet) {
    if (-not $Cmdlet.MyInvocation.MyCommand.Parameters.ContainsKey('WhatIf')) { return $true }
    if ($Command -notmatch '^(New|Add|Set|Remove|Start|Stop|Register|Unregister)-') { return $true }
    $confirmOff = $P.ContainsKey('Confirm') -and -not $P['Confirm']
    if ($Command -eq 'Unregister-ScheduledTask' -and -not $confirmOff -and -not $P.ContainsKey('WhatIf') -and -not (Test-FakeNonInteractive)) {
        $er = [System.Management.Automation.ErrorRecord]::new([InvalidOperationException]::new("FakeWindows: $Command has ConfirmImpact High and would prompt for confirmation here (no -Confirm:`$false); a real host would wait for an answer."), 'FakeWindowsWouldPrompt', 'InvalidOperation', $Command)
        $Cmdlet.ThrowTerminatingError($er)
    }
    # The caller's $ConfirmPreference / $WhatIfPreference, as a compiled cmdlet would see them (see Write-FakeErrors).
    foreach ($n in 'ConfirmPreference', 'WhatIfPreference') {
        $v = $Cmdlet.SessionState.PSVariable.GetValue($n)
        if ($null -ne $v) { Set-Variable -Name $n -Value $v }
    }
    $target = (@('Name', 'SessionName', 'TaskName') | Where-Object { $P.ContainsKey($_) } | ForEach-Object { $P[$_] } | Select-Object -First 1)
    try { $Cmdlet.ShouldProcess([string]$target, $Command) }
    catch {
        # The host's own error (NonInteractive: "Read and Prompt functionality is not available"), reported by the cmdlet.
        $inner = if ($_.Exception.InnerException) { $_.Exception.InnerException } else { $_.Exception }
        $Cmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new($inner, $inner.GetType().Name, 'InvalidOperation', $Command))
    }
}

function Invoke-FakeFault($c, $f) {
    switch ($f.kind) {
        'die' { [Environment]::Exit(255) }
        'hang' { Start-Sleep -Seconds 3600 }
        default {
            $msg = if ($f.message) { $f.message } else { "Injected fault: $($c.Cmd) failed (call $($f.count))." }
            Add-FakeError $c $msg NotSpecified FakeWindowsInjectedFault $c.Cmd -2147467259
            Write-FakeErrors $c
        }
    }
}

<# The body of every generated cmdlet. #>
function Invoke-FakeCommand {
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)][string]$Command,
        [Parameter(Mandatory)][AllowEmptyCollection()][System.Collections.IDictionary]$Bound,
        [Parameter(Mandatory)][System.Management.Automation.PSCmdlet]$Cmdlet
    )
    $P = @{}
    foreach ($k in $Bound.Keys) { $P[$k] = $Bound[$k] }
    $c = @{ Cmd = $Command; P = $P; Cmdlet = $Cmdlet; S = $null; Out = [System.Collections.Generic.List[object]]::new(); Err = [System.Collections.Generic.List[object]]::new() }
    $fault = Register-FakeCall $Command $P
    if ($script:FakeSlowMs -gt 0) { Start-Sleep -Milliseconds $script:FakeSlowMs }
    if ($fault) { Invoke-FakeFault $c $fault; return }
    if (-not (Test-FakeShouldProcess $Command $P $Cmdlet)) { return }
    $handler = "Handle-$Command"
    if (-not (Get-Command -Name $handler -CommandType Function -ErrorAction Ignore)) { $handler = 'Handle-Default' }
    Use-FakeState { param($s) $c.S = $s; & $handler $c }
    foreach ($o in $c.Out) { $o }
    Write-FakeErrors $c
}

function Handle-Default($c) { }
#endregion

#region handlers ----------------------------------------------------------------------------------
. (Join-Path $PSScriptRoot 'NetEventPacketCapture.ps1')
. (Join-Path $PSScriptRoot 'Inventory.ps1')
. (Join-Path $PSScriptRoot 'ScheduledTasks.ps1')
#endregion

Export-ModuleMember -Function Invoke-FakeCommand

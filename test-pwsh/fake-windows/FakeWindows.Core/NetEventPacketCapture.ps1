<#
NetEventPacketCapture behaviour: sessions, providers, capture targets (windows-capture.md 1.2-1.10).
Dot-sourced by FakeWindows.Core.psm1: these functions live in that module's scope. Each
Handle-<Cmdlet> gets the call context $c (.Cmd, .P bound parameters, .S the state hashtable,
.Out objects to write, .Err errors to write) and changes $c.S, which is saved afterwards.
#>

#region NetEventPacketCapture: sessions ----------------------------------------------------------
$script:DefaultEtl = 'C:\WINDOWS\system32\config\systemprofile\AppData\Local\NetEventTrace.etl'

function ConvertTo-FakeSession($s) {
    New-FakeCim MSFT_NetEventSession ([ordered]@{
            Caption = $null; Description = $null; ElementName = $null; InstanceID = $null
            CommunicationStatus = $null; DetailedStatus = $null; HealthState = $null; InstallDate = $null; Name = $s.name
            OperatingStatus = $null; OperationalStatus = $null; PrimaryStatus = $null; Status = $null; StatusDescriptions = $null
            CaptureMode = [FakeWindows.NetEventPacketCapture.CaptureModes]$s.captureMode
            Guid = $s.guid
            LocalFilePath = $s.localFilePath
            MaxFileSize = [uint32]$s.maxFileSize
            MaxNumberOfBuffers = [byte]$s.maxNumberOfBuffers
            SessionStatus = [FakeWindows.NetEventPacketCapture.SessionStatus]$s.status
            TraceBufferSize = [uint32]$s.traceBufferSize
        }) -Keys Guid
}

function Find-FakeSession($c, [string]$Name) { @($c.S.sessions) | Where-Object { $_ -and $_.name -eq $Name } | Select-Object -First 1 }

<# The sessions a -Name / -InputObject / -AssociatedEventProvider selects (NotFound errors for literal names). #>
function Resolve-FakeSessions($c) {
    $all = @($c.S.sessions | Where-Object { $_ })
    if ($c.P.InputObject) { return , @(foreach ($o in $c.P.InputObject) { Find-FakeSession $c $o.Name }) }
    if ($c.P.AssociatedEventProvider) { return , @(Find-FakeSession $c $c.P.AssociatedEventProvider.SessionName) }
    if (-not $c.P.ContainsKey('Name')) { return , $all }
    Select-FakeRows $c $all @{ Name = 'name' } MSFT_NetEventSession -Required Name
}

function Handle-New-NetEventSession($c) {
    if (-not (Test-FakeAdmin $c)) { return }
    if (@($c.S.sessions | Where-Object { $_ }).Count -gt 0) {
        # Only one session can exist at a time (windows-capture.md 1.2); [U] the message and HRESULT (ERROR_ALREADY_EXISTS).
        return Add-FakeCimError $c 0x800700B7 'Cannot create a file when that file already exists.' ResourceExists $c.P.Name
    }
    $s = [ordered]@{
        name = $c.P.Name; guid = [guid]::NewGuid().ToString('B').ToUpperInvariant()
        captureMode = $(if ($c.P.CaptureMode) { [string]$c.P.CaptureMode } else { 'SaveToFile' })
        localFilePath = $(if ($c.P.LocalFilePath) { $c.P.LocalFilePath } else { $script:DefaultEtl })
        maxFileSize = $(if ($c.P.ContainsKey('MaxFileSize')) { [uint32]$c.P.MaxFileSize } else { 250 })
        traceBufferSize = [uint32]$c.P.TraceBufferSize; maxNumberOfBuffers = [byte]$c.P.MaxNumberOfBuffers
        status = 'NotRunning'; providers = @(); targets = @()
    }
    $c.S.sessions = @($c.S.sessions | Where-Object { $_ }) + @($s)
    $c.Out.Add((ConvertTo-FakeSession $s))
}

function Handle-Get-NetEventSession($c) { foreach ($s in (Resolve-FakeSessions $c)) { if ($s) { $c.Out.Add((ConvertTo-FakeSession $s)) } } }

function Handle-Set-NetEventSession($c) {
    if (-not (Test-FakeAdmin $c)) { return }
    foreach ($s in (Resolve-FakeSessions $c)) {
        if (-not $s) { continue }
        if ($c.P.ContainsKey('CaptureMode')) { $s.captureMode = [string]$c.P.CaptureMode }
        if ($c.P.ContainsKey('LocalFilePath')) { $s.localFilePath = $c.P.LocalFilePath }
        foreach ($k in 'MaxFileSize', 'TraceBufferSize', 'MaxNumberOfBuffers') { if ($c.P.ContainsKey($k)) { $s[$k.Substring(0, 1).ToLower() + $k.Substring(1)] = [long]$c.P[$k] } }
        if ($c.P.PassThru) { $c.Out.Add((ConvertTo-FakeSession $s)) }
    }
}

function Handle-Start-NetEventSession($c) {
    if (-not (Test-FakeAdmin $c)) { return }
    foreach ($s in (Resolve-FakeSessions $c)) {
        if (-not $s) { continue }
        $path = Resolve-FakeHostPath $c $s.localFilePath
        # "If a session is currently running, you cannot start it" (Doc); [U] the error.
        if ($s.status -eq 'Running') { Add-FakeCimError $c 0x800700B7 'Cannot create a file when that file already exists.' InvalidOperation $s.name; continue }
        # A session needs at least one provider (windows-capture.md 1.2); [U] the error.
        if (@($s.providers | Where-Object { $_ }).Count -eq 0) { Add-FakeCimError $c 0x80070057 'The parameter is incorrect.' InvalidArgument $s.name; continue }
        if ($c.S.diskFull) { Add-FakeCimError $c 0x80070070 'There is not enough space on the disk.' WriteError $s.name; continue }
        # Creating the folder is the caller's job (windows-capture.md 1.10); [U] the exact error.
        if (-not (Test-FakeParentDir $path)) { Add-FakeCimError $c 0x80070003 'The system cannot find the path specified.' ObjectNotFound $s.localFilePath; continue }
        $s.status = 'Running'
        $s.startedAt = [DateTime]::UtcNow.ToString('o')
        # Values ETW fills in (observed display after Start: 64 KB, 30 buffers).
        if ([int]$s.traceBufferSize -eq 0) { $s.traceBufferSize = 64 }
        if ([int]$s.maxNumberOfBuffers -eq 0) { $s.maxNumberOfBuffers = 30 }
        Copy-FakeEtl $c $path -HeaderOnly   # ETW writes the header buffer at once; the rest at stop
        if ($c.P.PassThru) { $c.Out.Add((ConvertTo-FakeSession $s)) }
    }
}

function Stop-FakeSessionCore($c, $s) {
    $s.status = 'NotRunning'
    $path = Resolve-FakeHostPath $c $s.localFilePath
    if (Test-FakeParentDir $path) { Copy-FakeEtl $c $path }
}

function Handle-Stop-NetEventSession($c) {
    if (-not (Test-FakeAdmin $c)) { return }
    foreach ($s in (Resolve-FakeSessions $c)) {
        if (-not $s) { continue }
        # "You cannot stop a session unless it is currently running" (Doc); [U] the error (ERROR_WMI_INSTANCE_NOT_FOUND).
        if ($s.status -ne 'Running') { Add-FakeCimError $c 0x80071069 'The instance name passed was not recognized as valid by a WMI data provider.' InvalidOperation $s.name; continue }
        Stop-FakeSessionCore $c $s
        if ($c.P.PassThru) { $c.Out.Add((ConvertTo-FakeSession $s)) }
    }
}

function Handle-Remove-NetEventSession($c) {
    if (-not (Test-FakeAdmin $c)) { return }
    foreach ($s in (Resolve-FakeSessions $c)) {
        if (-not $s) { continue }
        # [U] removing a running session stops it first (the file is complete up to then).
        if ($s.status -eq 'Running') { Stop-FakeSessionCore $c $s }
        $c.S.sessions = @($c.S.sessions | Where-Object { $_ -and $_.name -ne $s.name })
        if ($c.P.PassThru) { $c.Out.Add((ConvertTo-FakeSession $s)) }
    }
}
#endregion

#region NetEventPacketCapture: providers ---------------------------------------------------------
# Provider kinds: the cmdlet noun, the CIM class and the provider's ETW identity.
$script:ProviderKinds = @{
    PacketCapture = @{ Class = 'MSFT_NetEventPacketCaptureProvider'; Name = 'Microsoft-Windows-NDIS-PacketCapture'; Guid = '{2ED6006E-4729-4609-B423-3EE7BCD678EF}' }
    WFPCapture    = @{ Class = 'MSFT_NetEventWFPCaptureProvider'; Name = 'Microsoft-Windows-WFP'; Guid = '{0C478C5B-0351-41B1-8C58-4A6737DA32E3}' }
    VmSwitch      = @{ Class = 'MSFT_NetEventVmSwitchProvider'; Name = 'Microsoft-Windows-Hyper-V-VmSwitch'; Guid = '{67DC0D66-3695-47C0-9642-33F76F7BD7AD}' }
    VFP           = @{ Class = 'MSFT_NetEventVFPProvider'; Name = 'Microsoft-Windows-Hyper-V-VfpExt'; Guid = '{9F2660EA-CFE7-428F-9850-AECA612619B0}' }
    Etw           = @{ Class = 'MSFT_NetEventProvider' }
}

# ETW providers the fake host knows by name (windows-capture.md 1.6); any {GUID} resolves except
# the all-zero-prefixed ones, which stand for a provider that is not registered.
$script:KnownProviders = @{
    'Microsoft-Windows-TCPIP' = '{2F07E2EE-15DB-40F1-90EF-9D7BA282188A}'; 'Microsoft-Windows-DNS-Client' = '{1C95126E-7EEA-49A9-A3FE-A378B03DDB4D}'
    'Microsoft-Windows-Dhcp-Client' = '{15A7A4F8-0072-4EAB-ABAD-F98A4D666AED}'; 'Microsoft-Windows-DHCPv6-Client' = '{6A1F2B00-6A90-4C38-95A5-5CAB3B056778}'
    'Microsoft-Windows-Host-Network-Service' = '{0C885E0D-6EB6-476C-A048-2457EED3A5C1}'; 'Microsoft-Windows-Overlay-HNSPlugin' = '{564368D6-577B-4AF5-AD84-1C54464848E6}'
    'Microsoft-Windows-Host-Network-Management' = '{93F693DC-9163-4DEE-AF64-D855218AF242}'; 'Microsoft-Windows-SharedAccess_NAT' = '{A6F32731-9A38-4159-A220-3D9B7FC5FE5D}'
    'Microsoft-Windows-Hyper-V-SynthNic' = '{C29C4FB7-B60E-4FFF-9AF9-CF21F9B09A34}'; 'Microsoft-Windows-Hyper-V-VmSwitch' = '{67DC0D66-3695-47C0-9642-33F76F7BD7AD}'
    'Microsoft-Windows-Hyper-V-VfpExt' = '{9F2660EA-CFE7-428F-9850-AECA612619B0}'; 'Microsoft-Windows-WinNat' = '{66C07ECD-6667-43FC-93F8-05CF07F446EC}'
    'Microsoft-Windows-NDIS-PacketCapture' = '{2ED6006E-4729-4609-B423-3EE7BCD678EF}'; 'Microsoft-Windows-PktMon' = '{4D4F80D9-C8BD-4D73-BB5B-19C90402C5AC}'
    'Microsoft-Windows-Windows Firewall With Advanced Security' = '{D1BC9AFF-2ABF-4D71-9146-ECB2A986EB85}'
}

function Resolve-FakeEtwProvider([string]$Name) {
    $g = $Name.Trim('{', '}')
    if ($g -match '^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$') {
        if ($g.StartsWith('00000000')) { return $null }
        return @{ name = $Name; guid = '{' + $g.ToUpperInvariant() + '}' }
    }
    $known = $script:KnownProviders.Keys | Where-Object { $_ -eq $Name } | Select-Object -First 1
    if ($known) { return @{ name = $known; guid = $script:KnownProviders[$known] } }
    $null
}

function Get-FakeList($v) { @($v | Where-Object { $null -ne $_ }) }

function ConvertTo-FakeKeyword($v, [uint64]$Default) { if ($null -eq $v) { return $Default.ToString() } ([uint64]$v).ToString() }

function ConvertTo-FakeProvider($s, $p) {
    $k = $script:ProviderKinds[$p.kind]
    $props = [ordered]@{ Caption = $null; Description = $null; ElementName = $null; InstanceID = $null; Name = $p.name; Guid = $p.guid; SessionGuid = $s.guid; SessionName = $s.name; Level = [byte]$p.level; MatchAllKeyword = [uint64]$p.matchAllKeyword; MatchAnyKeyword = [uint64]$p.matchAnyKeyword }
    $st = $p.settings
    switch ($p.kind) {
        'PacketCapture' {
            $props.CaptureType = [FakeWindows.NetEventPacketCapture.CaptureType]$st.CaptureType; $props.EtherType = [uint16[]]@(Get-FakeList $st.EtherType); $props.IPAddresses = [string[]]@(Get-FakeList $st.IpAddresses)
            $props.IPProtocols = [byte[]]@(Get-FakeList $st.IpProtocols); $props.LinkLayerAddress = [string[]]@(Get-FakeList $st.LinkLayerAddress); $props.MultiLayer = [bool]$st.MultiLayer
            $props.TruncationLength = [uint16]$st.TruncationLength; $props.VmCaptureDirection = [FakeWindows.NetEventPacketCapture.VmCaptureDirection]$st.VmCaptureDirection
        }
        'WFPCapture' {
            $props.CaptureLayerSet = if ($st.CaptureLayerSet) { [FakeWindows.NetEventPacketCapture.WFPCaptureSet](@($st.CaptureLayerSet) -join ',') } else { [FakeWindows.NetEventPacketCapture.WFPCaptureSet]0 }
            $props.IPAddresses = [string[]]@(Get-FakeList $st.IPAddresses); $props.TCPPorts = [uint16[]]@(Get-FakeList $st.TCPPorts); $props.UDPPorts = [uint16[]]@(Get-FakeList $st.UDPPorts)
        }
        'VmSwitch' { $props.SwitchName = $st.SwitchName; $props.PortIds = [uint32[]]@(Get-FakeList $st.PortIds) }
        'VFP' { foreach ($n in 'SwitchName', 'PortIds', 'SourceMACAddresses', 'DestinationMACAddresses', 'SourceIPAddresses', 'DestinationIPAddresses', 'IPProtocols', 'TCPPorts', 'UDPPorts', 'VLANIds', 'TenantIds', 'GREKeys', 'VFPFlowDirection') { $props[$n] = $st[$n] } }
    }
    New-FakeCim $k.Class $props -Bases @('MSFT_NetEventProviderBase') -Keys Guid, SessionGuid
}

<# The provider settings a bound Add/Set call gives (everything but selectors and common parameters). #>
function Get-FakeProviderSettings($c, $into) {
    foreach ($k in $c.P.Keys) {
        if ($k -in 'SessionName', 'Name', 'Level', 'MatchAnyKeyword', 'MatchAllKeyword', 'MatchAllKeywords', 'InputObject', 'AssociatedEventSession', 'AssociatedCaptureTarget', 'PassThru', 'CimSession', 'ThrottleLimit', 'AsJob', 'WhatIf', 'Confirm') { continue }
        $into[$k] = ConvertTo-FakeSimple $c.P[$k]
    }
    $into
}

function Test-FakePacketFilters($c) {
    $t = $c.P.TruncationLength
    # WMI doc: default 128, minimum 14, 0 disables truncation; [U] the error for 1..13.
    if ($c.P.ContainsKey('TruncationLength') -and $t -ne 0 -and $t -lt 14) { Add-FakeCimError $c 0x80070057 'The parameter is incorrect.' InvalidArgument 'TruncationLength'; return $false }
    foreach ($ip in @($c.P.IpAddresses)) { if ($ip -and -not [System.Net.IPAddress]::TryParse($ip, [ref]$null)) { Add-FakeCimError $c 0x80070057 'The parameter is incorrect.' InvalidArgument $ip; return $false } }
    foreach ($m in @($c.P.LinkLayerAddress)) { if ($m -and $m -notmatch '^[0-9A-Fa-f]{2}([-:]?[0-9A-Fa-f]{2}){5}$') { Add-FakeCimError $c 0x80070057 'The parameter is incorrect.' InvalidArgument $m; return $false } }
    $true
}

function Add-FakeProviderTo($c, [string]$Kind) {
    if (-not (Test-FakeAdmin $c)) { return }
    $s = Find-FakeSession $c $c.P.SessionName
    # [U] the error for a session name that does not exist (ERROR_WMI_INSTANCE_NOT_FOUND).
    if (-not $s) { return Add-FakeCimError $c 0x80071069 'The instance name passed was not recognized as valid by a WMI data provider.' ObjectNotFound $c.P.SessionName }
    $k = $script:ProviderKinds[$Kind]
    if ($Kind -eq 'Etw') {
        $r = Resolve-FakeEtwProvider $c.P.Name
        # [U] the error for an unknown provider (ERROR_WMI_GUID_NOT_FOUND).
        if (-not $r) { return Add-FakeCimError $c 0x80071068 'The GUID passed was not recognized as valid by a WMI data provider.' ObjectNotFound $c.P.Name }
        $name = $r.name; $guid = $r.guid
    } else { $name = $k.Name; $guid = $k.Guid }
    $existing = @($s.providers | Where-Object { $_ -and ($_.guid -eq $guid -or ($Kind -in 'PacketCapture', 'WFPCapture' -and $_.kind -in 'PacketCapture', 'WFPCapture')) })
    # One packet capture provider per session; a provider is added once (Doc); [U] the error.
    if ($existing) { return Add-FakeCimError $c 0x800700B7 'Cannot create a file when that file already exists.' ResourceExists $name }
    if ($Kind -eq 'PacketCapture' -and -not (Test-FakePacketFilters $c)) { return }
    $settings = Get-FakeProviderSettings $c ([ordered]@{})
    if ($Kind -eq 'PacketCapture') {
        # [U] provider defaults when not given: CaptureType Physical, VmCaptureDirection IngressAndEgress.
        if (-not $settings.CaptureType) { $settings.CaptureType = 'Physical' }
        if (-not $settings.VmCaptureDirection) { $settings.VmCaptureDirection = 'IngressAndEgress' }
        if ($null -eq $settings.TruncationLength) { $settings.TruncationLength = 128 }
    }
    $allKw = if ($c.P.ContainsKey('MatchAllKeywords')) { $c.P.MatchAllKeywords } else { $c.P.MatchAllKeyword }
    $p = [ordered]@{ kind = $Kind; name = $name; guid = $guid; level = $(if ($c.P.ContainsKey('Level')) { [int]$c.P.Level } else { 4 })
        matchAnyKeyword = (ConvertTo-FakeKeyword $c.P.MatchAnyKeyword ([uint64]::MaxValue)); matchAllKeyword = (ConvertTo-FakeKeyword $allKw 0); settings = $settings
    }
    $s.providers = @($s.providers | Where-Object { $_ }) + @($p)
    $c.Out.Add((ConvertTo-FakeProvider $s $p))
}

function Handle-Add-NetEventProvider($c) { Add-FakeProviderTo $c Etw }
function Handle-Add-NetEventPacketCaptureProvider($c) { Add-FakeProviderTo $c PacketCapture }
function Handle-Add-NetEventWFPCaptureProvider($c) { Add-FakeProviderTo $c WFPCapture }
function Handle-Add-NetEventVmSwitchProvider($c) { Add-FakeProviderTo $c VmSwitch }
function Handle-Add-NetEventVFPProvider($c) { Add-FakeProviderTo $c VFP }

<# (session, provider) pairs a Get/Set/Remove of that provider kind selects. #>
function Resolve-FakeProviders($c, [string]$Kind) {
    $pairs = foreach ($s in @($c.S.sessions | Where-Object { $_ })) { foreach ($p in @($s.providers | Where-Object { $_ -and $_.kind -eq $Kind })) { @{ S = $s; P = $p } } }
    $pairs = @($pairs)
    $k = $script:ProviderKinds[$Kind]
    if ($c.P.InputObject) { return , @($pairs | Where-Object { $x = $_; @($c.P.InputObject | Where-Object { $_.SessionName -eq $x.S.name -and $_.Guid -eq $x.P.guid }) }) }
    if ($c.P.AssociatedEventSession) { return , @($pairs | Where-Object { $_.S.name -eq $c.P.AssociatedEventSession.Name }) }
    foreach ($sel in 'SessionName', 'Name') {
        if (-not $c.P.ContainsKey($sel)) { continue }
        $prop = if ($sel -eq 'SessionName') { { $_.S.name } } else { { $_.P.name } }
        $kept = @()
        foreach ($v in @($c.P[$sel])) {
            $m = @($pairs | Where-Object { (& $prop) -like $v })
            if (-not $m -and -not [WildcardPattern]::ContainsWildcardCharacters($v)) { Add-FakeNotFound $c $k.Class $sel $v }
            $kept += $m
        }
        return , $kept
    }
    , $pairs
}

function Get-FakeProviderCmd($c, [string]$Kind) { foreach ($x in (Resolve-FakeProviders $c $Kind)) { $c.Out.Add((ConvertTo-FakeProvider $x.S $x.P)) } }
function Set-FakeProviderCmd($c, [string]$Kind) {
    if (-not (Test-FakeAdmin $c)) { return }
    if ($Kind -eq 'PacketCapture' -and -not (Test-FakePacketFilters $c)) { return }
    foreach ($x in (Resolve-FakeProviders $c $Kind)) {
        if ($c.P.ContainsKey('Level')) { $x.P.level = [int]$c.P.Level }
        if ($c.P.ContainsKey('MatchAnyKeyword')) { $x.P.matchAnyKeyword = ConvertTo-FakeKeyword $c.P.MatchAnyKeyword 0 }
        if ($c.P.ContainsKey('MatchAllKeyword')) { $x.P.matchAllKeyword = ConvertTo-FakeKeyword $c.P.MatchAllKeyword 0 }
        $null = Get-FakeProviderSettings $c $x.P.settings
        if ($c.P.PassThru) { $c.Out.Add((ConvertTo-FakeProvider $x.S $x.P)) }
    }
}
function Remove-FakeProviderCmd($c, [string]$Kind) {
    if (-not (Test-FakeAdmin $c)) { return }
    foreach ($x in (Resolve-FakeProviders $c $Kind)) {
        $x.S.providers = @($x.S.providers | Where-Object { $_ -and $_.guid -ne $x.P.guid })
        if ($c.P.PassThru) { $c.Out.Add((ConvertTo-FakeProvider $x.S $x.P)) }
    }
}

function Handle-Get-NetEventProvider($c) {
    if ($c.P.ShowInstalled) { foreach ($n in $script:KnownProviders.Keys) { $c.Out.Add((New-FakeCim MSFT_NetEventProvider ([ordered]@{ Name = $n; Guid = $script:KnownProviders[$n]; SessionName = $null; Level = [byte]0; MatchAnyKeyword = [uint64]0; MatchAllKeyword = [uint64]0 }))) }; return }
    Get-FakeProviderCmd $c Etw
}
function Handle-Set-NetEventProvider($c) { Set-FakeProviderCmd $c Etw }
function Handle-Remove-NetEventProvider($c) { Remove-FakeProviderCmd $c Etw }
function Handle-Get-NetEventPacketCaptureProvider($c) { Get-FakeProviderCmd $c PacketCapture }
function Handle-Set-NetEventPacketCaptureProvider($c) { Set-FakeProviderCmd $c PacketCapture }
function Handle-Remove-NetEventPacketCaptureProvider($c) { Remove-FakeProviderCmd $c PacketCapture }
function Handle-Get-NetEventWFPCaptureProvider($c) { Get-FakeProviderCmd $c WFPCapture }
function Handle-Set-NetEventWFPCaptureProvider($c) { Set-FakeProviderCmd $c WFPCapture }
function Handle-Remove-NetEventWFPCaptureProvider($c) { Remove-FakeProviderCmd $c WFPCapture }
function Handle-Get-NetEventVmSwitchProvider($c) { Get-FakeProviderCmd $c VmSwitch }
function Handle-Set-NetEventVmSwitchProvider($c) { Set-FakeProviderCmd $c VmSwitch }
function Handle-Remove-NetEventVmSwitchProvider($c) { Remove-FakeProviderCmd $c VmSwitch }
function Handle-Get-NetEventVFPProvider($c) { Get-FakeProviderCmd $c VFP }
function Handle-Set-NetEventVFPProvider($c) { Set-FakeProviderCmd $c VFP }
function Handle-Remove-NetEventVFPProvider($c) { Remove-FakeProviderCmd $c VFP }
#endregion

#region NetEventPacketCapture: capture targets ---------------------------------------------------
$script:TargetKinds = @{
    NetworkAdapter   = @{ Class = 'MSFT_NetEventNetworkAdapter'; Inventory = 'Get-NetAdapter'; Key = 'Name' }
    VmNetworkAdapter = @{ Class = 'MSFT_NetEventVmNetworkAdapter'; Inventory = 'Get-VMNetworkAdapter'; Key = 'Name' }
    VmSwitch         = @{ Class = 'MSFT_NetEventVmSwitch'; Inventory = 'Get-VMSwitch'; Key = 'Name' }
}

function ConvertTo-FakeTarget([string]$Kind, [string]$Name, [string]$Provider) {
    $props = [ordered]@{ Caption = $null; Description = $null; ElementName = $null; InstanceID = $null; Name = $Name; Id = [guid]::NewGuid().ToString('B').ToUpperInvariant(); ProviderName = $Provider; CaptureStatus = [uint32]$(if ($Provider) { 1 } else { 0 }) }
    New-FakeCim $script:TargetKinds[$Kind].Class $props -Bases @('MSFT_NetEventPacketCaptureTarget') -Keys Id
}

function Add-FakeTarget($c, [string]$Kind) {
    if (-not (Test-FakeAdmin $c)) { return }
    $k = $script:TargetKinds[$Kind]
    $x = @($c.S.sessions | Where-Object { $_ } | ForEach-Object { $s = $_; $s.providers | Where-Object { $_ -and $_.kind -eq 'PacketCapture' } | ForEach-Object { $s } }) | Select-Object -First 1
    # Targets attach to the (single) packet capture provider (windows-capture.md 1.2); [U] the errors.
    if (-not $x) { return Add-FakeCimError $c 0x80071069 'The instance name passed was not recognized as valid by a WMI data provider.' ObjectNotFound $c.P.Name }
    if (-not @(Get-FakeRows $c $k.Inventory | Where-Object { $_[$k.Key] -eq $c.P.Name })) { return Add-FakeCimError $c 0x80070057 'The parameter is incorrect.' InvalidArgument $c.P.Name }
    $x.targets = @($x.targets | Where-Object { $_ }) + @(@{ kind = $Kind; name = $c.P.Name })
    $c.Out.Add((ConvertTo-FakeTarget $Kind $c.P.Name 'Microsoft-Windows-NDIS-PacketCapture'))
}

function Get-FakeTarget($c, [string]$Kind) {
    $k = $script:TargetKinds[$Kind]
    if ($c.P.ShowInstalled) { foreach ($r in (Get-FakeRows $c $k.Inventory)) { $c.Out.Add((ConvertTo-FakeTarget $Kind $r[$k.Key] $null)) }; return }
    $rows = @(foreach ($s in @($c.S.sessions | Where-Object { $_ })) { foreach ($t in @($s.targets | Where-Object { $_ -and $_.kind -eq $Kind })) { $t } })
    foreach ($t in (Select-FakeRows $c $rows @{ Name = 'name' } $k.Class -Required Name)) { $c.Out.Add((ConvertTo-FakeTarget $Kind $t.name 'Microsoft-Windows-NDIS-PacketCapture')) }
}

function Remove-FakeTarget($c, [string]$Kind) {
    if (-not (Test-FakeAdmin $c)) { return }
    $names = if ($c.P.InputObject) { @($c.P.InputObject | ForEach-Object Name) } else { @($c.P.Name) }
    foreach ($s in @($c.S.sessions | Where-Object { $_ })) {
        $s.targets = @($s.targets | Where-Object { $_ -and -not ($_.kind -eq $Kind -and ($c.P.ContainsKey('ProviderName') -or $names -contains $_.name)) })
    }
}

function Handle-Add-NetEventNetworkAdapter($c) { Add-FakeTarget $c NetworkAdapter }
function Handle-Get-NetEventNetworkAdapter($c) { Get-FakeTarget $c NetworkAdapter }
function Handle-Remove-NetEventNetworkAdapter($c) { Remove-FakeTarget $c NetworkAdapter }
function Handle-Add-NetEventVmNetworkAdapter($c) { Add-FakeTarget $c VmNetworkAdapter }
function Handle-Get-NetEventVmNetworkAdapter($c) { Get-FakeTarget $c VmNetworkAdapter }
function Handle-Remove-NetEventVmNetworkAdapter($c) { Remove-FakeTarget $c VmNetworkAdapter }
function Handle-Add-NetEventVmSwitch($c) { Add-FakeTarget $c VmSwitch }
function Handle-Get-NetEventVmSwitch($c) { Get-FakeTarget $c VmSwitch }
function Handle-Remove-NetEventVmSwitch($c) { Remove-FakeTarget $c VmSwitch }
#endregion

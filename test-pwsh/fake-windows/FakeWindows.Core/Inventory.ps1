<#
Inventory behaviour: NetTCPIP, NetAdapter, Hyper-V, HostNetworkingService, CimCmdlets,
EventTracingManagement (windows-capture.md 2, 1.13), from the inventory JSON.
Dot-sourced by FakeWindows.Core.psm1: these functions live in that module's scope. Each
Handle-<Cmdlet> gets the call context $c (.Cmd, .P bound parameters, .S the state hashtable,
.Out objects to write, .Err errors to write) and changes $c.S, which is saved afterwards.
#>

#region NetTCPIP, NetAdapter ---------------------------------------------------------------------
<# Compartment of each interface index (the join table, windows-capture.md 2.3). #>
function Get-FakeCompartmentOf($c) {
    $m = @{}
    foreach ($r in (Get-FakeRows $c 'Get-NetIPInterface')) { $m[[int]$r.InterfaceIndex] = [int]$r.CompartmentId }
    $m
}

<# Without -IncludeAllCompartments (or -CompartmentId) only the default compartment 1. #>
function Select-FakeCompartment($c, [object[]]$Rows, $CompartmentOf) {
    if ($c.P.IncludeAllCompartments -or $c.P.ContainsKey('CompartmentId')) { return , $Rows }
    , @($Rows | Where-Object { [int]$CompartmentOf[[int]$_.InterfaceIndex] -eq 1 })
}

function Handle-Get-NetCompartment($c) {
    foreach ($r in (Select-FakeRows $c (Get-FakeRows $c 'Get-NetCompartment') @{ CompartmentId = 'CompartmentId' } MSFT_NetCompartment -Required CompartmentId)) {
        # [U] CompartmentType of container compartments (windows-capture.md 8.2): Native.
        $type = if ($r.CompartmentType) { $r.CompartmentType } else { 'Native' }
        $c.Out.Add((New-FakeCim MSFT_NetCompartment ([ordered]@{ Caption = $null; Description = $null; ElementName = $null; InstanceID = "$($r.CompartmentId)"
                        CompartmentId = [uint32]$r.CompartmentId; CompartmentGuid = $r.CompartmentGuid; CompartmentDescription = $r.CompartmentDescription; CompartmentType = [FakeWindows.NetTCPIP.CompartmentType]$type }) -Keys InstanceID))
    }
}

function Handle-Get-NetIPInterface($c) {
    $rows = Get-FakeRows $c 'Get-NetIPInterface'
    $rows = Select-FakeCompartment $c $rows (Get-FakeCompartmentOf $c)
    $rows = Select-FakeRows $c $rows @{ InterfaceIndex = 'InterfaceIndex'; InterfaceAlias = 'InterfaceAlias'; AddressFamily = 'AddressFamily'; CompartmentId = 'CompartmentId'; ConnectionState = 'ConnectionState' } MSFT_NetIPInterface -Required InterfaceIndex, InterfaceAlias
    foreach ($r in $rows) {
        $loop = $r.InterfaceAlias -like 'Loopback*'
        $o = New-FakeCim MSFT_NetIPInterface ([ordered]@{
                Caption = $null; Description = $null; ElementName = $null; InstanceID = "$($r.InterfaceIndex)"
                InterfaceIndex = [uint32]$r.InterfaceIndex; InterfaceAlias = $r.InterfaceAlias; AddressFamily = [FakeWindows.NetTCPIP.AddressFamily]$r.AddressFamily
                CompartmentId = [uint32]$r.CompartmentId; NlMtu = [uint32]$(if ($loop) { 4294967295 } else { $r.NlMtu })
                InterfaceMetric = [uint32]$(if ($loop) { 75 } elseif ($r.CompartmentId -eq 1) { 15 } else { 5000 }); AutomaticMetric = [FakeWindows.NetTCPIP.Dhcp]::Enabled
                Dhcp = [FakeWindows.NetTCPIP.Dhcp]$(if ($r.InterfaceAlias -eq 'Ethernet') { 'Enabled' } else { 'Disabled' })
                ConnectionState = [FakeWindows.NetTCPIP.ConnectionState]$r.ConnectionState
                Forwarding = [FakeWindows.NetTCPIP.Forwarding]$(if ($r.InterfaceAlias -like 'vEthernet (nat)') { 'Enabled' } else { 'Disabled' })
                WeakHostSend = [FakeWindows.NetTCPIP.Dhcp]::Disabled; WeakHostReceive = [FakeWindows.NetTCPIP.Dhcp]::Disabled
                PolicyStore = 'ActiveStore'; Store = [FakeWindows.NetTCPIP.Store]::ActiveStore
            }) -Keys InstanceID
        Add-Member -InputObject $o -MemberType AliasProperty -Name ifIndex -Value InterfaceIndex
        Add-Member -InputObject $o -MemberType AliasProperty -Name ifAlias -Value InterfaceAlias
        $c.Out.Add($o)
    }
}

function Handle-Get-NetIPAddress($c) {
    $rows = Select-FakeCompartment $c (Get-FakeRows $c 'Get-NetIPAddress') (Get-FakeCompartmentOf $c)
    $rows = Select-FakeRows $c $rows @{ IPAddress = 'IPAddress'; InterfaceIndex = 'InterfaceIndex'; InterfaceAlias = 'InterfaceAlias'; AddressFamily = 'AddressFamily'; AddressState = 'AddressState'; PrefixLength = 'PrefixLength' } MSFT_NetIPAddress -Required IPAddress, InterfaceIndex, InterfaceAlias
    foreach ($r in $rows) {
        $origin = if ($r.IPAddress -like '127.*') { 'WellKnown' } elseif ($r.InterfaceAlias -eq 'Ethernet') { 'Dhcp' } else { 'Manual' }
        $v4 = $r.AddressFamily -eq 'IPv4'
        $o = New-FakeCim MSFT_NetIPAddress ([ordered]@{
                Caption = $null; Description = $null; ElementName = $null; InstanceID = "$($r.IPAddress)"
                Address = $null; AddressOrigin = [uint16]0; AddressType = [uint16]1; Enabled = $null
                IPv4Address = $(if ($v4) { $r.IPAddress } else { $null }); IPv6Address = $(if ($v4) { $null } else { $r.IPAddress }); SubnetMask = $null
                IPAddress = $r.IPAddress; InterfaceIndex = [uint32]$r.InterfaceIndex; InterfaceAlias = $r.InterfaceAlias
                AddressFamily = [FakeWindows.NetTCPIP.AddressFamily]$r.AddressFamily; Type = [FakeWindows.NetTCPIP.AddressType]::Unicast
                PrefixLength = [byte]$r.PrefixLength; PrefixOrigin = [FakeWindows.NetTCPIP.PrefixOrigin]$origin; SuffixOrigin = [FakeWindows.NetTCPIP.SuffixOrigin]$origin
                AddressState = [FakeWindows.NetTCPIP.AddressState]$r.AddressState
                ValidLifetime = [TimeSpan]::MaxValue; PreferredLifetime = [TimeSpan]::MaxValue; SkipAsSource = $false
                PolicyStore = 'ActiveStore'; Store = [FakeWindows.NetTCPIP.Store]::ActiveStore
            }) -Keys InstanceID
        Add-Member -InputObject $o -MemberType AliasProperty -Name ifIndex -Value InterfaceIndex
        $c.Out.Add($o)
    }
}

function Handle-Get-NetRoute($c) {
    $comp = Get-FakeCompartmentOf $c
    $rows = @(foreach ($a in (Get-FakeRows $c 'Get-NetIPAddress')) {
            if ($a.AddressFamily -ne 'IPv4') { continue }
            $b = ([System.Net.IPAddress]::Parse($a.IPAddress)).GetAddressBytes()
            for ($i = 0; $i -lt 4; $i++) { $keep = [Math]::Max(0, [Math]::Min(8, $a.PrefixLength - 8 * $i)); $b[$i] = $b[$i] -band ((0xFF -shl (8 - $keep)) -band 0xFF) }
            $net = [System.Net.IPAddress]::new($b)
            @{ DestinationPrefix = "$net/$($a.PrefixLength)"; NextHop = '0.0.0.0'; InterfaceIndex = $a.InterfaceIndex; InterfaceAlias = $a.InterfaceAlias; AddressFamily = 'IPv4'; CompartmentId = $comp[[int]$a.InterfaceIndex]; Protocol = 'Local' }
        }) + @(@{ DestinationPrefix = '0.0.0.0/0'; NextHop = '10.0.0.1'; InterfaceIndex = 6; InterfaceAlias = 'Ethernet'; AddressFamily = 'IPv4'; CompartmentId = 1; Protocol = 'NetMgmt' })
    $rows = Select-FakeCompartment $c $rows $comp
    $rows = Select-FakeRows $c $rows @{ DestinationPrefix = 'DestinationPrefix'; InterfaceIndex = 'InterfaceIndex'; InterfaceAlias = 'InterfaceAlias'; AddressFamily = 'AddressFamily'; NextHop = 'NextHop'; CompartmentId = 'CompartmentId' } MSFT_NetRoute -Required DestinationPrefix, InterfaceIndex, InterfaceAlias
    foreach ($r in $rows) {
        $c.Out.Add((New-FakeCim MSFT_NetRoute ([ordered]@{ Caption = $null; Description = $null; ElementName = $null; InstanceID = $r.DestinationPrefix
                        DestinationPrefix = $r.DestinationPrefix; NextHop = $r.NextHop; InterfaceIndex = [uint32]$r.InterfaceIndex; InterfaceAlias = $r.InterfaceAlias
                        AddressFamily = [FakeWindows.NetTCPIP.AddressFamily]$r.AddressFamily; CompartmentId = [uint32]$r.CompartmentId; RouteMetric = [uint16]256
                        Protocol = [FakeWindows.NetTCPIP.RouteProtocol]$r.Protocol; PolicyStore = 'ActiveStore'; Store = [FakeWindows.NetTCPIP.Store]::ActiveStore }) -Keys InstanceID))
    }
}

function Handle-Get-NetAdapter($c) {
    $rows = @(Get-FakeRows $c 'Get-NetAdapter' | Where-Object { $c.P.IncludeHidden -or -not $_.Hidden })
    if ($c.P.Physical) { $rows = @($rows | Where-Object { -not $_.Virtual }) }
    $rows = Select-FakeRows $c $rows @{ Name = 'Name'; InterfaceDescription = 'InterfaceDescription'; InterfaceIndex = 'InterfaceIndex' } MSFT_NetAdapter -Required Name, InterfaceDescription, InterfaceIndex
    foreach ($r in $rows) {
        $guid = ([guid]::new([Security.Cryptography.MD5]::HashData([Text.Encoding]::UTF8.GetBytes($r.Name)))).ToString('B').ToUpperInvariant()
        $o = New-FakeCim MSFT_NetAdapter ([ordered]@{
                Caption = $null; Description = $null; ElementName = $null; InstanceID = $guid
                Name = $r.Name; InterfaceDescription = $r.InterfaceDescription; InterfaceName = "ethernet_32768"; InterfaceIndex = [uint32]$r.InterfaceIndex
                InterfaceGuid = $guid; DeviceID = $guid; NetLuid = [uint64](1689399632855040 + [uint64]$r.InterfaceIndex)
                MacAddress = $r.MacAddress; PermanentAddress = ($r.MacAddress -replace '-', ''); NetworkAddresses = [string[]]@(($r.MacAddress -replace '-', ''))
                Virtual = [bool]$r.Virtual; Hidden = [bool]$r.Hidden; HardwareInterface = -not [bool]$r.Virtual
                MediaConnectState = [FakeWindows.NetAdapter.MediaConnectState]::Connected; Speed = [uint64]10000000000; LinkSpeed = '10 Gbps'
                ActiveMaximumTransmissionUnit = [uint32]1500; Status = $r.Status
            }) -Keys DeviceID
        Add-Member -InputObject $o -MemberType AliasProperty -Name ifIndex -Value InterfaceIndex
        Add-Member -InputObject $o -MemberType AliasProperty -Name ifAlias -Value Name
        Add-Member -InputObject $o -MemberType AliasProperty -Name ifDesc -Value InterfaceDescription
        $c.Out.Add($o)
    }
}
#endregion

#region Hyper-V, HostNetworkingService -------------------------------------------------------------
function Handle-Get-VMSwitch($c) {
    $rows = Get-FakeRows $c 'Get-VMSwitch'
    foreach ($r in $rows) {
        if ($c.P.Name -and $r.Name -notlike $c.P.Name) { continue }
        if ($c.P.Id -and @($c.P.Id | ForEach-Object { "$_" }) -notcontains $r.Id) { continue }
        if ($c.P.SwitchType -and @($c.P.SwitchType) -notcontains $r.SwitchType) { continue }
        $o = [pscustomobject][ordered]@{ ComputerName = $env:COMPUTERNAME; Name = $r.Name; Id = [guid]$r.Id; SwitchType = [FakeWindows.HyperV.VMSwitchType]$r.SwitchType
            NetAdapterInterfaceDescription = $(if ($r.SwitchType -eq 'External') { 'Microsoft Hyper-V Network Adapter' } else { '' }); AllowManagementOS = $r.SwitchType -ne 'Private'; Notes = ''; IsDeleted = $false
        }
        $o.PSObject.TypeNames.Insert(0, 'Microsoft.HyperV.PowerShell.VMSwitch')
        $c.Out.Add($o)
    }
    if ($c.P.Name -and -not [WildcardPattern]::ContainsWildcardCharacters($c.P.Name) -and $c.Out.Count -eq 0) {
        Add-FakeError $c "Hyper-V was unable to find a virtual switch with name `"$($c.P.Name)`"." ObjectNotFound ObjectNotFound $c.P.Name
    }
}

function Handle-Get-VMNetworkAdapter($c) {
    $rows = Get-FakeRows $c 'Get-VMNetworkAdapter'
    if (-not $c.P.All -and -not $c.P.ManagementOS) {
        $names = @($c.P.VMName) + @($c.P.VM | ForEach-Object Name) | Where-Object { $_ }
        foreach ($n in $names) { if (-not @($rows | Where-Object { $_.VMName -like $n })) { Add-FakeError $c "Hyper-V was unable to find a virtual machine with name `"$n`"." InvalidArgument InvalidParameter $n } }
        $rows = @($rows | Where-Object { $r = $_; $names | Where-Object { $r.VMName -like $_ } })
    } elseif ($c.P.ManagementOS) { $rows = @($rows | Where-Object { $_.IsManagementOs }) }
    foreach ($r in $rows) {
        if ($c.P.Name -and $r.Name -notlike $c.P.Name) { continue }
        $o = [pscustomobject]$r
        $o.PSObject.TypeNames.Insert(0, $(if ($r.IsManagementOs) { 'Microsoft.HyperV.PowerShell.VMInternalNetworkAdapter' } else { 'Microsoft.HyperV.PowerShell.VMNetworkAdapter' }))
        $c.Out.Add($o)
    }
}

<# HNS objects are plain PSCustomObjects parsed from HNS JSON (windows-capture.md 2.6). #>
function Get-FakeHns($c, [string]$Command) {
    $rows = @((Get-FakeInventory $c -AsObjects).$Command | Where-Object { $_ })
    if ($c.P.Id) {
        $rows = @($rows | Where-Object { $_.ID -eq $c.P.Id })
        # [U] what HNS answers for an unknown id (ERROR_NOT_FOUND).
        if (-not $rows) { return Add-FakeError $c 'Element not found.' ObjectNotFound 'HnsNotFound' $c.P.Id -2147023728 }
    }
    foreach ($r in $rows) { $c.Out.Add($r.PSObject.Copy()) }
}
function Handle-Get-HnsNetwork($c) { Get-FakeHns $c 'Get-HnsNetwork' }
function Handle-Get-HnsEndpoint($c) { Get-FakeHns $c 'Get-HnsEndpoint' }
function Handle-Get-HnsNamespace($c) { Get-FakeHns $c 'Get-HnsNamespace' }
#endregion

#region CimCmdlets, EventTracingManagement ---------------------------------------------------------
function Handle-Get-CimInstance($c) {
    $class = $c.P.ClassName
    if (-not $class -and $c.P.Query -match '(?i)\bfrom\s+(\w+)') { $class = $Matches[1] }
    if ($class -ne 'Win32_OperatingSystem') { return Add-FakeCimError $c 0x80041010 'Invalid class ' MetadataError $class }
    $os = $c.S.os
    $props = [ordered]@{ Caption = $os.caption; Description = ''; InstallDate = '2024-01-01T00:00:00'; Name = "$($os.caption)|C:\Windows|\Device\Harddisk0\Partition2"; Status = 'OK'
        CSName = $c.S.computerName; BuildNumber = [string]$os.build; BuildType = 'Multiprocessor Free'; OSArchitecture = '64-bit'; OSType = [uint16]18; ProductType = [uint32]3
        SystemDirectory = 'C:\Windows\system32'; Version = $os.version; WindowsDirectory = 'C:\Windows'; Locale = '0409'; CountryCode = '1'
    }
    if ($c.P.Property) { foreach ($k in @($props.Keys)) { if (@($c.P.Property) -notcontains $k) { $props[$k] = $null } } }
    $c.Out.Add((New-FakeCim Win32_OperatingSystem $props -Namespace 'root/cimv2' -Bases @('CIM_OperatingSystem') -Keys Name))
}

<# Running ETW sessions: the NetEventSession by its name, pktmon ("PktMon" [U]) and netsh trace (its sessionname; "NetTrace" [U] without one). #>
<# -FlushTimer on a running session: its file then grows while it runs (bin/fake-etw-flush.cjs). [U] the error for a session that does not run. #>
function Handle-Update-EtwTraceSession($c) {
    if (-not (Test-FakeAdmin $c)) { return }
    foreach ($n in @($c.P.Name)) {
        $s = @($c.S.sessions | Where-Object { $_ -and $_.name -eq $n -and $_.status -eq 'Running' }) | Select-Object -First 1
        $kind = $null; $file = $null
        if ($s) { $kind = "netevent:$($s.name)"; $file = Resolve-FakeHostPath $c $s.localFilePath }
        elseif ($n -eq 'PktMon' -and $c.S.pktmon.running) { $kind = 'pktmon'; $file = Resolve-FakeHostPath $c $c.S.pktmon.fileName }
        if (-not $kind) { Add-FakeCimError $c 0x80071069 'The instance name passed was not recognized as valid by a WMI data provider.' ObjectNotFound $n; continue }
        if ($c.P.ContainsKey('FlushTimer') -and $c.P.FlushTimer -gt 0) { Start-FakeFlusher $c $kind $file $c.P.FlushTimer }
        if ($c.P.PassThru) { $c.Out.Add((New-FakeCim MSFT_EtwTraceSession ([ordered]@{ Name = $n; FlushTimer = [uint32]$c.P.FlushTimer }) -Namespace 'root/Microsoft/Windows/EventTracingManagement' -Keys Name)) }
    }
}

function Handle-Get-EtwTraceSession($c) {
    $rows = @(@{ Name = 'EventLog-Application'; LogFileName = '' }, @{ Name = 'EventLog-System'; LogFileName = '' })
    foreach ($s in @($c.S.sessions | Where-Object { $_ -and $_.status -eq 'Running' })) { $rows += @{ Name = $s.name; LogFileName = $s.localFilePath } }
    if ($c.S.pktmon.running) { $rows += @{ Name = 'PktMon'; LogFileName = $c.S.pktmon.fileName } }
    if ($c.S.netsh.running) { $rows += @{ Name = $(if ($c.S.netsh.sessionName) { $c.S.netsh.sessionName } else { 'NetTrace' }); LogFileName = $c.S.netsh.traceFile } }
    foreach ($r in (Select-FakeRows $c $rows @{ Name = 'Name' } MSFT_EtwTraceSession -Required Name)) {
        $c.Out.Add((New-FakeCim MSFT_EtwTraceSession ([ordered]@{ Name = $r.Name; LogFileName = $r.LogFileName; BufferSize = [uint32]64; MinimumBuffers = [uint32]30; MaximumBuffers = [uint32]30; FlushTimer = [uint32]0; LogFileMode = [uint32]2 }) -Namespace 'root/Microsoft/Windows/EventTracingManagement' -Keys Name))
    }
}
#endregion

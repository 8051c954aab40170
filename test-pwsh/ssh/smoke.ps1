<#
  The controller side of test-pwsh/ssh-hosts.test.ts: ONE pwsh that opens SSH PowerShell sessions
  to a fleet of fake Windows hosts (ssh-hosts.ts) and measures what wnvcap's fleet capture relies
  on. The spec file (JSON) names the hosts, the attempts that must fail, the file to copy and the
  file by which a remote call asks the test to kill its host. Prints "@@begin/@@end <label>"
  around each failing attempt (PowerShell relays ssh's own message on stdout, outside the error
  record, so the test finds it between the markers) and, last, one line "@@result <json>".
#>
param([Parameter(Mandatory)][string] $SpecFile)
$ErrorActionPreference = 'Stop'
$spec = Get-Content -Raw -LiteralPath $SpecFile | ConvertFrom-Json
$result = [ordered]@{}

function Open-Session($target) {
    $key = if ($target.keyFile) { $target.keyFile } else { $spec.keyFile }
    New-PSSession -HostName $target.address -Port $target.port -UserName $spec.user -KeyFilePath $key -ErrorAction Stop
}

function Get-Ms([Diagnostics.Stopwatch] $sw) { [math]::Round($sw.Elapsed.TotalMilliseconds, 1) }

function Get-Stats([double[]] $ms) {
    $sorted = @($ms | Sort-Object)
    [ordered]@{ n = $sorted.Count; min = $sorted[0]; median = $sorted[[int][math]::Floor($sorted.Count / 2)]; max = $sorted[-1]; mean = [math]::Round(($sorted | Measure-Object -Average).Average, 1) }
}

# What a remedy can go by: the error record's fields, and how long the failing call took.
function Get-ErrorFields([Management.Automation.ErrorRecord] $e, [Diagnostics.Stopwatch] $sw) {
    [ordered]@{
        ms = Get-Ms $sw
        message = $e.Exception.Message
        record = "$e"
        exceptionType = $e.Exception.GetType().FullName
        innerException = "$($e.Exception.InnerException.Message)"
        errorId = $e.FullyQualifiedErrorId
        category = "$($e.CategoryInfo.Category)"
        errorDetails = "$($e.ErrorDetails)"
        transportErrorCode = "$($e.Exception.ErrorCode)"
    }
}

# One failing New-PSSession: the error record's fields, and the time it took.
function Test-Failure($target, [string] $label) {
    [Console]::Out.WriteLine("@@begin $label"); [Console]::Out.Flush()
    $sw = [Diagnostics.Stopwatch]::StartNew()
    $r = [ordered]@{ label = $label; address = $target.address; port = $target.port }
    try {
        $s = Open-Session $target
        $r.opened = $true
        Remove-PSSession $s
    } catch {
        $r.opened = $false
        $fields = Get-ErrorFields $_ $sw
        foreach ($k in $fields.Keys) { $r[$k] = $fields[$k] }
    }
    Start-Sleep -Milliseconds 300 # ssh's stderr is relayed by another thread
    [Console]::Out.WriteLine("@@end $label"); [Console]::Out.Flush()
    $r
}

# New-PSSession -SSHConnection with these hashtables: how many sessions, which errors (then closed again).
function Test-SshConnection([hashtable[]] $tables) {
    $errs = $null
    $opened = @(New-PSSession -SSHConnection $tables -ErrorAction SilentlyContinue -ErrorVariable errs)
    if ($opened) { Remove-PSSession $opened }
    [ordered]@{ keyOrder = $tables[0].Keys -join ','; sessions = $opened.Count; errors = @($errs | ForEach-Object { "$_" }) }
}

function Open-All {
    $sessions = [ordered]@{}
    $perHost = [ordered]@{}
    $all = [Diagnostics.Stopwatch]::StartNew()
    foreach ($h in $spec.hosts) {
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $sessions[$h.name] = Open-Session $h
        $perHost[$h.name] = Get-Ms $sw
    }
    $script:result.open = [ordered]@{ sequentialTotalMs = Get-Ms $all; perHostMs = $perHost }
    # The same hosts in one call: -SSHConnection opens them concurrently. Two traps (pwsh 7.6.9):
    # without ConnectingTimeout every host fails at once ("SSH connection attempt failed after time
    # out: 0 seconds."), and a Port key is lost whenever the hashtable enumerates HostName after it
    # (.NET randomizes string hashes per process), so ssh tries port 22. "address:port" in HostName works.
    $base = @($spec.hosts | ForEach-Object { @{ HostName = "$($_.address):$($_.port)"; UserName = $spec.user; KeyFilePath = $spec.keyFile } })
    $script:result.open.sshConnectionWithoutTimeout = Test-SshConnection $base
    $script:result.open.sshConnectionPortKey = Test-SshConnection @($spec.hosts | ForEach-Object { @{ HostName = $_.address; Port = $_.port; UserName = $spec.user; KeyFilePath = $spec.keyFile; ConnectingTimeout = 30000 } })
    $sw = [Diagnostics.Stopwatch]::StartNew()
    $many = New-PSSession -SSHConnection @($base | ForEach-Object { $_ + @{ ConnectingTimeout = 30000 } })
    $script:result.open.oneCallSSHConnectionMs = Get-Ms $sw
    $script:result.open.oneCallSessions = @($many).Count
    Remove-PSSession $many
    $sessions
}

function Test-Identity($list) {
    $script:result.identity = @(Invoke-Command -Session $list -ScriptBlock {
            [pscustomobject]@{
                computerName = $env:COMPUTERNAME
                newNetEventSession = (Get-Command New-NetEventSession -ErrorAction Ignore).Name
                docker = (Get-Command docker.exe -ErrorAction Ignore).Source
                pktmon = (Get-Command pktmon.exe -ErrorAction Ignore).Source
                hyperV = [bool](Get-Command Get-VMSwitch -ErrorAction Ignore)
                hns = [bool](Get-Command Get-HnsNetwork -ErrorAction Ignore)
                elevated = ([Security.Principal.WindowsPrincipal][Security.Principal.WindowsIdentity]::GetCurrent()).IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)
                stateFile = $env:WNVCAP_FAKE_STATE
                pid = $PID
            }
        } | ForEach-Object { $_ | Add-Member -NotePropertyName address -NotePropertyValue $_.PSComputerName -PassThru | Select-Object address, computerName, newNetEventSession, docker, pktmon, hyperV, hns, elevated, stateFile, pid })
    # The brief's literal script block: what comes back, as text, per host.
    $script:result.literal = @(Invoke-Command -Session $list -ScriptBlock { $env:COMPUTERNAME; (Get-Command New-NetEventSession -ErrorAction Ignore).Name; Get-Command docker.exe -ErrorAction Ignore } |
        ForEach-Object { [ordered]@{ address = $_.PSComputerName; text = "$_"; type = @($_.PSObject.TypeNames)[0] } })
}

function Test-State($s) {
    Invoke-Command -Session $s -ScriptBlock {
        $global:smokeCalls = 1
        $etl = Join-Path (Split-Path $env:WNVCAP_FAKE_STATE) 'smoke.etl'
        New-NetEventSession -Name 'wnvcap-ssh-smoke' -LocalFilePath $etl | Out-Null
    }
    $script:result.state = Invoke-Command -Session $s -ScriptBlock {
        [ordered]@{ calls = ++$global:smokeCalls; sessions = @(Get-NetEventSession | ForEach-Object Name); pid = $PID }
    }
}

function Test-Latency($s, $list) {
    $one = foreach ($i in 1..20) { $sw = [Diagnostics.Stopwatch]::StartNew(); $null = Invoke-Command -Session $s -ScriptBlock { $PID }; Get-Ms $sw }
    $fan = foreach ($i in 1..10) { $sw = [Diagnostics.Stopwatch]::StartNew(); $null = Invoke-Command -Session $list -ScriptBlock { $PID }; Get-Ms $sw }
    $script:result.latency = [ordered]@{ oneSessionMs = Get-Stats $one; allSessionsMs = Get-Stats $fan }
}

# -ThrottleLimit over SSH sessions: 1 s of work per host, at most N hosts at once.
function Test-Throttle($list) {
    $script:result.throttle = foreach ($limit in 1, 2, 32) {
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $r = @(Invoke-Command -Session $list -ThrottleLimit $limit -ScriptBlock { $t = [DateTime]::UtcNow; Start-Sleep -Milliseconds 1000; $t })
        $first = ($r | Sort-Object | Select-Object -First 1)
        [ordered]@{ limit = $limit; wallMs = Get-Ms $sw; startOffsetsMs = @($r | Sort-Object | ForEach-Object { [math]::Round(($_ - $first).TotalMilliseconds) }) }
    }
}

function Get-CpuMs {
    $me = [Diagnostics.Process]::GetCurrentProcess()
    $ssh = @(Get-Process -Name ssh -ErrorAction Ignore | Where-Object { $_.Parent.Id -eq $PID })
    $cpu = (Get-Content /proc/stat -TotalCount 1) -split '\s+' | Select-Object -Skip 1 | ForEach-Object { [long]$_ }
    [ordered]@{
        controller = $me.TotalProcessorTime.TotalMilliseconds
        ssh = ($ssh | ForEach-Object { $_.TotalProcessorTime.TotalMilliseconds } | Measure-Object -Sum).Sum
        machineBusy = (($cpu | Measure-Object -Sum).Sum - $cpu[3] - $cpu[4]) * 10 # USER_HZ 100: jiffies -> ms
    }
}

function Test-Copy($s) {
    $src = Invoke-Command -Session $s -ArgumentList $spec.copyMB -ScriptBlock {
        param($mb)
        $p = Join-Path (Split-Path $env:WNVCAP_FAKE_STATE) 'copy-source.bin'
        $b = [byte[]]::new($mb * 1MB)
        [Random]::new(20260101).NextBytes($b) # incompressible
        [IO.File]::WriteAllBytes($p, $b)
        $b = $null
        [GC]::Collect()
        [ordered]@{ path = $p; size = (Get-Item -LiteralPath $p).Length; hash = (Get-FileHash -Algorithm SHA256 -LiteralPath $p).Hash }
    }
    $remoteCpu = { [Diagnostics.Process]::GetCurrentProcess().TotalProcessorTime.TotalMilliseconds }
    $r0 = Invoke-Command -Session $s -ScriptBlock $remoteCpu
    $c0 = Get-CpuMs
    $sw = [Diagnostics.Stopwatch]::StartNew()
    Copy-Item -FromSession $s -Path $src.path -Destination $spec.copyDestination
    $wall = $sw.Elapsed.TotalSeconds
    $c1 = Get-CpuMs
    $r1 = Invoke-Command -Session $s -ScriptBlock $remoteCpu
    $local = Get-Item -LiteralPath $spec.copyDestination
    $script:result.copy = [ordered]@{
        remotePath = $src.path; size = $src.size; localSize = $local.Length
        remoteHash = $src.hash; localHash = (Get-FileHash -Algorithm SHA256 -LiteralPath $local.FullName).Hash
        wallSeconds = [math]::Round($wall, 2); mbPerSecond = [math]::Round($src.size / 1MB / $wall, 1)
        cpuMs = [ordered]@{
            controller = [math]::Round($c1.controller - $c0.controller); ssh = [math]::Round($c1.ssh - $c0.ssh)
            remotePwsh = [math]::Round($r1 - $r0); machineBusy = $c1.machineBusy - $c0.machineBusy
        }
    }
}

# A host that dies during a call: the remote side asks the test (a file) to kill its own host
# (sshd, connection, pwsh) and waits; what that call says, then the next call on the session.
function Test-HostDies($sessions) {
    $victim = $spec.kill.name
    $s = $sessions[$victim]
    $r = [ordered]@{ name = $victim }
    [Console]::Out.WriteLine('@@begin host-dies'); [Console]::Out.Flush()
    $sw = [Diagnostics.Stopwatch]::StartNew()
    try {
        $r.duringCall = Invoke-Command -Session $s -ArgumentList $spec.kill.request -ErrorAction Stop -ScriptBlock {
            param($request)
            [IO.File]::WriteAllText($request, $env:COMPUTERNAME)
            Start-Sleep -Seconds 30
            'survived'
        }
    } catch {
        $r.duringCall = Get-ErrorFields $_ $sw
    }
    Start-Sleep -Milliseconds 300 # ssh's stderr is relayed by another thread
    [Console]::Out.WriteLine('@@end host-dies'); [Console]::Out.Flush()
    $r.stateAfterCall = "$($s.State)"
    $sw = [Diagnostics.Stopwatch]::StartNew()
    try {
        $r.nextCall = Invoke-Command -Session $s -ScriptBlock { $PID } -ErrorAction Stop
    } catch {
        $r.nextCall = Get-ErrorFields $_ $sw
    }
    $others = @($sessions.Keys | Where-Object { $_ -ne $victim } | ForEach-Object { $sessions[$_] })
    $r.othersAnswer = @(Invoke-Command -Session $others -ScriptBlock { $env:COMPUTERNAME } | Sort-Object)
    $script:result.hostDies = $r
    $script:result.failures += @(Test-Failure ($spec.hosts | Where-Object name -eq $victim) 'killed-host-new-session')
}

function Get-PeakRss {
    $st = Get-Content "/proc/$PID/status"
    [ordered]@{
        vmHwmKb = [long](($st | Select-String '^VmHWM:\s+(\d+)').Matches[0].Groups[1].Value)
        vmRssKb = [long](($st | Select-String '^VmRSS:\s+(\d+)').Matches[0].Groups[1].Value)
    }
}

try {
    $sessions = Open-All
    $list = @($sessions.Values)
    $result.failures = @(foreach ($f in $spec.failures) { Test-Failure $f $f.label })
    Test-Identity $list
    $first = $sessions[$spec.hosts[0].name]
    Test-State $first
    Test-Latency $first $list
    Test-Throttle $list
    Test-Copy $first
    $result.remotePeakRss = @(Invoke-Command -Session $list -ScriptBlock { [ordered]@{ computerName = $env:COMPUTERNAME; vmHwmKb = [long]((Get-Content "/proc/$PID/status" | Select-String '^VmHWM:\s+(\d+)').Matches[0].Groups[1].Value) } })
    Test-HostDies $sessions
    $sw = [Diagnostics.Stopwatch]::StartNew()
    Get-PSSession | Remove-PSSession
    $result.removeMs = Get-Ms $sw
    $result.sessionsLeft = @(Get-PSSession).Count
} catch {
    $result.error = "$_ $($_.InvocationInfo.PositionMessage)"
} finally {
    $result.controllerRss = Get-PeakRss
    [Console]::Out.WriteLine('@@result ' + ($result | ConvertTo-Json -Depth 8 -Compress))
}

<#
ScheduledTasks behaviour (windows-capture.md 4): objects with the real property names, and
what Register-ScheduledTask stores, as Windows would store it.
Dot-sourced by FakeWindows.Core.psm1: these functions live in that module's scope. Each
Handle-<Cmdlet> gets the call context $c (.Cmd, .P bound parameters, .S the state hashtable,
.Out objects to write, .Err errors to write) and changes $c.S, which is saved afterwards.
#>

#region ScheduledTasks ---------------------------------------------------------------------------
function ConvertTo-FakeTaskTime([datetime]$d) {
    # StartBoundary keeps the offset of the DateTime the caller gave: Z for UTC, the local offset otherwise.
    if ($d.Kind -eq [DateTimeKind]::Utc) { return $d.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'") }
    ([DateTimeOffset]::new([datetime]::SpecifyKind($d, [DateTimeKind]::Local))).ToString("yyyy-MM-dd'T'HH:mm:sszzz")
}
function ConvertTo-FakeDuration($t) { if ($null -eq $t) { return $null } [Xml.XmlConvert]::ToString([timespan]$t) }

function ConvertTo-FakeTaskAction($a) {
    New-FakeCim MSFT_TaskExecAction ([ordered]@{ Id = $a.id; Arguments = $a.arguments; Execute = $a.execute; WorkingDirectory = $a.workingDirectory; PSComputerName = $null }) -Namespace $script:TaskNS -Bases @('MSFT_TaskAction')
}
function ConvertTo-FakeTaskTrigger($t) {
    $rep = New-FakeCim MSFT_TaskRepetitionPattern ([ordered]@{ Duration = $t.repetition.duration; Interval = $t.repetition.interval; StopAtDurationEnd = $false; PSComputerName = $null }) -Namespace $script:TaskNS
    $props = [ordered]@{ Enabled = $true; EndBoundary = $t.endBoundary; ExecutionTimeLimit = $null; Id = $null; Repetition = $rep; StartBoundary = $t.startBoundary; RandomDelay = $t.randomDelay }
    switch ($t.className) {
        'MSFT_TaskDailyTrigger' { $props.DaysInterval = [uint16]$t.daysInterval }
        'MSFT_TaskWeeklyTrigger' { $props.DaysOfWeek = [uint16]$t.daysOfWeek; $props.WeeksInterval = [uint16]$t.weeksInterval }
        'MSFT_TaskLogonTrigger' { $props.UserId = $t.user }
    }
    $props.PSComputerName = $null
    New-FakeCim $t.className $props -Namespace $script:TaskNS -Bases @('MSFT_TaskTrigger')
}
function ConvertTo-FakeTaskPrincipal($p) {
    New-FakeCim MSFT_TaskPrincipal2 ([ordered]@{ DisplayName = $null; GroupId = $p.groupId; Id = $p.id; LogonType = [FakeWindows.ScheduledTasks.LogonTypeEnum]$p.logonType; RunLevel = [FakeWindows.ScheduledTasks.RunLevelEnum]$p.runLevel; UserId = $p.userId; ProcessTokenSidType = [FakeWindows.ScheduledTasks.ProcessTokenSidTypeEnum]$p.processTokenSidType; RequiredPrivilege = $p.requiredPrivilege; PSComputerName = $null }) -Namespace $script:TaskNS -Bases @('MSFT_TaskPrincipal')
}
function ConvertTo-FakeTaskSettings($s) {
    $props = [ordered]@{}
    foreach ($k in $s.Keys) { if ($k -ne 'className') { $props[$k.Substring(0, 1).ToUpper() + $k.Substring(1)] = $s[$k] } }
    $props.MultipleInstances = [FakeWindows.ScheduledTasks.MultipleInstancesEnum]$s.multipleInstances
    $props.Compatibility = [FakeWindows.ScheduledTasks.CompatibilityEnum]$s.compatibility
    $props.PSComputerName = $null
    New-FakeCim MSFT_TaskSettings3 $props -Namespace $script:TaskNS -Bases @('MSFT_TaskSettings2', 'MSFT_TaskSettings')
}
function ConvertTo-FakeTask($t) {
    New-FakeCim MSFT_ScheduledTask ([ordered]@{
            Actions = @($t.actions | ForEach-Object { ConvertTo-FakeTaskAction $_ }); Author = $t.author; Date = $t.date; Description = $t.description; Documentation = $null
            Principal = (ConvertTo-FakeTaskPrincipal $t.principal); SecurityDescriptor = $null; Settings = (ConvertTo-FakeTaskSettings $t.settings); Source = $null
            State = [FakeWindows.ScheduledTasks.StateEnum]$t.state; TaskName = $t.taskName; TaskPath = $t.taskPath; Triggers = @($t.triggers | ForEach-Object { ConvertTo-FakeTaskTrigger $_ })
            URI = $t.taskPath + $t.taskName; Version = $null; PSComputerName = $null
        }) -Namespace $script:TaskNS -Keys TaskName, TaskPath
}

function Handle-New-ScheduledTaskAction($c) {
    $c.Out.Add((ConvertTo-FakeTaskAction @{ id = $c.P.Id; execute = $c.P.Execute; arguments = $c.P.Argument; workingDirectory = $c.P.WorkingDirectory }))
}

function Handle-New-ScheduledTaskTrigger($c) {
    $P = $c.P
    $kind = @('Once', 'Daily', 'Weekly', 'AtStartup', 'AtLogOn') | Where-Object { $P[$_] } | Select-Object -First 1
    $class = @{ Once = 'MSFT_TaskTimeTrigger'; Daily = 'MSFT_TaskDailyTrigger'; Weekly = 'MSFT_TaskWeeklyTrigger'; AtStartup = 'MSFT_TaskBootTrigger'; AtLogOn = 'MSFT_TaskLogonTrigger' }[$kind]
    $days = 0
    foreach ($d in @($P.DaysOfWeek | Where-Object { $_ })) { $days = $days -bor (1 -shl [int][DayOfWeek]$d) }   # Sunday = 1, Monday = 2, ...
    $t = @{ className = $class; startBoundary = $(if ($P.ContainsKey('At')) { ConvertTo-FakeTaskTime $P.At } else { $null }); endBoundary = $null
        repetition = @{ interval = (ConvertTo-FakeDuration $P.RepetitionInterval); duration = (ConvertTo-FakeDuration $P.RepetitionDuration) }
        randomDelay = (ConvertTo-FakeDuration $P.RandomDelay); daysInterval = $(if ($P.DaysInterval) { $P.DaysInterval } else { 1 }); weeksInterval = $(if ($P.WeeksInterval) { $P.WeeksInterval } else { 1 }); daysOfWeek = $days; user = $P.User
    }
    $c.Out.Add((ConvertTo-FakeTaskTrigger $t))
}

function Handle-New-ScheduledTaskPrincipal($c) {
    $P = $c.P
    $c.Out.Add((ConvertTo-FakeTaskPrincipal @{ userId = $P.UserId; groupId = $P.GroupId; id = $(if ($P.Id) { $P.Id } else { 'Author' })
                logonType = $(if ($P.LogonType) { [string]$P.LogonType } elseif ($P.GroupId) { 'Group' } else { 'Interactive' }); runLevel = $(if ($P.RunLevel) { [string]$P.RunLevel } else { 'Limited' })
                processTokenSidType = $(if ($P.ProcessTokenSidType) { [string]$P.ProcessTokenSidType } else { 'Default' }); requiredPrivilege = $P.RequiredPrivilege
            }))
}

<# The settings record New-ScheduledTaskSettingsSet makes from its bound parameters (all defaults for @{}). #>
function New-FakeTaskSettings([hashtable]$P) {
    $flag = { param($n) [bool]$P[$n] }
    $s = [ordered]@{
        allowDemandStart = -not (& $flag DisallowDemandStart); allowHardTerminate = -not (& $flag DisallowHardTerminate); compatibility = $(if ($P.Compatibility) { [string]$P.Compatibility } else { 'Win8' })
        deleteExpiredTaskAfter = (ConvertTo-FakeDuration $P.DeleteExpiredTaskAfter); disallowStartIfOnBatteries = -not (& $flag AllowStartIfOnBatteries); enabled = -not (& $flag Disable)
        # Task Scheduler's own default limit is 72 hours ([U] for the cmdlet default, windows-capture.md 4).
        executionTimeLimit = $(if ($P.ContainsKey('ExecutionTimeLimit')) { ConvertTo-FakeDuration $P.ExecutionTimeLimit } else { 'PT72H' })
        hidden = & $flag Hidden; multipleInstances = $(if ($P.MultipleInstances) { [string]$P.MultipleInstances } else { 'IgnoreNew' })
        priority = $(if ($P.ContainsKey('Priority')) { [int]$P.Priority } else { 7 }); restartCount = [int]$P.RestartCount; restartInterval = (ConvertTo-FakeDuration $P.RestartInterval)
        runOnlyIfIdle = & $flag RunOnlyIfIdle; runOnlyIfNetworkAvailable = & $flag RunOnlyIfNetworkAvailable; startWhenAvailable = & $flag StartWhenAvailable
        stopIfGoingOnBatteries = -not (& $flag DontStopIfGoingOnBatteries); wakeToRun = & $flag WakeToRun; disallowStartOnRemoteAppSession = & $flag DisallowStartOnRemoteAppSession
    }
    $s
}

function Handle-New-ScheduledTaskSettingsSet($c) { $c.Out.Add((ConvertTo-FakeTaskSettings (New-FakeTaskSettings $c.P))) }

<# Task objects back to state records (they must be the fake CIM instances New-ScheduledTask* made). #>
function ConvertFrom-FakeCimList($c, $Objects, [string]$Base, [string]$Param) {
    foreach ($o in @($Objects | Where-Object { $null -ne $_ })) {
        $cls = Get-FakeCimClass $o
        if (-not $cls -or -not (@($o.PSObject.TypeNames) -like "*#$Base")) {
            Add-FakeError $c "Cannot process argument transformation on parameter '$Param'. Cannot convert value to type `"Microsoft.Management.Infrastructure.CimInstance`"." InvalidArgument ParameterArgumentTransformationError $o
            return $null
        }
        $h = @{ className = $cls }
        foreach ($p in $o.PSObject.Properties) {
            if ($p.Name -in 'CimClass', 'CimInstanceProperties', 'CimSystemProperties', 'PSComputerName') { continue }
            $v = $p.Value
            $h[$p.Name.Substring(0, 1).ToLower() + $p.Name.Substring(1)] = if ($v -is [enum]) { $v.ToString() } elseif ($null -ne $v -and $v.PSObject.Properties['CimSystemProperties']) { @{ interval = $v.Interval; duration = $v.Duration } } else { $v }
        }
        $h
    }
}

function Find-FakeTasks($c) {
    $tasks = @($c.S.tasks | Where-Object { $_ })
    if ($c.P.InputObject) { return , @($tasks | Where-Object { $t = $_; @($c.P.InputObject | Where-Object { $_.TaskName -eq $t.taskName -and $_.TaskPath -eq $t.taskPath }) }) }
    Select-FakeRows $c $tasks ([ordered]@{ TaskPath = 'taskPath'; TaskName = 'taskName' }) MSFT_ScheduledTask -Required TaskName, TaskPath
}

function Handle-Register-ScheduledTask($c) {
    if (-not (Test-FakeAdmin $c)) { return }
    $P = $c.P
    if (-not $P.Action) { return Add-FakeError $c 'Register-ScheduledTask: only the -Action form is modelled by the fake host.' NotImplemented FakeWindowsNotModelled }
    $actions = @(ConvertFrom-FakeCimList $c $P.Action 'MSFT_TaskAction' Action)
    $triggers = @(ConvertFrom-FakeCimList $c $P.Trigger 'MSFT_TaskTrigger' Trigger)
    $principal = if ($P.Principal) { ConvertFrom-FakeCimList $c $P.Principal 'MSFT_TaskPrincipal' Principal } else { @{ userId = $(if ($P.User) { $P.User } else { "$($c.S.computerName)\Administrator" }); logonType = 'Interactive'; runLevel = $(if ($P.RunLevel) { [string]$P.RunLevel } else { 'Limited' }); id = 'Author'; processTokenSidType = 'Default' } }
    $settings = if ($P.Settings) { ConvertFrom-FakeCimList $c $P.Settings 'MSFT_TaskSettings' Settings } else { New-FakeTaskSettings @{} }
    if ($c.Err.Count) { return }
    foreach ($a in $actions) {
        # [U] Task Scheduler validates the start-in directory of an exec action at registration (ERROR_DIRECTORY);
        # Windows may instead report 0x8007010B only as the task's LastTaskResult when it runs.
        if ($a.workingDirectory -and -not (Test-Path -LiteralPath $a.workingDirectory -PathType Container)) { return Add-FakeCimError $c 0x8007010B 'The directory name is invalid.' InvalidArgument $a.workingDirectory }
    }
    foreach ($t in $triggers) {
        # [U] windows-capture.md 4: a MaxValue RepetitionDuration is rejected on newer Windows.
        if ($t.repetition.duration -and [Xml.XmlConvert]::ToTimeSpan($t.repetition.duration) -eq [TimeSpan]::MaxValue) { return Add-FakeCimError $c 0x80041318 'The task XML contains a value which is incorrectly formatted or out of range.' InvalidArgument $t.repetition.duration }
    }
    $path = if ($P.TaskPath) { $P.TaskPath } else { '\' }
    if (-not $path.StartsWith('\')) { $path = '\' + $path }
    if (-not $path.EndsWith('\')) { $path += '\' }
    $existing = @($c.S.tasks | Where-Object { $_ -and $_.taskName -eq $P.TaskName -and $_.taskPath -eq $path })
    # [U] -Force replaces a task of the same name (windows-capture.md 4); without it ERROR_ALREADY_EXISTS.
    if ($existing -and -not $P.Force) { return Add-FakeCimError $c 0x800700B7 'Cannot create a file when that file already exists.' ResourceExists $P.TaskName }
    $task = [ordered]@{
        taskName = $P.TaskName; taskPath = $path; description = $P.Description; author = "$($c.S.computerName)\Administrator"; date = ([DateTimeOffset]::Now.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffffzzz"))
        state = 'Ready'; actions = $actions; triggers = $triggers; principal = $principal; settings = $settings
        lastRunTime = $null; lastTaskResult = 267011; numberOfRuns = 0
    }
    $c.S.tasks = @($c.S.tasks | Where-Object { $_ -and -not ($_.taskName -eq $P.TaskName -and $_.taskPath -eq $path) }) + @($task)
    $c.Out.Add((ConvertTo-FakeTask $task))
}

function Handle-Get-ScheduledTask($c) { foreach ($t in (Find-FakeTasks $c)) { $c.Out.Add((ConvertTo-FakeTask $t)) } }

function Handle-Unregister-ScheduledTask($c) {
    if (-not (Test-FakeAdmin $c)) { return }
    foreach ($t in (Find-FakeTasks $c)) {
        $c.S.tasks = @($c.S.tasks | Where-Object { $_ -and -not ($_.taskName -eq $t.taskName -and $_.taskPath -eq $t.taskPath) })
        if ($c.P.PassThru) { $c.Out.Add((ConvertTo-FakeTask $t)) }
    }
}

function Handle-Get-ScheduledTaskInfo($c) {
    foreach ($t in (Find-FakeTasks $c)) {
        $c.Out.Add((New-FakeCim MSFT_TaskDynamicInfo ([ordered]@{ LastRunTime = $t.lastRunTime; LastTaskResult = [uint32]$t.lastTaskResult; NextRunTime = $null; NumberOfMissedRuns = [uint32]0; TaskName = $t.taskName; TaskPath = $t.taskPath; PSComputerName = $null }) -Namespace $script:TaskNS))
    }
}

function Handle-Start-ScheduledTask($c) {
    if (-not (Test-FakeAdmin $c)) { return }
    foreach ($t in (Find-FakeTasks $c)) {
        # Starts asynchronously (Doc): the fake records the run; nothing is executed.
        $t.state = 'Running'; $t.lastRunTime = [DateTimeOffset]::Now.ToString('o'); $t.lastTaskResult = 267009; $t.numberOfRuns = 1 + [int]$t.numberOfRuns
    }
}

function Handle-Stop-ScheduledTask($c) {
    if (-not (Test-FakeAdmin $c)) { return }
    foreach ($t in (Find-FakeTasks $c)) { if ($t.state -eq 'Running') { $t.state = 'Ready'; $t.lastTaskResult = 267014 } }   # SCHED_S_TASK_TERMINATED
}
#endregion

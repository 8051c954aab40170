// Types of the fake Windows host (test-pwsh/fake-windows). Compiled once by generate.ts into
// FakeWindows.Types.dll (loaded at pwsh start through DOTNET_STARTUP_HOOKS, and by
// FakeWindows.Core.psm1 when a fake module loads), or Add-Type'd from this source as a fallback.
//
// Enum numbers: where windows-capture.md gives them they are copied; the others are marked [U]
// (unverified: the most plausible choice, not confirmed by a primary source).
using System;
using System.IO;
using System.Text.Json;

/// <summary>.NET startup hook (DOTNET_STARTUP_HOOKS): loading this assembly at process start is
/// the whole point, so that the type literals below win before any script is compiled.</summary>
internal static class StartupHook
{
    public static void Initialize() { }
}

// The elevation check wnvcap runs:
//   ([Security.Principal.WindowsPrincipal][Security.Principal.WindowsIdentity]::GetCurrent()).IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)
// On Linux System.Security.Principal.WindowsIdentity.GetCurrent() throws PlatformNotSupportedException.
// PowerShell resolves a type literal by its exact full name before trying the "System." prefix, so
// these types win, provided they are loaded before the script that names them is compiled (the
// resolution is cached per process).
namespace Security.Principal
{
    public enum WindowsBuiltInRole
    {
        Administrator = 544, User = 545, Guest = 546, PowerUser = 547, AccountOperator = 548,
        SystemOperator = 549, PrintOperator = 550, BackupOperator = 551, Replicator = 552,
    }

    public sealed class WindowsIdentity
    {
        public static WindowsIdentity GetCurrent() { return new WindowsIdentity(); }
        public static WindowsIdentity GetCurrent(bool ifImpersonating) { return ifImpersonating ? null : new WindowsIdentity(); }
        public string Name { get { return (Environment.GetEnvironmentVariable("COMPUTERNAME") ?? "FAKEHOST") + "\\Administrator"; } }
        public string AuthenticationType { get { return "NTLM"; } }
        public bool IsAuthenticated { get { return true; } }
        public bool IsSystem { get { return false; } }
        public override string ToString() { return Name; }
    }

    public sealed class WindowsPrincipal
    {
        private readonly WindowsIdentity identity;
        public WindowsPrincipal(WindowsIdentity ntIdentity) { identity = ntIdentity ?? throw new ArgumentNullException("ntIdentity"); }
        public WindowsIdentity Identity { get { return identity; } }
        public bool IsInRole(WindowsBuiltInRole role) { return role == WindowsBuiltInRole.Administrator ? FakeWindows.FakeState.Elevated() : role == WindowsBuiltInRole.User; }
        public bool IsInRole(int rid) { return IsInRole((WindowsBuiltInRole)rid); }
        public bool IsInRole(string role) { return string.Equals(role, "BUILTIN\\Administrators", StringComparison.OrdinalIgnoreCase) ? FakeWindows.FakeState.Elevated() : false; }
    }
}

// CDXML cmdlet errors carry a CimException (windows-capture.md 1.10). The real type lives in
// Microsoft.Management.Infrastructure.dll, which PowerShell on Linux does not ship.
namespace Microsoft.Management.Infrastructure
{
    public class CimException : Exception
    {
        public CimException(string message, int hresult, uint nativeErrorCode, string messageId) : base(message)
        {
            HResult = hresult;
            NativeErrorCode = nativeErrorCode;
            MessageId = messageId;
            StatusCode = (int)nativeErrorCode;
        }
        /// <summary>[U] simplified: the real property is the MI_RESULT enum NativeErrorCode.</summary>
        public uint NativeErrorCode { get; private set; }
        public int StatusCode { get; private set; }
        public string MessageId { get; private set; }
    }
}

// CDXML queries that find nothing (CmdletizationQuery_NotFound_*) carry a CimJobException.
namespace Microsoft.PowerShell.Cmdletization.Cim
{
    public class CimJobException : Exception
    {
        public CimJobException(string message) : base(message) { }
    }
}

namespace FakeWindows
{
    public static class FakeState
    {
        /// <summary>"elevated" of the state file named by WNVCAP_FAKE_STATE (false when unreadable).</summary>
        public static bool Elevated()
        {
            string path = Environment.GetEnvironmentVariable("WNVCAP_FAKE_STATE");
            if (string.IsNullOrEmpty(path)) return false;
            for (int attempt = 0; attempt < 20; attempt++)
            {
                try
                {
                    using (JsonDocument doc = JsonDocument.Parse(File.ReadAllText(path)))
                    {
                        JsonElement e;
                        return doc.RootElement.TryGetProperty("elevated", out e) && e.ValueKind == JsonValueKind.True;
                    }
                }
                catch (IOException) { System.Threading.Thread.Sleep(5); }
                catch (JsonException) { System.Threading.Thread.Sleep(5); }
            }
            return false;
        }
    }
}

namespace FakeWindows.NetEventPacketCapture
{
    // MS-LREC fixes RealtimeRPC = 2; [U] SaveToFile = 1 and RealtimeLocal = 3.
    public enum CaptureModes : byte { SaveToFile = 1, RealtimeRPC = 2, RealtimeLocal = 3 }
    // [U] the cmdlet enum's numbers (MS-LREC's remote protocol uses Stopped = 1, Running = 2).
    public enum SessionStatus : byte { Running = 0, NotRunning = 1 }
    // [U] numbers.
    public enum CaptureType : byte { Physical = 1, Switch = 2, BothPhysicalAndSwitch = 3 }
    // [U] numbers.
    public enum VmCaptureDirection : byte { Ingress = 1, Egress = 2, IngressAndEgress = 3 }
    // [U] numbers, and whether it is a [Flags] enum.
    [Flags] public enum WFPCaptureSet : byte { IPv4Inbound = 1, IPv4Outbound = 2, IPv6Inbound = 4, IPv6Outbound = 8 }
    // [U] numbers.
    public enum VFPFlowDirection : uint { Inbound = 1, Outbound = 2, InboundAndOutbound = 3 }
}

namespace FakeWindows.NetTCPIP
{
    // windows-capture.md 2.1-2.3 (Win32 WMI class pages).
    public enum AddressFamily : ushort { IPv4 = 2, IPv6 = 23 }
    public enum AddressType : byte { Unicast = 1, Anycast = 2 }
    public enum PrefixOrigin : ushort { Other = 0, Manual = 1, WellKnown = 2, Dhcp = 3, RouterAdvertisement = 4 }
    public enum SuffixOrigin : ushort { Other = 0, Manual = 1, WellKnown = 2, Dhcp = 3, Link = 4, Random = 5 }
    public enum AddressState : ushort { Invalid = 0, Tentative = 1, Duplicate = 2, Deprecated = 3, Preferred = 4 }
    public enum Store : byte { PersistentStore = 0, ActiveStore = 1 }
    public enum ConnectionState : byte { Disconnected = 0, Connected = 1 }
    public enum Dhcp : byte { Disabled = 0, Enabled = 1 }
    public enum Forwarding : byte { Disabled = 0, Enabled = 1 }
    public enum CompartmentType : uint { Unspecified = 0, Native = 1, RoutingDomain = 2 }
    // [U] RFC 4292 ipRouteProto numbering.
    public enum RouteProtocol : ushort { Other = 1, Local = 2, NetMgmt = 3, Dhcp = 19 }
}

namespace FakeWindows.NetAdapter
{
    public enum MediaConnectState : uint { Unknown = 0, Connected = 1, Disconnected = 2 }
}

namespace FakeWindows.HyperV
{
    public enum VMSwitchType : int { Private = 0, Internal = 1, External = 2 }
}

namespace FakeWindows.ScheduledTasks
{
    // Task Scheduler API TASK_STATE; [U] that the CIM enum uses the same numbers.
    public enum StateEnum : uint { Unknown = 0, Disabled = 1, Queued = 2, Ready = 3, Running = 4 }
    // TASK_LOGON_TYPE, TASK_RUNLEVEL_TYPE, TASK_INSTANCES_POLICY, TASK_COMPATIBILITY.
    public enum LogonTypeEnum : uint { None = 0, Password = 1, S4U = 2, Interactive = 3, Group = 4, ServiceAccount = 5, InteractiveOrPassword = 6 }
    public enum RunLevelEnum : uint { Limited = 0, Highest = 1 }
    public enum MultipleInstancesEnum : uint { Parallel = 0, Queue = 1, IgnoreNew = 2, StopExisting = 3 }
    public enum CompatibilityEnum : uint { At = 0, V1 = 1, Vista = 2, Win7 = 3, Win8 = 4 }
    public enum ProcessTokenSidTypeEnum : uint { None = 0, Unrestricted = 1, Default = 2 }
}

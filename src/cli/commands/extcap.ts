/**
 * `wnvcap extcap`: Wireshark's extcap interface (doc/extcap.adoc in Wireshark's sources). Wireshark
 * runs the launcher that `wnvcap extcap install` puts in its extcap folder with --extcap-interfaces,
 * --extcap-dlts, --extcap-config, then --capture --fifo <pipe> with the values the user set: a
 * target (container, compartment, VM or MAC) on this host, the simulated host, or a host over
 * remoting. The capture is `sniff`'s, followed: its packets go into the pipe within seconds of
 * being captured (run/follow.ts), so Wireshark's Stop keeps what it has shown. On Linux and macOS the
 * Stop is a SIGTERM, and the session is stopped and removed first (Wireshark kills the extcap 30 s
 * later); on Windows Wireshark ends the launcher at once, and the wnvcap it started runs on to its
 * Duration and removes its session then. Anything on stderr is an error to Wireshark: a capture
 * logs warnings only.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { UsageError } from '../../util/errors.js';
import { defaultOutDir } from '../../util/paths.js';
import { VERSION } from '../../version.js';
import { defineCommand } from '../command.js';
import type { CliContext } from '../context.js';
import { quietStderr } from '../logging.js';
import { selfCommand } from '../self-command.js';
import { sniff } from './sniff.js';

export const EXTCAP_INTERFACE = 'wnvcap';

interface ExtcapArgs {
  action: 'install' | undefined;
  folder: string | undefined;
  interfaces: boolean;
  iface: string | undefined;
  dlts: boolean;
  config: boolean;
  capture: boolean;
  fifo: string | undefined;
  captureFilter: string | undefined;
  target: string | undefined;
  host: string | undefined;
  transport: 'ssh' | 'winrm';
  user: string | undefined;
  key: string | undefined;
  profile: string | undefined;
  duration: string;
  snaplen: number | undefined;
  simulate: boolean;
  out: string;
}

export default defineCommand({
  command: 'extcap [action]',
  describe: 'Wireshark extcap: a container, compartment, VM or MAC as a capture interface (install: into Wireshark\'s extcap folder)',
  options: (y, ctx) => y
    .positional('action', { choices: ['install'] as const, describe: 'install: put the launcher into Wireshark\'s extcap folder' })
    .option('folder', { type: 'string', describe: 'install: this extcap folder (default: the one tshark -G folders names)' })
    .option('extcap-interfaces', { type: 'boolean', default: false, hidden: true })
    .option('extcap-version', { type: 'string', hidden: true })
    .option('extcap-interface', { type: 'string', hidden: true })
    .option('extcap-dlts', { type: 'boolean', default: false, hidden: true })
    .option('extcap-config', { type: 'boolean', default: false, hidden: true })
    .option('extcap-capture-filter', { type: 'string', hidden: true })
    .option('capture', { type: 'boolean', default: false, hidden: true })
    .option('fifo', { type: 'string', hidden: true })
    .option('target', { type: 'string', hidden: true })
    .option('host', { type: 'string', hidden: true })
    .option('transport', { type: 'string', choices: ['ssh', 'winrm'] as const, default: 'ssh' as const, hidden: true })
    .option('user', { type: 'string', hidden: true })
    .option('key', { type: 'string', hidden: true })
    .option('profile', { type: 'string', hidden: true })
    .option('duration', { type: 'string', default: '60s', hidden: true })
    .option('snaplen', { type: 'number', hidden: true })
    .option('simulate', { type: 'boolean', default: false, hidden: true })
    .option('out', { type: 'string', default: defaultOutDir(process.platform, ctx.env), hidden: true }),
  args: (a): ExtcapArgs => ({
    action: a.action, folder: a.folder, interfaces: a.extcapInterfaces, iface: a.extcapInterface, dlts: a.extcapDlts, config: a.extcapConfig,
    capture: a.capture, fifo: a.fifo, captureFilter: a.extcapCaptureFilter, target: a.target, host: a.host, transport: a.transport, user: a.user,
    key: a.key, profile: a.profile, duration: a.duration, snaplen: a.snaplen, simulate: a.simulate, out: a.out,
  }),
  run: runExtcap,
});

async function runExtcap(a: ExtcapArgs, ctx: CliContext): Promise<number> {
  if (a.action === 'install') return install(a.folder, ctx);
  if (a.interfaces) {
    ctx.stdout(`extcap {version=${VERSION.version}}\n`);
    ctx.stdout(`interface {value=${EXTCAP_INTERFACE}}{display=wnvcap: a Windows container, compartment or VM}\n`);
    return 0;
  }
  if (a.iface !== undefined && a.iface !== EXTCAP_INTERFACE) throw new UsageError(`no extcap interface "${a.iface}" (wnvcap has "${EXTCAP_INTERFACE}")`);
  if (a.dlts) {
    ctx.stdout('dlt {number=1}{name=EN10MB}{display=Ethernet (pcapng: each interface its own link type)}\n');
    return 0;
  }
  if (a.config) {
    ctx.stdout(extcapConfig(a.out));
    return 0;
  }
  if (a.capture) return capture(a, ctx);
  if (a.captureFilter !== undefined) {
    // Wireshark checks a capture filter this way: whatever is printed is why it is refused.
    ctx.stdout('wnvcap takes no capture filter: it captures the Target; use a display filter\n');
    return 0;
  }
  throw new UsageError('wnvcap extcap is run by Wireshark (--extcap-interfaces, --extcap-config, --capture --fifo); to set it up: wnvcap extcap install');
}

/** The settings Wireshark shows for the interface (one line each, extcap's own syntax). */
function extcapConfig(out: string): string {
  return [
    'arg {number=0}{call=--target}{display=Target}{type=string}{required=true}{tooltip=container name or id, pod namespace/name, compartment id, VM name or MAC}{group=Target}',
    'arg {number=1}{call=--host}{display=Host}{type=string}{tooltip=empty: this host; else a Windows host reached over PowerShell remoting}{group=Host}',
    'arg {number=2}{call=--transport}{display=Remoting}{type=selector}{group=Host}',
    'value {arg=2}{value=ssh}{display=SSH (PowerShell 7)}{default=true}',
    'value {arg=2}{value=winrm}{display=WinRM (from a Windows workstation)}{default=false}',
    'arg {number=3}{call=--user}{display=SSH user}{type=string}{group=Host}',
    'arg {number=4}{call=--key}{display=SSH private key}{type=fileselect}{mustexist=true}{group=Host}',
    'arg {number=5}{call=--simulate}{display=Simulated host (no Windows needed)}{type=boolflag}{default=false}{group=Host}',
    'arg {number=6}{call=--profile}{display=Capture profile}{type=string}{default=container}{group=Capture}',
    'arg {number=7}{call=--duration}{display=Capture for}{type=string}{default=60s}{tooltip=e.g. 30s, 5m; packets arrive within seconds of being captured}{group=Capture}',
    'arg {number=8}{call=--snaplen}{display=Bytes per packet (0: all)}{type=unsigned}{range=0,65535}{default=0}{group=Capture}',
    `arg {number=9}{call=--out}{display=Run folders}{type=string}{default=${out}}{tooltip=where the capture's run folder is kept}{group=Capture}`,
    '',
  ].join('\n');
}

/** --capture --fifo: sniff the target, its pcapng into Wireshark's pipe. */
async function capture(a: ExtcapArgs, ctx: CliContext): Promise<number> {
  if (!a.fifo) throw new UsageError('--capture needs --fifo <pipe>');
  if (!a.target) throw new UsageError('set the Target in the interface options (a container, compartment id, VM or MAC)');
  // Wireshark reports any stderr text as an error: warnings and errors only.
  quietStderr(ctx.logger);
  // The pipe is opened at once: Wireshark waits for it, and its end (even after a failure) tells Wireshark the capture is over.
  const fifo = createWriteStream(a.fifo);
  const opened = new Promise<void>((resolve, reject) => fifo.once('open', () => resolve()).once('error', reject));
  try {
    await opened;
    return await sniff({
      target: a.target, duration: a.duration, profile: a.profile, out: a.out, simulate: a.simulate, ssh: a.transport === 'ssh', useSsl: false,
      ...(a.host ? { computers: [a.host] } : {}), ...(a.user ? { user: a.user } : {}), ...(a.key ? { key: a.key } : {}),
      ...(a.snaplen !== undefined ? { truncate: String(a.snaplen) } : {}), follow: true,
    }, ctx, {
      // Packets go into the pipe as they are decoded: Wireshark shows them within seconds.
      stream: async (onBroken) => (await import('../../pcapng/file-sink.js')).streamSink(fifo, { end: false, onBroken }),
      async deliver(file) {
        await pipeline(createReadStream(file), fifo);
        return ' to Wireshark';
      },
    }, { summary: false });
  } finally {
    if (!fifo.writableFinished) fifo.end();
  }
}

/** Where Wireshark looks for extcaps: the personal folder where it has one, else the global one. */
async function extcapFolder(): Promise<string> {
  // Loaded here, not at the top: every command's module is loaded at start-up (command.ts).
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync('tshark', ['-G', 'folders'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new UsageError('cannot ask Wireshark for its extcap folder (tshark -G folders)', { hint: 'give it: wnvcap extcap install --folder <Wireshark\'s extcap folder> (About Wireshark > Folders)' });
  const line = (name: RegExp): string | undefined => r.stdout.split('\n').find((l) => name.test(l))?.split('\t').pop()?.trim();
  const found = line(/^Personal Extcap path:/) ?? line(/^Extcap path:/);
  if (!found) throw new UsageError('tshark -G folders names no extcap folder', { hint: 'give it: wnvcap extcap install --folder <folder>' });
  return found;
}

/** Writes the launcher: a script (a .bat on Windows) that runs this wnvcap's extcap. */
async function install(folder: string | undefined, ctx: CliContext): Promise<number> {
  const dir = folder ?? (await extcapFolder());
  const self = selfCommand();
  const argv = [self.execute, ...self.prefix, 'extcap'];
  await mkdir(dir, { recursive: true });
  const windows = process.platform === 'win32';
  const file = join(dir, windows ? 'wnvcap-extcap.bat' : 'wnvcap-extcap');
  // cmd.exe reads a .bat in the OEM code page and expands %: ASCII paths only, % doubled.
  if (windows && argv.some((x) => /[^\x20-\x7e]/.test(x))) throw new UsageError(`the launcher cannot name ${argv.join(' ')} (not ASCII): cmd.exe would misread it`, { hint: 'install wnvcap under a path of ASCII characters' });
  const text = windows
    ? `@echo off\r\n${argv.map((x) => `"${x.replace(/%/g, '%%')}"`).join(' ')} %*\r\n`
    : `#!/bin/sh\n# wnvcap's Wireshark extcap (wnvcap extcap install)\nexec ${argv.map((x) => `'${x.replace(/'/g, "'\\''")}'`).join(' ')} "$@"\n`;
  await writeFile(file, text);
  if (!windows) await chmod(file, 0o755);
  ctx.stdout(`installed ${file}: Wireshark lists the interface "${EXTCAP_INTERFACE}" (restart Wireshark; set its Target in the interface options)\n`);
  return 0;
}

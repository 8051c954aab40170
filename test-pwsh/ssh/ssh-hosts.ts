/**
 * Real PowerShell remoting over SSH to many fake Windows hosts (README.md here): one sshd per fake
 * host (../fake-windows/fake-host.ts), each on its own loopback address, whose `powershell`
 * subsystem is a real `pwsh -sshs` that sees that host and no other; and the client side a
 * controller pwsh needs (keys, ssh config, pre-filled known_hosts), so no prompt ever appears.
 *
 *   const fleet = await startSshFleet([{ name: 'ch2022', type: 'ws2022-docker' }, { name: 'aks1', type: 'aks-containerd' }]);
 *   const h = fleet.host('ch2022');
 *   spawn(findPwsh()!, ['-NoProfile', '-Command', `New-PSSession -HostName ${h.address} -Port ${h.port} -UserName ${fleet.user} -KeyFilePath ${fleet.keyFile}`], { env: fleet.clientEnv });
 *   fleet.kill('aks1');      // that host dies: its sshd and its sessions
 *   await fleet.dispose();
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { createFakeHost, findPwsh, type FakeHost, type FakeHostOptions, type HostType } from '../fake-windows/fake-host.js';

export const SSHD = '/usr/sbin/sshd';

interface Reaper {
  reap(pids: number[], markers: string[]): number;
  marked(markers: string[]): Set<number>;
}
// CommonJS so that watchdog.cjs, which runs without tsx, shares it.
const { reap, marked } = createRequire(import.meta.url)('./reap.cjs') as Reaper;
const WATCHDOG = join(import.meta.dirname, 'watchdog.cjs');
/** WNVCAP_SSH_KEEP=1: processes still end, the temp dirs (sshd logs, configs, fake hosts) stay for a look. */
const KEEP = process.env['WNVCAP_SSH_KEEP'] === '1';

export interface SshHostSpec {
  /** Host name: letters, digits, '-'; also an ssh config alias and (upper-cased) the fake's COMPUTERNAME unless options.computerName says otherwise. */
  name: string;
  type: HostType;
  options?: FakeHostOptions;
}

export interface SshHost {
  name: string;
  address: string;
  port: number;
  fake: FakeHost;
  sshdPid: number;
  /** This host's folder: sshd_config, sshd.log, authorized_keys, pwsh-subsystem.sh, home/ (the remote HOME and working directory). */
  dir: string;
  log: string;
  /** Its sshd accepts no key the client has (SshFleetOptions.deniedNames). */
  denied: boolean;
}

export interface SshFleet {
  hosts: SshHost[];
  /** Client side: the private key file, a HOME for the controller pwsh (with .ssh/config + known_hosts so no prompt ever appears), the user name. */
  keyFile: string;
  user: string;
  clientEnv: Record<string, string>;
  /** A second client key, authorized like keyFile, protected by `passphrase` (generated per fleet: grep for it). */
  passphraseKeyFile: string;
  passphrase: string;
  /** The controller's HOME, its ssh config (the `ssh` on clientEnv's PATH passes it with -F) and known_hosts. */
  home: string;
  sshConfig: string;
  knownHosts: string;
  /** An address and port in the fleet's range where nothing listens (a host without sshd). */
  noSshd: { address: string; port: number };
  host(name: string): SshHost;
  /** Ids of the processes of the host's remote sessions now running (pwsh and its launcher). */
  remotePids(name: string): number[];
  /** A host that dies: SIGKILL its sshd, the connections below it and its remote pwsh sessions (the port then refuses). */
  kill(name: string): void;
  /** Stops every sshd and session, removes the fake hosts and the temp dirs; resolves when the ports are free. */
  dispose(): Promise<void>;
}

export interface SshFleetOptions {
  /** Hosts whose sshd authorizes only a key the client does not have. */
  deniedNames?: string[];
  /** Host i listens on basePort + i; by default each gets a free ephemeral port. */
  basePort?: number;
  /** Host i gets this address + i (default 127.0.0.2). */
  firstAddress?: string;
  /** How long all sshds together may take to accept TCP (default 10 s). */
  readyTimeoutMs?: number;
}

/** Why no SSH fleet can start here (undefined: it can). */
export function sshFleetUnavailable(): string | undefined {
  if (process.platform !== 'linux') return `SSH fleet: Linux only (all of 127/8 on lo, /proc), not ${process.platform}`;
  if (!existsSync(SSHD)) return `${SSHD} not found: apt-get install -y openssh-server`;
  if (!onPath('ssh') || !onPath('ssh-keygen')) return 'ssh or ssh-keygen not found: apt-get install -y openssh-client';
  if (!findPwsh()) return 'pwsh not found: dotnet tool install --tool-path /opt/pwsh-tool PowerShell --version 7.6.9, then put it on PATH';
  return undefined;
}

function onPath(cmd: string, path = process.env['PATH'] ?? ''): string | undefined {
  return path.split(delimiter).map((d) => join(d, cmd)).find((p) => p.startsWith('/') && existsSync(p));
}

/** The i-th address from `first` (127.0.0.2 -> 127.0.0.3 ...). Linux routes all of 127/8 to lo: no alias to add. */
export function loopbackAddress(first: string, i: number): string {
  const p = first.split('.').map(Number);
  if (p.length !== 4 || p[0] !== 127 || p.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) throw new Error(`not a 127/8 address: ${first}`);
  const n = p[1]! * 65536 + p[2]! * 256 + p[3]! + i;
  if (n >= 0xffffff) throw new Error(`${first} + ${i} leaves 127/8`);
  return `127.${n >> 16}.${(n >> 8) & 255}.${n & 255}`;
}

/** A port nothing listens on now at `address` (the kernel picks it; sshd may lose a race for it: startSshd retries). */
function freePort(address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, address, () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * An ed25519 key pair; returns the public key line. A passphrase is on ssh-keygen's command line
 * while it runs, inside startSshFleet only (ssh-keygen reads it from nowhere else without a tty).
 */
function keygen(file: string, comment: string, passphrase = ''): string {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', comment, '-f', file], { stdio: 'ignore' });
  return readFileSync(`${file}.pub`, 'utf8').trim();
}

const shq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** What one fleet started, so that every way out (dispose, process exit, the watchdog when the test process died) ends it. */
class Tracker {
  readonly sshd = new Map<string, ChildProcess>();
  readonly markers: string[] = [];
  readonly fakes: FakeHost[] = [];
  private readonly watchdog: ChildProcess;
  private done = false;

  constructor(readonly root: string) {
    // Its own session: a Ctrl-C to the test's process group must not take the watchdog with it.
    this.watchdog = spawn(process.execPath, [WATCHDOG], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
    this.watchdog.unref();
    (this.watchdog.stdin as unknown as { unref(): void }).unref();
    if (KEEP) process.stderr.write(`WNVCAP_SSH_KEEP: the SSH fleet's files stay in ${root}\n`);
    else this.tell({ dirs: [root] });
    LIVE.add(this);
  }

  private tell(m: object): void {
    this.watchdog.stdin?.write(`${JSON.stringify(m)}\n`);
  }

  addSshd(name: string, child: ChildProcess): void {
    child.on('error', () => undefined); // reported by waitListening (exitCode)
    this.sshd.set(name, child);
    this.tell({ pids: [child.pid] });
  }

  addFake(fake: FakeHost): void {
    this.fakes.push(fake);
    if (!KEEP) this.tell({ dirs: [fake.dir] });
  }

  addMarker(marker: string): void {
    this.markers.push(marker);
    this.tell({ markers: [marker] });
  }

  /** SIGKILLs the host's listener (if it still runs: its id may be reused otherwise), all below it and its sessions. */
  killHost(name: string, marker: string): void {
    const c = this.sshd.get(name);
    this.sshd.delete(name);
    reap(c && running(c) ? [c.pid!] : [], [marker]);
    if (c) this.tell({ forget: [c.pid] });
  }

  /** Synchronous, as process.on('exit') needs. */
  teardown(): ChildProcess[] {
    if (this.done) return [];
    this.done = true;
    const listeners = [...this.sshd.values()].filter(running);
    reap(listeners.map((c) => c.pid!), this.markers);
    if (!KEEP) {
      for (const f of this.fakes) f.dispose();
      rmSync(this.root, { recursive: true, force: true });
    }
    this.tell({ disarm: true });
    this.watchdog.stdin?.end();
    LIVE.delete(this);
    return listeners;
  }

  async dispose(): Promise<void> {
    // Wait for the listeners to be gone, so that their ports are free when dispose resolves.
    await Promise.all(this.teardown().map((c) => exited(c, 2000)));
  }
}

const LIVE = new Set<Tracker>();
process.on('exit', () => {
  for (const t of LIVE) t.teardown();
});

const running = (c: ChildProcess): boolean => c.exitCode === null && c.signalCode === null;

function exited(c: ChildProcess, ms: number): Promise<void> {
  if (!running(c)) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    c.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
  });
}

interface ClientSide {
  home: string;
  bin: string;
  keyFile: string;
  passphraseKeyFile: string;
  passphrase: string;
  sshConfig: string;
  knownHosts: string;
  /** authorized_keys of a normal host and of a denied one. */
  authorized: string;
  strangerOnly: string;
}

/** Client keys, HOME, and an `ssh` for PATH that reads the fleet's config. */
function makeClient(root: string): ClientSide {
  const dir = join(root, 'client');
  const home = join(dir, 'home');
  const bin = join(dir, 'bin');
  mkdirSync(join(home, '.ssh'), { recursive: true, mode: 0o700 });
  mkdirSync(bin);
  const keyFile = join(home, '.ssh', 'id_ed25519');
  const passphraseKeyFile = join(home, '.ssh', 'id_ed25519_passphrase');
  const passphrase = `wnvcap-pp-${randomBytes(12).toString('hex')}`;
  const pub = keygen(keyFile, 'wnvcap-test-client');
  const ppPub = keygen(passphraseKeyFile, 'wnvcap-test-client-passphrase', passphrase);
  // The one key a denied host accepts; it stays outside the client's HOME.
  const stranger = keygen(join(dir, 'stranger_ed25519'), 'wnvcap-test-stranger');
  const sshConfig = join(home, '.ssh', 'config');
  // OpenSSH takes ~/.ssh from the passwd entry, not from $HOME: without -F it would read /root/.ssh/config.
  const realSsh = onPath('ssh')!;
  writeFileSync(join(bin, 'ssh'), `#!/bin/sh\n# The fleet's ssh config (ssh-hosts.ts): OpenSSH ignores $HOME for ~/.ssh.\nexec ${shq(realSsh)} -F ${shq(sshConfig)} "$@"\n`, { mode: 0o755 });
  return { home, bin, keyFile, passphraseKeyFile, passphrase, sshConfig, knownHosts: join(home, '.ssh', 'known_hosts'), authorized: `${pub}\n${ppPub}\n`, strangerOnly: `${stranger}\n` };
}

/**
 * The controller's ssh config. Host keys are known in advance (known_hosts written from each
 * host's key), so StrictHostKeyChecking yes never prompts nor prints "Permanently added".
 * No IdentityFile: the key comes from -KeyFilePath (-i), as wnvcap passes it; a default key here
 * would hide a refused -KeyFilePath behind a second attempt.
 */
function clientConfig(hosts: SshHost[], c: ClientSide, user: string): string {
  const aliases = hosts.flatMap((h) => [`Host ${h.name}`, `  HostName ${h.address}`, `  Port ${h.port}`]);
  return [
    '# The controller side of the SSH fleet (test-pwsh/ssh/ssh-hosts.ts); used through `ssh -F`.',
    ...aliases,
    'Host *',
    `  User ${user}`,
    `  UserKnownHostsFile ${c.knownHosts}`,
    '  GlobalKnownHostsFile /dev/null',
    '  StrictHostKeyChecking yes',
    '  CheckHostIP no',
    '  IdentitiesOnly yes',
    '  PreferredAuthentications publickey',
    '  BatchMode yes',
    '  ConnectTimeout 5',
    // Keeps "Permission denied" and "Connection refused" (error level), drops info chatter on stderr.
    '  LogLevel ERROR',
    '',
  ].join('\n');
}

function knownHostsText(hosts: Array<{ address: string; port: number; hostPub: string }>): string {
  return hosts.map((h) => `[${h.address}]:${h.port} ${h.hostPub.split(' ').slice(0, 2).join(' ')}\n`).join('');
}

/** An agent or askpass of whoever runs the tests would make the key tests depend on them. */
const CLIENT_DROP = ['SSH_AUTH_SOCK', 'SSH_AGENT_PID', 'SSH_ASKPASS', 'SSH_ASKPASS_REQUIRE'];

function clientEnv(c: ClientSide, pwsh: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !CLIENT_DROP.includes(k)) env[k] = v;
  return { ...env, HOME: c.home, PATH: [c.bin, dirname(pwsh), process.env['PATH'] ?? ''].join(delimiter), POWERSHELL_TELEMETRY_OPTOUT: '1', POWERSHELL_UPDATECHECK: 'Off' };
}

/** fake-host.ts sets these; the remote gets them even where the test process has the same value. */
const FAKE_KEYS = ['PATH', 'PSModulePath', 'COMPUTERNAME', 'WNVCAP_FAKE_STATE', 'DOTNET_STARTUP_HOOKS', 'POWERSHELL_TELEMETRY_OPTOUT', 'POWERSHELL_UPDATECHECK'];
/** What a login would have and pwsh may want. */
const PASS_THROUGH = ['LANG', 'LC_ALL', 'LC_CTYPE', 'TZ', 'TMPDIR', 'DOTNET_ROOT'];

/**
 * The remote pwsh's environment (the wrapper starts it from `env -i`): the fake host's own
 * variables (FAKE_KEYS, and whatever fake.env adds or changes), not the test process's whole
 * environment, which a session on a real host would not see either. HOME is the host's own; the
 * marker lets reap.cjs find the host's sessions.
 */
function remoteEnv(fake: FakeHost, home: string, marker: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const k of PASS_THROUGH) if (process.env[k] !== undefined) env[k] = process.env[k]!;
  for (const [k, v] of Object.entries(fake.env)) if (FAKE_KEYS.includes(k) || process.env[k] !== v) env[k] = v;
  return { ...env, HOME: home, WNVCAP_SSH_HOST: marker };
}

/** What sshd says about the login, kept for the remote pwsh (and whoever debugs it). */
const FROM_SSHD = ['USER', 'LOGNAME', 'SHELL', 'SSH_CONNECTION', 'SSH_CLIENT'];

/**
 * The subsystem command: sshd runs it through the user's login shell, whose rc file may add its
 * own variables (bash reads ~/.bashrc for ssh commands), so pwsh starts from `env -i` with exactly
 * the host's environment plus the login's identity.
 */
function subsystemScript(name: string, type: HostType, env: Record<string, string>, pwsh: string): string {
  const vars = Object.entries(env).map(([k, v]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`cannot pass ${k}`);
    return `  ${shq(`${k}=${v}`)} \\`;
  });
  return [
    '#!/bin/sh',
    `# PowerShell's SSH subsystem for fake Windows host ${name} (${type}), written by test-pwsh/ssh/ssh-hosts.ts.`,
    `cd ${shq(env['HOME']!)} || exit 1`,
    'exec /usr/bin/env -i \\',
    `  ${FROM_SSHD.map((k) => `${k}="$${k}"`).join(' ')} \\`,
    ...vars,
    `  ${shq(pwsh)} -sshs -NoLogo -NoProfile`,
    '',
  ].join('\n');
}

function sshdConfig(p: Prepared, port: number, user: string): string {
  return [
    "# One fake Windows host's sshd (test-pwsh/ssh/ssh-hosts.ts); started with -f, so /etc/ssh/sshd_config is not read.",
    `ListenAddress ${p.address}:${port}`,
    `HostKey ${join(p.dir, 'ssh_host_ed25519_key')}`,
    `PidFile ${join(p.dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${join(p.dir, 'authorized_keys')}`,
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PermitRootLogin prohibit-password',
    `AllowUsers ${user}`,
    '# The files live in a temp dir, not a home with the owner and modes StrictModes wants.',
    'StrictModes no',
    'UsePAM no',
    'PrintMotd no',
    'X11Forwarding no',
    'AllowTcpForwarding no',
    '# Tests fan out: many connections at once.',
    'MaxStartups 100',
    'LogLevel VERBOSE',
    `Subsystem powershell ${join(p.dir, 'pwsh-subsystem.sh')}`,
    '',
  ].join('\n');
}

interface Prepared {
  name: string;
  address: string;
  dir: string;
  fake: FakeHost;
  hostPub: string;
  denied: boolean;
}

/** The host's folder, fake host, host key, authorized_keys and subsystem wrapper. */
async function prepareHost(spec: SshHostSpec, address: string, denied: boolean, c: ClientSide, t: Tracker, pwsh: string): Promise<Prepared> {
  const dir = join(t.root, 'hosts', spec.name);
  mkdirSync(join(dir, 'home'), { recursive: true });
  t.addMarker(dir);
  const fake = await createFakeHost(spec.type, { ...spec.options, computerName: spec.options?.computerName ?? spec.name.toUpperCase() });
  t.addFake(fake);
  const hostPub = keygen(join(dir, 'ssh_host_ed25519_key'), `${spec.name}-host`);
  writeFileSync(join(dir, 'authorized_keys'), denied ? c.strangerOnly : c.authorized);
  writeFileSync(join(dir, 'pwsh-subsystem.sh'), subsystemScript(spec.name, spec.type, remoteEnv(fake, join(dir, 'home'), dir), pwsh), { mode: 0o755 });
  return { name: spec.name, address, dir, fake, hostPub, denied };
}

function logTail(log: string): string {
  try {
    return readFileSync(log, 'utf8').trim().split('\n').slice(-5).join(' | ');
  } catch {
    return '(no log)';
  }
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    s.setTimeout(1000, () => {
      s.destroy();
      resolve(false);
    });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Resolves once address:port accepts TCP; rejects when sshd exited or the deadline passed, with its log's tail. */
async function waitListening(child: ChildProcess, address: string, port: number, log: string, deadline: number): Promise<void> {
  for (;;) {
    if (!running(child)) throw new Error(`sshd for ${address}:${port} exited (${child.exitCode ?? child.signalCode}): ${logTail(log)}`);
    if (await canConnect(address, port)) return;
    if (Date.now() > deadline) throw new Error(`sshd for ${address}:${port} not accepting connections in time: ${logTail(log)}`);
    await sleep(50);
  }
}

/** Starts the host's sshd and waits until it listens; a free port lost to another process is picked again (3 tries). */
async function startSshd(p: Prepared, i: number, o: SshFleetOptions, user: string, t: Tracker, deadline: number): Promise<{ child: ChildProcess; port: number }> {
  const log = join(p.dir, 'sshd.log');
  for (let attempt = 1; ; attempt++) {
    const port = o.basePort !== undefined ? o.basePort + i : await freePort(p.address);
    writeFileSync(join(p.dir, 'sshd_config'), sshdConfig(p, port, user));
    const child = spawn(SSHD, ['-D', '-f', join(p.dir, 'sshd_config'), '-E', log], { detached: true, stdio: 'ignore' });
    child.unref();
    t.addSshd(p.name, child);
    try {
      await waitListening(child, p.address, port, log, deadline);
      return { child, port };
    } catch (e) {
      t.killHost(p.name, p.dir);
      if (o.basePort !== undefined || attempt >= 3 || !/Address already in use/.test(logTail(log))) throw e;
    }
  }
}

function checkSpecs(specs: SshHostSpec[], denied: string[]): void {
  const names = new Set<string>();
  for (const s of specs) {
    if (!/^[A-Za-z0-9][A-Za-z0-9-]{0,62}$/.test(s.name)) throw new Error(`host name ${JSON.stringify(s.name)}: letters, digits and '-' only`);
    if (names.has(s.name)) throw new Error(`host name ${s.name} twice`);
    names.add(s.name);
  }
  for (const d of denied) if (!names.has(d)) throw new Error(`deniedNames: no host named ${d}`);
}

/** sshd as root refuses to start without /run/sshd, which Debian leaves to systemd or the init script: a container has neither. */
function ensurePrivsepDir(): void {
  if (process.getuid?.() === 0 && !existsSync('/run/sshd')) mkdirSync('/run/sshd', { mode: 0o755 });
}

export async function startSshFleet(specs: SshHostSpec[], o: SshFleetOptions = {}): Promise<SshFleet> {
  const why = sshFleetUnavailable();
  if (why) throw new Error(why);
  const denied = o.deniedNames ?? [];
  checkSpecs(specs, denied);
  ensurePrivsepDir();
  const pwsh = findPwsh()!;
  const user = userInfo().username;
  const first = o.firstAddress ?? '127.0.0.2';
  const root = mkdtempSync(join(tmpdir(), 'wnvcap-ssh-'));
  if (/\s/.test(root)) throw new Error(`sshd_config cannot take a temp dir with spaces: ${root}`);
  const t = new Tracker(root);
  try {
    const c = makeClient(root);
    const prepared: Prepared[] = [];
    for (const [i, s] of specs.entries()) prepared.push(await prepareHost(s, loopbackAddress(first, i), denied.includes(s.name), c, t, pwsh));
    const deadline = Date.now() + (o.readyTimeoutMs ?? 10_000);
    const started = await Promise.all(prepared.map((p, i) => startSshd(p, i, o, user, t, deadline)));
    const hosts: SshHost[] = prepared.map((p, i) => ({ name: p.name, address: p.address, port: started[i]!.port, fake: p.fake, sshdPid: started[i]!.child.pid!, dir: p.dir, log: join(p.dir, 'sshd.log'), denied: p.denied }));
    writeFileSync(c.knownHosts, knownHostsText(hosts.map((h, i) => ({ ...h, hostPub: prepared[i]!.hostPub }))));
    writeFileSync(c.sshConfig, clientConfig(hosts, c, user), { mode: 0o600 });
    const noAddress = loopbackAddress(first, specs.length);
    return fleetOf(hosts, c, user, clientEnv(c, pwsh), { address: noAddress, port: await freePort(noAddress) }, t);
  } catch (e) {
    t.teardown();
    throw e;
  }
}

function fleetOf(hosts: SshHost[], c: ClientSide, user: string, env: Record<string, string>, noSshd: { address: string; port: number }, t: Tracker): SshFleet {
  const host = (name: string): SshHost => {
    const h = hosts.find((x) => x.name === name);
    if (!h) throw new Error(`no host named ${name} (${hosts.map((x) => x.name).join(', ')})`);
    return h;
  };
  return {
    hosts, user, clientEnv: env, noSshd, host,
    keyFile: c.keyFile, passphraseKeyFile: c.passphraseKeyFile, passphrase: c.passphrase,
    home: c.home, sshConfig: c.sshConfig, knownHosts: c.knownHosts,
    remotePids: (name) => [...marked([host(name).dir])],
    kill: (name) => t.killHost(name, host(name).dir),
    dispose: () => t.dispose(),
  };
}

// Follow-mode benchmarks (npm run bench -- follow). `wnvcap decode --follow -o -` reads a file
// this script writes while it runs, in a child process whose stdout is parsed as it arrives.
// - follow/latency: the simulated container host's capture, written flush by flush once a second
//   (every CPU's buffer at each flush, as ETW with a 1 s flush timer). A packet's latency is the
//   time from the write of its flush to its bytes on the follower's stdout; with the default 1 s
//   window, and with 250 ms.
// - follow/throughput: the 1 GB NDIS capture appended in 4 MB pieces as fast as the disk takes
//   them; the follower's wall and CPU time against a plain decode of the finished file and a dd copy,
//   all in this run.
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, openSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const MB = 1e6;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (xs, p) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length - 1) * p))];

/** Counts pcapng packet blocks (EPB) as bytes arrive; calls onPacket(time) for each. */
function epbCounter(onPacket) {
  let buf = Buffer.alloc(0);
  return (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    let p = 0;
    while (buf.length - p >= 12) {
      const type = buf.readUInt32LE(p);
      const len = buf.readUInt32LE(p + 4);
      if (buf.length - p < len) break;
      if (type === 6) onPacket(performance.now());
      p += len;
    }
    buf = buf.subarray(p);
  };
}

/** Starts `wnvcap decode <file> --follow -o -` under /usr/bin/time; resolves with what it printed and its peak RSS. */
function follower(root, file, extra, onPacket) {
  const child = spawn('/usr/bin/time', ['-f', '%e %U %S %M', process.execPath, join(root, 'dist/cli/bin.js'), 'decode', file, '--follow', '-o', '-', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  const count = epbCounter(onPacket);
  let err = '';
  child.stdout.on('data', count);
  child.stderr.on('data', (d) => { err += d; });
  const done = new Promise((res) => child.on('close', (code) => {
    const [wall, user, sys, rss] = err.trim().split('\n').pop().split(' ').map(Number);
    res({ code, err, wall, cpu: user + sys, rssMb: rss / 1024 });
  }));
  return { child, done };
}

async function latency(root, dir, latencyArg) {
  const { containerHostCapture } = await import(join(root, 'dist/sim/container-host.js'));
  const { decodeCapture } = await import(join(root, 'dist/providers/decode-capture.js'));
  const { memorySource } = await import(join(root, 'dist/etl/byte-source.js'));
  const cap = containerHostCapture({ scale: 4, flushEvery: 16 });
  // Packets in the file up to each flush: a packet's flush is the first whose prefix holds it.
  const upTo = [];
  for (const end of cap.flushedAt) {
    let n = 0;
    await decodeCapture(async () => memorySource(cap.etl.subarray(0, end)), [{ start() {}, addInterface() {}, packet() { n++; }, async restart() { n = 0; } }]);
    upTo.push(n);
  }
  const file = join(dir, 'follow-latency.etl');
  rmSync(file, { force: true });
  const arrivals = [];
  const f = follower(root, file, ['--latency', latencyArg, '--idle', '3s'], (t) => arrivals.push(t));
  const written = [];
  let prev = 0;
  for (const end of cap.flushedAt) {
    appendFileSync(file, cap.etl.subarray(prev, end));
    written.push(performance.now());
    prev = end;
    await sleep(1000);
  }
  const r = await f.done;
  if (r.code !== 0) throw new Error(`follower failed: ${r.err}`);
  const lat = arrivals.map((t, i) => t - written[upTo.findIndex((n) => n > i)]);
  return { packets: arrivals.length, expected: upTo[upTo.length - 1], flushes: cap.flushedAt.length, p50: pct(lat, 0.5), p95: pct(lat, 0.95), max: Math.max(...lat), cpu: r.cpu };
}

async function throughput(root, dir, source) {
  const file = join(dir, 'follow-throughput.etl');
  rmSync(file, { force: true });
  let packets = 0;
  let last = 0;
  const t0 = performance.now();
  // It ends 2 s after the file stops growing: the time that counts is the last packet's arrival.
  const f = follower(root, file, ['--idle', '2s'], (t) => { packets++; last = t; });
  const fd = openSync(source, 'r');
  const piece = Buffer.alloc(4 << 20);
  const size = statSync(source).size;
  writeFileSync(file, '');
  for (let at = 0; at < size;) {
    const n = readSync(fd, piece, 0, piece.length, at);
    appendFileSync(file, piece.subarray(0, n));
    at += n;
    await sleep(0); // let the follower's pipe drain into this process
  }
  closeSync(fd);
  const writtenAt = performance.now() - t0;
  const r = await f.done;
  if (r.code !== 0) throw new Error(`follower failed: ${r.err}`);
  const total = (last - t0) / 1000;
  rmSync(file, { force: true });
  return { size, packets, writtenS: writtenAt / 1000, totalS: total, cpu: r.cpu, rssMb: r.rssMb };
}

function plainDecode(root, dir, path) {
  const out = join(dir, 'follow-plain.pcapng');
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', process.execPath, join(root, 'dist/cli/bin.js'), 'decode', path, '-o', out, '--json'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`decode failed: ${r.stderr}`);
  rmSync(out, { force: true });
  const [wall, user, sys, rss] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
  return { wall, cpu: user + sys, rssMb: rss / 1024, packets: JSON.parse(r.stdout).packets };
}

function dd(dir, path) {
  const out = join(dir, 'dd-copy.tmp');
  const t = performance.now();
  spawnSync('dd', [`if=${path}`, `of=${out}`, 'bs=1M'], { stdio: 'ignore' });
  rmSync(out, { force: true });
  return (performance.now() - t) / 1000;
}

/**
 * `wnvcap sniff <target> -w -` end to end on a host: the capture file's growth is watched here
 * (every 20 ms), the packets on stdout timed as they come. A packet's latency: from the first
 * moment the file held it (decoding the file as it was at each growth) to its arrival on stdout.
 */
async function sniffLatency(root, dir, argv, env, cwd) {
  const { decodeCapture } = await import(join(root, 'dist/providers/decode-capture.js'));
  const { memorySource } = await import(join(root, 'dist/etl/byte-source.js'));
  const { readdirSync, readFileSync } = await import('node:fs');
  const out = join(dir, `sniff-${process.pid}-${Date.now()}`);
  const child = spawn(process.execPath, [join(root, 'dist/cli/bin.js'), 'sniff', ...argv, '--out', out, '-w', '-'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...env, WNVCAP_STATE_DIR: join(out, 'state') }, cwd });
  const arrivals = [];
  let stdout = Buffer.alloc(0);
  let err = '';
  const count = epbCounter((t) => arrivals.push(t));
  child.stdout.on('data', (d) => { stdout = Buffer.concat([stdout, d]); count(d); });
  child.stderr.on('data', (d) => { err += d; });
  const growth = [];
  const watch = setInterval(() => {
    const run = existsSync(out) ? readdirSync(out).find((n) => n.startsWith('run-')) : undefined;
    const etl = run ? join(out, run, 'capture.etl') : '';
    const size = etl && existsSync(etl) ? statSync(etl).size : 0;
    if (size > 0 && size !== (growth[growth.length - 1]?.size ?? 0)) growth.push({ size, t: performance.now() });
  }, 20);
  const code = await new Promise((res) => child.on('close', res));
  clearInterval(watch);
  if (code !== 0) throw new Error(`sniff failed: ${err}`);
  const run = readdirSync(out).find((n) => n.startsWith('run-'));
  const etl = readFileSync(join(out, run, 'capture.etl'));
  // When each packet (by its time, in 100 ns since 1970 as pcapng has it) was first in the file.
  const { FILETIME_UNIX_EPOCH } = await import(join(root, 'dist/util/time.js'));
  const firstSeen = new Map();
  for (const g of growth) {
    let base = 0n;
    await decodeCapture(async () => memorySource(etl.subarray(0, g.size)), [{
      start(x) { base = x.header.startTime - FILETIME_UNIX_EPOCH; }, addInterface() {}, async restart() {},
      packet(p) { const ts = base + BigInt(p.ticks); if (!firstSeen.has(ts)) firstSeen.set(ts, g.t); },
    }]);
  }
  const { readPcapng } = await import(join(root, 'dist/pcapng/pcapng-reader.js'));
  const packets = readPcapng(stdout).packets;
  const lat = [];
  packets.forEach((p, i) => {
    const seen = firstSeen.get(p.timestamp);
    if (seen !== undefined && arrivals[i] !== undefined) lat.push(arrivals[i] - seen);
  });
  rmSync(out, { recursive: true, force: true });
  return { packets: packets.length, timed: lat.length, growths: growth.length, p50: pct(lat, 0.5), p95: pct(lat, 0.95), max: Math.max(...lat) };
}

export async function followBenches(root, dir, filter, ndis1g) {
  const lines = [];
  if (filter.test('follow/sim-sniff')) {
    const r = await sniffLatency(root, dir, ['web', '--simulate', '--duration', '14s'], process.env, dir);
    lines.push(`follow/sim-sniff: wnvcap sniff web --simulate -w - (the simulated host writes a tenth of its capture each second): ${r.packets} packets, ${r.timed} timed over ${r.growths} file growths; in the file -> on stdout: p50 ${r.p50.toFixed(0)} ms, p95 ${r.p95.toFixed(0)} ms, max ${r.max.toFixed(0)} ms`);
    console.log(lines[lines.length - 1]);
  }
  if (filter.test('follow/fake-sniff') && spawnSync('pwsh', ['-v'], { stdio: 'ignore' }).status === 0) {
    const host = spawn(process.execPath, ['--import', 'tsx', join(root, 'scripts/bench/fake-host.ts'), 'ws2022-docker'], { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] });
    const info = await new Promise((res) => { let t = ''; host.stdout.on('data', (d) => { t += d; if (t.includes('\n')) res(JSON.parse(t)); }); });
    try {
      const r = await sniffLatency(root, dir, ['web', '--duration', '14s'], info.env, info.dir);
      lines.push(`follow/fake-sniff: wnvcap sniff web -w - on a fake Server 2022 in a real pwsh (Update-EtwTraceSession -FlushTimer 1; the fake writes a tenth of its capture each second): ${r.packets} packets, ${r.timed} timed over ${r.growths} file growths; in the file -> on stdout: p50 ${r.p50.toFixed(0)} ms, p95 ${r.p95.toFixed(0)} ms, max ${r.max.toFixed(0)} ms`);
      console.log(lines[lines.length - 1]);
    } finally {
      host.stdin.end();
    }
  }
  for (const window of ['1s', '250ms']) {
    const name = `follow/latency (--latency ${window})`;
    if (!filter.test(name)) continue;
    const r = await latency(root, dir, window);
    lines.push(`${name}: ${r.packets} of ${r.expected} packets over ${r.flushes} flushes 1 s apart; flush written -> packet on stdout: p50 ${r.p50.toFixed(0)} ms, p95 ${r.p95.toFixed(0)} ms, max ${r.max.toFixed(0)} ms; follower CPU ${r.cpu.toFixed(2)} s`);
    console.log(lines[lines.length - 1]);
  }
  if (filter.test('follow/throughput') && existsSync(ndis1g)) {
    const d = dd(dir, ndis1g);
    const plain = plainDecode(root, dir, ndis1g);
    const r = await throughput(root, dir, ndis1g);
    lines.push(`follow/throughput: ${(r.size / MB).toFixed(0)} MB NDIS appended in 4 MB pieces (${r.writtenS.toFixed(2)} s to write); last packet out after ${r.totalS.toFixed(2)} s = ${(r.size / MB / r.totalS).toFixed(0)} MB/s, follower CPU ${r.cpu.toFixed(2)} s, peak RSS ${r.rssMb.toFixed(0)} MB, ${r.packets} packets; ` +
      `plain decode of the finished file ${plain.wall.toFixed(2)} s wall, CPU ${plain.cpu.toFixed(2)} s, ${plain.packets} packets; dd ${d.toFixed(2)} s`);
    console.log(lines[lines.length - 1]);
  }
  return lines;
}

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

export async function followBenches(root, dir, filter, ndis1g) {
  const lines = [];
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

#!/usr/bin/env node
// Decoder benchmarks (see README.md here). Usage: npm run bench [-- <regex>]
// Inputs are made by our ETL writer (dist/sim) with fixed seeds and cached in .bench/.
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const dir = join(root, '.bench');
mkdirSync(dir, { recursive: true });
const filter = new RegExp(process.argv[2] ?? '.');
/** Runs of each tool in the report cases (BENCH_REPS). */
const REPS = Number(process.env.BENCH_REPS ?? 3);

/** The median of numbers (the upper middle one of an even count). */
function median(xs) {
  return [...xs].sort((a, b) => a - b)[xs.length >> 1];
}

/** Per field, the median of the runs. */
function medians(runs) {
  return { s: median(runs.map((r) => r.s)), cpu: median(runs.map((r) => r.cpu)), rssMb: median(runs.map((r) => r.rssMb)) };
}
const { writeNdisScenario, writePktmonScenario } = await import(join(root, 'dist/sim/scenarios.js'));

function make(path, fn, opts) {
  if (existsSync(path)) return;
  process.stderr.write(`generating ${path} ...\n`);
  const fd = openSync(`${path}.tmp`, 'w');
  const r = fn(opts, (c) => writeSync(fd, c));
  writeSync(fd, r.header, 0, r.header.length, 0);
  closeSync(fd);
  execFileSync('mv', [`${path}.tmp`, path]);
}

/** Wall, CPU (user + system) and peak RSS of one child process, from /usr/bin/time. */
function timed(cmd, args, opts = {}) {
  const t = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S %M', cmd, ...args], { encoding: 'utf8', maxBuffer: 1 << 30, ...opts });
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr.slice(-500)}`);
  const [user, sys, rssKb] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
  return { s, user, sys, cpu: user + sys, rssMb: rssKb / 1024, stdout: r.stdout };
}

/** dd's copy of the file (the limit of any conversion), to a file and to /dev/null. */
function timeDd(path) {
  const out = join(dir, 'dd-copy.tmp');
  const file = timed('dd', [`if=${path}`, `of=${out}`, 'bs=1M']);
  rmSync(out, { force: true });
  return { file, devnull: timed('dd', [`if=${path}`, 'of=/dev/null', 'bs=1M']) };
}

/**
 * The decode to a file, and to /dev/null: the kernel's cost of writing a file (dd's too) is the
 * difference, and moves from run to run on these machines.
 */
function timeDecode(path) {
  const out = join(dir, 'out.pcapng');
  const bin = join(root, 'dist/cli/bin.js');
  const file = timed(process.execPath, [bin, 'decode', path, '-o', out, '--json']);
  const result = JSON.parse(file.stdout);
  rmSync(out, { force: true });
  const devnull = timed(process.execPath, [bin, 'decode', path, '-o', '/dev/null', '--json']);
  return { ...file, devnull, packets: result.packets };
}

function timeInfo(path) {
  const r = timed(process.execPath, [join(root, 'dist/cli/bin.js'), 'info', path, '--json']);
  return { ...r, info: JSON.parse(r.stdout) };
}

const MB = 1e6;
const cases = [
  ['e2e/decode-ndis-1GB', join(dir, 'ndis-1g.etl'), writeNdisScenario,
    { seed: 1, packets: 1_050_000, cpus: 4, bufferSize: 1 << 20, minFrame: 200, maxFrame: 1514, fragmentEvery: 0, vmswitchEvery: 50 }],
  ['e2e/decode-pktmon-compressed-300MB', join(dir, 'pktmon-300m.etl'), writePktmonScenario,
    { seed: 2, packets: 330_000, cpus: 4, bufferSize: 1 << 20, minFrame: 200, maxFrame: 1514 }],
  // A container host's shape: every packet a vSwitch (1003) event, with its port's strings.
  ['e2e/decode-vmswitch-400k', join(dir, 'vmswitch-400k.etl'), writeNdisScenario,
    { seed: 8, packets: 400_000, cpus: 4, bufferSize: 1 << 20, minFrame: 200, maxFrame: 1514, fragmentEvery: 0, vmswitchEvery: 1 }],
  // Memory check at 4 GB: only when asked for by name (npm run bench -- 4GB).
  ['e2e/decode-ndis-4GB', join(dir, 'ndis-4g.etl'), writeNdisScenario,
    { seed: 3, packets: 4_200_000, cpus: 4, bufferSize: 1 << 20, minFrame: 200, maxFrame: 1514, fragmentEvery: 0, vmswitchEvery: 50 }, true],
];
const lines = [];

// Report against tshark's conv,tcp on the same packets (its pcapng), on two traffic shapes:
// many flows (5 M packets over 20,000 ports, random sequence numbers) and few flows with many
// packets (8 coherent TCP connections, a bulk transfer's shape: sim/tcp-streams.ts).
const reportCases = [
  ['e2e/report-5M', 'report-5m', { seed: 5, packets: 5_000_000, cpus: 4, bufferSize: 1 << 20, minFrame: 60, maxFrame: 400, flows: 20000, vmswitchEvery: 0 }, '5000000 packets, 20000 flows'],
  ['e2e/report-few-flows', 'report-few', { seed: 6, packets: 540_000, cpus: 4, bufferSize: 1 << 20, minFrame: 200, maxFrame: 1514, streams: 8, vmswitchEvery: 0 }, '540000 packets, 8 TCP connections'],
];
for (const [name, base, opts, shape] of reportCases) {
  if (!filter.test(name)) continue;
  const etl = join(dir, `${base}.etl`);
  make(etl, writeNdisScenario, opts);
  const pcap = join(dir, `${base}.pcapng`);
  if (!existsSync(pcap)) spawnSync(process.execPath, [join(root, 'dist/cli/bin.js'), 'decode', etl, '-o', pcap], { stdio: 'inherit' });
  // REPS runs of each tool, interleaved (tshark's own time moves by a third from run to run here).
  const ours = [];
  const ts = [];
  for (let i = 0; i < REPS; i++) {
    ours.push(timed(process.execPath, [join(root, 'dist/cli/bin.js'), 'report', etl, '--format', 'json', '-o', join(dir, `${base}.json`)]));
    ts.push(timed('tshark', ['-r', pcap, '-q', '-z', 'conv,tcp']));
  }
  const o = medians(ours);
  const t = medians(ts);
  const range = (xs) => `${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)}`;
  const ratios = ours.map((x, i) => ts[i].s / x.s);
  const line = `${name}: ${(statSync(etl).size / MB).toFixed(0)} MB ETL, ${shape}; median of ${REPS} interleaved runs: ` +
    `wnvcap report (ETL -> JSON) ${o.s.toFixed(2)} s wall (${range(ours.map((x) => x.s))}), ${o.cpu.toFixed(2)} s CPU, peak RSS ${o.rssMb.toFixed(0)} MB; ` +
    `tshark -q -z conv,tcp on the pcapng ${t.s.toFixed(2)} s wall (${range(ts.map((x) => x.s))}), ${t.cpu.toFixed(2)} s CPU, peak RSS ${t.rssMb.toFixed(0)} MB; ` +
    `wnvcap is ${(t.s / o.s).toFixed(1)}x faster (run by run ${range(ratios)}x; CPU ${(t.cpu / o.cpu).toFixed(1)}x)`;
  console.log(line);
  lines.push(line);
}
for (const [name, path, fn, opts, heavy] of cases) {
  // A heavy case runs only when the filter names it (a filter such as 'e2e' would run it, and its
  // dd copy needs 4 GB of free disk).
  if (!filter.test(name) || (heavy && !(process.argv[2] ?? '').includes(name.split('-').pop()))) continue;
  make(path, fn, opts);
  const size = statSync(path).size;
  const dd = timeDd(path);
  const dec = timeDecode(path);
  const info = timeInfo(path);
  const expanded = info.info.buffers.expandedBytes;
  const gb = size / 1e9;
  const perGb = (r) => `${(r.cpu / gb).toFixed(2)} s CPU/GB (${(r.user / gb).toFixed(2)} user + ${(r.sys / gb).toFixed(2)} sys)`;
  const line = `${name}: file ${(size / MB).toFixed(0)} MB (expanded ${(expanded / MB).toFixed(0)} MB), ${dec.packets} packets; ` +
    `dd copy ${dd.file.s.toFixed(2)} s = ${(size / MB / dd.file.s).toFixed(0)} MB/s, ${perGb(dd.file)}, to /dev/null ${perGb(dd.devnull)}; ` +
    `decode ${dec.s.toFixed(2)} s = ${(size / MB / dec.s).toFixed(0)} MB/s (${((dd.file.s / dec.s) * 100).toFixed(0)}% of dd), ${perGb(dec)}, peak RSS ${dec.rssMb.toFixed(0)} MB; ` +
    `decode to /dev/null ${dec.devnull.s.toFixed(2)} s, ${perGb(dec.devnull)}; ` +
    `pass 1 alone (info) ${info.s.toFixed(2)} s = ${(expanded / MB / info.s).toFixed(0)} MB/s expanded, RSS ${info.rssMb.toFixed(0)} MB`;
  console.log(line);
  lines.push(line);
}

// Follow mode (follow.mjs): latency of a file written flush by flush, throughput of a growing 1 GB file.
if (['follow/latency', 'follow/throughput', 'follow/sim-sniff', 'follow/fake-sniff'].some((n) => filter.test(n))) {
  const { followBenches } = await import('./follow.mjs');
  const ndis1g = join(dir, 'ndis-1g.etl');
  if (filter.test('follow/throughput')) make(ndis1g, cases[0][2], cases[0][3]);
  lines.push(...await followBenches(root, dir, filter, ndis1g));
}

// Xpress expansion and record walk alone, in this process (no start-up): the compressed PktMon case.
if (filter.test('pktmon/expand-walk')) {
  const path = join(dir, 'pktmon-300m.etl');
  make(path, cases[1][2], cases[1][3]);
  const { openFileSource } = await import(join(root, 'dist/etl/file-source.js'));
  const { openEtl, scanRecords } = await import(join(root, 'dist/etl/etl-reader.js'));
  const { IssueLog } = await import(join(root, 'dist/etl/issues.js'));
  const runs = [];
  for (let i = 0; i < 3; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const reader = await openEtl(await openFileSource(path), new IssueLog());
    let records = 0;
    await scanRecords(reader, { issues: new IssueLog() }, () => { records++; });
    const c = process.cpuUsage(c0);
    await reader.close();
    runs.push({ wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6, expanded: reader.stats.expandedBytes, records });
  }
  const best = runs.reduce((a, b) => (a.cpu < b.cpu ? a : b));
  const line = `pktmon/expand-walk-300MB: ${(best.expanded / MB).toFixed(0)} MB expanded, ${best.records} records; Xpress expansion and record walk in-process, three runs: ` +
    runs.map((r) => `${r.wall.toFixed(2)} s wall / ${r.cpu.toFixed(2)} s CPU = ${(r.expanded / MB / r.cpu).toFixed(0)} MB/s per CPU second`).join('; ');
  console.log(line);
  lines.push(line);
}

// Start-up: `wnvcap --version` and `wnvcap info` of a small file against `node -e 0`, the same
// number of runs each, interleaved; CPU (user + system) and wall per run, median.
if (filter.test('startup')) {
  const small = join(dir, 'startup-small.etl');
  make(small, writeNdisScenario, { seed: 7, packets: 200, cpus: 2 });
  const bin = join(root, 'dist/cli/bin.js');
  const commands = [['node -e 0', ['-e', '0']], ['wnvcap --version', [bin, '--version']], ['wnvcap info (small file)', [bin, 'info', small]]];
  const runs = commands.map(() => []);
  for (let i = 0; i < 21; i++) {
    commands.forEach(([, args], k) => {
      const r = spawnSync('/usr/bin/time', ['-f', '%U %S %e', process.execPath, ...args], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`${commands[k][0]} failed: ${r.stderr}`);
      const [u, s, e] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
      runs[k].push({ cpu: u + s, wall: e });
    });
  }
  const figures = runs.map((r) => ({ cpu: median(r.map((x) => x.cpu)), wall: median(r.map((x) => x.wall)) }));
  const line = `startup (median of 21, interleaved): ` + commands.map(([name], k) => `${name} ${figures[k].cpu.toFixed(2)} s CPU / ${figures[k].wall.toFixed(2)} s wall` +
    (k ? ` (+${(figures[k].cpu - figures[0].cpu).toFixed(2)} / +${(figures[k].wall - figures[0].wall).toFixed(2)})` : '')).join('; ');
  console.log(line);
  lines.push(line);
}

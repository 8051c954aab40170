/** The terminal report: plain tables within 100 columns; colour only when asked (a TTY). */
import type { ReportData } from '../analysis/report-data.js';

export interface TextOptions {
  color: boolean;
  top: number;
}

const W = 100;

function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1048576) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1073741824) return `${(n / 1048576).toFixed(1)} MiB`;
  return `${(n / 1073741824).toFixed(2)} GiB`;
}

function cut(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, Math.max(0, n - 1))}…`;
}

function table(headers: string[], rows: string[][], widths: number[], right: Set<number>): string[] {
  const line = (cells: string[]): string => cells.map((c, i) => (right.has(i) ? cut(c, widths[i]!).padStart(widths[i]!) : cut(c, widths[i]!).padEnd(widths[i]!))).join(' ').trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

export function renderText(r: ReportData, o: TextOptions): string {
  const b = (s: string): string => (o.color ? `\x1b[1m${s}\x1b[0m` : s);
  const warn = (s: string): string => (o.color ? `\x1b[33m${s}\x1b[0m` : s);
  const out: string[] = [];
  const h = r.health;
  out.push(b(`wnvcap report${r.simulated ? ' (SIMULATED host: synthetic data, not from Windows)' : ''}`));
  out.push(cut(`capture  ${r.capture.file}${r.capture.host ? `  host ${r.capture.host}` : ''}  build ${r.capture.osBuild}`, W));
  out.push(`time     ${h.firstEvent ?? '-'} .. ${h.lastEvent ?? '-'} (${h.durationSeconds?.toFixed(3) ?? '?'} s)`);
  out.push(cut(`captured ${h.captured}`, W));
  const healthBits = [`events lost ${h.eventsLost}`, `buffers lost ${h.buffersLost + h.buffersFlaggedLost}`, `truncated ${h.truncatedPackets}`, `malformed ${h.malformedPackets}`];
  out.push(`health   ${healthBits.join(', ')}`);
  if (h.filters) out.push(cut(`filters  ${JSON.stringify(h.filters)}`, W));
  for (const w of h.warnings) out.push(warn(cut(`warning  ${w}`, W)));
  for (const [k, n] of Object.entries(h.decodeIssues)) out.push(warn(`decode   ${n} ${k} issue(s) (see wnvcap info)`));
  out.push('');
  out.push(b('Compartments'));
  out.push(...table(['id', 'name', 'addresses', 'packets', 'in', 'out', 'bytes', 'top protocols'],
    r.compartments.map((c) => [String(c.id), c.name, c.addresses.filter((a) => !a.startsWith('fe80') && a !== '127.0.0.1' && a !== '::1').join(' '), String(c.packets), String(c.packetsIn), String(c.packetsOut), fmtBytes(c.bytes),
      Object.entries(c.protocols).slice(0, 3).map(([k, n]) => `${k}:${n}`).join(' ')]),
    [3, 20, 19, 8, 7, 7, 9, 19], new Set([0, 3, 4, 5, 6])));
  if (r.unattributed.packets > 0) {
    out.push(`unattributed: ${r.unattributed.packets} packets, ${fmtBytes(r.unattributed.bytes)}`);
    for (const u of r.unattributed.reasons) out.push(cut(`  ${u.packets} packets: ${u.reason}`, W));
  }
  out.push('');
  out.push(b(`Flows (top ${Math.min(o.top, r.flows.length)} of ${r.flowsTotal} by bytes)`));
  out.push(...table(['proto', 'A', 'B', 'cmp', 'pkts', 'bytes', 'dur s', 'notes'],
    r.flows.slice(0, o.top).map((f) => {
      const notes: string[] = [];
      if (f.virtualNetworkId !== null) notes.push(`vni ${f.virtualNetworkId}`);
      if (f.tcp) {
        if (f.tcp.handshakeRttMicros !== null) notes.push(`rtt ${(f.tcp.handshakeRttMicros / 1000).toFixed(1)}ms`);
        if (f.tcp.retransmissions) notes.push(`retx ${f.tcp.retransmissions}`);
        if (f.tcp.resets) notes.push(`rst ${f.tcp.resets}`);
        if (f.tcp.zeroWindows) notes.push(`zwin ${f.tcp.zeroWindows}`);
        if (f.tcp.synUnanswered) notes.push('SYN unanswered');
      }
      if (f.dropped) notes.push(`dropped ${f.dropped}`);
      return [f.protocol, `${f.a.ip}:${f.a.port}`, `${f.b.ip}:${f.b.port}`, f.compartments.join(','), String(f.packets), fmtBytes(f.bytes), f.durationSeconds.toFixed(2), notes.join(' ')];
    }), [6, 22, 22, 4, 6, 9, 6, 17], new Set([4, 5, 6])));
  out.push('');
  const t = r.tcp;
  out.push(b('TCP'));
  out.push(`  ${t.flows} flows, ${t.handshakes} handshakes (median RTT ${t.medianHandshakeRttMicros === null ? '-' : `${(t.medianHandshakeRttMicros / 1000).toFixed(2)} ms`})`);
  out.push(`  ${t.retransmissions} retransmissions, ${t.outOfOrder} out of order, ${t.zeroWindows} zero windows, ${t.resets} resets, ${t.synUnanswered} SYN unanswered`);
  const dn = r.dns;
  out.push(b('DNS'));
  out.push(cut(`  ${dn.queries} queries, ${dn.responses} responses, ${dn.unanswered} unanswered; ${Object.entries(dn.byRcode).map(([k, n]) => `${k} ${n}`).join(', ') || 'no responses'}` +
    (dn.medianResponseMicros !== null ? `; median response ${(dn.medianResponseMicros / 1000).toFixed(2)} ms` : ''), W));
  for (const f of dn.failures.slice(0, 10)) out.push(cut(`  ${f.rcode.padEnd(8)} ${f.name} (type ${f.type}) from ${f.client} compartment ${f.compartmentId ?? '?'}`, W));
  out.push('');
  out.push(b('Drops'));
  if (r.drops.length === 0) out.push('  none reported');
  out.push(...(r.drops.length ? table(['packets', 'reason', 'component', 'cmp', 'location'],
    r.drops.slice(0, o.top).map((d) => [String(d.packets), `${d.reason} (${d.reasonCode})`, d.component, d.compartmentId === null ? '?' : String(d.compartmentId), d.location]),
    [7, 34, 34, 4, 10], new Set([0])) : []));
  out.push('');
  out.push(b('Packet paths'));
  out.push(cut(`  ${r.paths.multiHopPackets} packets seen at more than one place`, W));
  for (const p of r.paths.top.filter((x) => x.hops.length > 1).slice(0, 10)) {
    out.push(cut(`  ${String(p.packets).padStart(7)} ${p.hops.map((hop, i) => (i === 0 ? hop : `-(${p.hopLatencyMicros[i - 1]}us)-> ${hop}`)).join(' ')}${p.dropped ? `  [${p.dropped} dropped]` : ''}`, W));
  }
  return `${out.join('\n')}\n`;
}

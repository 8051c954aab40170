/** The merged fleet report: a table of hosts, a section per good host, and flows seen on two hosts. */
import type { FleetResult } from './fleet.js';
import { renderText } from '../report/text.js';

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function renderFleetText(r: FleetResult, top: number): string {
  const out: string[] = [];
  out.push(`wnvcap fleet capture${r.report?.simulated ? ' (SIMULATED hosts: synthetic data, not from Windows)' : ''}: ${r.hosts.filter((h) => h.status === 'ok').length} of ${r.hosts.length} hosts ok, at most ${r.maxConcurrent} at once`);
  out.push(`folder ${r.fleetDir}`);
  out.push('');
  for (const h of r.hosts) {
    out.push(`${h.status === 'ok' ? 'ok    ' : 'FAILED'} ${h.host.padEnd(24).slice(0, 24)} phase ${h.phase.padEnd(10)} ${h.packets !== null ? `${h.packets} packets` : ''}`.trimEnd());
    if (h.error) {
      out.push(`         ${h.error.message.slice(0, 90)}`);
      if (h.error.remedy) out.push(`         remedy: ${h.error.remedy.slice(0, 82)}`);
    }
  }
  if (r.report) {
    if (r.report.crossHostFlows.length > 0) {
      out.push('', 'Flows seen on two hosts (delay = second host first seen - first host first seen; clocks must agree)');
      for (const f of r.report.crossHostFlows.slice(0, top)) out.push(`  ${f.protocol} ${f.a} <-> ${f.b} ${f.firstHost} -> ${f.secondHost} ${(f.delayMicros / 1000).toFixed(3)} ms`.slice(0, 100));
    }
    for (const h of r.report.hosts) {
      out.push('', '='.repeat(100), `host ${h.host}`, '='.repeat(100));
      out.push(renderText(h.report, { color: false, top }).trimEnd());
    }
  }
  return `${out.join('\n')}\n`;
}

export function renderFleetHtml(r: FleetResult): string {
  const rows = r.hosts.map((h) => `<tr><td>${esc(h.host)}</td><td>${h.status}</td><td>${esc(h.phase)}</td><td>${h.packets ?? ''}</td><td>${esc(h.error?.message ?? '')}</td><td>${esc(h.error?.remedy ?? '')}</td></tr>`).join('\n');
  const sections = (r.report?.hosts ?? []).map((h) => {
    const comps = h.report.compartments.map((c) => `<tr><td>${c.id}</td><td>${esc(c.name)}</td><td>${esc(c.addresses.join(' '))}</td><td>${c.packets}</td><td>${c.bytes}</td></tr>`).join('\n');
    const flows = h.report.flows.slice(0, 50).map((f) => `<tr><td>${f.protocol}</td><td>${esc(`${f.a.ip}:${f.a.port}`)}</td><td>${esc(`${f.b.ip}:${f.b.port}`)}</td><td>${f.compartments.join(',')}</td><td>${f.packets}</td><td>${f.bytes}</td></tr>`).join('\n');
    return `<section><h2>host ${esc(h.host)}</h2><p>${esc(h.report.health.captured)}</p>
<h3>Compartments</h3><table><tr><th>id</th><th>name</th><th>addresses</th><th>packets</th><th>bytes</th></tr>${comps}</table>
<h3>Flows</h3><table><tr><th>proto</th><th>A</th><th>B</th><th>compartments</th><th>packets</th><th>bytes</th></tr>${flows}</table></section>`;
  }).join('\n');
  const cross = (r.report?.crossHostFlows ?? []).map((f) => `<tr><td>${f.protocol}</td><td>${esc(f.a)}</td><td>${esc(f.b)}</td><td>${esc(f.firstHost)}</td><td>${esc(f.secondHost)}</td><td>${(f.delayMicros / 1000).toFixed(3)} ms</td></tr>`).join('\n');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>wnvcap fleet report${r.report?.simulated ? ' (simulated)' : ''}</title>
<style>body{font:14px system-ui,sans-serif;margin:20px}table{border-collapse:collapse}td,th{border-bottom:1px solid #ddd;padding:2px 8px;text-align:left}</style></head><body>
<h1>wnvcap fleet report${r.report?.simulated ? ' (SIMULATED hosts)' : ''}</h1>
<table><tr><th>host</th><th>status</th><th>phase</th><th>packets</th><th>error</th><th>remedy</th></tr>${rows}</table>
<h2>Flows seen on two hosts</h2><table><tr><th>proto</th><th>A</th><th>B</th><th>first</th><th>second</th><th>delay</th></tr>${cross}</table>
${sections}
</body></html>
`;
}

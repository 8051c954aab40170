/**
 * The HTML report: one self-contained file (inline script, styles and the uPlot charting library,
 * no network request). Data is embedded as JSON with '<' escaped; every string from the capture
 * (DNS names, interface names...) is inserted with textContent, never as HTML.
 * Charts: traffic per compartment over time; tables: flows (sortable, filterable; click a row
 * for its path across components), drops, DNS failures; the capture health banner on top.
 */
import type { ReportData } from '../analysis/report-data.js';

export interface HtmlAssets {
  uplotJs: string;
  uplotCss: string;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON safe inside a <script> element. */
function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const STYLE = `
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1b1f24;background:#f6f8fa}
header{background:#0b3d5c;color:#fff;padding:12px 20px}header h1{margin:0;font-size:20px}
main{padding:12px 20px;max-width:1400px}
section{background:#fff;border:1px solid #d0d7de;border-radius:6px;margin:12px 0;padding:10px 14px}
h2{font-size:16px;margin:4px 0 8px}
.banner{border-left:6px solid #2da44e}.banner.warn{border-left-color:#d29922}.banner.sim{border-left-color:#8250df}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{padding:3px 6px;border-bottom:1px solid #eaeef2;text-align:left;white-space:nowrap}
th{cursor:pointer;background:#f6f8fa;user-select:none}th.sorted-asc::after{content:" \\25B2"}th.sorted-desc::after{content:" \\25BC"}
td.num,th.num{text-align:right}tr.sel{background:#ddf4ff}tbody tr:hover{background:#f3f4f6}
input[type=search]{padding:4px 8px;width:320px;margin-bottom:6px}
.kv{display:grid;grid-template-columns:max-content auto;gap:2px 12px}.muted{color:#57606a}
.path{font-family:ui-monospace,Consolas,monospace;font-size:12px}
`;

const SCRIPT = `
(function(){
  var R = JSON.parse(document.getElementById('report-data').textContent);
  function el(tag, text, cls){ var e = document.createElement(tag); if (text !== undefined && text !== null) e.textContent = String(text); if (cls) e.className = cls; return e; }
  function fmtBytes(n){ if(n<1024) return n+' B'; if(n<1048576) return (n/1024).toFixed(1)+' KiB'; if(n<1073741824) return (n/1048576).toFixed(1)+' MiB'; return (n/1073741824).toFixed(2)+' GiB'; }
  function table(container, columns, rows, opts){
    opts = opts || {};
    var t = el('table'); var thead = el('thead'); var tr = el('tr'); var tbody = el('tbody');
    var sortCol = -1, sortDir = 1;
    columns.forEach(function(c, i){
      var th = el('th', c.title, c.num ? 'num' : '');
      th.addEventListener('click', function(){
        if (sortCol === i) sortDir = -sortDir; else { sortCol = i; sortDir = c.num ? -1 : 1; }
        Array.prototype.forEach.call(tr.children, function(x){ x.classList.remove('sorted-asc','sorted-desc'); });
        th.classList.add(sortDir > 0 ? 'sorted-asc' : 'sorted-desc');
        render();
      });
      tr.appendChild(th);
    });
    thead.appendChild(tr); t.appendChild(thead); t.appendChild(tbody); container.appendChild(t);
    var filter = '';
    function render(){
      var rs = rows.filter(function(r){ return !filter || columns.some(function(c){ return String(c.value(r)).toLowerCase().indexOf(filter) >= 0; }); });
      if (sortCol >= 0) { var c = columns[sortCol]; rs = rs.slice().sort(function(a, b){ var x = c.value(a), y = c.value(b); return (x < y ? -1 : x > y ? 1 : 0) * sortDir; }); }
      tbody.textContent = '';
      rs.forEach(function(r){
        var row = el('tr');
        columns.forEach(function(c){ row.appendChild(el('td', c.show ? c.show(r) : c.value(r), c.num ? 'num' : '')); });
        if (opts.onClick) row.addEventListener('click', function(){ Array.prototype.forEach.call(tbody.children, function(x){ x.classList.remove('sel'); }); row.classList.add('sel'); opts.onClick(r); });
        tbody.appendChild(row);
      });
      t.setAttribute('data-rows', String(rs.length));
    }
    render();
    return { setFilter: function(f){ filter = f.toLowerCase(); render(); }, table: t };
  }
  // Health banner
  var h = R.health; var banner = document.getElementById('health');
  banner.classList.add(R.simulated ? 'sim' : (h.warnings.length || h.eventsLost || h.buffersLost || h.buffersFlaggedLost) ? 'warn' : 'ok');
  var kv = el('div', null, 'kv');
  function pair(k, v){ kv.appendChild(el('span', k, 'muted')); kv.appendChild(el('span', v)); }
  if (R.simulated) pair('source', 'SIMULATED host: synthetic data made by wnvcap, not captured on Windows');
  pair('capture', R.capture.file + (R.capture.host ? '  (host ' + R.capture.host + ')' : ''));
  pair('time', (h.firstEvent || '-') + ' .. ' + (h.lastEvent || '-') + ' (' + (h.durationSeconds === null ? '?' : h.durationSeconds.toFixed(3)) + ' s)');
  pair('captured', h.captured);
  pair('health', 'events lost ' + h.eventsLost + ', buffers lost ' + (h.buffersLost + h.buffersFlaggedLost) + ', truncated ' + h.truncatedPackets + ', malformed ' + h.malformedPackets + ', late ' + h.lateEvents);
  if (h.filters) pair('filters', JSON.stringify(h.filters));
  h.warnings.forEach(function(w){ pair('warning', w); });
  Object.keys(h.decodeIssues).forEach(function(k){ pair('decode', h.decodeIssues[k] + ' ' + k + ' issue(s)'); });
  banner.appendChild(kv);
  // Compartments table and chart
  table(document.getElementById('compartments'), [
    { title: 'id', value: function(c){ return c.id; }, num: true },
    { title: 'name', value: function(c){ return c.name; } },
    { title: 'addresses', value: function(c){ return c.addresses.join(' '); } },
    { title: 'packets', value: function(c){ return c.packets; }, num: true },
    { title: 'in', value: function(c){ return c.packetsIn; }, num: true },
    { title: 'out', value: function(c){ return c.packetsOut; }, num: true },
    { title: 'bytes', value: function(c){ return c.bytes; }, show: function(c){ return fmtBytes(c.bytes); }, num: true },
    { title: 'protocols', value: function(c){ return Object.keys(c.protocols).map(function(k){ return k + ':' + c.protocols[k]; }).join(' '); } }
  ], R.compartments);
  var comps = R.compartments.filter(function(c){ return c.timeline.length; });
  var maxSec = 0; comps.forEach(function(c){ c.timeline.forEach(function(p){ if (p[0] > maxSec) maxSec = p[0]; }); });
  var xs = []; for (var s = 0; s <= maxSec; s++) xs.push(s);
  var data = [xs]; var series = [{ label: 'second' }];
  var colors = ['#0969da','#cf222e','#1a7f37','#8250df','#bf8700','#0a3069','#d1242f','#116329'];
  comps.forEach(function(c, i){
    var ys = xs.map(function(){ return 0; }); c.timeline.forEach(function(p){ ys[p[0]] = p[1]; });
    data.push(ys); series.push({ label: c.id + ' ' + c.name, stroke: colors[i % colors.length], width: 2 });
  });
  var chartEl = document.getElementById('chart');
  if (comps.length && typeof uPlot === 'function') {
    new uPlot({ width: Math.min(1300, (chartEl.clientWidth || 1000)), height: 260, series: series, scales: { x: { time: false } }, axes: [{ label: 'seconds since first packet' }, { label: 'packets/s' }] }, data, chartEl);
  } else chartEl.textContent = 'no attributed traffic to chart';
  // Flows
  var flowBox = document.getElementById('flows');
  var pathBox = document.getElementById('flow-path');
  var ft = table(flowBox, [
    { title: 'proto', value: function(f){ return f.protocol; } },
    { title: 'A', value: function(f){ return f.a.ip + ':' + f.a.port; } },
    { title: 'B', value: function(f){ return f.b.ip + ':' + f.b.port; } },
    { title: 'compartments', value: function(f){ return f.compartments.join(','); } },
    { title: 'vni', value: function(f){ return f.virtualNetworkId === null ? '' : f.virtualNetworkId; } },
    { title: 'packets', value: function(f){ return f.packets; }, num: true },
    { title: 'bytes', value: function(f){ return f.bytes; }, show: function(f){ return fmtBytes(f.bytes); }, num: true },
    { title: 'duration s', value: function(f){ return f.durationSeconds; }, show: function(f){ return f.durationSeconds.toFixed(3); }, num: true },
    { title: 'retx', value: function(f){ return f.tcp ? f.tcp.retransmissions : 0; }, num: true },
    { title: 'resets', value: function(f){ return f.tcp ? f.tcp.resets : 0; }, num: true },
    { title: 'dropped', value: function(f){ return f.dropped; }, num: true },
    { title: 'notes', value: function(f){ var n = []; if (f.tcp && f.tcp.synUnanswered) n.push('SYN unanswered'); if (f.tcp && f.tcp.handshakeRttMicros !== null) n.push('rtt ' + (f.tcp.handshakeRttMicros/1000).toFixed(2) + ' ms'); if (f.tcp && f.tcp.zeroWindows) n.push('zero window ' + f.tcp.zeroWindows); return n.join(', '); } }
  ], R.flows, { onClick: function(f){
    pathBox.textContent = '';
    pathBox.appendChild(el('h3', 'Path of ' + f.protocol + ' ' + f.a.ip + ':' + f.a.port + ' <-> ' + f.b.ip + ':' + f.b.port));
    f.path.signatures.forEach(function(p){ pathBox.appendChild(el('div', p.packets + ' packets: ' + p.hops.join(' -> ') + (p.dropped ? '  (dropped)' : ''), 'path')); });
    f.path.stops.forEach(function(s){ pathBox.appendChild(el('div', 'last seen at ' + s.interface + ': ' + s.packets + ' packets' + (s.dropped ? ', ' + s.dropped + ' dropped there' : ''), 'muted')); });
  }});
  ft.table.id = 'flow-table';
  document.getElementById('flow-filter').addEventListener('input', function(e){ ft.setFilter(e.target.value); });
  // Drops, DNS, paths
  table(document.getElementById('drops'), [
    { title: 'packets', value: function(d){ return d.packets; }, num: true },
    { title: 'reason', value: function(d){ return d.reason + ' (' + d.reasonCode + ')'; } },
    { title: 'component', value: function(d){ return d.component; } },
    { title: 'compartment', value: function(d){ return d.compartmentId === null ? '?' : d.compartmentId; } },
    { title: 'location', value: function(d){ return d.location; } }
  ], R.drops);
  var dns = document.getElementById('dns');
  dns.appendChild(el('p', R.dns.queries + ' queries, ' + R.dns.responses + ' responses, ' + R.dns.unanswered + ' unanswered; ' + Object.keys(R.dns.byRcode).map(function(k){ return k + ' ' + R.dns.byRcode[k]; }).join(', ')));
  table(dns, [
    { title: 'rcode', value: function(q){ return q.rcode; } }, { title: 'name', value: function(q){ return q.name; } },
    { title: 'client', value: function(q){ return q.client; } }, { title: 'server', value: function(q){ return q.server; } },
    { title: 'compartment', value: function(q){ return q.compartmentId === null ? '?' : q.compartmentId; } }, { title: 'at', value: function(q){ return q.at; } }
  ], R.dns.failures);
  var tcp = R.tcp;
  document.getElementById('tcp').appendChild(el('p', tcp.flows + ' TCP flows, ' + tcp.handshakes + ' handshakes (median RTT ' + (tcp.medianHandshakeRttMicros === null ? '-' : (tcp.medianHandshakeRttMicros/1000).toFixed(2) + ' ms') + '), ' + tcp.retransmissions + ' retransmissions, ' + tcp.outOfOrder + ' out of order, ' + tcp.zeroWindows + ' zero windows, ' + tcp.resets + ' resets, ' + tcp.synUnanswered + ' SYN unanswered'));
  table(document.getElementById('paths'), [
    { title: 'packets', value: function(p){ return p.packets; }, num: true },
    { title: 'hops', value: function(p){ return p.hops.map(function(hp, i){ return i ? '-(' + p.hopLatencyMicros[i-1] + ' us)-> ' + hp : hp; }).join(' '); } },
    { title: 'dropped', value: function(p){ return p.dropped; }, num: true }
  ], R.paths.top.filter(function(p){ return p.hops.length > 1 || p.dropped; }));
  var un = document.getElementById('unattributed');
  un.appendChild(el('p', R.unattributed.packets + ' packets (' + fmtBytes(R.unattributed.bytes) + ') could not be attributed to a compartment'));
  R.unattributed.reasons.forEach(function(u){ un.appendChild(el('div', u.packets + ' packets: ' + u.reason, 'muted')); });
  document.body.setAttribute('data-ready', '1');
})();
`;

export function renderHtml(r: ReportData, assets: HtmlAssets): string {
  const title = `wnvcap report${r.capture.host ? ` - ${r.capture.host}` : ''}${r.simulated ? ' (simulated)' : ''}`;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(title)}</title>
<style>${assets.uplotCss}</style><style>${STYLE}</style>
</head><body>
<header><h1>${escapeHtml(title)}</h1></header>
<main>
<section id="health" class="banner"><h2>Capture health</h2></section>
<section><h2>Traffic per compartment</h2><div id="chart"></div><div id="compartments"></div></section>
<section><h2>Flows (${r.flows.length} of ${r.flowsTotal})</h2><input type="search" id="flow-filter" placeholder="filter flows (address, port, protocol...)"><div id="flows"></div><div id="flow-path" class="path"></div></section>
<section><h2>TCP</h2><div id="tcp"></div></section>
<section><h2>DNS</h2><div id="dns"></div></section>
<section><h2>Drops</h2><div id="drops"></div></section>
<section><h2>Packet paths</h2><div id="paths"></div></section>
<section><h2>Unattributed</h2><div id="unattributed"></div></section>
</main>
<script type="application/json" id="report-data">${scriptJson(r)}</script>
<script>${assets.uplotJs.replace(/<\/script/gi, '<\\/script')}</script>
<script>${SCRIPT}</script>
</body></html>
`;
}

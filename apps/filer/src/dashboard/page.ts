// The dashboard's page and script, served as they are (no build step): plain HTML, and a script that
// polls `/dashboard/state` every 2 s and draws the tables and an SVG chart by hand.
export const kDashboardHtml = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>avscan filer dashboard</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px system-ui,sans-serif;margin:16px;color:#222;background:#fafafa}
h1{font-size:20px;margin:0 0 12px}h2{font-size:15px;margin:16px 0 6px}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:16px}.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:10px}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:3px 6px;border-bottom:1px solid #eee;font-size:13px}
.deny{color:#b00020;font-weight:600}.ok{color:#137333}.muted{color:#777}
.bar{background:#eee;border-radius:3px;height:10px;width:120px;display:inline-block;vertical-align:middle}.bar>span{display:block;height:10px;background:#1a73e8;border-radius:3px}
#legend span{display:inline-block;margin-right:10px;font-size:12px}#legend i{display:inline-block;width:10px;height:10px;margin-right:4px}
</style></head>
<body><h1>avscan filer <span id="updated" class="muted"></span></h1>
<div class="grid">
<div class="card"><h2>SVMs</h2><table id="svms"><thead><tr><th>SVM</th><th>Vscan</th><th>Enabled policy</th><th>Queue</th><th>In flight</th></tr></thead><tbody></tbody></table>
<h2>Scanner servers</h2><table id="servers"><thead><tr><th>SVM</th><th>Server</th><th>State</th><th>p50 ms</th><th>p99 ms</th></tr></thead><tbody></tbody></table></div>
<div class="card"><h2>Decisions per second by reason, last hour</h2><svg id="chart" width="100%" height="180" viewBox="0 0 600 180" preserveAspectRatio="none"></svg><div id="legend"></div>
<h2>Verdict mix, last hour</h2><div id="verdicts"></div></div>
<div class="card"><h2>Recent events</h2><table id="events"><thead><tr><th>Time</th><th>SVM</th><th>File</th><th>Op</th><th>Decision</th><th>Reason</th><th>Threats</th></tr></thead><tbody></tbody></table></div>
<div class="card"><h2>Jobs</h2><table id="jobs"><thead><tr><th>Policy</th><th>State</th><th>Progress</th><th>Files</th><th>Infected</th><th>Rate</th></tr></thead><tbody></tbody></table>
<h2>Reports</h2><table id="reports"><thead><tr><th>Report</th><th>Kind</th><th>State</th><th>Files</th><th>Infected</th><th>Start</th></tr></thead><tbody></tbody></table></div>
</div><script src="/dashboard/app.js"></script></body></html>
`;

export const kDashboardJs = `'use strict';
const COLORS = ['#1a73e8','#b00020','#137333','#f29900','#9334e6','#12b5cb','#e8710a','#5f6368'];
const esc = (s) => String(s ?? '-').replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));
const time = (ms) => ms ? new Date(ms).toISOString().slice(11, 19) : '-';
function rows(id, list, cells) {
  document.querySelector('#' + id + ' tbody').innerHTML = list.length === 0
    ? '<tr><td class="muted" colspan="9">none</td></tr>'
    : list.map((r) => '<tr>' + cells(r).map((c) => '<td>' + c + '</td>').join('') + '</tr>').join('');
}
function chart(minutes) {
  const reasons = [...new Set(minutes.flatMap((m) => Object.keys(m.reasons)))].sort();
  const max = Math.max(1, ...minutes.map((m) => Object.values(m.reasons).reduce((a, b) => a + b, 0)));
  const w = 600 / minutes.length;
  let svg = '';
  minutes.forEach((m, i) => {
    let y = 170;
    reasons.forEach((r, k) => {
      const h = ((m.reasons[r] ?? 0) / max) * 160;
      if (h > 0) { y -= h; svg += '<rect x="' + (i * w + 1) + '" y="' + y + '" width="' + (w - 2) + '" height="' + h + '" fill="' + COLORS[k % COLORS.length] + '"><title>' + esc(r) + ': ' + (m.reasons[r] / 60).toFixed(2) + '/s</title></rect>'; }
    });
  });
  svg += '<line x1="0" y1="170" x2="600" y2="170" stroke="#999"/><text x="2" y="12" font-size="11" fill="#555">' + (max / 60).toFixed(2) + '/s</text>';
  document.getElementById('chart').innerHTML = svg;
  document.getElementById('legend').innerHTML = reasons.map((r, k) => '<span><i style="background:' + COLORS[k % COLORS.length] + '"></i>' + esc(r) + '</span>').join('');
  const v = {};
  for (const m of minutes) for (const [k, n] of Object.entries(m.verdicts)) v[k] = (v[k] ?? 0) + n;
  const total = Object.values(v).reduce((a, b) => a + b, 0) || 1;
  document.getElementById('verdicts').innerHTML = Object.entries(v).map(([k, n]) => '<div>' + esc(k) + ' <span class="bar"><span style="width:' + (100 * n / total) + '%"></span></span> ' + n + '</div>').join('') || '<span class="muted">no decisions yet</span>';
}
async function refresh() {
  try {
    const s = await (await fetch('/dashboard/state', { cache: 'no-store' })).json();
    rows('svms', s.svms, (x) => [esc(x.name), x.enabled ? '<span class="ok">enabled</span>' : 'disabled', esc(x.policy), x.queued, x.inFlight]);
    rows('servers', s.svms.flatMap((x) => x.servers.map((v) => ({ ...v, svm: x.name }))), (v) => [esc(v.svm), esc(v.server), esc(v.state), v.p50, v.p99]);
    chart(s.minutes);
    rows('events', s.recent, (e) => [time(e.time), esc(e.svm), esc(e.path), esc(e.operation), e.allow ? '<span class="ok">allow</span>' : '<span class="deny">deny</span>', esc(e.reason), esc(e.threats.join(', '))]);
    rows('jobs', s.jobs, (j) => [esc(j.name), esc(j.state), '<span class="bar"><span style="width:' + (j.percent ?? 0) + '%"></span></span> ' + (j.percent ?? '?') + '%', j.checked + '/' + (j.total ?? '?'), j.infected, j.rate + '/s']);
    rows('reports', s.reports, (r) => [esc(r.id.slice(0, 18)), esc(r.kind), esc(r.state), r.files, r.infected, time(r.start)]);
    document.getElementById('updated').textContent = 'updated ' + time(s.time);
  } catch (err) {
    document.getElementById('updated').textContent = 'update failed: ' + err;
  }
}
refresh();
setInterval(refresh, 2000);
`;

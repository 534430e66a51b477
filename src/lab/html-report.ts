/**
 * The self-contained HTML report: the table, bar charts of the figures, per strategy a timeline
 * of stale reads and their age with the fault schedule drawn on it, and a plain reading of its
 * failure mode. Charts are Chart.js, whose UMD build is read from node_modules and inlined, so the
 * file opens anywhere with no network. `renderReport` is pure; `chartLibrary` reads the file.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { FAULT_DESCRIPTIONS } from './faults.js';
import { checkAt, type LabResult, type StrategyResult } from './results.js';
import { formatMs, formatNines } from './table.js';

/** The Chart.js UMD build's source text. */
export async function chartLibrary(): Promise<string> {
  // The package exports no subpath for its UMD build: found beside its CommonJS entry.
  const entry = createRequire(import.meta.url).resolve('chart.js');
  return readFile(join(dirname(entry), 'chart.umd.min.js'), 'utf8');
}

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

/** JSON safe inside a <script> element. */
const scriptJson = (value: unknown): string => JSON.stringify(value).replace(/</g, '\\u003c');

/** What the numbers say about one strategy in this run, one sentence. */
export function runReading(r: StrategyResult): string {
  const c1 = checkAt(r, 1000);
  const c10 = checkAt(r, 10_000);
  const parts = [
    r.staleForever === 0 ? 'no key was left stale' : `${r.staleForever} key${r.staleForever === 1 ? ' was' : 's were'} left stale for good`,
    c1 ? `${c1.inconsistent} of ${c1.checks} checks bad 1 s after a write` : undefined,
    c10 ? `${c10.inconsistent} bad at 10 s` : undefined,
    r.staleReads === 0 ? 'no stale read' : `${r.staleReads} stale reads, up to ${formatMs(r.staleAgeMs.max)} late`,
    r.lostWrites === null ? undefined : `${r.lostWrites} acknowledged write${r.lostWrites === 1 ? '' : 's'} lost`,
  ].filter((p): p is string => p !== undefined);
  return `In this run: ${parts.join('; ')}.`;
}

function tableHtml(result: LabResult): string {
  const head = ['strategy', 'stale keys', 'bad checks 1 s', 'bad checks 10 s', 'nines 1 s', 'stale reads', 'stale age p99 / max', 'lost writes', 'write p50 / p99 added', 'hit rate', 'db reads/s'];
  const rows = result.strategies.map((r) => [
    r.ours ? `<b>${escapeHtml(r.name)}</b>` : escapeHtml(r.name),
    String(r.staleForever), String(checkAt(r, 1000)?.inconsistent ?? '-'), String(checkAt(r, 10_000)?.inconsistent ?? '-'),
    escapeHtml(formatNines(r, 1000)), String(r.staleReads),
    r.staleReads === 0 ? '-' : `${formatMs(r.staleAgeMs.p99)} / ${formatMs(r.staleAgeMs.max)}`,
    r.lostWrites === null ? '-' : String(r.lostWrites),
    `${r.addedLatencyMs.p50.toFixed(1)} / ${r.addedLatencyMs.p99.toFixed(1)} ms`,
    `${(r.hitRate * 100).toFixed(1)}%`, r.dbReadsPerSecond.toFixed(0),
  ]);
  return `<table><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${rows
    .map((row) => `<tr>${row.map((cell) => `<td>${cell}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

/** The whole report as one HTML document, `library` being the Chart.js UMD source. */
export function renderReport(result: LabResult, library: string): string {
  const faultItems = result.faults.map((f) =>
    `<li><b>${escapeHtml(f.kind)}</b> at ${formatMs(f.startMs)}${f.endMs > f.startMs ? `–${formatMs(f.endMs)}` : ''}: ${escapeHtml(FAULT_DESCRIPTIONS[f.kind])}</li>`).join('');
  const sections = result.strategies.map((r, i) => `
<section class="strategy${r.ours ? ' ours' : ''}">
  <h3>${escapeHtml(r.name)}${r.ours ? ' (this project)' : ''}</h3>
  <p class="steps">${escapeHtml(r.steps)}</p>
  <p>${escapeHtml(r.failureMode)}</p>
  <p class="reading">${escapeHtml(runReading(r))}</p>
  <div class="chart"><canvas id="timeline-${i}"></canvas></div>
</section>`).join('');
  const s = result.settings;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>outbox-cache lab report</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1150px;padding:0 1em;color:#222}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 7px;text-align:right}
td:first-child,th:first-child{text-align:left}.grid{display:grid;grid-template-columns:1fr 1fr;gap:1em}
.chart{position:relative;height:260px}.strategy{border-top:1px solid #ddd;margin-top:1.5em}.ours h3{color:#0a6}
.steps{font-style:italic}.reading{font-weight:600}
</style></head><body>
<h1>outbox-cache lab</h1>
<p>Run of ${escapeHtml(result.startedAt)}: ${result.strategies.length} strategies for ${formatMs(result.elapsedMs)}${result.interrupted ? ' (stopped early)' : ''};
per strategy ${s.writers} writers and ${s.readers} readers over ${s.keys} items (${s.hotKeys} hot ones get ${Math.round(s.hotShare * 100)}% of the operations),
readers pausing 0–${s.fillDelayMs} ms between their database read and their fill${s.replicaDelaySeconds === null ? '' : `, a replica delayed by ${s.replicaDelaySeconds} s`}.
Plain commit: p50 ${result.plainCommitMs.p50} ms, p99 ${result.plainCommitMs.p99} ms.</p>
<h2>Fault schedule</h2><ul>${faultItems || '<li>none</li>'}</ul>
<h2>Figures</h2>${tableHtml(result)}
<p>Stale keys: still older than the database once everything settled. Bad checks: each write's key checked 1 s and 10 s after its commit (the auditor's measure); bad = it held an entry older than the write.
Stale reads: a read returned a version older than one committed before it began.</p>
<div class="grid">
<div class="chart"><canvas id="bar-stale-keys"></canvas></div>
<div class="chart"><canvas id="bar-checks"></canvas></div>
<div class="chart"><canvas id="bar-stale-reads"></canvas></div>
<div class="chart"><canvas id="bar-latency"></canvas></div>
<div class="chart"><canvas id="bar-hits"></canvas></div>
<div class="chart"><canvas id="bar-db"></canvas></div>
</div>
<h2>Each strategy</h2>${sections}
<script>${library.replace(/<\/script/gi, '<\\/script')}</script>
<script type="application/json" id="lab-data">${scriptJson(result)}</script>
<script>${CLIENT_SCRIPT}</script>
</body></html>
`;
}

/** Runs in the page: builds every chart from the embedded data; sets window.labChartsDrawn. */
const CLIENT_SCRIPT = `
(function () {
  var data = JSON.parse(document.getElementById('lab-data').textContent);
  var names = data.strategies.map(function (s) { return s.name; });
  var colors = data.strategies.map(function (s) { return s.ours ? '#0a6' : '#c44'; });
  var faultColors = { 'app-crash': 'rgba(200,0,0,0.5)', 'redis-errors': 'rgba(255,140,0,0.18)', 'redis-restart': 'rgba(128,0,128,0.5)',
    'worker-crash': 'rgba(0,90,200,0.15)', 'replica-reads': 'rgba(0,150,150,0.12)' };
  var faultPlugin = {
    id: 'faultWindows',
    beforeDatasetsDraw: function (chart) {
      var x = chart.scales.x, area = chart.chartArea, ctx = chart.ctx;
      ctx.save();
      data.faults.forEach(function (f) {
        var a = x.getPixelForValue(f.startMs / 1000), b = x.getPixelForValue(f.endMs / 1000);
        var w = Math.max(3, b - a);
        ctx.fillStyle = faultColors[f.kind] || 'rgba(0,0,0,0.2)';
        ctx.fillRect(a, area.top, w, area.bottom - area.top);
        ctx.fillStyle = '#444'; ctx.font = '10px sans-serif';
        ctx.fillText(f.kind, a + 2, area.top + 10);
      });
      ctx.restore();
    }
  };
  var drawn = 0;
  function bar(id, title, datasets, extra) {
    new Chart(document.getElementById(id), {
      type: 'bar',
      data: { labels: names, datasets: datasets },
      options: Object.assign({ responsive: true, maintainAspectRatio: false, animation: false,
        plugins: { title: { display: true, text: title }, legend: { display: datasets.length > 1 } } }, extra || {})
    });
    drawn++;
  }
  function pick(f) { return data.strategies.map(f); }
  function check(s, h) { var c = s.checks.find(function (c) { return c.horizonMs === h; }); return c ? c.inconsistent : 0; }
  bar('bar-stale-keys', 'Stale keys at the end, and lost writes', [
    { label: 'stale keys', data: pick(function (s) { return s.staleForever; }), backgroundColor: colors },
    { label: 'lost writes', data: pick(function (s) { return s.lostWrites || 0; }), backgroundColor: '#888' }]);
  bar('bar-checks', 'Bad auditor checks (1 s and 10 s after each write)', [
    { label: '1 s', data: pick(function (s) { return check(s, 1000); }), backgroundColor: '#e90' },
    { label: '10 s', data: pick(function (s) { return check(s, 10000); }), backgroundColor: '#c44' }]);
  bar('bar-stale-reads', 'Stale reads, and their age p99 (ms, right axis)', [
    { label: 'stale reads', data: pick(function (s) { return s.staleReads; }), backgroundColor: colors, yAxisID: 'y' },
    { label: 'age p99 ms', data: pick(function (s) { return s.staleAgeMs.p99; }), backgroundColor: '#999', yAxisID: 'y1' }],
    { scales: { y: { position: 'left' }, y1: { position: 'right', grid: { drawOnChartArea: false } } } });
  bar('bar-latency', 'Write latency added over a plain commit (ms)', [
    { label: 'p50', data: pick(function (s) { return s.addedLatencyMs.p50; }), backgroundColor: '#69c' },
    { label: 'p99', data: pick(function (s) { return s.addedLatencyMs.p99; }), backgroundColor: '#36a' }]);
  bar('bar-hits', 'Hit rate (%)', [{ label: 'hit rate', data: pick(function (s) { return Math.round(s.hitRate * 1000) / 10; }), backgroundColor: colors }],
    { scales: { y: { min: 0, max: 100 } } });
  bar('bar-db', 'Database reads per second', [{ label: 'db reads/s', data: pick(function (s) { return s.dbReadsPerSecond; }), backgroundColor: colors }]);
  data.strategies.forEach(function (s, i) {
    var points = function (f) { return s.timeline.map(function (t, sec) { return { x: sec, y: f(t) }; }); };
    new Chart(document.getElementById('timeline-' + i), {
      type: 'line',
      data: { datasets: [
        { label: 'stale reads per second', data: points(function (t) { return t.staleReads; }), borderColor: '#c44', backgroundColor: 'rgba(204,68,68,0.2)', fill: true, stepped: true, pointRadius: 0, yAxisID: 'y' },
        { label: 'oldest stale read that second (ms)', data: points(function (t) { return t.maxStaleAgeMs; }), borderColor: '#36a', pointRadius: 0, yAxisID: 'y1' }] },
      options: { responsive: true, maintainAspectRatio: false, animation: false, parsing: true,
        plugins: { title: { display: true, text: s.name + ': stale reads over time (shaded: faults)' } },
        scales: { x: { type: 'linear', min: 0, max: Math.max(1, data.elapsedMs / 1000), title: { display: true, text: 'seconds' } },
          y: { beginAtZero: true, position: 'left' }, y1: { beginAtZero: true, position: 'right', grid: { drawOnChartArea: false } } } },
      plugins: [faultPlugin]
    });
    drawn++;
  });
  window.labChartsDrawn = drawn;
})();
`;

/**
 * The console's static files: Pico CSS and Chart.js from their npm packages
 * (read once, served with a long cache), plus the few lines that hand the cost
 * page's data to Chart.js and a little CSS of our own.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/** Builds the cost chart from the page's JSON: one stacked bar series per key, a bar slot for every bucket of the range. */
const CONSOLE_JS = `(() => {
  const data = document.getElementById('cost-data');
  const canvas = document.getElementById('cost-chart');
  if (!data || !canvas || !window.Chart) return;
  const { bucket, buckets, points } = JSON.parse(data.textContent);
  const labels = buckets;
  // The costliest keys first, (other) last and grey; a palette wide enough that no two series share a colour.
  const keys = [...new Set(points.map((p) => p.k))].sort((a, b) => (a === '(other)') - (b === '(other)'));
  const palette = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22'];
  const datasets = keys.map((k, i) => {
    const byTime = new Map(points.filter((p) => p.k === k).map((p) => [p.t, p.usd]));
    return { label: k === '' ? '(none)' : k, backgroundColor: k === '(other)' ? '#c8c8c8' : palette[i % palette.length], data: labels.map((t) => byTime.get(t) ?? 0) };
  });
  new window.Chart(canvas, {
    type: 'bar',
    data: { labels: labels.map((t) => (bucket === 'hour' ? t.slice(5, 16).replace('T', ' ') : bucket === 'month' ? t.slice(0, 7) : t.slice(0, 10))), datasets },
    options: { animation: false, responsive: true, scales: { x: { stacked: true }, y: { stacked: true, title: { display: true, text: 'USD' } } } },
  });
})();
`;

const CONSOLE_CSS = `form.inline { margin: 0; }
form.inline button { padding: 0.25rem 0.75rem; margin: 0; }
tr.near-cap td { background: #fff3cd; }
.error, [role=alert] { color: #b3261e; }
table code { white-space: pre-wrap; word-break: break-all; }
`;

export interface Asset { body: string | Buffer; type: string }

function packageFile(resolved: string, ...path: string[]): Buffer {
  return readFileSync(join(dirname(resolved), ...path));
}

let cache: Map<string, Asset> | undefined;

export function assets(): Map<string, Asset> {
  cache ??= new Map<string, Asset>([
    ['pico.min.css', { body: readFileSync(require.resolve('@picocss/pico/css/pico.min.css')), type: 'text/css; charset=utf-8' }],
    ['chart.umd.js', { body: packageFile(require.resolve('chart.js'), 'chart.umd.min.js'), type: 'text/javascript; charset=utf-8' }],
    ['console.js', { body: CONSOLE_JS, type: 'text/javascript; charset=utf-8' }],
    ['console.css', { body: CONSOLE_CSS, type: 'text/css; charset=utf-8' }],
  ]);
  return cache;
}

import { html, raw } from 'hono/html';
import { bucketStarts, type CostSeries } from '../data/costSeries.js';
import type { ScopeBurn } from '../data/budgetBurn.js';
import type { Session } from '../sessions.js';
import { page, text, usd, type Html } from './layout.js';

export const RANGES: Record<string, number> = { '1h': 1, '24h': 24, '7d': 168, '30d': 720, '90d': 2160, '365d': 8760 };

export interface CostsView {
  by: string;
  groupings: string[];
  range: string;
  from: Date;
  to: Date;
  series: CostSeries;
  total: string;
  requests: number;
}

/** JSON for a <script type="application/json">: `<` escaped so no record value can close the element. */
export function jsonData(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

export function costsPage(session: Session, v: CostsView): Html {
  const local = (d: Date) => d.toISOString().slice(0, 16);
  return page('Costs', html`
<form method="get" action="/costs" class="grid" id="cost-filter">
  <label>Range <select name="range">${Object.keys(RANGES).map((r) => html`<option value="${r}"${r === v.range ? raw(' selected') : ''}>${r}</option>`)}
    <option value="custom"${v.range === 'custom' ? raw(' selected') : ''}>custom (from/to)</option></select></label>
  <label>From (UTC) <input type="datetime-local" name="from" value="${local(v.from)}"></label>
  <label>To (UTC) <input type="datetime-local" name="to" value="${local(v.to)}"></label>
  <label>By <select name="by">${v.groupings.map((g) => html`<option value="${g}"${g === v.by ? raw(' selected') : ''}>${g}</option>`)}</select></label>
  <div><button type="submit">Show</button></div>
</form>
<p>${text(v.from)} to ${text(v.to)}, by ${v.series.bucket}: <strong id="cost-total">${usd(v.total)}</strong> over <strong id="cost-requests">${v.requests}</strong> requests.
 Read from the ${v.series.bucket === 'hour' ? 'hourly rollups' : 'daily cost table'}.</p>
<figure><canvas id="cost-chart" height="90" aria-label="Spend over time by ${v.by}"></canvas></figure>
<script type="application/json" id="cost-data">${raw(jsonData({ bucket: v.series.bucket, buckets: bucketStarts(v.from, v.to, v.series.bucket).map((d) => d.toISOString()), points: v.series.points.map((p) => ({ t: p.bucket.toISOString(), k: p.key, usd: Number(p.cost_usd) })) }))}</script>
<table class="striped" id="cost-table">
<thead><tr><th>${v.by}</th><th>Cost</th><th>Requests</th><th>Input tokens</th><th>Output tokens</th><th>Errors</th><th>Policy denials</th></tr></thead>
<tbody>${v.series.totals.map((t) => html`<tr data-key="${t.key}"><td>${t.key === '' ? '(none)' : t.key}</td><td>${usd(t.cost_usd)}</td><td>${t.requests}</td><td>${t.input_tokens}</td><td>${t.output_tokens}</td><td>${t.errors}</td><td>${t.policy_denials}</td></tr>`)}</tbody>
</table>`, session, { scripts: ['/assets/chart.umd.js', '/assets/console.js'] });
}

export function budgetsPage(session: Session, rows: ScopeBurn[], options: { policies: boolean; warnFraction: number }): Html {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const cap = (value: number | undefined) => (value === undefined ? '—' : `$${value}`);
  return page('Budgets', html`
<p>Spend this UTC day and month per budget scope, from the rollups, against the budgets the gateway's policy gives each scope.
Rows at or above ${pct(options.warnFraction)} of a cap are marked.</p>
${options.policies ? '' : html`<p role="alert">No policies are loaded in this process, so no caps are known; the console of <code>gatehouse start</code> shows them.</p>`}
<table class="striped" id="budget-table">
<thead><tr><th>Scope</th><th>Key</th><th>Today</th><th>Daily cap</th><th>This month</th><th>Monthly cap</th><th>Burn</th></tr></thead>
<tbody>${rows.map((r) => html`<tr class="${r.near ? 'near-cap' : ''}" data-key="${r.key}"><td>${r.scope}</td><td>${r.key}</td><td>${usd(r.day_usd)}</td><td>${cap(r.usd_per_day)}</td>
<td>${usd(r.month_usd)}</td><td>${cap(r.usd_per_month)}</td><td>${r.near ? html`<mark>${pct(r.burn)}</mark>` : pct(r.burn)}</td></tr>`)}</tbody>
</table>`, session);
}

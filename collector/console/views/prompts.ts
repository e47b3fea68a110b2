import { html } from 'hono/html';
import type { PromptImpact, VersionStats } from '../../prompts/impact.js';
import type { Row } from '../../store/auditDatabase.js';
import type { Session } from '../sessions.js';
import { page, text, usd, type Html } from './layout.js';

export interface PromptVersionRow { id: string; version: number; sha256: string; labels: string[]; released: boolean; requests: number; cost_usd: string; last_seen: Date | null }

export function promptsPage(session: Session, rows: PromptVersionRow[], registry: boolean): Html {
  return page('Prompts', html`
${registry ? '' : html`<p role="alert">No prompt registry is loaded in this process (config <code>prompts.dir</code>); versions below come from the audit trail only.</p>`}
<p>Every version in the registry, the labels that point at it, and its traffic over the last 30 days. Open a prompt for the impact of its latest version.</p>
<table class="striped" id="prompt-table">
<thead><tr><th>Prompt</th><th>Version</th><th>Labels</th><th>Content hash</th><th>Requests (30 d)</th><th>Cost (30 d)</th><th>Last request</th></tr></thead>
<tbody>${rows.map((r) => html`<tr><td><a href="/prompts/${encodeURIComponent(r.id)}">${r.id}</a></td><td>${r.version}${r.released ? '' : ' (unreleased)'}</td><td>${text(r.labels)}</td>
<td><code>${r.sha256.slice(0, 19)}…</code></td><td>${r.requests}</td><td>${usd(r.cost_usd)}</td><td>${text(r.last_seen)}</td></tr>`)}</tbody>
</table>`, session);
}

function statsRow(label: string, s: VersionStats | undefined): Html {
  if (s === undefined) return html`<tr><th scope="row">${label}</th><td colspan="9">no earlier version</td></tr>`;
  const rate = (n: number) => (s.requests === 0 ? '—' : `${((n / s.requests) * 100).toFixed(1)}%`);
  return html`<tr><th scope="row">${label}: v${s.version}</th><td>${text(s.from)} – ${text(s.to)}</td><td>${s.requests}</td><td>${s.users}</td><td>${rate(s.errors)}</td><td>${rate(s.refusals)}</td><td>${rate(s.denials)}</td>
<td>${usd(s.cost_usd)}</td><td>${text(s.p50_ms)}</td><td>${text(s.p95_ms)}</td></tr>`;
}

export function promptImpactPage(session: Session, id: string, impact: PromptImpact | undefined, history: Row[]): Html {
  return page('Prompts', html`
<h2>${id}</h2>
${impact === undefined ? html`<p>No requests rendered this prompt in the last 90 days.</p>` : html`
<p>Impact of version <strong>${impact.version}</strong> (<code>${text(impact.sha256)}</code>) against the version before it, over the same length of time, from the last 90 days of records (<code>gatehouse prompts impact</code> reads them all).</p>
<table class="striped" id="impact-table"><thead><tr><th></th><th>Period</th><th>Requests</th><th>Users</th><th>Errors</th><th>Refusals</th><th>Denials</th><th>Cost</th><th>p50 ms</th><th>p95 ms</th></tr></thead>
<tbody>${statsRow('Now', impact.current)}${statsRow('Before', impact.previous)}</tbody></table>`}
<h3>Label moves</h3>
<table class="striped"><thead><tr><th>Time</th><th>Label</th><th>From</th><th>To</th><th>Commit</th></tr></thead>
<tbody>${history.map((h) => html`<tr><td>${text(h.start_time)}</td><td>${text(h.label)}</td><td>${text(h.from_version)}</td><td>${text(h.to_version ?? h.version)}</td><td><code>${text(h.commit)}</code></td></tr>`)}</tbody></table>`, session);
}

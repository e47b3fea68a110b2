import { html } from 'hono/html';
import type { InventoryRow } from '../../agents/inventory.js';
import type { Session } from '../sessions.js';
import { page, text, usd, type Html } from './layout.js';

export function agentsPage(session: Session, rows: InventoryRow[], unregistered: Array<{ tenant: string; agent: string; calls: number; last_seen: string | null }>, registry: boolean): Html {
  return page('Agents and tools', html`
${registry ? '' : html`<p role="alert">No agent registry is loaded in this process (config <code>agents.dir</code>).</p>`}
<p>Registered agents, what they may reach, and their activity over the last 30 days.</p>
<table class="striped" id="agent-table">
<thead><tr><th>Agent</th><th>Tenant</th><th>Owner</th><th>Status</th><th>Models</th><th>Tools (registry)</th><th>Tools reachable</th><th>Data</th><th>Budget / day</th><th>Calls</th><th>Refusals</th><th>Cost</th><th>First and last seen (30 d)</th></tr></thead>
<tbody>${rows.map((r) => html`<tr data-agent="${r.agent_id}"><td><strong>${r.agent_id}</strong><br><small>${r.purpose}</small></td><td>${r.tenant}</td><td>${r.owner_team}<br><small>${r.owner_contact}</small></td>
<td>${r.status}${r.status_reason ? html`<br><small>${r.status_reason}</small>` : ''}</td><td>${text(r.models)}</td><td>${text(r.tools)}</td><td>${r.reachable_tools === null ? 'unknown' : text(r.reachable_tools)}</td>
<td>${text(r.data)}</td><td>${r.budget_usd_per_day === null ? '—' : `$${r.budget_usd_per_day}`}</td><td>${r.calls}</td><td>${r.refusals}</td><td>${usd(r.cost_usd)}</td><td>${text(r.first_seen)}<br>${text(r.last_seen)}</td></tr>`)}</tbody>
</table>
${unregistered.length > 0 ? html`<h2>Agents seen but not registered</h2><table class="striped"><thead><tr><th>Tenant</th><th>Agent</th><th>Calls</th><th>Last seen</th></tr></thead>
<tbody>${unregistered.map((u) => html`<tr><td>${u.tenant}</td><td>${u.agent}</td><td>${u.calls}</td><td>${text(u.last_seen)}</td></tr>`)}</tbody></table>` : ''}`, session);
}

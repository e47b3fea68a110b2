import { html, raw } from 'hono/html';
import type { Row } from '../../store/auditDatabase.js';
import type { RequestDetail } from '../../reports/requestSearch.js';
import type { Session } from '../sessions.js';
import { page, text, usd, type Html } from './layout.js';

export const OUTCOMES = ['ok', 'error', 'denied', 'blocked', 'rate_limited', 'budget_exceeded', 'cancelled'];

export interface RequestFilter { user?: string; agent?: string; tenant?: string; outcome?: string; from?: string; to?: string }

export function requestsPage(session: Session, filter: RequestFilter, rows: Row[], next: string | undefined): Html {
  return page('Requests', html`
<form method="get" action="/requests" class="grid" id="request-search">
  <label>User <input name="user" value="${filter.user ?? ''}"></label>
  <label>Agent <input name="agent" value="${filter.agent ?? ''}"></label>
  ${session.tenant === '*' ? html`<label>Tenant <input name="tenant" value="${filter.tenant ?? ''}"></label>` : ''}
  <label>Outcome <select name="outcome"><option value="">any</option>${OUTCOMES.map((o) => html`<option${o === filter.outcome ? raw(' selected') : ''}>${o}</option>`)}</select></label>
  <label>From (UTC) <input type="datetime-local" name="from" value="${filter.from ?? ''}"></label>
  <label>To (UTC) <input type="datetime-local" name="to" value="${filter.to ?? ''}"></label>
  <div><button type="submit">Search</button></div>
</form>
<table class="striped" id="request-table">
<thead><tr><th>Time (UTC)</th><th>Request</th><th>Tenant</th><th>User</th><th>Agent</th><th>Model / tool</th><th>Outcome</th><th>Status</th><th>Cost</th></tr></thead>
<tbody>${rows.map((r) => html`<tr><td>${text(r.start_time)}</td><td><a href="/requests/${String(r.seq)}">${text(r.request_id)}</a></td><td>${text(r.tenant_id)}</td><td>${text(r.user_id)}</td>
<td>${text(r.agent_id)}</td><td>${text(r.tool ?? r.model)}</td><td>${text(r.outcome)}</td><td>${text(r.status)}</td><td>${usd(r.cost_usd)}</td></tr>`)}</tbody>
</table>
${rows.length === 0 ? html`<p>No records match.</p>` : ''}
${next ? html`<a href="${next}" role="button" class="secondary" id="older">Older</a>` : ''}`, session);
}

/** Which section of the record view a column belongs to (all columns also appear under "All fields"). */
const SECTIONS: Array<{ title: string; match: RegExp }> = [
  { title: 'Who', match: /^(tenant_id|team_id|user_id|user_claimed|agent_id|agent_chain|agent_depth|key_id|end_user|client_address|client_user_agent|gateway_instance)$/ },
  { title: 'Context', match: /^(record_type|start_time|end_time|received_at|gen_ai_request_model|gen_ai_response_model|gen_ai_provider_name|gen_ai_operation_name|feature|route_alias|route_target|client_wire|http_response_status_code|duration_ms|ttft_ms)$/ },
  { title: 'Policy decision', match: /^(policy_|redaction_classes|limit_scope|detectors|outcome$|error_code|error_type)/ },
  { title: 'Prompt', match: /^prompt_/ },
  { title: 'Usage and cost', match: /^(gen_ai_usage_|cost_usd|cost_price_known|usage_estimated)/ },
  { title: 'Response', match: /^(gen_ai_output_messages|gen_ai_input_messages|gen_ai_system_instructions|gen_ai_response_finish_reasons)$/ },
];

function fields(record: Row, match: RegExp): Array<[string, unknown]> {
  return Object.entries(record).filter(([k, v]) => match.test(k) && v !== null && v !== '');
}

function attemptsOf(record: Row): Array<Record<string, unknown>> {
  try {
    const parsed = JSON.parse(String(record.attempts ?? '[]')) as unknown;
    return Array.isArray(parsed) ? parsed as Array<Record<string, unknown>> : [];
  } catch {
    return [];
  }
}

export function recordPage(session: Session, detail: RequestDetail, jaegerUrl: string | undefined): Html {
  const r = detail.record;
  const attempts = attemptsOf(r);
  const traceLink = jaegerUrl && typeof r.trace_id === 'string' ? `${jaegerUrl.replace(/\/$/, '')}/trace/${r.trace_id}` : undefined;
  const kv = (pairs: Array<[string, unknown]>) => html`<table><tbody>${pairs.map(([k, v]) => html`<tr><th scope="row">${k}</th><td><code>${text(v)}</code></td></tr>`)}</tbody></table>`;
  return page('Record', html`
<p>Seq <strong id="record-seq">${String(r.seq)}</strong> · request <strong id="record-request-id">${text(r.request_id)}</strong> · trace <code>${text(r.trace_id)}</code>
${traceLink ? html` · <a href="${traceLink}" id="trace-link" target="_blank" rel="noopener">open the trace in Jaeger</a>` : ''}</p>
${SECTIONS.map((s) => {
    const pairs = fields(r, s.match);
    return pairs.length === 0 ? '' : html`<section><h2>${s.title}</h2>${kv(pairs)}</section>`;
  })}
${attempts.length > 0 ? html`<section><h2>Attempts</h2><table class="striped"><thead><tr><th>#</th><th>Span</th><th>Provider</th><th>Outcome</th><th>Status</th><th>ms</th></tr></thead>
<tbody>${attempts.map((a, i) => {
    const attr = (a.attributes ?? {}) as Record<string, unknown>;
    return html`<tr><td>${text(attr['gatehouse.attempt.number'] ?? i + 1)}</td><td>${text(a.name)}</td><td>${text(attr['gatehouse.attempt.provider'] ?? attr['gen_ai.provider.name'])}</td>
<td>${text(attr['gatehouse.attempt.outcome'])}</td><td>${text(a.status)}</td><td>${text(a.duration_ms)}</td></tr>`;
  })}</tbody></table></section>` : ''}
${detail.toolCalls.length > 0 ? html`<section><h2>Tool calls</h2><table class="striped"><thead><tr><th>#</th><th>Call id</th><th>Name</th><th>Arguments</th></tr></thead>
<tbody>${detail.toolCalls.map((t) => html`<tr><td>${text(t.position)}</td><td>${text(t.call_id)}</td><td>${text(t.name)}</td><td><code>${text(t.arguments)}</code></td></tr>`)}</tbody></table></section>` : ''}
${detail.approvalSteps.length > 0 ? html`<section><h2>Approval</h2><table class="striped"><thead><tr><th>Seq</th><th>Time</th><th>Event</th><th>Actor</th><th>Reason</th></tr></thead>
<tbody>${detail.approvalSteps.map((a) => html`<tr><td>${text(a.seq)}</td><td>${text(a.start_time)}</td><td>${text(a.event)}</td><td>${text(a.actor)}</td><td>${text(a.reason)}</td></tr>`)}</tbody></table></section>` : ''}
<section><h2>Integrity</h2><p>${detail.signedBy ? html`Signed by the checkpoint at seq ${text(detail.signedBy.seq)} (${text(detail.signedBy.time)}, key ${text(detail.signedBy.key_id)}).` : 'Not yet covered by a signed checkpoint.'}
 Hash <code>${text(r.hash)}</code>, previous <code>${text(r.prev_hash)}</code>.</p></section>
<details><summary>All fields</summary>${kv(Object.entries(r).filter(([, v]) => v !== null))}</details>`, session);
}

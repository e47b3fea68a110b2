import { html } from 'hono/html';
import type { Approval } from '../../../proxy/approvals/approval.js';
import type { Session } from '../sessions.js';
import { csrfField, page, text, type Html } from './layout.js';

export interface ApprovalRow { approval: Approval; status: string; approvedBy: string[] }

export function approvalsPage(session: Session, rows: ApprovalRow[], options: { available: boolean; canDecide: boolean; message?: string; error?: string; status: string; global?: boolean }): Html {
  return page('Approvals', html`
${options.global ? html`<p role="status" id="approvals-global">Approvals belong to a tenant: a global key has no queue. Use a key for the tenant.</p>` : ''}
${options.available ? '' : html`<p role="alert">Approvals are served by the gateway; this console runs without one (open the console of <code>gatehouse start</code>).</p>`}
${options.message ? html`<p role="status" id="approval-message">${options.message}</p>` : ''}
${options.error ? html`<p role="alert" id="approval-error">${options.error}</p>` : ''}
${options.canDecide ? '' : html`<p>You can read the queue; deciding needs an approver key with a user and a tenant.</p>`}
<nav><ul>${['pending', 'approved', 'denied', 'expired', 'used'].map((s) => html`<li><a href="/approvals?status=${s}"${s === options.status ? html` aria-current="page"` : ''}>${s}</a></li>`)}</ul></nav>
${rows.length === 0 ? html`<p id="approvals-empty">No ${options.status} approvals.</p>` : ''}
${rows.map(({ approval: a, status, approvedBy }) => html`<article class="approval" data-approval="${a.id}">
<header><strong>${a.binding.tool}</strong> (server ${a.binding.server}) · ${status} · ${approvedBy.length} of ${a.required} approvals · expires ${text(new Date(a.expires_at))}</header>
<p>${a.reason}</p>
<table><tbody>
<tr><th scope="row">Asked by</th><td>user ${text(a.binding.user)}, agent ${text(a.binding.agent)}, key ${text(a.binding.key_id)}, tenant ${a.binding.tenant}</td></tr>
<tr><th scope="row">Approver groups</th><td>${text(a.groups)}${a.approvers ? html` (${text(a.approvers)})` : ''}</td></tr>
<tr><th scope="row">Approved by</th><td>${text(approvedBy)}</td></tr>
<tr><th scope="row">Arguments</th><td><pre><code>${JSON.stringify(a.arguments, null, 2)}</code></pre></td></tr>
<tr><th scope="row">Request</th><td>${a.requested_by_request} · trace <code>${a.trace_id}</code></td></tr>
</tbody></table>
${options.canDecide && status === 'pending' ? html`<form method="post" action="/approvals/${a.id}/decide" class="grid">${csrfField(session)}
  <input name="reason" placeholder="Why (recorded in the audit trail)" required maxlength="1000" aria-label="Reason">
  <button type="submit" name="decision" value="approve">Approve</button>
  <button type="submit" name="decision" value="deny" class="secondary">Deny</button>
</form>` : ''}
</article>`)}`, session);
}

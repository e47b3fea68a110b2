import { html } from 'hono/html';
import type { ChainState, PublicKeyInfo, Verification } from '../data/integrity.js';
import type { Session } from '../sessions.js';
import { csrfField, page, text, type Html } from './layout.js';

export interface ExportDone { id: string; records: number; firstSeq: number | null; lastSeq: number | null; files: string[] }

export function integrityPage(session: Session, v: { state: ChainState; verification: Verification | undefined; verifying: boolean; keys: PublicKeyInfo[]; exported?: ExportDone; error?: string }): Html {
  const ver = v.verification;
  // The range's end is exclusive: tomorrow, so that today's records are in the default export.
  const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
  return page('Audit integrity', html`
${v.error ? html`<p role="alert">${v.error}</p>` : ''}
<article id="chain-status">
<header><strong>${ver === undefined ? 'Not verified yet' : ver.ok ? 'Chain verified' : 'Verification FAILED'}</strong></header>
${ver === undefined ? html`<p>${v.verifying ? 'A full verification is running.' : 'No verification has run in this process.'}</p>`
    : html`<p id="verified-to">${ver.ok ? 'Verified' : 'Checked'} up to seq <strong>${text(ver.verifiedTo)}</strong> at <strong>${text(ver.finishedAt)}</strong>
  (${ver.records} records, ${ver.checkpointsVerified} signed checkpoints, ${((ver.finishedAt.getTime() - ver.startedAt.getTime()) / 1000).toFixed(1)} s).</p>
  <p><code>${ver.summary}</code></p>`}
<table><tbody>
<tr><th scope="row">Chain</th><td><code>${text(v.state.chain_id)}</code></td></tr>
<tr><th scope="row">Last record</th><td>seq ${text(v.state.last_seq)}, received ${text(v.state.last_received_at)}</td></tr>
<tr><th scope="row">Last signed checkpoint</th><td id="last-checkpoint">seq ${text(v.state.checkpoint_seq)} at ${text(v.state.checkpoint_time)}, key ${text(v.state.checkpoint_key_id)}</td></tr>
${v.keys.map((k) => html`<tr><th scope="row">Public key ${k.keyId}</th><td><code class="fingerprint">${k.fingerprint}</code></td></tr>`)}
</tbody></table>
<form method="post" action="/integrity/verify">${csrfField(session)}<button type="submit"${v.verifying ? html` aria-busy="true" disabled` : ''}>Verify the whole chain now</button></form>
</article>
<article>
<header><strong>Export for an auditor</strong></header>
<p>Writes Parquet files, a signed manifest and the public key under the collector's data directory, as <code>gatehouse audit export</code> does; verify them with <code>gatehouse audit verify --dir</code> or <code>collector/verify/verify_export.py</code>.${session.tenant === '*' ? '' : html` Only tenant <strong>${session.tenant}</strong>'s records are exported.`}</p>
<form method="post" action="/integrity/export" class="grid">${csrfField(session)}
  <label>From (UTC) <input type="date" name="from" value="2000-01-01"></label>
  <label>To (UTC, exclusive) <input type="date" name="to" value="${tomorrow}"></label>
  <div><button type="submit" id="export-button">Export</button></div>
</form>
${v.exported ? html`<p id="export-result">Export <strong>${v.exported.id}</strong>: ${v.exported.records} records (seq ${text(v.exported.firstSeq)}..${text(v.exported.lastSeq)}).
Files: ${v.exported.files.map((f, i) => html`${i > 0 ? ', ' : ''}<a href="/integrity/exports/${v.exported!.id}/${f}">${f}</a>`)}</p>` : ''}
</article>`, session);
}

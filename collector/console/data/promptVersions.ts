/**
 * The prompts page: every registry version with its labels, joined to its
 * last 30 days of traffic (one query over that time range of the records,
 * grouped by prompt and version; registry-rendered requests only).
 */
import type { DuckDBValue } from '@duckdb/node-api';
import type { CheckedPrompts } from '../../../proxy/prompts/check.js';
import { A } from '../../../proxy/telemetry/attributes.js';
import { columnFor } from '../../audit/columns.js';
import type { AuditDatabase } from '../../store/auditDatabase.js';
import type { PromptVersionRow } from '../views/prompts.js';

const C = { id: columnFor(A.promptId), version: columnFor(A.promptVersion), sha: columnFor(A.promptSha256), tenant: columnFor(A.tenant), cost: columnFor(A.costUsd) };
const DAYS = 30;

export async function promptVersions(db: AuditDatabase, registry: CheckedPrompts | undefined, options: { now: Date; tenant?: string }): Promise<PromptVersionRow[]> {
  const params: DuckDBValue[] = [(options.now.getTime() - DAYS * 86_400_000) * 1000];
  if (options.tenant !== undefined) params.push(options.tenant);
  const traffic = await db.query(
    `SELECT ${C.id} AS id, ${C.version} AS version, any_value(${C.sha}) AS sha, count(*) AS requests, coalesce(sum(${C.cost}), 0)::VARCHAR AS cost_usd, max(start_time) AS last_seen
       FROM audit_records
      WHERE start_time >= make_timestamp($1::BIGINT) AND record_type = 'request' AND ${C.sha} IS NOT NULL ${options.tenant === undefined ? '' : `AND ${C.tenant} = $2`}
      GROUP BY ALL`,
    params,
  );
  const seen = new Map(traffic.map((t) => [`${String(t.id)}@${String(t.version)}`, t]));
  const rows: PromptVersionRow[] = [];
  const released = new Set(Object.entries(registry?.lock ?? {}).flatMap(([id, versions]) => Object.keys(versions).map((v) => `${id}@${v}`)));
  for (const v of registry?.versions ?? []) {
    const key = `${v.id}@${v.version}`;
    const t = seen.get(key);
    seen.delete(key);
    const labels = Object.entries(registry?.labels[v.id] ?? {}).filter(([, n]) => n === v.version).map(([label]) => label);
    rows.push({
      id: v.id, version: v.version, sha256: v.sha256, labels, released: released.has(key),
      requests: Number(t?.requests ?? 0), cost_usd: String(t?.cost_usd ?? '0'), last_seen: (t?.last_seen as Date | undefined) ?? null,
    });
  }
  // Versions with traffic that this registry does not hold (another checkout, or removed since).
  for (const t of seen.values()) {
    rows.push({ id: String(t.id), version: Number(t.version), sha256: String(t.sha ?? ''), labels: [], released: true, requests: Number(t.requests), cost_usd: String(t.cost_usd), last_seen: (t.last_seen as Date | null) ?? null });
  }
  return rows.sort((a, b) => a.id.localeCompare(b.id) || b.version - a.version);
}

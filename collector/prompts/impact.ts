/**
 * "Which requests did version N affect?" (docs/queries.md, "Prompt versions"),
 * over the requests the registry rendered (`prompt_sha256` set: a client's own
 * x-gatehouse-prompt-id/-version cannot stand in for them):
 * the version's time range, its requests, users and tenants, its error, refusal
 * and policy-denial rates, cost and latency, each against the previous version
 * over the same length of time just before the switch; and the label moves
 * (prompt_deploy records) that put it there.
 */
import { A } from '../../proxy/telemetry/attributes.js';
import { columnFor } from '../audit/columns.js';
import type { AuditDatabase, Row } from '../store/auditDatabase.js';

const C = {
  id: columnFor(A.promptId), version: columnFor(A.promptVersion), sha: columnFor(A.promptSha256), label: columnFor(A.promptLabel),
  from: columnFor(A.promptFromVersion), commit: columnFor(A.promptCommit), user: columnFor(A.user), tenant: columnFor(A.tenant),
  outcome: columnFor(A.outcome), cost: columnFor(A.costUsd), duration: columnFor(A.durationMs), requestId: columnFor(A.requestId),
};

export interface VersionStats {
  version: string;
  from: Date | null;
  to: Date | null;
  requests: number;
  users: number;
  tenants: number;
  errors: number;
  refusals: number;
  denials: number;
  cost_usd: string;
  p50_ms: number | null;
  p95_ms: number | null;
}

export interface PromptImpact {
  prompt: string;
  version: string;
  sha256: string | null;
  current: VersionStats;
  /** The version served before, over the same length of time, ending with its last request before `current.from`. */
  previous: VersionStats | undefined;
  deploys: Row[];
}

async function stats(db: AuditDatabase, id: string, version: string, from: number | null, to: number | null, since = ''): Promise<VersionStats> {
  const params: Array<string | number> = [id, version];
  let window = since;
  if (from !== null && to !== null) {
    params.push(from, to);
    window = 'AND start_time >= make_timestamp($3::BIGINT) AND start_time <= make_timestamp($4::BIGINT)';
  }
  const [row] = await db.query(
    `SELECT min(start_time) AS first, max(start_time) AS last, count(*) AS requests,
            count(DISTINCT ${C.user}) AS users, count(DISTINCT ${C.tenant}) AS tenants,
            count(*) FILTER (WHERE ${C.outcome} = 'error') AS errors,
            count(*) FILTER (WHERE ${C.outcome} <> 'ok') AS refusals,
            count(*) FILTER (WHERE ${C.outcome} = 'denied') AS denials,
            coalesce(sum(${C.cost}), 0)::VARCHAR AS cost_usd,
            quantile_cont(${C.duration}, 0.5) AS p50, quantile_cont(${C.duration}, 0.95) AS p95
       FROM audit_records
      WHERE record_type = 'request' AND ${C.id} = $1 AND ${C.version} = $2 AND ${C.sha} IS NOT NULL ${window}`,
    params,
  );
  const r = row ?? {};
  const num = (v: unknown) => Number(v ?? 0);
  return {
    version, from: (r.first as Date | null) ?? null, to: (r.last as Date | null) ?? null,
    requests: num(r.requests), users: num(r.users), tenants: num(r.tenants), errors: num(r.errors), refusals: num(r.refusals), denials: num(r.denials),
    cost_usd: String(r.cost_usd ?? '0'), p50_ms: r.p50 === null || r.p50 === undefined ? null : Number(r.p50), p95_ms: r.p95 === null || r.p95 === undefined ? null : Number(r.p95),
  };
}

const micros = (d: Date) => d.getTime() * 1000;

/**
 * The impact of `version` (default: the version whose first request is the latest).
 * `since`: read only records from then on (an indexed range; the console's 90 days).
 */
export async function promptImpact(db: AuditDatabase, id: string, version?: string, since?: Date): Promise<PromptImpact | undefined> {
  const from = since === undefined ? '' : `AND start_time >= make_timestamp(${Math.trunc(since.getTime()) * 1000}::BIGINT)`;
  const versions = await db.query(
    `SELECT ${C.version} AS version, min(start_time) AS first, max(start_time) AS last, any_value(${C.sha}) AS sha
       FROM audit_records WHERE record_type = 'request' AND ${C.id} = $1 AND ${C.version} IS NOT NULL AND ${C.sha} IS NOT NULL ${from} GROUP BY ALL ORDER BY first`,
    [id],
  );
  const chosen = version === undefined ? versions[versions.length - 1] : versions.find((v) => v.version === version);
  if (chosen === undefined) return undefined;
  const current = await stats(db, id, String(chosen.version), null, null, from);
  const first = chosen.first as Date;
  // The version served last before this one's first request.
  const [before] = await db.query(
    `SELECT ${C.version} AS version, start_time AS last FROM audit_records
      WHERE record_type = 'request' AND ${C.id} = $1 AND ${C.version} IS NOT NULL AND ${C.sha} IS NOT NULL AND ${C.version} <> $2 AND start_time < make_timestamp($3::BIGINT) ${from}
      ORDER BY start_time DESC LIMIT 1`,
    [id, String(chosen.version), micros(first)],
  );
  let previous: VersionStats | undefined;
  if (before !== undefined) {
    // The same length of time, ending with the previous version's last request before the switch.
    const span = Math.max(1, micros(chosen.last as Date) - micros(first));
    const end = micros(before.last as Date);
    previous = await stats(db, id, String(before.version), end - span, end);
  }
  const deploys = await db.query(
    `SELECT start_time, ${C.label} AS label, ${C.from} AS from_version, ${C.version} AS to_version, ${C.commit} AS commit, gateway_instance
       FROM audit_records WHERE record_type = 'prompt_deploy' AND ${C.id} = $1 AND (${C.version} = $2 OR ${C.from} = $2) ORDER BY seq`,
    [id, String(chosen.version)],
  );
  return { prompt: id, version: String(chosen.version), sha256: (chosen.sha as string | null) ?? null, current, previous, deploys };
}

/** The requests version N served, oldest first. */
export function promptRequests(db: AuditDatabase, id: string, version: string, limit: number): Promise<Row[]> {
  return db.query(
    `SELECT start_time, ${C.requestId} AS request_id, ${C.tenant} AS tenant_id, ${C.user} AS user_id, ${C.label} AS label, ${C.outcome} AS outcome
       FROM audit_records WHERE record_type = 'request' AND ${C.id} = $1 AND ${C.version} = $2 AND ${C.sha} IS NOT NULL ORDER BY start_time, seq LIMIT ${Math.trunc(limit)}`,
    [id, version],
  );
}

/** Every label move of a prompt, as each gateway recorded it. */
export function promptHistory(db: AuditDatabase, id: string): Promise<Row[]> {
  return db.query(
    `SELECT seq, start_time, ${C.label} AS label, ${C.from} AS from_version, ${C.version} AS to_version, ${C.sha} AS sha256, ${C.commit} AS commit, gateway_instance
       FROM audit_records WHERE record_type = 'prompt_deploy' AND ${C.id} = $1 ORDER BY seq`,
    [id],
  );
}

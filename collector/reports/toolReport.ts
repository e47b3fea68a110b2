/**
 * MCP tool calls by tool, server, agent, user or tenant: how many, and how they
 * ended (docs/queries.md, "Tool calls"). Read from the audit records (`record_type
 * = 'tool_call'`); tool calls have no cost, so they are not in the cost rollups.
 */
import { A } from '../../proxy/telemetry/attributes.js';
import { columnFor } from '../audit/columns.js';
import type { AuditDatabase, Row } from '../store/auditDatabase.js';

const KEY: Record<'tool' | 'server' | 'agent' | 'user' | 'tenant', string> = {
  tool: columnFor(A.toolName), server: columnFor(A.mcpServer), agent: columnFor(A.agent), user: columnFor(A.user), tenant: columnFor(A.tenant),
};
const OUTCOME = columnFor(A.outcome);

export async function toolReport(db: AuditDatabase, by: keyof typeof KEY, from: Date, to: Date, tenant?: string): Promise<Row[]> {
  const params: Array<number | string> = [from.getTime() * 1000, to.getTime() * 1000];
  if (tenant !== undefined) params.push(tenant);
  return db.query(
    `SELECT ${KEY[by]} AS key, count(*) AS calls,
            count(*) FILTER (WHERE ${OUTCOME} = 'ok') AS ok, count(*) FILTER (WHERE ${OUTCOME} = 'denied') AS denied,
            count(*) FILTER (WHERE ${OUTCOME} = 'error') AS errors, count(*) FILTER (WHERE ${OUTCOME} = 'rate_limited') AS rate_limited,
            count(*) FILTER (WHERE ${OUTCOME} = 'blocked') AS blocked
       FROM audit_records
      WHERE record_type = 'tool_call' AND start_time >= make_timestamp($1::BIGINT) AND start_time < make_timestamp($2::BIGINT)
        ${tenant !== undefined ? `AND ${KEY.tenant} = $3` : ''}
      GROUP BY ALL ORDER BY calls DESC, key`,
    params,
  );
}

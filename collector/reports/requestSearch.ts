/**
 * "When, doing what, with what outcome": finding requests, and one request's
 * full record with its tool calls and the checkpoint that signs it.
 */
import type { DuckDBValue } from '@duckdb/node-api';
import { A } from '../../proxy/telemetry/attributes.js';
import { columnFor } from '../audit/columns.js';
import type { AuditDatabase, Row } from '../store/auditDatabase.js';

const C = {
  requestId: columnFor(A.requestId), tenant: columnFor(A.tenant), team: columnFor(A.team), user: columnFor(A.user),
  userClaimed: columnFor(A.userClaimed), agent: columnFor(A.agent), model: columnFor(A.requestModel), outcome: columnFor(A.outcome), status: columnFor(A.httpStatus),
  input: columnFor(A.inputTokens), output: columnFor(A.outputTokens), cost: columnFor(A.costUsd), promptVersion: columnFor(A.promptVersion),
  tool: columnFor(A.toolName),
  approvalId: columnFor(A.approvalId), approvalEvent: columnFor(A.approvalEvent), approvalActor: columnFor(A.approvalActor), approvalReason: columnFor(A.approvalReason),
};

export interface SearchQuery {
  user?: string; agent?: string; tenant?: string; team?: string; promptVersion?: string; outcome?: string; tool?: string;
  from?: Date; to?: Date; limit?: number;
  /** Paging, newest first: only records with a lower seq (the console's "older" link). */
  beforeSeq?: number;
  /** Newest first (by seq, the order the collector received them) instead of oldest first by start time. */
  newestFirst?: boolean;
}

export async function searchRequests(db: AuditDatabase, q: SearchQuery): Promise<Row[]> {
  // Model calls and MCP tool calls.
  const where = [`record_type IN ('request', 'tool_call')`];
  const params: DuckDBValue[] = [];
  // Every '?' of one condition is the same parameter.
  const add = (sql: string, value: DuckDBValue): void => { params.push(value); where.push(sql.replaceAll('?', `$${params.length}`)); };
  // A user's activity includes what others attempted in their name (user_claimed).
  if (q.user !== undefined) add(`(${C.user} = ? OR ${C.userClaimed} = ?)`, q.user);
  if (q.agent !== undefined) add(`${C.agent} = ?`, q.agent);
  if (q.tenant !== undefined) add(`${C.tenant} = ?`, q.tenant);
  if (q.team !== undefined) add(`${C.team} = ?`, q.team);
  if (q.promptVersion !== undefined) add(`${C.promptVersion} = ?`, q.promptVersion);
  if (q.outcome !== undefined) add(`${C.outcome} = ?`, q.outcome);
  if (q.tool !== undefined) add(`${C.tool} = ?`, q.tool);
  if (q.from !== undefined) add(`start_time >= make_timestamp(?::BIGINT)`, q.from.getTime() * 1000);
  if (q.to !== undefined) add(`start_time < make_timestamp(?::BIGINT)`, q.to.getTime() * 1000);
  if (q.beforeSeq !== undefined) add(`seq < ?::BIGINT`, Math.trunc(q.beforeSeq));
  return db.query(
    `SELECT start_time, ${C.requestId} AS request_id, ${C.tenant} AS tenant_id, ${C.user} AS user_id, ${C.agent} AS agent_id, ${C.model} AS model, ${C.tool} AS tool,
            ${C.outcome} AS outcome, ${C.status} AS status, ${C.input} AS input_tokens, ${C.output} AS output_tokens,
            ${C.cost} AS cost_usd, seq
       FROM audit_records WHERE ${where.join(' AND ')}
      ORDER BY ${q.newestFirst ? 'seq DESC' : 'start_time, seq'} LIMIT ${Math.max(1, Math.trunc(q.limit ?? 1000))}`,
    params,
  );
}

export interface RequestDetail { record: Row; toolCalls: Row[]; signedBy: Row | undefined; approvalSteps: Row[] }

/** Every record with `request_id` (normally one), its tool calls and the first checkpoint at or after it. */
export async function showRequest(db: AuditDatabase, requestId: string): Promise<RequestDetail[]> {
  const records = await db.query(`SELECT * FROM audit_records WHERE ${C.requestId} = $1 ORDER BY seq`, [requestId]);
  return detailsOf(db, records);
}

/** The record at `seq` (a range read on the chain's order), with the same detail as showRequest; none if absent. */
export async function showRecord(db: AuditDatabase, seq: number): Promise<RequestDetail | undefined> {
  const records = await db.query('SELECT * FROM audit_records WHERE seq = $1::BIGINT', [Math.trunc(seq)]);
  return (await detailsOf(db, records))[0];
}

async function detailsOf(db: AuditDatabase, records: Row[]): Promise<RequestDetail[]> {
  const out: RequestDetail[] = [];
  for (const record of records) {
    const toolCalls = await db.query('SELECT position, call_id, name, arguments FROM tool_calls WHERE seq = $1 ORDER BY position', [Number(record.seq)]);
    const signed = await db.query('SELECT seq, time, key_id FROM checkpoints WHERE seq >= $1 ORDER BY seq LIMIT 1', [Number(record.seq)]);
    // A tool call held for approval: every step of its approval, in chain order.
    const approval = record[C.approvalId];
    const approvalSteps = typeof approval === 'string'
      ? await db.query(`SELECT seq, start_time, ${C.approvalEvent} AS event, ${C.approvalActor} AS actor, ${C.approvalReason} AS reason, ${C.requestId} AS request_id
                          FROM audit_records WHERE record_type = 'approval' AND ${C.approvalId} = $1 ORDER BY seq`, [approval])
      : [];
    out.push({ record, toolCalls, signedBy: signed[0], approvalSteps });
  }
  return out;
}

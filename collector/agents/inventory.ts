/**
 * The auditor's inventory of agents (docs/agents.md, "Inventory"): every agent
 * of the registry with what it may do, joined with what the audit trail saw it
 * do — first and last seen (all time), and calls, tokens and spend in a period —
 * and its last status change recorded through the admin API.
 */
import type { Agent } from '../../proxy/agents/agentSchema.js';
import type { PolicyEngine } from '../../proxy/policy/engine.js';
import type { PolicyTool } from '../../proxy/policy/input.js';
import { A } from '../../proxy/telemetry/attributes.js';
import { columnFor } from '../audit/columns.js';
import type { AuditDatabase } from '../store/auditDatabase.js';

const C = {
  tenant: columnFor(A.tenant), agent: columnFor(A.agent), cost: columnFor(A.costUsd), outcome: columnFor(A.outcome),
  input: columnFor(A.inputTokens), output: columnFor(A.outputTokens), errorCode: columnFor(A.errorCode), keyId: columnFor(A.keyId),
  status: columnFor(A.agentStatus), statusReason: columnFor(A.agentStatusReason),
};

/** One inventory row; lists stay lists here (the writers decide how to show them). */
export interface InventoryRow {
  agent_id: string;
  name: string;
  tenant: string;
  owner_team: string;
  owner_contact: string;
  purpose: string;
  environment: string;
  /** The registry's status, or the last status change recorded in the audit trail when that is stricter. */
  status: string;
  status_reason: string | null;
  models: string[];
  /** `server:tool` per tool (`server:*` for all of a server's tools). */
  tools: string[];
  /**
   * The tools the agent really reaches: the gateway's last offered tools
   * (`mcp-tools.json`) that the tool policy shows this agent; null without a
   * snapshot of the gateway's tools.
   */
  reachable_tools: string[] | null;
  data: string[];
  budget_usd_per_day: number | null;
  budget_usd_per_month: number | null;
  budget_tokens_per_day: number | null;
  budget_tokens_per_month: number | null;
  requests_per_minute: number | null;
  tokens_per_minute: number | null;
  max_delegation_depth: number;
  run_budget_calls: number | null;
  run_budget_tokens: number | null;
  run_budget_usd: number | null;
  first_seen: string | null;
  last_seen: string | null;
  period_from: string;
  period_to: string;
  calls: number;
  refusals: number;
  input_tokens: number;
  output_tokens: number;
  /** Exact decimal text with 12 fraction digits. */
  cost_usd: string;
}

export interface InventoryPeriod { from: Date; to: Date }

/** The tools each agent really reaches: of the gateway's offered `tools`, those the tool policy shows the agent itself (no delegation). */
export function toolsReachedBy(engine: Pick<PolicyEngine, 'visibleTools'>, agents: readonly Agent[], tools: PolicyTool[]): Map<string, string[]> {
  return new Map(agents.map((agent) => [agent.id, engine.visibleTools({
    principal: { tenant: agent.tenant, team: agent.owner.team, agent: agent.id },
    context: { agent_chain: [], agent_depth: 0 },
    tools,
  })]));
}

const iso = (v: unknown): string | null => (v instanceof Date ? v.toISOString() : v === null || v === undefined ? null : new Date(String(v)).toISOString());

/**
 * `periodOnly`: read only the period's records (an indexed range; the console's
 * 30 days), so first_seen and last_seen are within the period; otherwise they
 * are over all records, as `gatehouse agents list` prints them.
 */
export async function agentInventory(db: AuditDatabase, agents: readonly Agent[], period: InventoryPeriod, reachable?: ReadonlyMap<string, string[]>, periodOnly = false): Promise<InventoryRow[]> {
  const from = period.from.getTime() * 1000;
  const to = period.to.getTime() * 1000;
  const range = periodOnly ? 'AND start_time >= make_timestamp($1::BIGINT) AND start_time < make_timestamp($2::BIGINT)' : '';
  const seen = await db.query(
    `SELECT ${C.tenant} AS tenant, ${C.agent} AS agent, min(start_time) AS first_seen, max(start_time) AS last_seen,
            count(*) FILTER (WHERE start_time >= make_timestamp($1::BIGINT) AND start_time < make_timestamp($2::BIGINT)) AS calls,
            count(*) FILTER (WHERE start_time >= make_timestamp($1::BIGINT) AND start_time < make_timestamp($2::BIGINT) AND ${C.outcome} <> 'ok') AS refusals,
            coalesce(sum(${C.input}) FILTER (WHERE start_time >= make_timestamp($1::BIGINT) AND start_time < make_timestamp($2::BIGINT)), 0) AS input_tokens,
            coalesce(sum(${C.output}) FILTER (WHERE start_time >= make_timestamp($1::BIGINT) AND start_time < make_timestamp($2::BIGINT)), 0) AS output_tokens,
            coalesce(sum(${C.cost}) FILTER (WHERE start_time >= make_timestamp($1::BIGINT) AND start_time < make_timestamp($2::BIGINT)), 0)::DECIMAL(38,12)::VARCHAR AS cost_usd
       FROM audit_records WHERE record_type = 'request' AND ${C.agent} IS NOT NULL ${range} GROUP BY ALL`,
    [from, to],
  );
  const changes = await db.query(
    `SELECT ${C.tenant} AS tenant, ${C.agent} AS agent, arg_max(${C.status}, seq) AS status, arg_max(${C.statusReason}, seq) AS reason
       FROM audit_records WHERE record_type = 'agent_status' GROUP BY ALL`,
  );
  const stats = new Map(seen.map((r) => [`${String(r.tenant)}/${String(r.agent)}`, r]));
  const status = new Map(changes.map((r) => [`${String(r.tenant)}/${String(r.agent)}`, r]));
  return agents.map((agent) => {
    const key = `${agent.tenant}/${agent.id}`;
    const s = stats.get(key);
    const change = status.get(key);
    const overridden = agent.status === 'active' && change !== undefined && change.status !== 'active';
    return {
      agent_id: agent.id, name: agent.name, tenant: agent.tenant, owner_team: agent.owner.team, owner_contact: agent.owner.contact,
      purpose: agent.purpose, environment: agent.environment,
      status: overridden ? String(change.status) : agent.status,
      status_reason: overridden ? String(change.reason ?? '') : agent.statusReason ?? null,
      models: agent.models, tools: agent.tools.flatMap((t) => t.tools.map((tool) => `${t.server}:${tool}`)),
      reachable_tools: reachable === undefined ? null : reachable.get(agent.id) ?? [], data: agent.data,
      budget_usd_per_day: agent.budgets?.usdPerDay ?? null, budget_usd_per_month: agent.budgets?.usdPerMonth ?? null,
      budget_tokens_per_day: agent.budgets?.tokensPerDay ?? null, budget_tokens_per_month: agent.budgets?.tokensPerMonth ?? null,
      requests_per_minute: agent.limits?.requestsPerMinute ?? null, tokens_per_minute: agent.limits?.tokensPerMinute ?? null,
      max_delegation_depth: agent.maxDelegationDepth,
      run_budget_calls: agent.runBudget?.calls ?? null, run_budget_tokens: agent.runBudget?.tokens ?? null, run_budget_usd: agent.runBudget?.usd ?? null,
      first_seen: iso(s?.first_seen), last_seen: iso(s?.last_seen),
      period_from: period.from.toISOString(), period_to: period.to.toISOString(),
      calls: Number(s?.calls ?? 0), refusals: Number(s?.refusals ?? 0),
      input_tokens: Number(s?.input_tokens ?? 0), output_tokens: Number(s?.output_tokens ?? 0),
      cost_usd: s === undefined ? '0.000000000000' : String(s.cost_usd),
    };
  });
}

/** Calls that named an agent the registry does not have (refused with agent_not_registered), per tenant and agent. */
export async function unregisteredAgents(db: AuditDatabase, period: InventoryPeriod): Promise<Array<{ tenant: string; agent: string; calls: number; first_seen: string | null; last_seen: string | null; keys: string }>> {
  const rows = await db.query(
    `SELECT ${C.tenant} AS tenant, ${C.agent} AS agent, count(*) AS calls, min(start_time) AS first_seen, max(start_time) AS last_seen,
            string_agg(DISTINCT ${C.keyId}, ',' ORDER BY ${C.keyId}) AS keys
       FROM audit_records
      WHERE record_type = 'request' AND ${C.errorCode} = 'agent_not_registered'
        AND start_time >= make_timestamp($1::BIGINT) AND start_time < make_timestamp($2::BIGINT)
      GROUP BY ALL ORDER BY calls DESC, tenant, agent`,
    [period.from.getTime() * 1000, period.to.getTime() * 1000],
  );
  return rows.map((r) => ({ tenant: String(r.tenant), agent: String(r.agent), calls: Number(r.calls), first_seen: iso(r.first_seen), last_seen: iso(r.last_seen), keys: String(r.keys ?? '') }));
}

/**
 * One registered agent, as a platform team writes it in `agents/<id>.yaml`
 * (docs/agents.md). The same zod machinery as the config: unknown fields are
 * errors, and every error names the file and the path.
 */
import { z } from 'zod';

/** Agent ids are recorded on spans, audit records and counter keys: a tight alphabet. */
export const AGENT_ID = /^[a-z0-9][a-z0-9._-]{0,63}$/;
export const AGENT_STATUSES = ['active', 'suspended', 'decommissioned'] as const;
export type AgentStatus = (typeof AGENT_STATUSES)[number];

const positiveInt = z.number().int().positive();
const text = (max: number) => z.string().min(1).max(max);
/** USD amounts in the registry: non-negative, at most six decimals (so a budget is an exact number of micro-USD). */
const usd = z.number().nonnegative().max(1_000_000_000).refine((n) => Math.abs(n * 1e6 - Math.round(n * 1e6)) < 1e-6, 'expected at most 6 decimals');

export const agentSchema = z.strictObject({
  id: z.string().regex(AGENT_ID, 'expected 1 to 64 of a-z 0-9 . _ -, starting with a letter or digit'),
  name: text(200),
  /** The tenant the agent runs for: only that tenant's keys may act as it. */
  tenant: text(128),
  owner: z.strictObject({
    team: text(128),
    /** Who answers for it: an e-mail address, a pager alias, a channel. */
    contact: text(256),
  }),
  purpose: text(2000),
  environment: z.enum(['production', 'staging', 'development']),
  status: z.enum(AGENT_STATUSES).default('active'),
  /** Why the status is what it is (required unless active). */
  statusReason: text(2000).optional(),
  /** Model aliases the agent may use; ["*"] for any. */
  models: z.array(text(128)).max(256).default([]),
  /** MCP servers and the tools on each the agent may call; tools ["*"] for all of a server's tools. */
  tools: z.array(z.strictObject({ server: text(128), tools: z.array(text(256)).min(1).max(1024) })).max(256).default([]),
  /** Data the agent may reach, as labels policies can test (e.g. `crm:read`). */
  data: z.array(z.string().regex(/^[a-z0-9][a-z0-9_.:/-]{0,127}$/, 'expected a label such as crm:read')).max(256).default([]),
  budgets: z
    .strictObject({ usdPerDay: usd.optional(), usdPerMonth: usd.optional(), tokensPerDay: positiveInt.optional(), tokensPerMonth: positiveInt.optional() })
    .optional(),
  limits: z.strictObject({ requestsPerMinute: positiveInt.optional(), tokensPerMinute: positiveInt.optional() }).optional(),
  /** How many agents may stand before this one in a delegation chain (0: only applications may call it). */
  maxDelegationDepth: z.number().int().min(0).max(32).default(3),
  /** Only tools annotated `readOnlyHint` (enforced by the shipped tools pack). */
  readOnly: z.boolean().default(false),
  /** The agent's own MCP endpoint: other agents call its tools through the gateway as `<id>.<tool>`. */
  mcp: z.strictObject({ url: z.url() }).optional(),
  /** Per run (one trace id), across every agent of the run: calls, tokens and USD. */
  runBudget: z.strictObject({ calls: positiveInt.max(10_000_000).optional(), tokens: positiveInt.optional(), usd: usd.optional() }).optional(),
}).superRefine((agent, check) => {
  if (agent.status !== 'active' && agent.statusReason === undefined) {
    check.addIssue({ code: 'custom', path: ['statusReason'], message: `required when status is ${agent.status}` });
  }
});

export type Agent = z.infer<typeof agentSchema>;
export type RunBudget = NonNullable<Agent['runBudget']>;

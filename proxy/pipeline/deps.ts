import type { AgentState } from '../agents/agentState.js';
import type { ApprovalService } from '../approvals/service.js';
import type { PromptRegistry } from '../prompts/registry.js';
import type { AgentRegistry } from '../agents/registry.js';
import type { Config } from '../config/schema.js';
import type { PriceTable } from '../cost/priceTable.js';
import type { KeyRing } from '../identity/keyRing.js';
import type { LimitStore } from '../limits/types.js';
import type { Detectors } from '../policy/detectors.js';
import type { PolicyStore } from '../policy/store.js';
import type { RouteTable } from '../routing/routes.js';
import type { EmitOptions } from './emit.js';

/** The durable audit spool as the pipeline sees it. */
export interface AuditGate {
  /** False when the spool cannot take records and audit is required: requests fail with 503 `audit_unavailable`. */
  accepting(): boolean;
  /** Resolves once every span ended so far is durably spooled. */
  durable(): Promise<void>;
}

/** Everything the request pipeline reads; built once at start. */
export interface PipelineDeps {
  readonly config: Config;
  readonly routes: RouteTable;
  readonly keys: KeyRing;
  readonly prices: PriceTable;
  readonly emit: EmitOptions;
  readonly audit: AuditGate | undefined;
  /** Rego policies; absent when policy is disabled. */
  readonly policies: PolicyStore | undefined;
  /** Rate limits and budgets; absent when policy is disabled. */
  readonly limits: LimitStore | undefined;
  /** The agent registry; absent when `agents.dir` is not configured. */
  readonly agents?: AgentRegistry;
  /** Agent status overrides and run counters, shared through the limit store's backend. */
  readonly agentState?: AgentState;
  /** The prompt registry; absent when `prompts.dir` is not configured. */
  readonly prompts?: PromptRegistry;
  /** Human approvals of held tool calls; present with the MCP endpoint. */
  readonly approvals?: ApprovalService;
  /** Content classifiers the policy may ask for (config `detectors`). */
  readonly detectors: Detectors;
  /** Gateway start, for the models list's `created`. */
  readonly startedAt: number;
}

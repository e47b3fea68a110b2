/** What the console reads: the audit store, and (in `gatehouse start`) the gateway's policies, registries and approvals. */
import type { Agent } from '../../proxy/agents/agentSchema.js';
import type { Approval } from '../../proxy/approvals/approval.js';
import type { ApprovalService } from '../../proxy/approvals/service.js';
import type { Approver } from '../../proxy/approvals/transitions.js';
import type { CheckedPrompts } from '../../proxy/prompts/check.js';
import type { StoreHandle } from '../cli/commandIO.js';
import type { ConsoleKeys } from './consoleKeys.js';
import type { BudgetsOf } from './data/budgetBurn.js';
import type { ChainStatus } from './data/integrity.js';
import type { Sessions } from './sessions.js';

export interface ConsoleApprovals {
  service: ApprovalService;
  /** Recorded, then applied (proxy/approvals/decideRecorded.ts). */
  decide(id: string, approver: Approver, decision: 'approve' | 'deny', reason: string): Promise<Approval>;
}

export interface ConsoleDeps {
  store: StoreHandle;
  keys: ConsoleKeys;
  sessions: Sessions;
  chain: ChainStatus;
  /** Exports made from this console: id -> folder and the tenant scope that made it. */
  exports: Map<string, { dir: string; tenant: string }>;
  /** The budgets of a principal, from the gateway's compiled policy; absent without policies. */
  budgetsOf?: BudgetsOf;
  warnFraction: number;
  approvals?: ConsoleApprovals;
  agents?: () => readonly Agent[];
  reachableTools?: (agents: readonly Agent[]) => Promise<Map<string, string[]> | undefined>;
  prompts?: () => CheckedPrompts;
  /** Record pages link to `<jaegerUiUrl>/trace/<trace id>`. */
  jaegerUiUrl?: string;
  /** Brings cost_daily up to the chain head before a long-range cost page reads it (the writer's foldDaily; absent on a read-only store). */
  foldDaily?: () => Promise<unknown>;
  /** Marks the session cookie Secure (the console is behind HTTPS). */
  secureCookies: boolean;
}

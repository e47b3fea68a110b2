/**
 * Tools: every tool that writes (not annotated readOnlyHint) is covered by a
 * rule, and every money-moving tool needs approval. Judged on the tools the
 * gateway last offered (`<dataDir>/mcp-tools.json`) through the real tool
 * policy, for the principal of every configured key (the policy's layers by
 * team, user and agent included).
 */
import { fail, listed, pass, warn, type CheckResult } from '../check.js';
import type { ReadinessInputs } from '../inputs.js';
import { principalOf } from './limits.js';

const ID = 'tools.writes';
const TITLE = 'tools that write are governed, and money moves only with approval';
/** Tool names that move money. */
export const MONEY = /(pay|payment|payout|transfer|refund|wire|invoice|charge|withdraw|disburse)/i;

export function checkTools(inputs: ReadinessInputs): CheckResult {
  const { tools, engine } = inputs;
  if (tools === undefined) {
    if (Object.keys(inputs.config.mcp.servers).length === 0) return pass(ID, TITLE, 'no MCP servers are configured');
    return warn(ID, TITLE, 'the gateway has not written its tool list yet (mcp-tools.json)', 'start the gateway once with its MCP servers up, then run readiness again');
  }
  if (engine === undefined) return fail(ID, TITLE, 'the tool policy could not be loaded', 'fix the policies');
  const ungoverned = new Set<string>();
  const moneyWithoutApproval = new Set<string>();
  // Every real caller, as the policy layers it (tenant, team, user, agent): a team or user setting can loosen what the tenant set.
  for (const key of inputs.config.keys) {
    const principal = principalOf(key);
    const context = { agent_chain: [], agent_depth: 0 };
    const visible = new Set(engine.visibleTools({ principal, context, tools }));
    for (const tool of tools) {
      if (!visible.has(tool.name)) continue;
      const decision = engine.evaluateToolCall({ principal, context, tool, arguments: {} });
      // A server's readOnlyHint does not exempt a tool whose name says it moves money.
      if (MONEY.test(tool.tool)) {
        if (decision.code !== 'approval_required') moneyWithoutApproval.add(`${key.id}: ${tool.name}`);
      } else if (tool.annotations.readOnlyHint !== true && decision.allow) {
        ungoverned.add(`${key.id}: ${tool.name}`);
      }
    }
  }
  if (moneyWithoutApproval.size > 0) {
    return fail(ID, TITLE, `money-moving tools callable without approval, by key: ${listed([...moneyWithoutApproval])}`, 'add an approvals rule with count 2 for them (docs/approvals.md)');
  }
  if (ungoverned.size > 0) {
    return warn(ID, TITLE, `tools that write, callable with any arguments and no approval, by key: ${listed([...ungoverned])}`, 'narrow the tenant\'s tools setting, add argument rules, or require approval (docs/policies.md, "Tool policy")');
  }
  return pass(ID, TITLE, `${tools.length} tool(s): every write tool is governed, money needs approval`);
}

/**
 * Tools: every tool that writes (not annotated readOnlyHint) is covered by a
 * rule, and every money-moving tool needs approval. Judged on the tools the
 * gateway last offered (`<dataDir>/mcp-tools.json`) through the real tool
 * policy, for a caller of each tenant that the tenant's `tools` setting lets
 * reach everything it allows.
 */
import { fail, listed, pass, warn, type CheckResult } from '../check.js';
import type { ReadinessInputs } from '../inputs.js';

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
  const tenants = [...new Set(inputs.config.keys.map((k) => k.tenant))];
  const ungoverned: string[] = [];
  const moneyWithoutApproval: string[] = [];
  for (const tenant of tenants) {
    const principal = { tenant, key_id: 'readiness-probe' };
    const visible = new Set(engine.visibleTools({ principal, context: { agent_chain: [], agent_depth: 0 }, tools }));
    for (const tool of tools) {
      if (!visible.has(tool.name) || tool.annotations.readOnlyHint === true) continue;
      const decision = engine.evaluateToolCall({ principal, context: { agent_chain: [], agent_depth: 0 }, tool, arguments: {} });
      const governed = !decision.allow;
      if (MONEY.test(tool.tool) && decision.code !== 'approval_required') moneyWithoutApproval.push(`${tenant}: ${tool.name}`);
      else if (!governed) ungoverned.push(`${tenant}: ${tool.name}`);
    }
  }
  if (moneyWithoutApproval.length > 0) {
    return fail(ID, TITLE, `money-moving tools callable without approval: ${listed(moneyWithoutApproval)}`, 'add an approvals rule with count 2 for them (docs/approvals.md)');
  }
  if (ungoverned.length > 0) {
    return warn(ID, TITLE, `tools that write, callable with any arguments and no approval: ${listed(ungoverned)}`, 'narrow the tenant\'s tools setting, add argument rules, or require approval (docs/policies.md, "Tool policy")');
  }
  return pass(ID, TITLE, `${tools.length} tool(s): every write tool is governed, money needs approval`);
}

/** A catalog tool as the tool policy sees it (docs/policies.md, "Tool policy"). */
import type { PolicyTool } from '../policy/input.js';
import type { CatalogTool } from './catalog.js';

export function policyToolOf(tool: CatalogTool): PolicyTool {
  const out: PolicyTool = { name: tool.name, server: tool.server, tool: tool.tool, annotations: { ...(tool.definition.annotations ?? {}) } };
  if (tool.agent !== undefined) out.agent = tool.agent;
  return out;
}

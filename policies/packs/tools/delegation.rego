# Agents calling agents through tools: a tool of an agent (input.tool.agent, an
# agent with an MCP endpoint in the registry) is a delegation. The chain after
# this call is input.context.agent_chain plus the calling agent; the target
# must not already be in it (delegation_loop, unless the tenant allows loops),
# and the new chain must not be deeper than the target's maxDelegationDepth.
package gatehouse.packs.tools

import data.gatehouse.tenant

next_chain := array.concat(input.context.agent_chain, [input.principal.agent]) if input.principal.agent

else := input.context.agent_chain

deny contains {
	"priority": 10,
	"code": "delegation_loop",
	"reason": concat("", ["Agent '", input.tool.agent, "' is already in this delegation chain (", concat(" -> ", next_chain), "): a loop."]),
} if {
	input.tool.agent in next_chain
	not loops_allowed
}

deny contains {
	"priority": 10,
	"code": "delegation_depth_exceeded",
	"reason": concat("", ["Agent '", input.tool.agent, "' may be called at most ", format_int(target.maxDelegationDepth, 10), " agents deep."]),
} if {
	target := data.agents[input.tool.agent]
	count(next_chain) > target.maxDelegationDepth
}

# The calling agent itself, as for model calls.
deny contains {
	"priority": 10,
	"code": "delegation_loop",
	"reason": concat("", ["Agent '", input.principal.agent, "' is already in this delegation chain: a loop."]),
} if {
	input.principal.agent in input.context.agent_chain
	not loops_allowed
}

loops_allowed if tenant.setting("allow_agent_loops") == true

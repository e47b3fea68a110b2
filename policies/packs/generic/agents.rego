# Agents calling agents (docs/agents.md). The proxy puts the delegation chain in
# input.context: agent_chain (the agents before this call, the first caller
# first) and agent_depth (how many there are; 0 for a call made directly by an
# application). The registry (data.agents) says how deep each agent may be called.
package gatehouse.packs.generic

import data.gatehouse.tenant

# An agent called deeper than its registry entry allows (maxDelegationDepth).
deny contains {
	"priority": 10,
	"code": "delegation_depth_exceeded",
	"reason": concat("", ["Agent '", input.principal.agent, "' may be called at most ", format_int(tenant.registered.maxDelegationDepth, 10), " agents deep; this call is ", format_int(input.context.agent_depth, 10), " deep."]),
} if {
	input.context.agent_depth > tenant.registered.maxDelegationDepth
}

# Any call deeper than the tenant allows (max_agent_depth in data), registered or not.
deny contains {
	"priority": 10,
	"code": "delegation_depth_exceeded",
	"reason": "The agent delegation chain is deeper than this tenant allows.",
} if {
	input.context.agent_depth > tenant.setting("max_agent_depth")
}

# A loop: the calling agent already stands in the chain (A -> B -> A), unless the
# tenant's data allows loops (allow_agent_loops: true).
deny contains {
	"priority": 10,
	"code": "delegation_loop",
	"reason": concat("", ["Agent '", input.principal.agent, "' is already in this delegation chain (", concat(" -> ", input.context.agent_chain), "): a loop."]),
} if {
	input.principal.agent in input.context.agent_chain
	not loops_allowed
}

loops_allowed if tenant.setting("allow_agent_loops") == true

# The registry's models are the agent's ceiling, whatever a user or team layer of
# the data allows ("*": any model).
deny contains {
	"priority": 20,
	"code": "model_not_allowed",
	"reason": concat("", ["Agent '", input.principal.agent, "' is not registered for model '", input.request.model, "'."]),
} if {
	models := tenant.registered.models
	not "*" in models
	not input.request.model in models
}

# The models a team lets its agents use: teams.<owner team>.agent_models in the
# tenant's data, applied to every agent the registry says that team owns.
deny contains {
	"priority": 20,
	"code": "model_not_allowed",
	"reason": concat("", ["Agents of team '", tenant.registered.owner.team, "' may not use model '", input.request.model, "'."]),
} if {
	allowed := tenant.config.teams[tenant.registered.owner.team].agent_models
	not input.request.model in allowed
}

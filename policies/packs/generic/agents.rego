# Delegation depth: agents calling agents must stop at the tenant's max_agent_depth
# (context.agent_depth is 0 for a call made directly by an application).
package gatehouse.packs.generic

import data.gatehouse.tenant

deny contains {
	"priority": 10,
	"code": "agent_depth_exceeded",
	"reason": "The agent delegation chain is deeper than this tenant allows.",
} if {
	input.context.agent_depth > tenant.setting("max_agent_depth")
}

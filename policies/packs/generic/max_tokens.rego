# Max-tokens cap per tenant (a team, agent or user entry may set its own). The cap
# is returned as maxTokens: the proxy lowers a larger request, and sets it on a
# request that asked for none. It never denies.
package gatehouse.packs.generic

import data.gatehouse.tenant

max_tokens := tenant.setting("max_tokens")

annotations["max_tokens.capped"] := "true" if {
	input.request.max_tokens > max_tokens
}

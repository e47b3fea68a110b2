# Which tools a caller reaches (list time and call time alike):
#
# - an agent reaches only the tools its registry entry lists (`tools`: server and
#   tool names, "*" for all of a server's tools); an agent marked `readOnly`
#   reaches only tools annotated readOnlyHint;
# - every caller reaches only what the tenant's `tools` setting allows (the most
#   specific layer: user, agent, team, tenant), as patterns "server.tool",
#   "server.*" or "*". Without a `tools` setting, a registered agent reaches its
#   registry tools and any other caller reaches none.
package gatehouse.packs.tools

import data.gatehouse.tenant

reachable(tool) if {
	registry_allows(tool)
	setting_allows(tool)
	not read_only_excludes(tool)
}

registry_allows(_) if not input.principal.agent

registry_allows(tool) if {
	some entry in tenant.registered.tools
	entry.server == tool.server
	some name in entry.tools
	name in {"*", tool.tool}
}

setting_allows(tool) if {
	some pattern in tenant.setting("tools")
	matches(pattern, tool)
}

setting_allows(_) if {
	not tools_listed
	tenant.registered
}

# (A helper rule: `not is_array(tenant.setting(...))` would hoist the call out of the negation.)
tools_listed if is_array(tenant.setting("tools"))

matches("*", _)

matches(pattern, tool) if pattern == tool.name

matches(pattern, tool) if pattern == concat("", [tool.server, ".*"])

read_only_excludes(tool) if {
	tenant.registered.readOnly == true
	not read_only_tool(tool)
}

read_only_tool(tool) if tool.annotations.readOnlyHint == true

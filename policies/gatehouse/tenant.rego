# The caller's settings, resolved from data (policies/data/*.json) so that changing
# a limit, a budget or an allow-list never needs a Rego rebuild.
#
# Layers, the most specific one that sets a value wins:
#   .users[user]  →  .agents[agent]  →  .teams[team]  →  the tenant entry itself,
# where the tenant entry is data.data.tenants[tenant], or data.data.defaults for a
# tenant without an entry. The agent layer also takes what the agent registry
# (data.agents, docs/agents.md) says of the caller's agent: its models, its
# limits and budgets (in the agent scope) and its run budget, which win over the
# tenant data's .agents entry.
package gatehouse.tenant

default known := false

known if data.data.tenants[input.principal.tenant]

# The tenant's settings; undefined for an unknown tenant when no defaults are configured.
config := data.data.tenants[input.principal.tenant]

config := data.data.defaults if not known

default team := {}

team := config.teams[input.principal.team]

default agent := {}

agent := config.agents[input.principal.agent]

# The caller's agent as the registry declares it; only for the tenant it belongs to.
registered := entry if {
	entry := data.agents[input.principal.agent]
	entry.tenant == input.principal.tenant
}

# What the registry entry contributes to the agent layer, as plain lookups (no
# object is built per request): its models as a setting, its limits and budgets
# as the agent scope's entries. (The registry's models and run budget are also
# ceilings no data layer lifts: packs/generic/agents.rego, request/decision.rego.)
registry_setting("models") := registered.models

registry_section("limits", "agent") := registered.limits

registry_section("budgets", "agent") := registered.budgets

default user := {}

user := config.users[input.principal.user]

# The layers, most specific first: user, agent (the registry's entry, then the
# tenant data's), team, tenant. A layer's entry
# replaces the less specific ones' entry as a whole (a team's limits.user replaces
# the tenant's limits.user for that team's users); nothing is merged field by field.
# Written as else-chains of plain lookups: this runs for every scope of every request.

# One value (for example "max_tokens" or "models") from the most specific layer
# that sets it; undefined when no layer does.
setting(name) := value if {
	value := user[name]
} else := value if {
	value := registry_setting(name)
} else := value if {
	value := agent[name]
} else := value if {
	value := team[name]
} else := config[name]

# The entry of a section ("limits" or "budgets") for one scope, from the most
# specific layer that has one; undefined when none does.
section(name, scope) := entry if {
	entry := user[name][scope]
} else := entry if {
	entry := registry_section(name, scope)
} else := entry if {
	entry := agent[name][scope]
} else := entry if {
	entry := team[name][scope]
} else := config[name][scope]

# Which principal field identifies each scope.
principal_fields := {
	"tenant": "tenant",
	"team": "team",
	"user": "user",
	"agent": "agent",
	"key": "key_id",
	"feature": "feature",
}

# The counter key of every scope the caller belongs to. Keys are tenant-qualified
# ("acme/advisor-1") so that two tenants' users never share a counter; the tenant's
# own key is its id and the global scope's key is "global".
scope_keys[scope] := key if {
	some scope, field in principal_fields
	id := input.principal[field]
	is_string(id)
	id != ""
	key := qualified(scope, id)
}

scope_keys["global"] := "global"

qualified("tenant", id) := id

qualified(scope, id) := concat("/", [input.principal.tenant, id]) if scope != "tenant"

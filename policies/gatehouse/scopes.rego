# Rate limits and budgets per scope. Policy decides which apply and with which
# values; the proxy's limit store counts them atomically.
package gatehouse.scopes

import data.gatehouse.tenant

# {scope, key, requestsPerMinute?, tokensPerMinute?} for each scope with a configured
# limit. Field names are checked by the data tests (data_test.rego), not here: this
# runs on every request.
# Arrays, not sets: a set of objects hashes every entry on every request.
limits := [entry |
	some scope, key in tenant.scope_keys
	values := settings("limits", scope)
	entry := object.union(values, {"scope": scope, "key": key})
]

# {scope, key, usdPerDay?, usdPerMonth?, tokensPerDay?, tokensPerMonth?} per scope.
budgets := [entry |
	some scope, key in tenant.scope_keys
	values := settings("budgets", scope)
	entry := object.union(values, {"scope": scope, "key": key})
]

settings(name, "global") := data.data.global[name]

settings(name, scope) := tenant.section(name, scope) if scope != "global"

# Scopes whose spend today has reached the warning fraction of their daily budget
# (input.usage[scope].usdToday against usdPerDay). Recorded as an annotation, so
# operators see a budget running out before it stops traffic.
default warn_fraction := 0.8

warn_fraction := tenant.setting("budget_warning_fraction")

# Iterates the usage snapshot (usually one or two scopes), not every budget, and
# checks that the scope is one of the caller's (scope_keys, which builds every key)
# last, when the spend is already over the threshold: the same scopes as budgets,
# for a fraction of the work on every request.
near_budget contains scope if {
	some scope, used in input.usage
	spent := used.usdToday
	spent >= settings("budgets", scope).usdPerDay * warn_fraction
	tenant.scope_keys[scope]
}

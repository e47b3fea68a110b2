# The RequestDecision for one request (schema: docs/policies.md,
# proxy/policy/decision.ts), compiled as two entrypoints, gatehouse/request/caller
# and gatehouse/request/verdict (see below). Packs contribute denials and
# annotations; this file only assembles them. A new pack is added here, by name.
package gatehouse.request

import data.gatehouse.packs.generic
import data.gatehouse.response
import data.gatehouse.scopes
import data.gatehouse.tenant

denials contains d if some d in generic.deny

denials contains {
	"priority": 0,
	"code": "tenant_not_configured",
	"reason": "This tenant has no policy settings and no defaults apply.",
} if {
	not tenant.config
}

# Denials ordered by priority (then code): the first one's code is the decision's code.
ordered := sort([[d.priority, d.code, d.reason] | some d in denials])

default code := null

code := ordered[0][1]

reasons := [entry[2] | some entry in ordered]

default redact := []

redact := tenant.config.pii.redact

default pseudonymize := false

pseudonymize := tenant.config.pii.pseudonymize

default allowed_models := null

allowed_models := generic.allowed_models

default max_tokens := null

max_tokens := generic.max_tokens

# Streamed answers: characters of an unfinished sentence held until judged (0: forward at once).
default response_hold_chars := 400

response_hold_chars := tenant.setting("stream_hold_chars")

# Calls, tokens and USD one run (trace id) may use: the registry's runBudget for
# the caller's agent (no data layer can lift it), else run_budget in the tenant's data.
default run_budget := null

run_budget := budget if {
	budget := tenant.registered.runBudget
} else := budget if {
	budget := tenant.setting("run_budget")
}

annotations := object.union_n([
	generic.annotations,
	{"budget.near_limit": concat(",", scopes.near_budget) | count(scopes.near_budget) > 0},
	{"tenant.settings": "defaults" | not tenant.known; tenant.config},
])

# The decision is built from two parts, which the proxy evaluates as two entrypoints:
#
# - caller: what applies to this caller (limits, budgets, redaction, models, max
#   tokens, and whether its answers go through the response policy). It must read nothing but input.principal and data: the proxy evaluates
#   it with an input holding only the principal, and memoizes the result per
#   principal until the next policy or data reload (test_caller_reads_only_the_principal
#   checks this). A rule here that read input.request would be undefined in the proxy.
# - verdict: what this request gets (allow, code, reasons, annotations).
#
# decision, their union, is the documented RequestDecision (docs/policies.md).
# Optional fields (code, allowedModels, maxTokens) are null when they do not apply;
# the proxy reads null as absent.
caller := {
	"limits": scopes.limits,
	"budgets": scopes.budgets,
	"redact": redact,
	"pseudonymize": pseudonymize,
	"allowedModels": allowed_models,
	"maxTokens": max_tokens,
	"inspectResponses": response.inspect,
	"responseHoldChars": response_hold_chars,
	"detectors": generic.detector_names,
	"runBudget": run_budget,
}

verdict := {
	"allow": count(denials) == 0,
	"code": code,
	"reasons": reasons,
	"annotations": annotations,
}

decision := object.union(caller, verdict)

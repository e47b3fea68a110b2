# Checks the real data files (policies/data/*.json), so a typo in a limit's name
# fails `opa test` instead of silently disabling the limit in production.
package gatehouse.data_test

scopes := {"tenant", "team", "user", "agent", "key", "feature", "global"}

section_fields := {
	"limits": {"requestsPerMinute", "tokensPerMinute"},
	"budgets": {"usdPerDay", "usdPerMonth", "tokensPerDay", "tokensPerMonth"},
}

pii_classes := {"email", "phone", "payment_card", "iban", "us_ssn", "secret"}

# Every settings layer: tenants, their teams/agents/users, and the defaults.
layers contains layer if some layer in data.data.tenants

layers contains data.data.defaults

layers contains layer if {
	some tenant in data.data.tenants
	some kind in ["teams", "agents", "users"]
	some layer in tenant[kind]
}

problems contains sprintf("unknown scope %q in %s", [scope, name]) if {
	some layer in layers
	some name, _ in section_fields
	some scope, _ in layer[name]
	not scope in scopes
}

problems contains sprintf("%s.%s must be an object", [name, scope]) if {
	some layer in layers
	some name, _ in section_fields
	some scope, entry in layer[name]
	not is_object(entry)
}

problems contains sprintf("%s.%s: unknown field %q or not a number >= 0", [name, scope, field]) if {
	some layer in layers
	some name, fields in section_fields
	some scope, entry in layer[name]
	some field, value in entry
	not valid_number(fields, field, value)
}

problems contains sprintf("unknown PII class %q", [class]) if {
	some layer in layers
	some class in array.concat(object.get(layer, ["pii", "redact"], []), object.get(layer, ["pii", "response_redact"], []))
	not class in pii_classes
}

problems contains sprintf("prompt_injection must be deny, annotate or off, not %q", [mode]) if {
	some layer in layers
	mode := layer.prompt_injection
	not mode in {"deny", "annotate", "off"}
}

problems contains "models must be an array of strings" if {
	some layer in layers
	models := layer.models
	not every_string(models)
}

problems contains sprintf("max_tokens must be a positive integer, not %v", [n]) if {
	some layer in layers
	n := layer.max_tokens
	not positive_integer(n)
}

problems contains sprintf("stream_hold_chars must be an integer from 0 to 16384, not %v", [n]) if {
	some layer in layers
	n := layer.stream_hold_chars
	not hold_chars(n)
}

problems contains sprintf("detectors.%s: threshold must be a number from 0 to 1 and on_failure deny or allow", [name]) if {
	some layer in layers
	some name, settings in object.get(layer, "detectors", {})
	not valid_detector(settings)
}

hold_chars(n) if {
	is_number(n)
	n >= 0
	n <= 16384
	round(n) == n
}

valid_detector(settings) if {
	threshold := object.get(settings, "threshold", 0.5)
	is_number(threshold)
	threshold >= 0
	threshold <= 1
	object.get(settings, "on_failure", "deny") in {"deny", "allow"}
}

valid_number(fields, field, value) if {
	field in fields
	is_number(value)
	value >= 0
}

every_string(xs) if {
	is_array(xs)
	every x in xs {
		is_string(x)
	}
}

positive_integer(n) if {
	is_number(n)
	n > 0
	round(n) == n
}

test_data_files_are_well_formed if {
	count(problems) == 0
}

test_checks_catch_a_typo if {
	bad := {
		"tenants": {"t": {
			"limits": {"user": {"requestPerMinute": 5}, "team": 10},
			"pii": {"redact": ["emails"]},
			"stream_hold_chars": -1,
			"detectors": {"guard": {"threshold": 7, "on_failure": "maybe"}},
		}},
		"defaults": {},
	}
	ps := problems with data.data as bad
	count(ps) == 5
}

problems contains "allow_agent_loops must be true or false" if {
	some layer in layers
	flag := layer.allow_agent_loops
	not is_boolean(flag)
}

problems contains sprintf("run_budget: unknown field %q or not a number > 0", [field]) if {
	some layer in layers
	some field, value in object.get(layer, "run_budget", {})
	not valid_run_budget(field, value)
}

valid_run_budget(field, value) if {
	field in {"calls", "tokens"}
	positive_integer(value)
}

valid_run_budget("usd", value) if {
	is_number(value)
	value > 0
}

problems contains sprintf("teams.%s.agent_models must be an array of strings", [name]) if {
	some tenant in data.data.tenants
	some name, team in object.get(tenant, "teams", {})
	models := team.agent_models
	not every_string(models)
}

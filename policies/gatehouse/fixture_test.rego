# Shared test data: tests run against this fixture (`with data.data as fixture.settings`)
# so that tuning policies/data/*.json never breaks a logic test. data_test.rego
# checks the real data files separately.
package gatehouse.fixture

settings := {
	"tenants": {
		"acme": {
			"limits": {
				"tenant": {"requestsPerMinute": 600, "tokensPerMinute": 600000},
				"team": {"requestsPerMinute": 200},
				"user": {"requestsPerMinute": 20, "tokensPerMinute": 40000},
			},
			"budgets": {
				"tenant": {"usdPerMonth": 20000},
				"user": {"usdPerDay": 40},
				"agent": {"usdPerDay": 25},
			},
			"max_tokens": 4096,
			"max_agent_depth": 3,
			"pii": {"redact": ["email", "us_ssn"], "pseudonymize": true, "response_redact": []},
			"packs": {"finance": {"investment_recommendation": true, "promissory_statement": true}},
			"teams": {"advisory": {
				"models": ["gpt-4o-mini", "gpt-4o"],
				"limits": {"user": {"requestsPerMinute": 5}},
			}},
			"agents": {"rebalancer": {
				"max_agent_depth": 1,
				"budgets": {"agent": {"usdPerDay": 2}},
			}},
			"users": {"vip": {"max_tokens": 16000}},
		},
		"globex": {
			"limits": {"user": {"requestsPerMinute": 30}},
			"prompt_injection": "annotate",
			"pii": {"redact": ["payment_card"], "pseudonymize": false, "response_redact": ["payment_card", "iban"]},
		},
	},
	"defaults": {
		"limits": {"tenant": {"requestsPerMinute": 100}},
		"max_tokens": 1024,
	},
	"global": {"limits": {"requestsPerMinute": 3000}},
	"finance": {"replacements": {"investment_recommendation": "Compliance-approved text."}},
}

# A request input with one benign user message; tests override what they need.
request(principal, model, messages) := {
	"principal": principal,
	"request": {"model": model, "messages": messages, "tools": [], "max_tokens": 1000, "stream": false},
	"usage": {},
	"time": {"now_ns": 1767225600000000000},
	"context": {"agent_chain": [], "agent_depth": 0},
}

advisor := {"tenant": "acme", "team": "advisory", "user": "advisor-1", "key_id": "key-7", "feature": "chat"}

benign := [{"role": "system", "text": "You are a helpful assistant."}, {"role": "user", "text": "Summarise bond market drivers this quarter."}]

response(tenant, text) := {
	"principal": {"tenant": tenant},
	"request": {"model": "gpt-4o"},
	"response": {"text": text, "tool_calls": []},
	"final": true,
}

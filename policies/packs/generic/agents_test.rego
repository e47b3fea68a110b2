# The agent rules against a registry (data.agents) given in the test, as the
# proxy hands it over from agents/*.yaml.
package gatehouse.packs.agents_test

import data.gatehouse.fixture
import data.gatehouse.request

registry := {
	"research-bot": {
		"id": "research-bot", "name": "Research bot", "tenant": "acme",
		"owner": {"team": "research", "contact": "research@acme.example"},
		"status": "active", "models": ["gpt-4o-mini", "gpt-4o"], "maxDelegationDepth": 2,
		"budgets": {"usdPerDay": 3}, "limits": {"requestsPerMinute": 7},
		"runBudget": {"calls": 40, "usd": 2},
	},
	"summariser": {
		"id": "summariser", "name": "Summariser", "tenant": "acme",
		"owner": {"team": "ops", "contact": "ops@acme.example"},
		"status": "active", "models": ["*"], "maxDelegationDepth": 0,
	},
	"globex-bot": {
		"id": "globex-bot", "name": "Globex bot", "tenant": "globex",
		"owner": {"team": "ops", "contact": "ops@globex.example"},
		"status": "active", "models": ["o3"], "maxDelegationDepth": 5,
	},
}

settings := object.union(fixture.settings, {"tenants": {"acme": {"teams": {"ops": {"agent_models": ["gpt-4o-mini"]}}}}})

decide(doc) := d if {
	d := request.decision with input as doc with data.data as settings with data.agents as registry
}

as_agent(agent, chain, model) := doc if {
	p := object.union(fixture.advisor, {"agent": agent})
	doc := object.union(fixture.request(p, model, fixture.benign), {"context": {"agent_chain": chain, "agent_depth": count(chain)}})
}

test_an_agent_within_its_depth_is_allowed if {
	decide(as_agent("research-bot", ["planner", "router"], "gpt-4o")).allow == true
}

test_depth_past_the_agents_registry_limit_is_denied if {
	d := decide(as_agent("research-bot", ["planner", "router", "writer"], "gpt-4o"))
	d.allow == false
	d.code == "delegation_depth_exceeded"
}

test_an_agent_with_depth_0_may_only_be_called_by_applications if {
	decide(as_agent("summariser", [], "gpt-4o-mini")).allow == true
	decide(as_agent("summariser", ["planner"], "gpt-4o-mini")).code == "delegation_depth_exceeded"
}

test_a_loop_is_denied if {
	d := decide(as_agent("research-bot", ["research-bot"], "gpt-4o"))
	d.code == "delegation_loop"
	contains(d.reasons[0], "research-bot")
}

test_a_loop_is_allowed_when_the_tenant_allows_loops if {
	d := request.decision with input as as_agent("research-bot", ["research-bot"], "gpt-4o")
		with data.data as object.union(settings, {"tenants": {"acme": {"allow_agent_loops": true}}})
		with data.agents as registry
	d.allow == true
}

test_the_registry_models_are_the_agents_allow_list if {
	decide(as_agent("research-bot", [], "o3")).code == "model_not_allowed"
	decide(as_agent("research-bot", [], "o3")).allowedModels == ["gpt-4o-mini", "gpt-4o"]
}

test_a_team_limits_the_models_its_agents_use if {
	# summariser allows any model, but its owning team (ops) lets its agents use gpt-4o-mini only.
	decide(as_agent("summariser", [], "gpt-4o-mini")).allow == true
	d := decide(as_agent("summariser", [], "gpt-4o"))
	d.code == "model_not_allowed"
	contains(d.reasons[_], "Agents of team 'ops'")
}

test_registry_budgets_limits_and_run_budget_apply_in_the_agent_scope if {
	d := decide(as_agent("research-bot", [], "gpt-4o"))
	some budget in d.budgets
	budget.scope == "agent"
	budget.key == "acme/research-bot"
	budget.usdPerDay == 3
	some limit in d.limits
	limit.scope == "agent"
	limit.requestsPerMinute == 7
	d.runBudget == {"calls": 40, "usd": 2}
}

test_another_tenants_registry_entry_does_not_apply if {
	# globex-bot belongs to globex: an acme caller naming it gets none of its settings.
	d := decide(as_agent("globex-bot", [], "gpt-4o"))
	d.allow == true
	d.runBudget == null
}

test_without_a_registry_entry_no_run_budget_applies if {
	decide(fixture.request(fixture.advisor, "gpt-4o", fixture.benign)).runBudget == null
}

test_the_registry_is_a_ceiling_a_user_layer_cannot_lift if {
	wide := object.union(settings, {"tenants": {"acme": {"users": {"jane": {"models": ["*"], "run_budget": {"calls": 1000}}}}}})
	p := object.union(fixture.advisor, {"agent": "research-bot", "user": "jane"})
	doc := object.union(fixture.request(p, "o3", fixture.benign), {"context": {"agent_chain": [], "agent_depth": 0}})
	d := request.decision with input as doc with data.data as wide with data.agents as registry
	d.code == "model_not_allowed"
	d.runBudget == {"calls": 40, "usd": 2}
}

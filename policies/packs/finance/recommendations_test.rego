package gatehouse.packs.finance_test

import data.gatehouse.fixture
import data.gatehouse.response

decide(input_doc) := d if {
	d := response.decision with input as input_doc with data.data as fixture.settings
}

# The must-block and must-allow answers are in the corpus (corpus_test.rego); these
# inputs carry no normalized form, so they also check the lower(text) fallback.
recommendations := [
	"You should buy 500 shares of X.",
	"I recommend selling your AAPL position.",
	"Honestly, you should definitely sell your Tesla stock before earnings.",
	"My recommendation is to purchase 1,000 units of the fund.",
	"Here is the plan. Buy 200 shares at the open.",
	"With these numbers, MSFT is a strong buy.",
	"We recommend trimming your Apple holdings this week.",
	"you should load up on $TSLA",
]

test_recommendations_are_blocked if {
	every text in recommendations {
		d := decide(fixture.response("acme", text))
		d.action == "block"
		d.code == "investment_recommendation"
	}
}

not_recommendations := [
	"I can't recommend specific securities; a licensed advisor can help.",
	"Diversified index funds spread risk across many companies.",
	"The company bought back 500 shares last quarter.",
	"You should review your risk tolerance with your advisor.",
	"Many investors buy bonds when they expect rates to fall.",
	"You should not rely on past performance.",
]

test_education_is_allowed if {
	every text in not_recommendations {
		decide(fixture.response("acme", text)).action == "allow"
	}
}

test_recommendation_in_tool_call_arguments_is_blocked if {
	doc := object.union(fixture.response("acme", ""), {"response": {"tool_calls": [{
		"name": "send_email",
		"arguments": "{\"to\":\"client@example.com\",\"body\":\"You should sell 300 shares of ACME tomorrow.\"}",
	}]}})
	decide(doc).code == "investment_recommendation"
}

test_promissory_statements_are_blocked if {
	every text in [
		"This fund is guaranteed to double by next year.",
		"Don't worry, you can't lose with this strategy.",
		"The stock will definitely go up after the merger.",
	] {
		decide(fixture.response("acme", text)).code == "promissory_statement"
	}
}

test_risk_warnings_are_not_promissory if {
	every text in [
		"No investment is risk-free and returns are never guaranteed.",
		"You could lose some or all of the money you invest.",
	] {
		decide(fixture.response("acme", text)).action == "allow"
	}
}

test_replacement_falls_back_to_the_default if {
	d := decide(fixture.response("acme", "This fund is guaranteed to double."))
	d.replacement == data.gatehouse.packs.finance.default_replacements.promissory_statement
}

test_switch_off_allows if {
	acme := object.union(fixture.settings.tenants.acme, {"packs": {"finance": {"investment_recommendation": false}}})
	d := response.decision with input as fixture.response("acme", "You should buy 500 shares of X.")
		with data.data as object.union(fixture.settings, {"tenants": {"acme": acme}})
	d.action == "allow"
}

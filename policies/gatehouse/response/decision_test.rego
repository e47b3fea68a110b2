package gatehouse.response_test

import data.gatehouse.fixture
import data.gatehouse.response

decide(input_doc) := d if {
	d := response.decision with input as input_doc with data.data as fixture.settings
}

test_plain_answer_is_allowed if {
	d := decide(fixture.response("acme", "Bond yields rose because inflation expectations firmed."))
	d == {"action": "allow", "reasons": []}
}

test_block_carries_code_reason_and_replacement if {
	d := decide(fixture.response("acme", "I recommend selling your AAPL position today."))
	d.action == "block"
	d.code == "investment_recommendation"
	d.replacement == "Compliance-approved text."
	count(d.reasons) == 1
}

test_finance_rules_only_for_tenants_with_the_pack if {
	d := decide(fixture.response("globex", "You should buy 500 shares of X."))
	d.action != "block"
}

test_block_beats_redact if {
	globex := object.union(fixture.settings.tenants.globex, {"packs": {"finance": {"investment_recommendation": true}}})
	d := response.decision with input as fixture.response("globex", "You should buy 500 shares of X.")
		with data.data as object.union(fixture.settings, {"tenants": {"globex": globex}})
	d.action == "block"
	not d.redact
}

test_redact_for_tenants_that_redact_answers if {
	d := decide(fixture.response("globex", "Here is the summary."))
	d.action == "redact"
	d.redact == ["payment_card", "iban"]
}

test_window_of_a_stream_is_judged_the_same if {
	doc := object.union(fixture.response("acme", "…and so you should buy 500 shares of"), {"final": false})
	d := decide(doc)
	d.action == "block"
}

inspect_for(principal, settings) := v if {
	v := response.inspect with input as {"principal": principal} with data.data as settings
}

test_inspect_when_a_finance_rule_is_on if {
	inspect_for({"tenant": "acme"}, fixture.settings)
}

test_inspect_when_answers_are_redacted if {
	inspect_for({"tenant": "globex"}, fixture.settings)
}

test_no_inspection_without_response_rules if {
	# The defaults enable no response pack and redact nothing from answers.
	not inspect_for({"tenant": "initech"}, fixture.settings)
	off := object.union(fixture.settings, {"tenants": {"acme": {"packs": {"finance": {"investment_recommendation": false, "promissory_statement": false}}, "pii": {"response_redact": []}}}})
	not inspect_for({"tenant": "acme"}, off)
}

test_inspect_reads_only_the_principal if {
	principal_only := inspect_for({"tenant": "acme"}, fixture.settings)
	with_answer := response.inspect with input as fixture.response("acme", "Plain text.") with data.data as fixture.settings
	principal_only == with_answer
}

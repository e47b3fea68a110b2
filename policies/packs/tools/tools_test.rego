# The tool policy (gatehouse/tools/visible and gatehouse/tools/decision) against a
# registry given in the test.
package gatehouse.packs.tools_test

import data.gatehouse.fixture
import data.gatehouse.tools

registry := {
	"qa-bot": {"id": "qa-bot", "tenant": "acme", "status": "active", "readOnly": false, "data": ["hr:directory"], "maxDelegationDepth": 3,
		"tools": [{"server": "hr", "tools": ["query", "list_employees"]}, {"server": "email", "tools": ["search"]}]},
	"hr-bot": {"id": "hr-bot", "tenant": "acme", "status": "active", "readOnly": false, "data": ["hr:compensation"], "maxDelegationDepth": 3,
		"tools": [{"server": "hr", "tools": ["*"]}]},
	"reader": {"id": "reader", "tenant": "acme", "status": "active", "readOnly": true, "data": [], "maxDelegationDepth": 3,
		"tools": [{"server": "email", "tools": ["*"]}]},
	"mailer": {"id": "mailer", "tenant": "acme", "status": "active", "readOnly": false, "data": [], "maxDelegationDepth": 3,
		"tools": [{"server": "email", "tools": ["*"]}, {"server": "writer", "tools": ["ask"]}]},
	"writer": {"id": "writer", "tenant": "acme", "status": "active", "readOnly": false, "data": [], "maxDelegationDepth": 2, "tools": []},
}

settings := object.union(fixture.settings, {"tenants": {"acme": {
	"email_domains": ["customer.example"],
	"tools_requiring_approval": ["hr.update_salary"],
	"approvals": [
		{"tools": ["email.send"], "count": 1, "groups": ["support-leads"], "expires_in_seconds": 900, "reason": "Customer e-mails are sent by a person."},
		{"tools": ["payments.*"], "count": 2, "groups": ["finance-approvers"], "reason": "Money moves on two signatures."},
		{"tools": ["payments.transfer"], "count": 1, "groups": ["support-leads"]},
	],
	"approver_groups": {"support-leads": ["erin"], "finance-approvers": ["dave", "carol", 7]},
}}})

catalog := [
	{"name": "hr.query", "server": "hr", "tool": "query", "annotations": {"readOnlyHint": true}},
	{"name": "hr.list_employees", "server": "hr", "tool": "list_employees", "annotations": {"readOnlyHint": true}},
	{"name": "hr.update_salary", "server": "hr", "tool": "update_salary", "annotations": {"destructiveHint": true}},
	{"name": "email.search", "server": "email", "tool": "search", "annotations": {"readOnlyHint": true}},
	{"name": "email.send", "server": "email", "tool": "send", "annotations": {}},
	{"name": "writer.ask", "server": "writer", "tool": "ask", "annotations": {}, "agent": "writer"},
	{"name": "payments.transfer", "server": "payments", "tool": "transfer", "annotations": {}},
]

tool(name) := t if {
	some t in catalog
	t.name == name
}

caller(agent) := {"tenant": "acme", "key_id": "k", "agent": agent}

visible(principal) := v if {
	v := tools.visible with input as {"principal": principal, "context": {"agent_chain": [], "agent_depth": 0}, "tools": catalog}
		with data.data as settings with data.agents as registry
}

call(principal, name, args) := d if {
	d := tools.decision with input as {"principal": principal, "context": {"agent_chain": [], "agent_depth": 0}, "tool": tool(name), "arguments": args}
		with data.data as settings with data.agents as registry
}

call_in_chain(principal, name, args, chain) := d if {
	d := tools.decision with input as {"principal": principal, "context": {"agent_chain": chain, "agent_depth": count(chain)}, "tool": tool(name), "arguments": args}
		with data.data as settings with data.agents as registry
}

test_an_agent_sees_only_its_registry_tools if {
	visible(caller("qa-bot")) == ["hr.query", "hr.list_employees", "email.search"]
	visible(caller("hr-bot")) == ["hr.query", "hr.list_employees", "hr.update_salary"]
}

test_a_read_only_agent_sees_only_read_only_tools if {
	visible(caller("reader")) == ["email.search"]
}

test_a_caller_without_an_agent_sees_only_what_the_tenant_allows if {
	visible({"tenant": "acme", "key_id": "app"}) == []
	v := tools.visible with input as {"principal": {"tenant": "acme", "key_id": "app"}, "context": {"agent_chain": [], "agent_depth": 0}, "tools": catalog}
		with data.data as object.union(settings, {"tenants": {"acme": {"tools": ["email.*", "hr.list_employees"]}}}) with data.agents as registry
	v == ["hr.list_employees", "email.search", "email.send"]
}

test_a_hidden_tool_is_refused_like_an_unknown_one if {
	d := call(caller("qa-bot"), "email.send", {"to": "a@customer.example"})
	d.allow == false
	d.code == "tool_not_found"
}

test_the_salary_question_needs_hr_compensation if {
	d := call(caller("qa-bot"), "hr.query", {"sql": "select name, salary from employees"})
	d.code == "data_not_allowed"
	call(caller("qa-bot"), "hr.query", {"columns": ["name", "Bonus"]}).code == "data_not_allowed"
	call(caller("qa-bot"), "hr.query", {"columns": "salary"}).code == "data_not_allowed"
	call(caller("qa-bot"), "hr.query", {"sql": "SELECT name, salary_usd FROM employees"}).code == "data_not_allowed"
	call(caller("qa-bot"), "hr.query", {"sql": "select base_salary from employees"}).code == "data_not_allowed"
	call(caller("qa-bot"), "hr.query", {"sql": "SELECT * FROM employees"}).code == "data_not_allowed"
	call(caller("qa-bot"), "hr.query", {"sql": "select e.* from employees e"}).code == "data_not_allowed"
	call(caller("qa-bot"), "hr.query", {"sql": ["select salary"]}).code == "data_not_allowed"
	call(caller("qa-bot"), "hr.query", {"columns": ["name", 7]}).code == "data_not_allowed"
	call(caller("qa-bot"), "hr.query", {"columns": ["*"]}).code == "data_not_allowed"
	call(caller("qa-bot"), "hr.query", {"columns": ["name", "role"]}).allow == true
	call(caller("qa-bot"), "hr.query", {"sql": "select name, role from employees"}).allow == true
	call(caller("hr-bot"), "hr.query", {"sql": "select name, salary from employees"}).allow == true
}

test_email_recipients_must_be_in_the_customer_domain if {
	# Inside the domain, only the approval rule applies.
	call(caller("mailer"), "email.send", {"to": ["a@customer.example", "b@CUSTOMER.example"]}).code == "approval_required"
	d := call(caller("mailer"), "email.send", {"to": "a@customer.example", "cc": ["x@rival.example"]})
	d.code == "recipient_not_allowed"
	call(caller("mailer"), "email.send", {"to": ["a@customer.example.evil.example"]}).code == "recipient_not_allowed"
	call(caller("mailer"), "email.send", {"to": [42]}).code == "recipient_not_allowed"
	call(caller("mailer"), "email.send", {"to": {"x": "a@rival.example"}}).code == "recipient_not_allowed"
	call(caller("mailer"), "email.send", {"to": "cfo@rival.example, ok@customer.example"}).code == "recipient_not_allowed"
	call(caller("mailer"), "email.send", {"to": "cfo@rival.example <ok@customer.example"}).code == "recipient_not_allowed"
	call(caller("mailer"), "email.send", {"to": "Ok Name <ok@customer.example>"}).code == "recipient_not_allowed"
	call(caller("mailer"), "email.send", {"to": "a@customer.example", "bcc": 7}).code == "recipient_not_allowed"
}

test_a_tool_needing_approval_answers_approval_required if {
	d := call(caller("hr-bot"), "hr.update_salary", {"name": "Ada", "salary": 1})
	d.code == "approval_required"
	d.approval == {"count": 1, "groups": [], "approvers": null, "expires_in_seconds": 3600, "reason": "Calling hr.update_salary needs a human approval."}
}

test_an_approval_rule_names_its_approvers_count_and_expiry if {
	d := call(caller("mailer"), "email.send", {"to": "a@customer.example"})
	d.allow == false
	d.code == "approval_required"
	d.approval == {"count": 1, "groups": ["support-leads"], "approvers": ["erin"], "expires_in_seconds": 900, "reason": "Customer e-mails are sent by a person."}
}

test_money_needs_two_approvers_the_strictest_rule_wins if {
	d := tools.decision with input as {"principal": {"tenant": "acme", "key_id": "k"}, "context": {"agent_chain": [], "agent_depth": 0}, "tool": tool("payments.transfer"), "arguments": {"amount": 100}}
		with data.data as object.union(settings, {"tenants": {"acme": {"tools": ["*"]}}}) with data.agents as registry
	d.code == "approval_required"
	d.approval.count == 2
	# Both rules hold: an approver must be a finance approver and a support lead (nobody is).
	d.approval.approvers == []
	d.approval.groups == ["finance-approvers", "support-leads"]
	d.approval.expires_in_seconds == 3600
	d.approval.reason == "Money moves on two signatures."
}

test_the_short_form_never_widens_a_grouped_rule if {
	d := tools.decision with input as {"principal": caller("mailer"), "context": {"agent_chain": [], "agent_depth": 0}, "tool": tool("email.send"), "arguments": {"to": "a@customer.example"}}
		with data.data as object.union(settings, {"tenants": {"acme": {"tools_requiring_approval": ["email.send"]}}}) with data.agents as registry
	d.approval.approvers == ["erin"]
	d.approval.count == 1
	d.approval.expires_in_seconds == 900
}

test_a_malformed_rule_makes_the_approval_malformed_never_weaker if {
	bad := object.union(settings, {"tenants": {"acme": {"tools": ["*"], "approvals": [
		{"tools": ["payments.*"], "count": "2", "groups": ["finance-approvers"]},
		{"tools": ["payments.transfer"], "count": 1},
	]}}})
	d := tools.decision with input as {"principal": {"tenant": "acme", "key_id": "k"}, "context": {"agent_chain": [], "agent_depth": 0}, "tool": tool("payments.transfer"), "arguments": {}}
		with data.data as bad with data.agents as registry
	d.code == "approval_required"
	not is_number(d.approval.count)
	bad_groups := object.union(settings, {"tenants": {"acme": {"tools": ["*"], "approvals": [{"tools": ["payments.*"], "groups": "finance-approvers"}]}}})
	g := tools.decision with input as {"principal": {"tenant": "acme", "key_id": "k"}, "context": {"agent_chain": [], "agent_depth": 0}, "tool": tool("payments.transfer"), "arguments": {}}
		with data.data as bad_groups with data.agents as registry
	not is_array(g.approval.approvers)
}

test_no_approval_is_offered_when_another_rule_denies if {
	d := call(caller("mailer"), "email.send", {"to": "x@rival.example"})
	d.code == "recipient_not_allowed"
	d.approval == null
	call(caller("qa-bot"), "hr.list_employees", {}).approval == null
}

test_a_malformed_reason_still_requires_approval if {
	d := tools.decision with input as {"principal": caller("mailer"), "context": {"agent_chain": [], "agent_depth": 0}, "tool": tool("email.search"), "arguments": {}}
		with data.data as object.union(settings, {"tenants": {"acme": {"approvals": [{"tools": ["email.search"], "reason": 42}]}}}) with data.agents as registry
	d.code == "approval_required"
	d.approval.reason == "Calling email.search needs a human approval."
}

test_delegating_to_an_agent_tool_respects_its_depth_and_loops if {
	call(caller("mailer"), "writer.ask", {}).allow == true
	call_in_chain(caller("mailer"), "writer.ask", {}, ["planner", "router"]).code == "delegation_depth_exceeded"
	call_in_chain(caller("mailer"), "writer.ask", {}, ["writer"]).code == "delegation_loop"
}

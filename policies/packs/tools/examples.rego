# Example argument constraints, to adapt (docs/policies.md, "Tool policy"):
#
# - hr.query: reading compensation (a salary, bonus or pay column, named in
#   `columns` or in the `sql` text) needs `hr:compensation` in the caller's data
#   reach: its registry `data` for an agent, the tenant's `data` setting otherwise;
# - email.send: every recipient (`to`, `cc`, `bcc`) must be at one of the tenant's
#   `email_domains`;
# - any tool in the tenant's `tools_requiring_approval` needs a human approval
#   (`approval_required`).
package gatehouse.packs.tools

import data.gatehouse.tenant

compensation_pattern := `(?i)\b(salar(y|ies)|compensation|bonus(es)?|pay_?grade|wages?)\b`

deny contains {
	"priority": 20,
	"code": "data_not_allowed",
	"reason": "Reading compensation needs the hr:compensation data reach.",
} if {
	input.tool.name == "hr.query"
	reads_compensation
	not "hr:compensation" in data_reach
}

reads_compensation if {
	some column in as_list(object.get(input.arguments, "columns", []))
	is_string(column)
	count(regex.find_n(compensation_pattern, column, 1)) > 0
}

reads_compensation if {
	sql := input.arguments.sql
	is_string(sql)
	count(regex.find_n(compensation_pattern, sql, 1)) > 0
}

default data_reach := []

data_reach := tenant.registered.data

data_reach := tenant.setting("data") if not tenant.registered

deny contains {
	"priority": 20,
	"code": "recipient_not_allowed",
	"reason": concat("", ["Recipient '", shown(recipient), "' is outside the allowed e-mail domains."]),
} if {
	input.tool.name == "email.send"
	some recipient in recipients
	not allowed_recipient(recipient)
}

recipients contains recipient if {
	some field in ["to", "cc", "bcc"]
	value := input.arguments[field]
	some recipient in as_list(value)
}

# A reason must never fail to build: a failing builtin would make the denial undefined (fail open).
shown(recipient) := recipient if is_string(recipient)

else := "(not an e-mail address)"

as_list(value) := value if is_array(value)

# Anything else (a string, a number, an object) is one value: a recipient that is
# not a string is refused, never skipped.
as_list(value) := [value] if not is_array(value)

allowed_recipient(recipient) if {
	is_string(recipient)
	some domain in tenant.setting("email_domains")
	endswith(lower(trim_space(recipient)), concat("", ["@", lower(domain)]))
}

deny contains {
	"priority": 30,
	"code": "approval_required",
	"reason": concat("", ["Calling ", input.tool.name, " needs a human approval."]),
} if {
	input.tool.name in tenant.setting("tools_requiring_approval")
}

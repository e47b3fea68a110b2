# Example argument constraints, to adapt (docs/policies.md, "Tool policy"):
#
# - hr.query: reading compensation (a salary, bonus or pay column, named in
#   `columns` or in the `sql` text) needs `hr:compensation` in the caller's data
#   reach: its registry `data` for an agent, the tenant's `data` setting otherwise;
# - email.send: every recipient (`to`, `cc`, `bcc`) must be at one of the tenant's
#   `email_domains`;
#
# Human approvals are in approvals.rego.
package gatehouse.packs.tools

import data.gatehouse.tenant

# Substrings, not words: `base_salary`, `salary_usd` and `bonus2025` are compensation too.
compensation_pattern := `(?i)(salar(y|ies)|compensation|bonus|pay_?grade|wage)`

# `SELECT *` (or `t.*`) reads every column, compensation included.
select_all_pattern := `(?i)select\s+(distinct\s+)?([a-z_][a-z0-9_]*\.)?\*`

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
	not plain_column(column)
}

reads_compensation if {
	sql := object.get(input.arguments, "sql", "")
	not is_string(sql)
}

reads_compensation if {
	sql := input.arguments.sql
	is_string(sql)
	count(regex.find_n(compensation_pattern, sql, 1)) > 0
}

reads_compensation if {
	sql := input.arguments.sql
	is_string(sql)
	count(regex.find_n(select_all_pattern, sql, 1)) > 0
}

# Fails closed: a column that is not a string, "*", or a compensation column is not plain.
plain_column(column) if {
	is_string(column)
	column != "*"
	count(regex.find_n(compensation_pattern, column, 1)) == 0
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

# One plain address per entry: "a@customer.example, cfo@rival.example" or a display
# name with brackets is not one address, and is refused rather than guessed at.
allowed_recipient(recipient) if {
	is_string(recipient)
	address := lower(trim_space(recipient))
	# regex.find_n, not regex.match: see policies/gatehouse/text.rego.
	count(regex.find_n(`^[^\s,;<>"'()@]+@[a-z0-9.-]+$`, address, 1)) > 0
	some domain in tenant.setting("email_domains")
	endswith(address, concat("", ["@", lower(domain)]))
}

# Tool calls that need human sign-off (docs/approvals.md). Two tenant settings:
#
# - `approvals`: rules, each {"tools": [patterns], "count": n, "groups": [names],
#   "expires_in_seconds": s, "reason": "shown to approvers"}. Patterns are as in
#   the `tools` setting ("server.tool", "server.*", "*"). `count` approvals from
#   distinct people are needed (default 1), each from a member of one of `groups`
#   (default: any approver of the tenant); the approval expires after
#   `expires_in_seconds` (default 3600).
# - `tools_requiring_approval`: tool names; the short form of a rule with the defaults.
#
# `approver_groups` maps a group to its members' user ids: {"finance-approvers": ["carol", "dave"]}.
package gatehouse.packs.tools

import data.gatehouse.tenant

default_expiry := 3600

# Every matching rule, as written (the short form as a rule with the defaults).
matching_rules contains entry if {
	some entry in tenant.setting("approvals")
	some pattern in object.get(entry, "tools", [])
	matches(pattern, input.tool)
}

matching_rules contains {"count": 1, "short_form": true} if {
	input.tool.name in tenant.setting("tools_requiring_approval")
}

default_reason := concat("", ["Calling ", input.tool.name, " needs a human approval."])

deny contains {"priority": 30, "code": "approval_required", "reason": approval_reason} if {
	count(matching_rules) > 0
}

# All matching rules hold at once: the most approvals, the shortest expiry, and an
# approver must be in the groups of every rule that names groups. A malformed rule
# makes the approval malformed, which the gateway refuses as policy_error (fail
# closed): it is never skipped in favour of a weaker rule.
counts := [object.get(rule, "count", 1) | some rule in matching_rules]

expiries := [object.get(rule, "expires_in_seconds", default_expiry) | some rule in matching_rules]

approval_count := max(counts) if {
	every c in counts {
		is_number(c)
	}
} else := "malformed: count"

approval_expiry := min(expiries) if {
	every e in expiries {
		is_number(e)
	}
} else := "malformed: expires_in_seconds"

# The rules that name approver groups, each as its set of eligible user ids.
grouped_rules := [rule | some rule in matching_rules; count(object.get(rule, "groups", [])) > 0]

well_formed_groups if {
	every rule in matching_rules {
		groups := object.get(rule, "groups", [])
		is_array(groups)
		every group in groups {
			is_string(group)
		}
	}
}

eligible(rule) := {user |
	some group in rule.groups
	some user in object.get(approver_groups, group, [])
	is_string(user)
}

approval_groups := sort({group | some rule in grouped_rules; some group in rule.groups}) if well_formed_groups
else := "malformed: groups"

approval_approvers := null if {
	well_formed_groups
	count(grouped_rules) == 0
}

approval_approvers := sort({user |
	some user in eligible(grouped_rules[0])
	every rule in grouped_rules {
		user in eligible(rule)
	}
}) if {
	well_formed_groups
	count(grouped_rules) > 0
}

approval_approvers := "malformed: groups" if not well_formed_groups

# Every rule's reason, once each; the default when no rule gives one.
reasons := sort({rule.reason | some rule in matching_rules; is_string(rule.reason)})

approval_reason := concat(" ", reasons) if count(reasons) > 0
else := default_reason

approver_groups := groups if {
	groups := tenant.setting("approver_groups")
	is_object(groups)
} else := {}

approval := {
	"count": approval_count,
	"groups": approval_groups,
	"approvers": approval_approvers,
	"expires_in_seconds": approval_expiry,
	"reason": approval_reason,
}

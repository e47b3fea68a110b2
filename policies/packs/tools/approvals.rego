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

approval_rules contains rule if {
	some entry in tenant.setting("approvals")
	some pattern in object.get(entry, "tools", [])
	matches(pattern, input.tool)
	rule := {
		"count": object.get(entry, "count", 1),
		"groups": object.get(entry, "groups", []),
		"expires_in_seconds": object.get(entry, "expires_in_seconds", default_expiry),
		"reason": approval_reason(entry),
	}
}

approval_rules contains rule if {
	input.tool.name in tenant.setting("tools_requiring_approval")
	rule := {"count": 1, "groups": [], "expires_in_seconds": default_expiry, "reason": default_reason}
}

default_reason := concat("", ["Calling ", input.tool.name, " needs a human approval."])

# A reason must never fail to build (a non-string would make the denial undefined: fail open).
approval_reason(entry) := entry.reason if is_string(entry.reason)
else := default_reason

deny contains {"priority": 30, "code": "approval_required", "reason": rule.reason} if {
	some rule in approval_rules
}

# The strictest rule decides what is needed: the most approvals, then the shortest expiry.
strictest := sort([[-rule.count, rule.expires_in_seconds, rule.reason, rule.groups] | some rule in approval_rules])[0]

# The user ids that may approve: members of the rule's groups; null when the rule names no group.
eligible_approvers := null if count(strictest[3]) == 0

eligible_approvers := sort({user |
	some group in strictest[3]
	some user in object.get(approver_groups, group, [])
	is_string(user)
}) if count(strictest[3]) > 0

approver_groups := groups if {
	groups := tenant.setting("approver_groups")
	is_object(groups)
} else := {}

approval := {
	"count": 0 - strictest[0],
	"groups": strictest[3],
	"approvers": eligible_approvers,
	"expires_in_seconds": strictest[1],
	"reason": strictest[2],
}

# Entrypoint gatehouse/response/decision: the ResponseDecision for an answer, or for
# a sliding window of a streamed answer (input.final is false until the end).
# block beats redact beats allow.
package gatehouse.response

import data.gatehouse.packs.finance
import data.gatehouse.tenant

blocks contains b if some b in finance.block

ordered := sort([[b.priority, b.code, b.reason, b.replacement] | some b in blocks])

# PII classes the tenant redacts from answers (data: pii.response_redact).
default redact := []

redact := tenant.config.pii.response_redact

# Whether this caller's answers need this policy at all. It reads only the
# principal and data (it is part of the request's caller decision, memoized per
# principal): when false, the proxy does not evaluate the response policy for the
# caller's answers, whole or streamed, and records the decision as not_inspected.
# A pack that judges answers adds its switch here, or the proxy never asks it.
default inspect := false

inspect if finance.enabled

inspect if count(redact) > 0

default decision := {"action": "allow", "reasons": []}

decision := {
	"action": "block",
	"code": ordered[0][1],
	"reasons": [entry[2] | some entry in ordered],
	"replacement": ordered[0][3],
} if {
	count(ordered) > 0
} else := {
	"action": "redact",
	"reasons": ["The tenant redacts personal data from answers."],
	"redact": redact,
} if {
	count(redact) > 0
}

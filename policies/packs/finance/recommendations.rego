# Regulated-finance pack (an example for firms whose assistants must not give
# personalised investment advice). Enabled per tenant in data:
#
#   "packs": { "finance": { "investment_recommendation": true, "promissory_statement": true } }
#
# Each rule looks at the answer text and at every tool call's arguments (an agent
# could send the advice by e-mail instead of saying it). Rules work on whatever
# text they get, so they hold on a streaming window as well as on a full answer.
package gatehouse.packs.finance

import data.gatehouse.tenant
import data.gatehouse.text

switches := object.get(tenant.config, ["packs", "finance"], {})

# True when any rule of this pack is on for the caller. Reads only the principal
# and data, so the proxy can know per caller, before the answer exists, whether
# answers need judging at all (gatehouse/response: inspect).
default enabled := false

enabled if {
	some on in switches
	on == true
}

# The texts a response rule looks at.
texts contains input.response.text if is_string(input.response.text)

texts contains call.arguments if {
	some call in input.response.tool_calls
	is_string(call.arguments)
}

# A specific investment recommendation: advice wording and a trade action followed,
# in the same sentence, by a specific instrument: a quantity of shares, "shares of",
# "your ... position", or a ticker; an imperative "Buy 500 shares"; or "NVDA is a
# strong buy". Two alternations: one case-insensitive, one case-sensitive (tickers
# are upper case, so that one spells its verbs in both cases where needed).
advice := `(?:you\s+should|you\s+ought\s+to|you\s+need\s+to|i\s+recommend|i\s+would\s+recommend|i'd\s+recommend|i\s+suggest|i\s+would\s+suggest|i'd\s+suggest|i\s+advise|we\s+recommend|my\s+(?:advice|recommendation)\s+is\s+to)(?:\s+(?:definitely|probably|really|consider|strongly\s+consider|seriously\s+consider))?`

trade := `(?:buy|buying|sell|selling|short|shorting|purchase|purchasing|dump|dumping|liquidate|liquidating|trim|trimming|load\s+up\s+on|add\s+to|invest\s+in|investing\s+in)`

recommendation_any_case := concat("", [
	`(?i)\b`, advice, `\s+`, trade, `\b[^.!?\n]{0,80}?`,
	`(?:\d[\d,]*\s*(?:shares|units|contracts)\b|\bshares\s+of\b|\byour\s+[^.!?\n]{1,30}?\s+(?:position|shares|stock|holdings?)\b|\b(?:stock|shares)\b)`,
	`|(?:^|[.!?:]\s+|\n)(?:buy|sell|short)\s+\d[\d,]*\s+shares\b`,
])

recommendation_tickers := concat("", [
	`\b(?:[Yy]ou\s+should|[Yy]ou\s+ought\s+to|[Ii]\s+recommend|[Ii]\s+would\s+recommend|[Ii]'d\s+recommend|[Ii]\s+suggest|[Ii]\s+advise|[Ww]e\s+recommend)`,
	`(?:\s+(?:definitely|probably|really|consider))?\s+`, trade, `\b[^.!?\n]{0,80}?\$?\b[A-Z]{2,5}\b`,
	`|\b[A-Z]{2,5}\b[^.!?\n]{0,40}?\bis\s+an?\s+(?:strong\s+|clear\s+|great\s+)?(?:buy|sell)\b`,
])

recommendation(t) if text.matches(recommendation_any_case, t)

recommendation(t) if text.matches(recommendation_tickers, t)

block contains {
	"priority": 10,
	"code": "investment_recommendation",
	"reason": "The answer reads as a specific investment recommendation, which this assistant may not give.",
	"replacement": replacement("investment_recommendation"),
} if {
	switches.investment_recommendation == true
	some t in texts
	recommendation(t)
}

# Promissory or exaggerated claims about performance ("guaranteed to double").
promissory_pattern := `(?i)\b(?:is|are)\s+guaranteed\s+to\s+(?:rise|go\s+up|double|triple|grow|increase|outperform|make\s+money)\b|\bwill\s+(?:definitely|certainly|surely)\s+(?:rise|go\s+up|double|triple|grow|increase|outperform)\b|\byou\s+(?:can't|cannot|can\s+not|won't|will\s+not)\s+lose\b|\bguaranteed\s+(?:returns?|profits?|gains?)\s+of\b`

block contains {
	"priority": 20,
	"code": "promissory_statement",
	"reason": "The answer promises or guarantees investment performance.",
	"replacement": replacement("promissory_statement"),
} if {
	switches.promissory_statement == true
	some t in texts
	text.matches(promissory_pattern, t)
}

default_replacements := {
	"investment_recommendation": "I can't recommend buying or selling specific investments. For advice about your own situation, please speak with your licensed financial advisor.",
	"promissory_statement": "I can't make promises about investment performance. All investments carry risk, including the loss of capital.",
}

# The safe text sent instead of a blocked answer: data.data.finance.replacements
# (compliance-approved wording) or the default above.
replacement(code) := object.get(data.data, ["finance", "replacements", code], default_replacements[code])

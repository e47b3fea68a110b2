# Regulated-finance pack (an example for firms whose assistants must not give
# personalised investment advice). Enabled per tenant in data:
#
#   "packs": { "finance": { "investment_recommendation": true, "promissory_statement": true } }
#
# Each rule looks at the answer and at every tool call's arguments (an agent
# could send the advice by e-mail instead of saying it). Rules match the
# NORMALIZED answer (docs/policies.md, "Normalization"): look-alike letters,
# zero-width characters and fullwidth forms are folded away, case is folded, and
# ticker-like words (2 to 5 capitals, e.g. NVDA) are marked `$nvda` first, so a
# ticker stays recognisable without its case. Encoded payloads are decoded onto
# their own lines. Rules work on whatever text they get, so they hold on a
# streaming window as well as on a whole answer.
#
# What the pack catches: advice wording with a trade and an instrument
# ("I recommend acquiring NVDA shares"), imperative trades ("Buy Tesla stock
# today", "Go long TSLA", "Sell AAPL immediately"), ratings ("nvda is a strong
# buy"), price targets, guaranteed returns, and the same in simple French. What it
# does not catch: other languages, paraphrase that avoids every trade verb and
# instrument word, a company name with no instrument word or urgency ("I'd buy
# Apple"), and advice spread over several sentences. Its corpus
# (policies/testdata/corpus.yaml) is the bar, false positives included.
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

# The normalized answer the proxy sends; lower(text) for an input built without it.
answer := n if {
	n := object.get(input.response, "normalized", null)
	is_string(n)
} else := lower(input.response.text) if is_string(input.response.text)

# The texts a response rule looks at: the answer, and every tool call's arguments (lower-cased).
texts contains answer

texts contains lower(call.arguments) if {
	some call in input.response.tool_calls
	is_string(call.arguments)
}

advice := `(?:you\s+should|you\s+ought\s+to|you\s+need\s+to|you\s+must|you'd\s+(?:be\s+)?(?:wise|smart)\s+to|i\s+(?:would\s+|'d\s+|strongly\s+|highly\s+)?(?:recommend|suggest|advise|urge)|i'd\s+(?:recommend|suggest)|we\s+(?:would\s+|strongly\s+)?(?:recommend|suggest|advise)|my\s+(?:advice|recommendation|suggestion|pick|top\s+pick)\s+(?:is|would\s+be)(?:\s+to)?|(?:the|a)\s+(?:smart|best|right)\s+move\s+(?:is|would\s+be)(?:\s+to)?|now\s+is\s+(?:a\s+|the\s+)?(?:good|great|perfect|right)\s+time\s+to)(?:\s+(?:definitely|probably|really|seriously|strongly|just|consider|start|be))*`

trade := `(?:buy|buying|sell|selling|short|shorting|purchase|purchasing|acquire|acquiring|accumulate|accumulating|dump|dumping|liquidate|liquidating|trim|trimming|offload|offloading|unload|unloading|load\s+up\s+on|loading\s+up\s+on|add\s+to|adding\s+to|invest\s+in|investing\s+in|get\s+out\s+of|exit|exiting|hold|holding|hold\s+onto|double\s+down\s+on|go\s+long|go\s+short)`

# A specific instrument: a quantity of shares, "shares of", "your ... position", a stock word, or a $ticker.
instrument := `(?:\d[\d,.]*\s*(?:k\s+)?(?:shares|units|contracts|lots|options|calls|puts)\b|\bshares\s+(?:of|in)\b|\byour\s+[^.!?\n]{1,30}?\s+(?:position|shares|stock|stake|holdings?)\b|\b(?:stock|stocks|shares|equity|etf|calls|puts|position|stake|holdings)\b|\$[a-z]{1,5}\b)`

# Right after a sentence start, a bullet or a colon.
sentence_start := `(?:^|[.!?:;]\s|\n|-\s|\*\s)\s*(?:\$)?`

patterns := [
	# advice wording, a trade, then an instrument in the same sentence
	concat("", [`\b`, advice, `\s+(?:\w+\s+)?`, trade, `\b[^.!?\n]{0,80}?`, instrument]),
	# an imperative trade with an instrument, a ticker or urgency: "Buy Tesla stock today", "Sell AAPL immediately"
	concat("", [sentence_start, `(?:buy|sell|short|purchase|acquire|accumulate|dump|grab|snap\s+up|load\s+up\s+on|get\s+out\s+of|hold\s+onto|unload|offload)\s+(?:some\s+|more\s+|your\s+)?`, `(?:[^.!?\n]{0,40}?`, instrument, `|[^.!?\n\s]+(?:\s+[^.!?\n\s]+)?\s+(?:now|today|immediately|right\s+away|asap|before|while|here|at\s+the\s+open))`]),
	# "go long TSLA", "go short on GME"
	concat("", [sentence_start, `go(?:ing)?\s+(?:long|short)\s+(?:on\s+)?\S`]),
	# ratings: "nvda is a strong buy", "Tesla is a buy", "a screaming buy", "I'd rate MSFT a conviction buy"
	`\b(?:is|are|remains|remain|looks\s+like|look\s+like|rate\s+\S+|rated|rating|stays)\s+(?:still\s+|now\s+|currently\s+)?(?:an?\s+)?(?:(?:strong|clear|great|solid|top|screaming|no-brainer|must|conviction|definite|obvious)\s+)?(?:buy|sell)\b(?:\s+(?:at|here|now|right|today|in)\b|[.!,;]|$)`,
	`\b(?:strong|screaming|conviction)\s+(?:buy|sell)\b`,
	# price targets: "price target of $1,200", "will hit $250"
	`\b(?:price\s+target|target\s+price)\s+(?:for\s+\S+\s+)?(?:of|at|is|to)?\s*\$\s?\d`,
	`\b(?:will|should|is\s+going\s+to|going\s+to)\s+(?:reach|hit|climb\s+to|rise\s+to|trade\s+at|be\s+worth|touch)\s+\$\s?\d`,
	# the same, in simple French
	`\b(?:achetez|vendez|achete|vends|acheter|vendre|investissez|investir)\b[^.!?\n]{0,60}?\b(?:actions?|titres?|parts?|obligations?|bitcoin|\$[a-z]{1,5})\b`,
	`\b(?:je\s+(?:vous\s+)?(?:recommande|conseille|suggere)|vous\s+devriez|il\s+faut)\s+(?:d'|de\s+)?(?:acheter|vendre|investir|liquider)\b`,
]

recommendation_pattern := concat("|", patterns)

recommendation(t) if text.matches(recommendation_pattern, t)

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

# Promissory or exaggerated claims about performance ("guaranteed to double", "risk-free returns").
promissory_pattern := concat("|", [
	`\b(?:is|are)\s+guaranteed\s+to\s+(?:rise|go\s+up|double|triple|grow|increase|outperform|make\s+money|pay)\b`,
	`\bwill\s+(?:definitely|certainly|surely|absolutely)\s+(?:rise|go\s+up|double|triple|grow|increase|outperform|moon|rally)\b`,
	`\b(?:you|investors?|this\s+(?:stock|investment|fund|strategy))\s+(?:can't|cannot|can\s+not|won't|will\s+not)\s+lose\b`,
	`\bguaranteed\s+(?:\d+\s*%|returns?|profits?|gains?|income|yields?)\b`,
	`\brisk[- ]free\s+(?:returns?|profits?|gains?|investment|money)\b`,
	`\b(?:rendement|gain|profit)s?\s+garanti`,
])

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

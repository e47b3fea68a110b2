# Prompt-injection heuristic: phrases that try to override the system's
# instructions, in every turn the caller controls (user and tool messages, and
# the system prompt and assistant turns the caller itself sent: a client can
# write its own system prompt or a fake assistant turn). A system prompt the
# gateway's prompt registry rendered (source "registry") is trusted.
#
# Rules match the NORMALIZED text (docs/policies.md, "Normalization"): format
# characters removed, NFKC, look-alike letters mapped to Latin, lower case, one
# space between words, and base64 or %-encoded payloads decoded onto their own
# lines. So "Ignоre" (Cyrillic о), "prev\u200bious", fullwidth letters and a
# phrase split across two messages all read as "ignore ... previous ...".
#
# A heuristic, not a proof: it stops the common attacks cheaply on every request.
# What it does not catch: paraphrase beyond its synonyms, other languages, attacks
# hidden in images or files. The tenant chooses "deny" (default), "annotate"
# (record only) or "off" in data (prompt_injection); a detector (input.signals)
# can add a classifier's judgement (detectors.rego).
package gatehouse.packs.generic

import data.gatehouse.tenant
import data.gatehouse.text

# An attack phrase, optionally preceded by a negation: a match that starts with
# one ("never reveal your system prompt") is the defensive wording of a system
# prompt, not an attack (see injection_found below).
negation := `(?:(?:do\s+not|don't|dont|never|not\s+to|should\s+not|shouldn't|must\s+not|mustn't|will\s+not|won't|cannot|can't|refuse\s+to)\s+(?:ever\s+)?)?`

verbs_override := `(?:ignore|disregard|forget|override|bypass|skip|drop|abandon|discard|neglect|dismiss|overlook|circumvent|suspend|set\s+aside|throw\s+away|throw\s+out|pay\s+no\s+attention\s+to|stop\s+following|no\s+longer\s+follow|stop\s+obeying|disobey)`

qualifier := `(?:previous|prior|above|earlier|preceding|foregoing|system|original|initial|old|existing|current|safety|developer|default|given|preset|hidden|built-in|programmed)`

rules_noun := `(?:instructions?|prompts?|rules|directions|directives|guidelines|guardrails|constraints|policies|programming|orders|commands|messages|context|restrictions|limitations|filters|safeguards)`

patterns := [
	# "ignore (all of) the previous instructions", "set aside the prior guidelines"
	concat("", [`\b`, negation, verbs_override, `\s+(?:all\s+|any\s+|each\s+|every\s+)?(?:of\s+)?(?:the\s+|your\s+|my\s+|these\s+|those\s+|our\s+|its\s+)?(?:\w+\s+)?`, qualifier, `\s+`, rules_noun, `\b`]),
	# "ignore all your instructions", "bypass every rule"
	concat("", [`\b`, negation, verbs_override, `\s+(?:all|any|every)\s+(?:of\s+)?(?:your\s+|the\s+|my\s+)?`, rules_noun, `\b`]),
	# "reveal your system prompt", "print the hidden instructions", "disclose the developer message"
	concat("", [`\b`, negation, `(?:reveal|print|show|repeat|output|leak|dump|display|disclose|tell\s+me|give\s+me|spell\s+out|recite|echo|write\s+out|list)\s+(?:me\s+)?(?:your|the|all\s+(?:of\s+)?your)\s+(?:(?:full|entire|complete|hidden|secret|original|initial|exact|verbatim|whole)\s+)*(?:system\s+(?:prompt|message|instructions?)|hidden\s+(?:instructions?|prompt)|initial\s+(?:instructions?|prompt)|developer\s+(?:message|instructions?|prompt)|pre-?prompt|instructions\s+(?:above|you\s+were\s+given))`]),
	`\bwhat\s+(?:is|are|was|were)\s+your\s+(?:system\s+prompt|(?:hidden|initial|original|secret)\s+(?:instructions|prompt))`,
	# jailbreak modes
	`\b(?:you\s+are\s+now|from\s+now\s+on,?\s+you\s+(?:are|will\s+be|will\s+act\s+as|act\s+as)|you\s+will\s+now\s+act\s+as|switch\s+to|enter|enable|activate|turn\s+on)\s+(?:in\s+)?(?:a\s+|an\s+|the\s+)?(?:dan|developer\s+mode|god\s+mode|jailbreak(?:ed)?(?:\s+mode)?|jailbroken|unrestricted|unfiltered|uncensored|evil\s+mode|sudo\s+mode|admin\s+mode|no[- ]limits?(?:\s+mode)?)\b`,
	`\b(?:do\s+anything\s+now|dan\s+mode|you\s+are\s+dan\b)`,
	# role-play without rules: "pretend you are an AI without any restrictions"
	concat("", [`\b(?:act|pretend|behave|roleplay|role-play|imagine|respond|you\s+are)\b[^.!?\n]{0,40}?\b(?:with\s+no|without(?:\s+any)?|free\s+of|no)\s+(?:rules|restrictions|guidelines|filters|policies|limits|limitations|censorship|safeguards|ethics|boundaries)\b`]),
	`\b(?:unfiltered|unrestricted|uncensored|jailbroken)\s+(?:ai|assistant|model|chatbot|mode)\b`,
	# new instructions and overrides by authority
	`(?:^|\n|[.!?:]\s)(?:#+\s*)?(?:new|updated|revised|real|actual|true)\s+(?:system\s+)?(?:instructions?|rules|prompt|directives?)\s*:`,
	`\b(?:system|admin|administrator|developer|root)\s+(?:override|command)\b`,
	# delimiter and template-token injection: chat-template tokens and fake role headers
	`<\|?\s*/?\s*(?:im_start|im_end|system|endoftext|eot_id|start_header_id|end_header_id|begin_of_text)\s*\|?>|\[/?inst\]|<</?sys>>|</?(?:system|sys)>|</s>\s*<s>|\{\{\s*system\s*\}\}|#{2,}\s*(?:system|instructions?)\s*:`,
	`(?:^|\n)\s*(?:system|assistant)\s*:\s`,
]

injection_pattern := concat("|", patterns)

scanned_roles := {"user", "tool"}

# Every turn the caller controls: user and tool turns, and system and assistant
# turns unless the prompt registry wrote them.
judged(message) if message.role in scanned_roles

judged(message) if {
	message.role in {"system", "assistant"}
	object.get(message, "source", "caller") == "caller"
}

# The normalized text the proxy sends; lower(text) for an input built without it.
normalized(message) := n if {
	n := object.get(message, "normalized", null)
	is_string(n)
} else := lower(message.text) if is_string(message.text)

default injection_mode := "deny"

injection_mode := tenant.setting("prompt_injection")

# The turns joined with line breaks, so a phrase split across two messages still reads whole.
scanned_text := concat("\n", [normalized(message) |
	some message in input.request.messages
	judged(message)
])

# No native pre-check (such as contains() over a list of anchor words) before the
# regex: in the WASM build every contains() is a naive scan of the whole text, and
# eleven of them cost more than the one host regex pass on a short text and several
# times more on a long one (bench/policy.ts).
injection_found contains m if {
	some m in regex.find_n(injection_pattern, scanned_text, 8)
	not negated(m)
}

# Runs only on a match (rare), through the host's cached regex (gatehouse/text.rego).
negated(m) if text.matches(`^(?:do\s+not|don't|dont|never|not\s+to|should\s+not|shouldn't|must\s+not|mustn't|will\s+not|won't|cannot|can't|refuse\s+to)\s`, m)

default injection_suspected := false

injection_suspected if {
	injection_mode != "off"
	count(injection_found) > 0
}

deny contains {
	"priority": 30,
	"code": "prompt_injection",
	"reason": "The request looks like a prompt-injection attempt (instructions that try to override the system's rules).",
} if {
	injection_mode == "deny"
	injection_suspected
}

annotations["prompt_injection.suspected"] := "true" if {
	injection_suspected
}

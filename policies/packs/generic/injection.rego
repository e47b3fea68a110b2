# Prompt-injection heuristic: phrases that try to override the system's instructions,
# in user messages and in tool results (indirect injection). A heuristic, not a proof:
# it stops the common attacks cheaply on every request, and the tenant chooses
# "deny" (default), "annotate" (record only) or "off" in data (prompt_injection).
package gatehouse.packs.generic

import data.gatehouse.tenant
import data.gatehouse.text

# One case-insensitive alternation over the scanned messages joined together, so a
# request costs one regex pass (see gatehouse/text.rego for the pattern syntax).
injection_pattern := concat("|", [
	`(?i)\b(ignore|disregard|forget|override)\s+(all\s+|any\s+)?(of\s+)?(the\s+|your\s+|my\s+)?(previous|prior|above|earlier|preceding|system|original)\s+(instructions|prompts?|rules|directions|guidelines|messages)`,
	`\b(reveal|print|show|repeat|output|leak|dump)\s+(me\s+)?(your|the)\s+(full\s+|entire\s+|hidden\s+|secret\s+)?(system\s+prompt|hidden\s+instructions|initial\s+instructions|developer\s+message)`,
	`\byou\s+are\s+now\s+(in\s+)?(dan|developer\s+mode|jailbroken|unrestricted|unfiltered)\b`,
	`\b(act|pretend|behave)\s+as\s+if\s+you\s+(have|had)\s+no\s+(rules|restrictions|guidelines|filters|policies)`,
	`<\|?\s*/?\s*(im_start|im_end|system|endoftext)\s*\|?>`,
])

scanned_roles := {"user", "tool"}

default injection_mode := "deny"

injection_mode := tenant.setting("prompt_injection")

scanned_text := concat("\n", [message.text |
	some message in input.request.messages
	message.role in scanned_roles
	is_string(message.text)
])

# No native pre-check (such as contains() over a list of anchor words) before the
# regex: in the WASM build every contains() is a naive scan of the whole text, and
# eleven of them cost more than the one host regex pass on a short text and several
# times more on a long one (bench/policy.ts).
default injection_suspected := false

injection_suspected if {
	injection_mode != "off"
	text.matches(injection_pattern, scanned_text)
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

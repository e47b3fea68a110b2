# Detector signals: scores from external classifiers (a Presidio analyzer, a
# prompt-guard or Llama Guard server, a vendor API) that the proxy calls only for
# tenants whose data asks for them, and hands to the policy as input.signals:
#
#   "detectors": { "prompt_guard": { "threshold": 0.8, "on_failure": "deny" } }
#
# The proxy calls each named detector (configured in the gateway's `detectors`
# section) before the request verdict; input.signals.<name> is
#   { "ok": true, "score": 0.97, "labels": { "injection": 0.97 }, "latency_ms": 12 }
# or, when it failed or timed out, { "ok": false, "error": "timeout", ... }.
# The policy decides: deny at or above the threshold, and on a failure deny
# ("on_failure": "deny", fail closed) or allow ("allow", fail open; the default is deny).
package gatehouse.packs.generic

import data.gatehouse.tenant

default detector_settings := {}

detector_settings := tenant.setting("detectors")

# The detectors this caller's requests need (part of the caller decision: reads only the principal and data).
detector_names := [name | some name, _ in detector_settings]

signal(name) := object.get(object.get(input, "signals", {}), name, {"ok": false, "error": "unavailable"})

detector_flagged contains name if {
	some name, settings in detector_settings
	s := signal(name)
	s.ok == true
	s.score >= object.get(settings, "threshold", 0.5)
}

detector_failed contains name if {
	some name, settings in detector_settings
	s := signal(name)
	s.ok != true
	object.get(settings, "on_failure", "deny") == "deny"
}

deny contains {
	"priority": 40,
	"code": "detector_flagged",
	"reason": concat("", ["A content classifier flagged the request (", concat(", ", sort([n | some n in detector_flagged])), ")."]),
} if count(detector_flagged) > 0

deny contains {
	"priority": 50,
	"code": "detector_unavailable",
	"reason": concat("", ["A required content classifier did not answer (", concat(", ", sort([n | some n in detector_failed])), "); the tenant fails closed."]),
} if count(detector_failed) > 0

annotations["detectors.flagged"] := concat(",", sort([n | some n in detector_flagged])) if count(detector_flagged) > 0

annotations["detectors.failed_open"] := concat(",", sort([name |
	some name, settings in detector_settings
	signal(name).ok != true
	object.get(settings, "on_failure", "deny") == "allow"
])) if {
	some name, settings in detector_settings
	signal(name).ok != true
	object.get(settings, "on_failure", "deny") == "allow"
}

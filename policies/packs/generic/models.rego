# Model allow-list per team: "models" in data, the most specific layer winning
# (tenant, then team, agent, user; an agent's registry entry counts as its
# layer). Without a list, or with "*" in it, any model may be used.
package gatehouse.packs.generic

import data.gatehouse.tenant

allowed_models := tenant.setting("models")

deny contains {
	"priority": 20,
	"code": "model_not_allowed",
	"reason": concat("", ["Model '", input.request.model, "' is not on the allow-list for this team."]),
} if {
	is_array(allowed_models)
	not "*" in allowed_models
	not input.request.model in allowed_models
}

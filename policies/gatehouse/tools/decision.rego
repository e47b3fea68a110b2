# The tool decisions for the MCP endpoint (docs/policies.md, "Tool policy"),
# compiled as two entrypoints:
#
# - gatehouse/tools/visible (list time): the names of input.tools this caller may
#   see and call. A tool not listed does not exist for the caller.
# - gatehouse/tools/decision (call time): {allow, code, reasons} for one call of
#   input.tool with input.arguments. A tool the caller may not reach is refused as
#   `tool_not_found`, exactly like a tool that does not exist.
#
# Packs contribute `reachable(tool)` and `deny`; this file only assembles them.
package gatehouse.tools

import data.gatehouse.packs.tools as pack

visible := [tool.name | some tool in input.tools; pack.reachable(tool)]

denials contains {
	"priority": 0,
	"code": "tool_not_found",
	"reason": concat("", ["Unknown tool: ", input.tool.name]),
} if {
	not pack.reachable(input.tool)
}

denials contains denial if {
	pack.reachable(input.tool)
	some denial in pack.deny
}

ordered := sort([[d.priority, d.code, d.reason] | some d in denials])

default code := null

code := ordered[0][1]

# When every denial is an approval rule, the call may go through with human
# sign-off: `approval` says how (docs/approvals.md). Otherwise it is null.
default approval := null

approval := pack.approval if {
	count(denials) > 0
	every d in denials {
		d.code == "approval_required"
	}
}

decision := {
	"allow": count(denials) == 0,
	"code": code,
	"reasons": [entry[2] | some entry in ordered],
	"approval": approval,
}

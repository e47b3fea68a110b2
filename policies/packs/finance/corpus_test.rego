# The finance pack against its corpus (policies/testdata/corpus.yaml, with the
# proxy's normalized forms in corpus.json): every must-block answer is blocked,
# whole and as the tool-call arguments an agent would send, and no must-allow
# answer is (zero false positives).
package gatehouse.packs.finance.corpus_test

import data.gatehouse.fixture
import data.gatehouse.response

answer(entry) := {
	"principal": {"tenant": "acme"},
	"request": {"model": "gpt-4o"},
	"response": {"text": entry.text, "normalized": entry.normalized, "tool_calls": []},
	"final": true,
}

decide(doc) := d if {
	d := response.decision with input as doc with data.data as fixture.settings
}

corpus := data.testdata.corpus.finance

test_every_must_block_answer_is_blocked if {
	missed := [entry.text |
		some entry in corpus.block
		decide(answer(entry)).action != "block"
	]
	print("finance corpus, not blocked:", missed)
	count(corpus.block) >= 35
	missed == []
}

test_no_must_allow_answer_is_blocked if {
	blocked := [entry.text |
		some entry in corpus.allow
		decide(answer(entry)).action == "block"
	]
	print("finance corpus, false positives:", blocked)
	count(corpus.allow) >= 20
	blocked == []
}

# The injection pack against its corpus (policies/testdata/corpus.yaml, with the
# proxy's normalized forms in corpus.json): every must-block request is denied as
# prompt_injection, and no must-allow request is (zero false positives).
package gatehouse.packs.injection_corpus_test

import data.gatehouse.fixture
import data.gatehouse.request

decide(messages) := d if {
	d := request.decision with input as fixture.request(fixture.advisor, "gpt-4o", messages) with data.data as fixture.settings
}

corpus := data.testdata.corpus.injection

test_every_must_block_request_is_denied if {
	missed := [entry.messages[0].text |
		some entry in corpus.block
		decide(entry.messages).code != "prompt_injection"
	]
	print("injection corpus, not blocked:", missed)
	count(corpus.block) >= 35
	missed == []
}

test_no_must_allow_request_is_denied if {
	denied := [entry.messages[0].text |
		some entry in corpus.allow
		decide(entry.messages).allow == false
	]
	print("injection corpus, false positives:", denied)
	count(corpus.allow) >= 15
	denied == []
}

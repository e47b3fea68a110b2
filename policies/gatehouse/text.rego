# Text matching shared by the packs.
#
# Why regex.find_n and not regex.match: in the WASM build regex.match is native and
# compiles its RE2 pattern on every call (200-600 µs per call, measured), which no
# per-request budget can afford. regex.find_n is not native to the WASM target: the
# proxy supplies it (proxy/policy/builtins.ts) with a compiled-pattern cache, and
# `opa test` uses OPA's own. Patterns must therefore sit in the common subset of
# RE2 and JavaScript: at most one leading flag group such as (?i), no inline flag
# groups like (?i:...), no \A, \z, \Q...\E, no [[:alpha:]] or \p{...} classes.
package gatehouse.text

# True when pattern matches somewhere in text.
matches(pattern, text) if count(regex.find_n(pattern, text, 1)) > 0

# True when the lower-cased text contains one of the (lower-case) words: a native,
# cheap pre-check that lets most texts skip a regex.
mentions_any(text, words) if {
	lowered := lower(text)
	some word in words
	contains(lowered, word)
}

# Text matching shared by the packs.
#
# Why regex.find_n and not regex.match: in the WASM build regex.match is native and
# compiles its RE2 pattern on every call (200-600 µs per call, measured), which no
# per-request budget can afford. regex.find_n is not native to the WASM target: the
# proxy supplies it (proxy/policy/builtins.ts) with a compiled-pattern cache, and
# `opa test` uses OPA's own. Patterns must therefore sit in the common subset of
# RE2 and JavaScript: at most one leading flag group such as (?i), no inline flag
# groups like (?i:...), no \A, \z, \Q...\E, no [[:alpha:]] or \p{...} classes.
#
# Call matches() directly, without a native pre-check such as contains() over a
# list of words: in the WASM build each contains() is a naive scan of the whole
# text, and a handful of them cost more than one regex pass in the proxy (2-3x on
# a 512-character window, more on long texts; bench/policy.ts). A word list that
# must cover every way a pattern can match is also a bypass waiting to happen.
package gatehouse.text

# True when pattern matches somewhere in text.
matches(pattern, text) if count(regex.find_n(pattern, text, 1)) > 0

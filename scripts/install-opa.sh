#!/usr/bin/env sh
# Installs the pinned OPA CLI into .tools/bin/opa (git-ignored), if it is not
# there already at the pinned version. Idempotent; safe in CI and in pretest.
#
#   scripts/install-opa.sh            install if missing, print the binary's path
#   OPA_VERSION=1.22.2 (pinned here; must match proxy/policy/opaCli.ts OPA_VERSION)
#
# Needs Go (go install). Prints the path on stdout; progress goes to stderr.
set -eu

OPA_VERSION="1.22.2"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN_DIR="$ROOT/.tools/bin"
OPA="$BIN_DIR/opa"

installed_version() {
  "$1" version 2>/dev/null | sed -n 's/^Version: *//p'
}

if [ -x "$OPA" ] && [ "$(installed_version "$OPA")" = "$OPA_VERSION" ]; then
  echo "$OPA"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "install-opa: Go is required to install OPA $OPA_VERSION (or put opa $OPA_VERSION at $OPA)" >&2
  exit 1
fi

echo "install-opa: installing OPA $OPA_VERSION into $BIN_DIR (go install, takes a few minutes the first time)" >&2
mkdir -p "$BIN_DIR"
GOBIN="$BIN_DIR" go install "github.com/open-policy-agent/opa@v$OPA_VERSION" >&2

found="$(installed_version "$OPA")"
if [ "$found" != "$OPA_VERSION" ]; then
  echo "install-opa: expected OPA $OPA_VERSION at $OPA, found '${found:-nothing}'" >&2
  exit 1
fi
echo "$OPA"

#!/usr/bin/env sh
# Builds the pinned Jaeger v2 (the `jaeger` all-in-one binary) into
# .tools/bin/jaeger (git-ignored), if it is not there already at the pinned
# version. Idempotent; used by CI and by the Jaeger end-to-end test.
#
#   scripts/install-jaeger.sh         build if missing, print the binary's path
#
# Why a build from the module source: `go install ...cmd/jaeger@v1.75.0` is
# refused because the module's go.mod has a `replace` directive, and download
# sites other than the Go module proxy cannot be reached. The build takes about
# 3.5 minutes on 2 cores the first time. v1.75.0 is the module version of
# Jaeger v2.12 (the v1.x tags carry the v2 binary's sources).
set -eu

JAEGER_VERSION="v1.75.0"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN_DIR="$ROOT/.tools/bin"
JAEGER="$BIN_DIR/jaeger"
STAMP="$BIN_DIR/jaeger.version"

if [ -x "$JAEGER" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$JAEGER_VERSION" ]; then
  echo "$JAEGER"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "install-jaeger: Go is required to build Jaeger $JAEGER_VERSION (or put the binary at $JAEGER and $JAEGER_VERSION in $STAMP)" >&2
  exit 1
fi

echo "install-jaeger: building Jaeger $JAEGER_VERSION into $BIN_DIR (a few minutes the first time)" >&2
mkdir -p "$BIN_DIR"
go mod download "github.com/jaegertracing/jaeger@$JAEGER_VERSION" >&2
SRC="$(go env GOMODCACHE)/github.com/jaegertracing/jaeger@$JAEGER_VERSION"
WORK="$(mktemp -d)"
trap 'chmod -R u+w "$WORK" 2>/dev/null; rm -rf "$WORK"' EXIT
cp -R "$SRC/." "$WORK/"
chmod -R u+w "$WORK"
(cd "$WORK" && go build -o "$JAEGER.tmp" ./cmd/jaeger) >&2
mv "$JAEGER.tmp" "$JAEGER"
echo "$JAEGER_VERSION" > "$STAMP"
echo "$JAEGER"

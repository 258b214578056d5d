#!/usr/bin/env bash
# Prints the path of the Temporal CLI; builds it with Go when it is nowhere to be found.
# Never downloads a prebuilt binary: the build goes through the Go module proxy and is cached in $(go env GOPATH)/bin.
set -euo pipefail
VERSION="v1.5.1" # later tags carry a replace directive and cannot be go-installed

if [ -n "${TEMPORAL_CLI:-}" ]; then
  [ -x "$TEMPORAL_CLI" ] || { echo "error: TEMPORAL_CLI=$TEMPORAL_CLI is not an executable file" >&2; exit 1; }
  echo "$TEMPORAL_CLI"; exit 0
fi
if command -v temporal >/dev/null 2>&1; then command -v temporal; exit 0; fi

GO="$(command -v go || true)"
[ -n "$GO" ] || { [ -x /usr/local/go/bin/go ] && GO=/usr/local/go/bin/go; }
if [ -z "$GO" ]; then
  cat >&2 <<MSG
error: the Temporal CLI was not found on PATH and Go is not installed to build it.
Install one of:
  - Go (https://go.dev/doc/install), then run: go install github.com/temporalio/cli/cmd/temporal@$VERSION
  - the Temporal CLI (https://docs.temporal.io/cli#install), and put 'temporal' on PATH
or set TEMPORAL_CLI to the path of an existing binary.
MSG
  exit 1
fi

BIN="$("$GO" env GOPATH)/bin/temporal"
if [ ! -x "$BIN" ]; then
  echo "Building the Temporal CLI $VERSION with go install (about 5 minutes on 2 cores, once)..." >&2
  "$GO" install "github.com/temporalio/cli/cmd/temporal@$VERSION" >&2
fi
echo "$BIN"

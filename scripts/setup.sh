#!/usr/bin/env bash
# Installs what Cutover needs and a fresh machine lacks; quick and silent when everything is there.
#   - PostgreSQL server binaries (Debian package 'postgresql'): tests and the demo run throwaway clusters
#   - Chromium (Debian package 'chromium'): the console's browser tests drive it headless (test/console)
#   - the Temporal CLI (its dev server is Cutover's local Temporal): found on PATH or built once with Go
#   - node_modules, from package-lock.json
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "setup: installing the PostgreSQL server (Debian package postgresql)"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi

if [ ! -x /usr/bin/chromium ]; then
  echo "setup: installing Chromium (Debian package chromium)"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi

temporal_cli="$(bash temporal/cli.sh)"
echo "setup: Temporal CLI at $temporal_cli ($("$temporal_cli" --version | head -1))"

node_major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$node_major" -ge 20 ] || { echo "setup: Node 20 or later is required (found $(node --version))" >&2; exit 1; }

if [ "${CI:-}" = "true" ] || [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

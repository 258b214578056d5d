#!/usr/bin/env bash
# Installs what Cutover needs and a fresh machine lacks; quick and silent when everything is there.
#   - Debian packages: the PostgreSQL server (tests and the demo run throwaway clusters), Chromium (the console's
#     browser tests), HAProxy and nginx (the data planes), openssl, wrk (the benchmark), Prometheus (the metrics test)
#   - the Temporal CLI (its dev server is Cutover's local Temporal): found on PATH or built once with Go
#   - node_modules, from package-lock.json
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# What the tests and the benchmark run for real, each found by a file its Debian package installs.
missing=()
need() { [ -e "$1" ] || missing+=("$2"); }
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
need /usr/bin/chromium chromium       # the console's browser tests
need /usr/sbin/haproxy haproxy        # the HAProxy data-plane adapter
need /usr/sbin/nginx nginx-light      # the nginx data-plane adapter, the Temporal mTLS proxy test
need /usr/bin/openssl openssl         # certificates made by the TLS tests
need /usr/bin/wrk wrk                 # npm run bench
need /usr/bin/prometheus prometheus   # test/metrics: a real Prometheus scrapes /metrics; promtool checks the alert rules
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

temporal_cli="$(bash temporal/cli.sh)"
echo "setup: Temporal CLI at $temporal_cli ($("$temporal_cli" --version | head -1))"

node_major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$node_major" -ge 20 ] || { echo "setup: Node 20 or later is required (found $(node --version))" >&2; exit 1; }

if [ "${CI:-}" = "true" ] || [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

#!/bin/sh
# Runs a command with CUTOVER_ROUTER_TOKEN, the router admin API's secret: the operator's when set, else one made
# once and kept in the state volume (mode 0600). Only the router, the worker and the API are started through this:
# never the host agent, whose children are the deployed apps.
set -eu
if [ -z "${CUTOVER_ROUTER_TOKEN:-}" ]; then
  umask 077
  dir="${CUTOVER_SECRETS_DIR:-/var/lib/cutover/run}"
  file="$dir/CUTOVER_ROUTER_TOKEN.secret"
  mkdir -p "$dir"
  if [ ! -s "$file" ]; then
    # Written aside and linked into place: a container starting at the same time reads all of it or none.
    tmp="$file.$$"
    head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$tmp"
    ln "$tmp" "$file" 2>/dev/null || true
    rm -f "$tmp"
  fi
  CUTOVER_ROUTER_TOKEN=$(cat "$file")
  export CUTOVER_ROUTER_TOKEN
fi
exec "$@"

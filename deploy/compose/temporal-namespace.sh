#!/bin/sh
# One-shot of the compose profile "production" (temporalio/admin-tools): once the Temporal server is healthy, creates
# Cutover's namespace and registers Cutover's search attributes (src/workflows/search-attributes.ts). Does nothing
# that is already done. The temporal CLI reads TEMPORAL_ADDRESS itself.
set -eu
namespace="${CUTOVER_NAMESPACE:?}"
retention="${CUTOVER_NAMESPACE_RETENTION:-30d}"
retry() {
  tries=0
  until "$@"; do
    tries=$((tries + 1))
    [ "$tries" -lt 60 ] || { echo "gave up after 5 minutes: $*" >&2; return 1; }
    sleep 5
  done
}
retry temporal operator cluster health
temporal operator namespace describe --namespace "$namespace" >/dev/null 2>&1 ||
  temporal operator namespace create --namespace "$namespace" --retention "$retention"
for name in CutoverEnvironment CutoverPhase CutoverPackageVersion CutoverMode; do
  # A new namespace takes a few seconds to reach every service: retried until the attribute is there.
  retry sh -c "temporal operator search-attribute list --namespace '$namespace' | grep -qw '$name' ||
    temporal operator search-attribute create --namespace '$namespace' --name '$name' --type Keyword"
done
echo "namespace $namespace is ready for Cutover"

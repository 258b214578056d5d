#!/bin/sh
# One-shot of the compose profile "production" (temporalio/admin-tools): brings Temporal's two PostgreSQL schemas to
# the version of this image. Safe to run again: setup-schema skips a schema already past 0.0, update-schema applies
# only what is missing. The password comes from SQL_PASSWORD, never from the command line.
set -eu
tool() {
  temporal-sql-tool --plugin postgres12 --ep "${POSTGRES_SEEDS:?}" -p 5432 -u "${POSTGRES_USER:?}" "$@"
}
schemas=/etc/temporal/schema/postgresql/v12
tries=0
until tool --db temporal setup-schema -v 0.0; do
  tries=$((tries + 1))
  [ "$tries" -lt 30 ] || { echo "PostgreSQL at $POSTGRES_SEEDS did not accept Temporal's schema setup" >&2; exit 1; }
  sleep 2
done
tool --db temporal update-schema -d "$schemas/temporal/versioned"
tool --db temporal_visibility setup-schema -v 0.0
tool --db temporal_visibility update-schema -d "$schemas/visibility/versioned"
echo "Temporal's schemas are up to date"

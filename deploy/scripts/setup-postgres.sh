#!/bin/sh
# One-shot schema job (temporalio/admin-tools image): creates the databases `temporal` and
# `temporal_visibility` and brings both schemas to the version the server image expects.
# Safe to run on every `docker compose up`: `create` ignores an existing database, `setup-schema -v 0.0`
# leaves a newer schema version alone, and `update-schema` applies only the versions not applied yet.
# The password comes from SQL_PASSWORD (read by temporal-sql-tool itself), so it is never on a command line.
set -eu
. "$(dirname "$0")/retry.sh"

: "${POSTGRES_SEEDS:?set POSTGRES_SEEDS to the PostgreSQL host, e.g. postgresql}"
: "${SQL_PASSWORD:?set SQL_PASSWORD (the compose file passes POSTGRES_PASSWORD)}"
DB_USER="${POSTGRES_USER:-temporal}"
DB_PORT="${DB_PORT:-5432}"
SCHEMA_ROOT="${SCHEMA_ROOT:-/etc/temporal/schema/postgresql/v12}"
DBNAME="${DBNAME:-temporal}"
VISIBILITY_DBNAME="${VISIBILITY_DBNAME:-temporal_visibility}"

sql_tool() {
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -u "$DB_USER" -p "$DB_PORT" "$@"
}

# setup_database NAME SCHEMA_DIR
setup_database() {
  versioned="$SCHEMA_ROOT/$2/versioned"
  if [ ! -d "$versioned" ]; then
    log "ERROR: schema directory $versioned is missing: is this the admin-tools image of the same version as the server?"
    return 1
  fi
  # The first connection is retried: PostgreSQL can report healthy a moment before it accepts this user.
  retry "create database $1" sql_tool --db "$1" create
  sql_tool --db "$1" setup-schema -v 0.0
  sql_tool --db "$1" update-schema -d "$versioned"
  log "database $1: schema up to date"
}

setup_database "$DBNAME" temporal
setup_database "$VISIBILITY_DBNAME" visibility
log "done"

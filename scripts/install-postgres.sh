#!/usr/bin/env bash
# Installs PostgreSQL from Debian's packages for the production rehearsal and its tests, once per machine, and
# prints the directory of its programs (initdb, postgres, psql, pg_isready) on stdout (the only thing on stdout).
# PG_BIN, when set, is used as it is. The rehearsal runs its own server in a temporary data directory; the package's
# own cluster and service are never created or started. Installing needs root (as on CI).
set -euo pipefail
log() { printf '[install-postgres] %s\n' "$*" >&2; }

# The newest installed server's bin directory, if any.
installed_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1) || true
  [ -n "$dir" ] && [ -x "$dir/initdb" ] && [ -x "$dir/postgres" ] && echo "$dir"
}

if [ -n "${PG_BIN:-}" ]; then
  [ -x "$PG_BIN/initdb" ] && [ -x "$PG_BIN/postgres" ] || { log "ERROR: PG_BIN=$PG_BIN has no initdb/postgres; unset it or fix the path"; exit 1; }
  echo "$PG_BIN"; exit 0
fi
if found=$(installed_bin); then
  echo "$found"; exit 0
fi
if [ "$(id -u)" != 0 ]; then
  log "ERROR: PostgreSQL is not installed and this user cannot install it; run: sudo apt-get install --no-install-recommends postgresql (or set PG_BIN to a PostgreSQL bin directory)"
  exit 1
fi
log "installing Debian's postgresql package (first time on this machine)"
start=$(date +%s)
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# postgresql-common first, told not to create (and start) the package's "main" cluster on port 5432.
apt-get install -y -qq --no-install-recommends postgresql-common >/dev/null
mkdir -p /etc/postgresql-common/createcluster.d
echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.d/pulse-runbooks.conf
apt-get install -y -qq --no-install-recommends postgresql >/dev/null
found=$(installed_bin) || { log "ERROR: the postgresql package installed but no server is under /usr/lib/postgresql"; exit 1; }
log "postgresql installed in $(( $(date +%s) - start )) s: $("$found/postgres" --version)"
echo "$found"

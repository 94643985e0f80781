#!/usr/bin/env bash
# Installs what the production rehearsal (src/production/) runs instead of the compose file's images, from the Go
# module proxy only (no image registry is reachable here), once per machine:
#   - temporal-server and temporal-sql-tool of go.temporal.io/server (the server and admin-tools images' programs),
#     with the module's PostgreSQL schema (the admin-tools image's /etc/temporal/schema);
#   - the Web UI server of github.com/temporalio/ui-server/v2 with its config/docker.yaml (the UI image's files).
# The versions are those of docker-compose.yml's images (test/unit/production-agreement.test.ts checks they agree).
# Cached outside the clone per version; a BUILD-INFO file is the version stamp, written last, so an interrupted build
# is redone. Idempotent: a second run only prints where the binaries are.
set -euo pipefail

SERVER_VERSION="${TEMPORAL_SERVER_VERSION:-1.30.1}"
UI_VERSION="${TEMPORAL_UI_VERSION:-2.42.1}"
CACHE_ROOT="${PULSE_RUNBOOKS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulse-runbooks}"
SERVER_DIR="$CACHE_ROOT/temporal-server/$SERVER_VERSION"
UI_DIR="$CACHE_ROOT/temporal-ui-server/$UI_VERSION"

log() { printf '[install-temporal-cluster] %s\n' "$*" >&2; }

command -v go >/dev/null 2>&1 || { log "ERROR: 'go' is required (Go 1.25+: the server is built from the Go module proxy)"; exit 1; }

# go_build OUT_DIR PACKAGE@VERSION NAME: a static, reproducible build (-trimpath, no cgo: the SQL plugins are pure Go).
go_build() {
  local gobin="$1.gobin"
  rm -rf "$gobin"; mkdir -p "$gobin"
  CGO_ENABLED=0 GOBIN="$gobin" GOFLAGS="${GOFLAGS:-} -trimpath" go install -ldflags "-s -w" "$2"
  mv -f "$gobin"/* "$1/$3"
  rmdir "$gobin"
}

# module_dir MODULE@VERSION: where the module's files are (downloaded into the module cache if needed).
module_dir() {
  go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p'
}

# build_cached LABEL DIR BUILD: once per machine, BUILD TMP fills a temporary directory (ending with its BUILD-INFO
# stamp), which then replaces DIR whole; with a stamp in DIR already, only says where it is.
build_cached() {
  local label="$1" dir="$2" build="$3" tmp
  if [ -f "$dir/BUILD-INFO" ]; then
    log "$label: cached at $dir"
    return
  fi
  BUILD_START=$(date +%s)
  tmp="$dir.tmp.$$"
  rm -rf "$tmp"; mkdir -p "$tmp"
  "$build" "$tmp"
  rm -rf "$dir"; mkdir -p "$(dirname "$dir")"
  mv "$tmp" "$dir"
  log "$label: built in $(( $(date +%s) - BUILD_START )) s -> $dir"
}

# stamp BINARY VERSION TMP MODULE [NOTE]: checks that the built BINARY reports VERSION, then writes TMP/BUILD-INFO,
# the version stamp: what was built, from which module version, with which toolchain, and how long it took.
stamp() {
  local reported
  reported=$("$1" --version 2>&1 | head -n1)
  case "$reported" in *"$2"*) ;; *) log "ERROR: the built $(basename "$1") reports '$reported', not $2"; exit 1 ;; esac
  printf '%s\n%s\n%s\nbuilt in %s s%s\n' "$4" "$reported" "$(go version)" "$(( $(date +%s) - BUILD_START ))" "${5:-}" > "$3/BUILD-INFO"
}

build_server() {
  local tmp="$1" mod
  log "temporal-server $SERVER_VERSION: building with go install (first time on this machine: several minutes)"
  mkdir -p "$tmp/bin"
  go_build "$tmp/bin" "go.temporal.io/server/cmd/server@v$SERVER_VERSION" temporal-server
  local server_s=$(( $(date +%s) - BUILD_START ))
  go_build "$tmp/bin" "go.temporal.io/server/cmd/tools/sql@v$SERVER_VERSION" temporal-sql-tool
  mod=$(module_dir "go.temporal.io/server@v$SERVER_VERSION")
  [ -d "$mod/schema/postgresql/v12" ] || { log "ERROR: $mod has no schema/postgresql/v12"; exit 1; }
  mkdir -p "$tmp/schema/postgresql"
  cp -R "$mod/schema/postgresql/v12" "$tmp/schema/postgresql/v12"
  chmod -R u+w "$tmp/schema"
  stamp "$tmp/bin/temporal-server" "$SERVER_VERSION" "$tmp" "go.temporal.io/server v$SERVER_VERSION" " (server $server_s s)"
}

build_ui() {
  local tmp="$1" mod
  log "temporal ui-server $UI_VERSION: building with go install"
  mkdir -p "$tmp/config"
  go_build "$tmp" "github.com/temporalio/ui-server/v2/cmd/server@v$UI_VERSION" ui-server
  mod=$(module_dir "github.com/temporalio/ui-server/v2@v$UI_VERSION")
  # The UI image runs `ui-server --env docker start` beside this template (rendered from the environment).
  cp "$mod/config/docker.yaml" "$tmp/config/docker.yaml"
  chmod u+w "$tmp/config/docker.yaml"
  stamp "$tmp/ui-server" "$UI_VERSION" "$tmp" "github.com/temporalio/ui-server/v2 v$UI_VERSION"
}

install_server() { build_cached "temporal-server $SERVER_VERSION" "$SERVER_DIR" build_server; }
install_ui() { build_cached "temporal ui-server $UI_VERSION" "$UI_DIR" build_ui; }

case "${1:-all}" in
  server) install_server ;;
  ui) install_ui ;;
  all) install_server; install_ui ;;
  *) log "usage: $0 [all|server|ui]"; exit 2 ;;
esac

#!/usr/bin/env bash
# Installs the Temporal binaries this project needs, from package registries only:
#   - the Temporal CLI (dev server + Web UI), built with `go install` from the Go module proxy;
#   - the time-skipping test server, from Maven Central, behind a wrapper that `exec`s java.
# The machine's network reaches only package registries, so the SDK's own download cannot work.
# Binaries are cached per machine and per version outside the clone, so a fresh clone reuses them.
# Idempotent: a second run only prints where the binaries are.
set -euo pipefail

TEMPORAL_CLI_VERSION="${TEMPORAL_CLI_VERSION:-1.5.1}"
TEST_SERVER_VERSION="${TEMPORAL_TEST_SERVER_VERSION:-1.38.0}"
CACHE_ROOT="${PULSE_RUNBOOKS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulse-runbooks}"
CLI_DIR="$CACHE_ROOT/temporal-cli/$TEMPORAL_CLI_VERSION"
TS_DIR="$CACHE_ROOT/temporal-test-server/$TEST_SERVER_VERSION"

log() { printf '[install-temporal] %s\n' "$*" >&2; }

need() {
  command -v "$1" >/dev/null 2>&1 || { log "ERROR: '$1' is required ($2)"; exit 1; }
}

install_cli() {
  if [ -n "${TEMPORAL_CLI_PATH:-}" ]; then
    [ -x "$TEMPORAL_CLI_PATH" ] || { log "ERROR: TEMPORAL_CLI_PATH=$TEMPORAL_CLI_PATH is not an executable file; unset it or fix the path"; exit 1; }
    log "temporal CLI: using TEMPORAL_CLI_PATH=$TEMPORAL_CLI_PATH"
    return
  fi
  if [ -x "$CLI_DIR/temporal" ]; then
    log "temporal CLI $TEMPORAL_CLI_VERSION: cached at $CLI_DIR/temporal"
    return
  fi
  need go "install Go 1.25+ (the Temporal CLI is built from the Go module proxy)"
  log "temporal CLI $TEMPORAL_CLI_VERSION: building with go install (first time on this machine: several minutes)"
  local start tmp
  start=$(date +%s)
  tmp="$CLI_DIR.tmp.$$"
  mkdir -p "$tmp"
  CGO_ENABLED=0 GOBIN="$tmp" GOFLAGS="${GOFLAGS:-} -trimpath" go install \
    -ldflags "-s -w -X github.com/temporalio/cli/temporalcli.Version=$TEMPORAL_CLI_VERSION" \
    "github.com/temporalio/cli/cmd/temporal@v$TEMPORAL_CLI_VERSION"
  mkdir -p "$CLI_DIR"
  mv -f "$tmp/temporal" "$CLI_DIR/temporal"
  rmdir "$tmp"
  log "temporal CLI $TEMPORAL_CLI_VERSION: built in $(( $(date +%s) - start )) s -> $CLI_DIR/temporal"
}

install_test_server() {
  if [ -x "$TS_DIR/temporal-test-server" ] && [ -f "$TS_DIR/lib/.complete" ]; then
    log "time-skipping test server $TEST_SERVER_VERSION: cached at $TS_DIR"
  else
    fetch_test_server
  fi
  write_test_server_wrapper
  build_test_server_class_archive
}

fetch_test_server() {
  need mvn "install Maven (the test server comes from Maven Central)"
  need java "install a JDK 11+ (the test server is a Java program)"
  log "time-skipping test server $TEST_SERVER_VERSION: fetching from Maven Central"
  local start tmp
  start=$(date +%s)
  tmp="$TS_DIR.tmp.$$"
  rm -rf "$tmp"; mkdir -p "$tmp/lib"
  cat > "$tmp/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.pulse-runbooks</groupId><artifactId>test-server-fetch</artifactId><version>1</version>
  <dependencies>
    <dependency><groupId>io.temporal</groupId><artifactId>temporal-test-server</artifactId><version>$TEST_SERVER_VERSION</version></dependency>
  </dependencies>
</project>
POM
  mvn -q -B -f "$tmp/pom.xml" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp/lib"
  rm -f "$tmp/pom.xml"
  touch "$tmp/lib/.complete"
  rm -rf "$TS_DIR"; mkdir -p "$(dirname "$TS_DIR")"
  mv "$tmp" "$TS_DIR"
  log "time-skipping test server $TEST_SERVER_VERSION: fetched in $(( $(date +%s) - start )) s -> $TS_DIR"
}

# The SDK sends SIGKILL to the process it started, so the wrapper must exec java, not fork it.
# Light JVM flags and the class archive below keep start-up well inside the SDK's fixed 5 s readiness window on two
# busy cores. Written at every install, so a cache made before the archive existed gets the new wrapper too.
write_test_server_wrapper() {
  local tmp="$TS_DIR/temporal-test-server.tmp.$$"
  cat > "$tmp" <<'WRAP'
#!/bin/sh
here=$(dirname "$0")
# An application class-data archive (built at install): about 0.8 s to a listening port instead of 2-3 s. A JDK that
# does not match it falls back to the default archive (-Xshare:auto), so it is never a reason not to start.
cds=""
[ -f "$here/classes.jsa" ] && cds="-XX:SharedArchiveFile=$here/classes.jsa -Xlog:cds=off -Xlog:cds+dynamic=off"
exec java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto -Xss512k $cds ${TEMPORAL_TEST_SERVER_JAVA_OPTS:-} \
  -cp "$here/lib/*" io.temporal.testserver.TestServer "$@"
WRAP
  chmod +x "$tmp"
  mv -f "$tmp" "$TS_DIR/temporal-test-server"
}

# Java's dynamic class-data sharing (JDK 13+): start the server once, let it listen, stop it, and the JVM writes the
# classes it loaded to classes.jsa. Built once per machine; a failure only means slower starts, so it never fails the
# install.
build_test_server_class_archive() {
  [ -f "$TS_DIR/classes.jsa" ] && return
  local start port pid tmp="$TS_DIR/classes.jsa.tmp.$$"
  start=$(date +%s)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null || echo $((20000 + RANDOM % 20000)))
  java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xss512k -XX:ArchiveClassesAtExit="$tmp" -Xlog:cds=off -Xlog:cds+dynamic=off \
    -cp "$TS_DIR/lib/*" io.temporal.testserver.TestServer "$port" >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 1 600); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if [ -s "$tmp" ]; then
    mv -f "$tmp" "$TS_DIR/classes.jsa"
    log "time-skipping test server: class archive built in $(( $(date +%s) - start )) s"
  else
    rm -f "$tmp"
    log "time-skipping test server: no class archive (this JDK could not write one); starts stay at 2-3 s"
  fi
}

case "${1:-all}" in
  cli) install_cli ;;
  test-server) install_test_server ;;
  all) install_cli; install_test_server ;;
  *) log "usage: $0 [all|cli|test-server]"; exit 2 ;;
esac

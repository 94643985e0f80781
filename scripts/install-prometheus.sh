#!/usr/bin/env bash
# Installs Prometheus (and promtool) from Debian's packages for the metric-gate tests, once per machine.
# A `prometheus` on PATH or PROMETHEUS_PATH is used as it is. Installing needs root (as on CI).
set -euo pipefail
log() { printf '[install-prometheus] %s\n' "$*" >&2; }

if [ -n "${PROMETHEUS_PATH:-}" ]; then
  [ -x "$PROMETHEUS_PATH" ] || { log "ERROR: PROMETHEUS_PATH=$PROMETHEUS_PATH is not executable; unset it or fix the path"; exit 1; }
  log "using PROMETHEUS_PATH=$PROMETHEUS_PATH"; exit 0
fi
if command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; then
  log "prometheus: $(prometheus --version 2>&1 | head -n1)"; exit 0
fi
if [ "$(id -u)" != 0 ]; then
  log "ERROR: prometheus is not installed and this user cannot install it; run: sudo apt-get install --no-install-recommends prometheus"
  exit 1
fi
log "installing Debian's prometheus package (first time on this machine)"
start=$(date +%s)
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends prometheus >/dev/null
# The package enables a system service; the tests run their own instance on loopback, never that one.
log "prometheus installed in $(( $(date +%s) - start )) s: $(prometheus --version 2>&1 | head -n1)"

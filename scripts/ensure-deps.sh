#!/usr/bin/env bash
# Installs what the project needs on a machine that has never seen it: npm packages (when node_modules is
# missing or older than package-lock.json), the compiled build in dist/ (when missing or older than the sources, see
# bin/build-freshness.mjs) and the Temporal binaries (cached per machine, see install-temporal.sh).
# With --tests, also Prometheus and Chromium (Debian packages, for the metric-gate and Web UI browser tests), and the
# production rehearsal's cluster (Debian's PostgreSQL, and Temporal server 1.30.1 and UI server 2.42.1 built from
# the Go module proxy, see install-temporal-cluster.sh): the main job needs none of them, and a user who cannot run
# apt-get must still be able to start it. Idempotent and quiet when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

case "${1:-}" in
  '') with_test_servers=0 ;;
  --tests) with_test_servers=1 ;;
  *) echo "[ensure-deps] ERROR: unknown argument '$1'; use no argument (main job) or --tests (also the test servers)" >&2; exit 2 ;;
esac

stamp=node_modules/.pulse-runbooks-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "[ensure-deps] installing npm packages (npm ci)" >&2
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi

# The CLI, the worker and the tests run the compiled build (a CLI start of ~0.2 s instead of ~3 s through tsx).
node scripts/build.mjs --if-stale

bash scripts/install-temporal.sh all
if [ "$with_test_servers" = 1 ]; then
  bash scripts/install-prometheus.sh
  bash scripts/install-chromium.sh >/dev/null
  bash scripts/install-postgres.sh >/dev/null
  bash scripts/install-temporal-cluster.sh all
fi

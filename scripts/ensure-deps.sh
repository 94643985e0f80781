#!/usr/bin/env bash
# Installs what the project needs on a machine that has never seen it: npm packages (when node_modules is
# missing or older than package-lock.json), the Temporal binaries (cached per machine, see install-temporal.sh),
# Prometheus and Chromium (Debian packages, for the metric-gate and Web UI browser tests). Idempotent and quiet
# when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

stamp=node_modules/.pulse-runbooks-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "[ensure-deps] installing npm packages (npm ci)" >&2
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi

bash scripts/install-temporal.sh all
bash scripts/install-prometheus.sh
bash scripts/install-chromium.sh >/dev/null

#!/usr/bin/env bash
# The main job: installs what is missing, then runs the worker with an embedded Temporal dev server
# (or against TEMPORAL_ADDRESS), and a demo against the Pulse emulator when no Pulse is given.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
exec node bin/pulse-runbook.js start "$@"

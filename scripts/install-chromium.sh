#!/usr/bin/env bash
# Installs Chromium from Debian's packages for the Web UI browser test (playwright-core drives it; Playwright's own
# browser download is not used, so the browser comes from the distribution's signed mirrors), once per machine.
# Prints the browser's path on stdout (the only thing on stdout). CHROMIUM_PATH, when set, is used as it is; a
# `chromium` on PATH is used without installing anything. Installing needs root (as on CI).
set -euo pipefail
log() { printf '[install-chromium] %s\n' "$*" >&2; }

if [ -n "${CHROMIUM_PATH:-}" ]; then
  [ -x "$CHROMIUM_PATH" ] || { log "ERROR: CHROMIUM_PATH=$CHROMIUM_PATH is not executable; unset it or fix the path"; exit 1; }
  echo "$CHROMIUM_PATH"; exit 0
fi
if found=$(command -v chromium 2>/dev/null); then
  echo "$found"; exit 0
fi
if [ "$(id -u)" != 0 ]; then
  log "ERROR: chromium is not installed and this user cannot install it; run: sudo apt-get install --no-install-recommends chromium (or set CHROMIUM_PATH to a Chromium/Chrome binary)"
  exit 1
fi
log "installing Debian's chromium package (first time on this machine)"
start=$(date +%s)
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# No recommends: the headless test needs no fonts beyond the dependencies, no drivers, no desktop integration.
apt-get install -y -qq --no-install-recommends chromium >/dev/null
found=$(command -v chromium) || { log "ERROR: the chromium package installed but no chromium is on PATH"; exit 1; }
log "chromium installed in $(( $(date +%s) - start )) s: $("$found" --version 2>/dev/null | head -n1)"
echo "$found"

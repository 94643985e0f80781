#!/usr/bin/env bash
# The test command (`npm test`): installs what the tests need, type-checks, then runs every jest project
# against real servers (the time-skipping test server, one Temporal dev server, the emulator as a process).
# Ends with one plain summary line, "tests: N passed, N failed, N skipped".
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
bash scripts/ensure-deps.sh --tests

echo "[test] type-checking (tsc --noEmit)" >&2
npx tsc --noEmit -p tsconfig.json

echo "[test] lint (eslint) and format (prettier --check)" >&2
npx eslint .
npx prettier --check . >/dev/null || { npx prettier --list-different . >&2; echo "[test] files above are not formatted: npm run format" >&2; exit 1; }

mkdir -p test-artifacts
status=0
jest() { node --experimental-vm-modules --no-warnings=ExperimentalWarning node_modules/jest/bin/jest.js "$@"; }
if [ $# -gt 0 ]; then
  jest --json --outputFile=test-artifacts/jest-results.json "$@" || status=$?
else
  # Two runs. The unit project starts no server (real processes and HTTP on loopback only), so two of its files run
  # at a time. The others run one file at a time: a workflows file starts its own JVM test server, which must answer
  # within the SDK's fixed 5 s (two starting together on a loaded 2-core machine missed it); e2e files share one dev
  # server and count runs in it; production starts a whole cluster. Their reports are merged into one file.
  rm -f test-artifacts/jest-results.json test-artifacts/jest-unit.json test-artifacts/jest-servers.json
  jest --selectProjects unit --maxWorkers 2 --json --outputFile=test-artifacts/jest-unit.json || status=$?
  jest --selectProjects workflows e2e production --maxWorkers 1 --json --outputFile=test-artifacts/jest-servers.json || status=$?
  node scripts/merge-jest-results.mjs test-artifacts/jest-results.json test-artifacts/jest-unit.json test-artifacts/jest-servers.json || status=1
fi

if [ -f test-artifacts/jest-results.json ]; then
  node -e '
    const r = JSON.parse(require("fs").readFileSync("test-artifacts/jest-results.json", "utf8"));
    const skipped = r.numPendingTests + r.numTodoTests;
    console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
    if (r.numTotalTests === 0) { console.error("[test] no test ran"); process.exitCode = 1; }
  ' || status=1
fi
echo "[test] finished in $(( $(date +%s) - start )) s (exit $status)" >&2
exit $status

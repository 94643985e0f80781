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

mkdir -p test-artifacts
status=0
node --experimental-vm-modules --no-warnings=ExperimentalWarning node_modules/jest/bin/jest.js \
  --json --outputFile=test-artifacts/jest-results.json "$@" || status=$?

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

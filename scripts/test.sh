#!/usr/bin/env bash
# The test command (`npm test`): installs what the tests need, type-checks, then runs every jest project
# against real servers (the time-skipping test server, one Temporal dev server, the emulator as a process).
# Ends with one plain summary line, "tests: N passed, N failed, N skipped".
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
bash scripts/ensure-deps.sh --tests

# The three checks at once (each is one process, CPU-bound, and they read the same files); the first failure is shown.
echo "[test] type-check (tsc --noEmit), lint (eslint) and format (prettier --check), at once" >&2
checks_began=$(date +%s)
npx tsc --noEmit -p tsconfig.json >/tmp/pulse-runbooks-tsc.$$ 2>&1 &
tsc_pid=$!
npx eslint . >/tmp/pulse-runbooks-eslint.$$ 2>&1 &
eslint_pid=$!
npx prettier --list-different . >/tmp/pulse-runbooks-prettier.$$ 2>&1 &
prettier_pid=$!
checks_failed=0
wait $tsc_pid || { cat /tmp/pulse-runbooks-tsc.$$ >&2; echo "[test] tsc found type errors (above)" >&2; checks_failed=1; }
wait $eslint_pid || { cat /tmp/pulse-runbooks-eslint.$$ >&2; echo "[test] eslint found problems (above): npm run lint" >&2; checks_failed=1; }
wait $prettier_pid || { cat /tmp/pulse-runbooks-prettier.$$ >&2; echo "[test] files above are not formatted: npm run format" >&2; checks_failed=1; }
rm -f /tmp/pulse-runbooks-{tsc,eslint,prettier}.$$
[ $checks_failed = 0 ] || exit 1
echo "[test] checks passed in $(( $(date +%s) - checks_began )) s" >&2

mkdir -p test-artifacts
status=0
jest() { node --experimental-vm-modules --no-warnings=ExperimentalWarning node_modules/jest/bin/jest.js "$@"; }
if [ $# -gt 0 ]; then
  jest --json --outputFile=test-artifacts/jest-results.json "$@" || status=$?
else
  # First the workflows project alone, two files at a time (one core each): each file starts its own time-skipping
  # JVM (up in under a second with the class archive scripts/install-temporal.sh builds), and its tests move the
  # server's clock forward by hours while the worker works. Beside the other lanes, a starved worker's workflow tasks
  # expired at every clock jump, each retry replayed the whole history, and a file stalled for minutes; alone it takes
  # under 2 minutes (about 110 s one file at a time, 80-90 s two at a time).
  # Then three lanes at once, one jest run each, so that both cores work all along:
  #   unit:   no server, two files at a time;
  #   e2e:    one dev server for the lane, two files at a time (unique workflow ids and task queues per test);
  #   heavy:  the production cluster, then the 500-instance canary (test/e2e/canary-fleet.test.ts, with a dev server of
  #           its own). One after the other: each keeps a core busy, and run together with everything else at the start
  #           the fleet's first wave starved (Pulse timeouts, missed heartbeats).
  # Each lane writes its own log, printed when every lane is done; the reports are merged into one file.
  rm -f test-artifacts/jest-*.json test-artifacts/lane-*.log
  lane() {
    local name=$1
    shift
    local began=$(date +%s) rc=0
    "$@" >"test-artifacts/lane-$name.log" 2>&1 || rc=$?
    echo "[test] lane $name: $(( $(date +%s) - began )) s (exit $rc)" >>"test-artifacts/lane-$name.log"
    return $rc
  }
  echo "[test] the workflows project (time-skipping), alone" >&2
  lane workflows jest --selectProjects workflows --maxWorkers 2 --json --outputFile=test-artifacts/jest-workflows.json || status=$?
  lane unit jest --selectProjects unit --maxWorkers 2 --json --outputFile=test-artifacts/jest-unit.json &
  unit_pid=$!
  lane e2e jest --selectProjects e2e --maxWorkers 2 --testPathIgnorePatterns canary-fleet --json --outputFile=test-artifacts/jest-e2e.json &
  e2e_pid=$!
  heavy_lane() {
    local rc=0
    jest --selectProjects production --maxWorkers 1 --json --outputFile=test-artifacts/jest-production.json || rc=$?
    jest --selectProjects e2e --maxWorkers 1 --json --outputFile=test-artifacts/jest-fleet.json test/e2e/canary-fleet.test.ts || rc=$?
    return $rc
  }
  lane heavy heavy_lane &
  heavy_pid=$!
  for pid in $unit_pid $e2e_pid $heavy_pid; do wait "$pid" || status=$?; done
  for name in workflows unit e2e heavy; do
    echo "===== lane $name =====" >&2
    cat "test-artifacts/lane-$name.log" >&2
  done
  node scripts/merge-jest-results.mjs test-artifacts/jest-results.json test-artifacts/jest-unit.json test-artifacts/jest-workflows.json \
    test-artifacts/jest-e2e.json test-artifacts/jest-production.json test-artifacts/jest-fleet.json || status=1
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

#!/usr/bin/env bash
# The test command (`npm test`): installs what the tests need, type-checks, then runs every jest project
# against real servers (the time-skipping test server, one Temporal dev server, the emulator as a process).
# Ends with one plain summary line, "tests: N passed, N failed, N skipped".
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
bash scripts/ensure-deps.sh --tests

# The three checks at once (each is one process, CPU-bound, and they read the same files), at a lower priority
# (nice) beside the workflows project: they take the CPU its time-skipping tests leave idle and never starve them.
# Their verdict is waited for after the tests; the first failure is shown and fails the command.
echo "[test] type-check (tsc --noEmit), lint (eslint) and format (prettier --check), at once, in the background" >&2
nice -n 10 npx tsc --noEmit -p tsconfig.json >/tmp/pulse-runbooks-tsc.$$ 2>&1 &
tsc_pid=$!
nice -n 10 npx eslint . >/tmp/pulse-runbooks-eslint.$$ 2>&1 &
eslint_pid=$!
nice -n 10 npx prettier --list-different . >/tmp/pulse-runbooks-prettier.$$ 2>&1 &
prettier_pid=$!
checks() {
  local failed=0
  wait $tsc_pid || { cat /tmp/pulse-runbooks-tsc.$$ >&2; echo "[test] tsc found type errors (above)" >&2; failed=1; }
  wait $eslint_pid || { cat /tmp/pulse-runbooks-eslint.$$ >&2; echo "[test] eslint found problems (above): npm run lint" >&2; failed=1; }
  wait $prettier_pid || { cat /tmp/pulse-runbooks-prettier.$$ >&2; echo "[test] files above are not formatted: npm run format" >&2; failed=1; }
  rm -f /tmp/pulse-runbooks-{tsc,eslint,prettier}.$$
  [ $failed = 0 ] && echo "[test] checks passed" >&2
  return $failed
}

mkdir -p test-artifacts
status=0
jest() { node --experimental-vm-modules --no-warnings=ExperimentalWarning node_modules/jest/bin/jest.js "$@"; }
if [ $# -gt 0 ]; then
  jest --json --outputFile=test-artifacts/jest-results.json "$@" || status=$?
else
  # First the workflows project, two files at a time (one core each), with only low-priority work beside it (the checks
  # and the unit lane, niced): each file starts its own time-skipping JVM (up in under a second with the class archive
  # scripts/install-temporal.sh builds), and its tests move the server's clock forward by hours while the worker works.
  # Beside the other lanes, a starved worker's workflow tasks expired at every clock jump, each retry replayed the whole
  # history, and a file stalled for minutes; so it takes under 2 minutes (about 110 s one file at a time, 80-90 s two at
  # a time). Then, while the unit lane goes on at its low priority, two more lanes, one jest run each:
  #   unit:   no server, two files at a time, niced (5; at 10 it starved, a 60 s hook timed out): it takes the CPU the others leave (time-skipping waits, the e2e
  #           files' waits on timers and processes) and never starves them;
  #   e2e:    the e2e files with one dev server for the lane, and the production cluster's file, three at a time
  #           (unique workflow ids and task queues per test): most of them wait on timers, polls and processes, and two
  #           at a time left a core idle once the other lanes were done;
  #   fleet:  the 500-instance canary (test/e2e/canary-fleet.test.ts, with a dev server of its own), the longest file,
  #           from the start of the lanes. Its 500 emulators are one process that must answer 50 Enables at a time
  #           while it polls: beside five other jest workers at the same priority its first wave starved (Pulse
  #           timeouts of 20 s, missed heartbeats).
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
  echo "[test] the workflows project (time-skipping), beside the checks and the unit lane (niced)" >&2
  lane unit nice -n 5 node --experimental-vm-modules --no-warnings=ExperimentalWarning node_modules/jest/bin/jest.js \
    --selectProjects unit --maxWorkers 2 --json --outputFile=test-artifacts/jest-unit.json &
  unit_pid=$!
  lane workflows jest --selectProjects workflows --maxWorkers 2 --json --outputFile=test-artifacts/jest-workflows.json || status=$?
  echo "[test] the e2e (with production) and fleet lanes, at once" >&2
  lane fleet jest --selectProjects e2e --maxWorkers 1 --json --outputFile=test-artifacts/jest-fleet.json test/e2e/canary-fleet.test.ts &
  fleet_pid=$!
  lane e2e jest --selectProjects e2e production --maxWorkers 3 --testPathIgnorePatterns canary-fleet --json --outputFile=test-artifacts/jest-e2e.json &
  e2e_pid=$!
  for pid in $fleet_pid $unit_pid $e2e_pid; do wait "$pid" || status=$?; done
  for name in workflows unit e2e fleet; do
    echo "===== lane $name =====" >&2
    cat "test-artifacts/lane-$name.log" >&2
  done
  node scripts/merge-jest-results.mjs test-artifacts/jest-results.json test-artifacts/jest-unit.json test-artifacts/jest-workflows.json \
    test-artifacts/jest-e2e.json test-artifacts/jest-fleet.json || status=1
fi
checks || status=1

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

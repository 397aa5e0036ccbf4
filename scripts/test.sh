#!/usr/bin/env bash
# The whole test command (`pnpm test`): system packages, type-check, every Node project with
# Vitest, then each runtime project (Bun, Deno) with Vitest inside that runtime. Every run writes a
# JSON report into reports/ (.ci/count-tests.mjs sums them); a failing run fails the command, after
# the others ran, and a run that failed without writing its report (a crash, a missing runtime
# binary or config) is counted as one failed test, so the closing count cannot hide it.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
tsc -b tsconfig.json

status=0
mkdir -p reports
# run <report name> <command...>: runs one project, never leaving a stale report from an earlier run.
run() {
  local name="$1"
  shift
  rm -f "reports/$name.json"
  if ! "$@"; then
    status=1
    if [ ! -s "reports/$name.json" ]; then
      echo "test: the $name run failed without a report; counted as one failed test" >&2
      echo '{"numPassedTests":0,"numFailedTests":1,"testResults":[]}' > "reports/$name.json"
    fi
  fi
}
run vitest vitest run --reporter=default --reporter=json --outputFile.json=reports/vitest.json
# Not optional: a missing config or runtime binary fails here (scripts/test-runtime.sh says which).
for runtime in bun deno; do
  run "$runtime" bash scripts/test-runtime.sh "$runtime"
done
exit $status

#!/usr/bin/env bash
# The whole test command (`pnpm test`): system packages, type-check, every Node project with
# Vitest, then each runtime project (Bun, Deno) with Vitest inside that runtime. Every run writes a
# JSON report into reports/ (.ci/count-tests.mjs sums them); a failing run fails the command, after
# the others ran.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
tsc -b tsconfig.json

status=0
vitest run --reporter=default --reporter=json --outputFile.json=reports/vitest.json || status=1
for runtime in bun deno; do
  if [ -f "packages/$runtime/vitest.runtime.config.ts" ]; then
    bash scripts/test-runtime.sh "$runtime" || status=1
  fi
done
exit $status

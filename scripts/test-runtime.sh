#!/usr/bin/env bash
# Runs one runtime's test project (packages/<runtime>/vitest.runtime.config.ts) with Vitest and its
# test workers inside that runtime (Bun or Deno, both installed by `pnpm install` from npm), and
# writes the JSON report to reports/<runtime>.json (summed by .ci/count-tests.mjs).
#   bash scripts/test-runtime.sh bun [vitest args: a file, -t name, ...]
set -euo pipefail
cd "$(dirname "$0")/.."

runtime="${1:?usage: scripts/test-runtime.sh <bun|deno> [vitest args]}"
shift
config="packages/${runtime}/vitest.runtime.config.ts"
[ -f "$config" ] || { echo "test-runtime: no $config" >&2; exit 2; }
bin="node_modules/.bin"
vitest="node_modules/vitest/vitest.mjs"
[ -x "$bin/$runtime" ] || {
  echo "test-runtime: no $bin/$runtime: run \`npx -y pnpm@10.34.9 install\` (the root devDependencies bring Bun and Deno)" >&2
  exit 2
}
report=(--reporter=default --reporter=json "--outputFile.json=$PWD/reports/${runtime}.json")

case "$runtime" in
  # --bun: the Vitest process and the workers it forks run in Bun, not in the node it would spawn.
  bun) exec "$bin/bun" --bun "$vitest" run --config vitest.runtime.config.ts --root "packages/$runtime" "${report[@]}" "$@" ;;
  deno) exec "$bin/deno" run -A "$vitest" run --config vitest.runtime.config.ts --root "packages/$runtime" "${report[@]}" "$@" ;;
  *) echo "test-runtime: unknown runtime $runtime" >&2; exit 2 ;;
esac

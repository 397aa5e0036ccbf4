// Sums Vitest JSON reports in a folder into one plain line: `tests: N passed, N failed`.
// No report, or a report with no executed test, exits non-zero, so an empty run cannot pass.
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"

const folder = process.argv[2] ?? "reports"
let files = []
try {
  files = readdirSync(folder).filter((name) => name.endsWith(".json"))
} catch {
  // no folder, so no reports
}
let passed = 0
let failed = 0
let skipped = 0
for (const name of files) {
  const report = JSON.parse(readFileSync(join(folder, name), "utf8"))
  passed += report.numPassedTests ?? 0
  failed += report.numFailedTests ?? 0
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0)
  // A test file that failed to load has no failed test inside it, but it is a failure.
  for (const suite of report.testResults ?? []) {
    if (suite.status === "failed" && (suite.assertionResults ?? []).length === 0) failed++
  }
}
console.log(`tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`)
process.exit(files.length === 0 || passed + failed === 0 || failed > 0 ? 1 : 0)

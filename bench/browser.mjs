// Runs the browser benchmark (Vitest browser mode in Debian's Chromium) and prints its result line.
import { spawnSync } from "node:child_process"
import { readFileSync, rmSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { emit, quick } from "./lib.mjs"

const here = dirname(fileURLToPath(import.meta.url))
const results = join(here, "browser", "results.json")
rmSync(results, { force: true })
const vitest = join(here, "..", "node_modules", ".bin", "vitest")
const run = spawnSync(vitest, ["run", "--config", join(here, "browser", "vitest.config.ts")], {
  cwd: join(here, "browser"),
  stdio: ["ignore", "inherit", "inherit"],
  env: { ...process.env, BENCH_QUICK: quick ? "1" : "0" }
})
if (run.status !== 0) process.exit(run.status ?? 1)
emit(JSON.parse(readFileSync(results, "utf8")))
rmSync(results, { force: true })

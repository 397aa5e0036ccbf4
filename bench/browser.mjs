// Runs the browser benchmark (Vitest browser mode in Debian's Chromium) and prints its result line.
import { spawnSync } from "node:child_process"
import { readFileSync, rmSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { emit, quick, times } from "./lib.mjs"

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
const result = JSON.parse(readFileSync(results, "utf8"))
{
  const row = (name) => result.rows.find((r) => r.name === name)
  const raw = row("raw browser WebSocket")
  const strategy = row("bytechannel (WebSocket)")
  const stream = row("bytechannel (WebSocketStream)")
  const effect = row("Effect 4 socket (Socket.makeWebSocket)")
  const ratio = strategy.median / raw.median
  result.notes.push(
    `bytechannel's WebSocket strategy ÷ a raw browser WebSocket: ${times(ratio)} (goal ≥ 0.9× ${ratio >= 0.9 ? "✓" : "✗"}); the WebSocketStream strategy ${times(stream.median / raw.median)}; Effect 4's socket (Socket.makeWebSocket on globalThis.WebSocket, layerWebSocketConstructorGlobal, no backpressure) ${times(effect.median / raw.median)}.`,
    "CPU is not measured here: the browser's is not reachable per run from this side. No Effect 3 row: the last Effect 3 commit's browser package is not built for the browser here."
  )
  result.summary = [{
    key: "browser",
    row: `browser WebSocket strategy in Chromium, ${result.scenario.match(/\d+ MiB/)?.[0] ?? ""} in 64 KiB messages`,
    target: "≥ 0.9× a raw browser WebSocket",
    now: `${times(ratio)} (the WebSocketStream strategy ${times(stream.median / raw.median)}); CPU not measured`,
    ok: ratio >= 0.9,
    effect3: "not run (no Effect 3 browser build)",
    effectSocket: times(effect.median / raw.median)
  }]
}
emit(result)
rmSync(results, { force: true })

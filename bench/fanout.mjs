// Fan-out: one server (its own process) broadcasts to many loopback clients; deliveries per
// second until every client has every message, and the server's peak RSS.
import { spawn } from "node:child_process"
import { once } from "node:events"
import { performance } from "node:perf_hooks"
import { WebSocket } from "ws"
import { emit, quick } from "./lib.mjs"

const CLIENTS = quick ? 200 : 1_000
const MESSAGES = 100
const rss = new Map()

const run = (mode) => async () => {
  const server = spawn(process.execPath, [new URL("./fanout-server.mjs", import.meta.url).pathname, mode, String(CLIENTS), String(MESSAGES)], { stdio: ["ignore", "pipe", "inherit"] })
  const lines = []
  let wake
  server.stdout.setEncoding("utf8").on("data", (text) => {
    lines.push(...text.split("\n").filter(Boolean))
    wake?.()
  })
  const line = async (i) => {
    while (lines.length <= i) await new Promise((resolve) => (wake = resolve))
    return JSON.parse(lines[i])
  }
  const { port } = await line(0)
  let remaining = CLIENTS * MESSAGES
  let done
  const allReceived = new Promise((resolve) => (done = resolve))
  const sockets = []
  let start = 0
  await Promise.all(Array.from({ length: CLIENTS }, async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false })
    ws.on("message", () => {
      if (--remaining === 0) done()
    })
    sockets.push(ws)
    await once(ws, "open")
  }))
  start = performance.now()
  await allReceived
  const elapsed = (performance.now() - start) / 1000
  const { peakRss } = await line(1)
  rss.set(mode, Math.max(rss.get(mode) ?? 0, peakRss))
  for (const ws of sockets) ws.terminate()
  server.kill("SIGTERM")
  await once(server, "exit")
  // Deliveries per second of the broadcast phase (from the last client connected to the last delivery).
  return (CLIENTS * MESSAGES) / elapsed
}

const modes = [
  ["bytechannel (bounded outbox per client)", "bytechannel"],
  ["raw ws broadcast loop", "ws"]
]
const samples = new Map(modes.map(([name]) => [name, []]))
for (const [, mode] of modes) await run(mode)() // warm-up
for (let i = 0; i < 3; i++) for (const [name, mode] of modes) samples.get(name).push(await run(mode)())
const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1]
const rows = modes.map(([name]) => {
  const values = samples.get(name)
  return { name, min: Math.min(...values), median: median(values), max: Math.max(...values), runs: values }
})
for (const row of rows) row.ratio = rows[0].median / row.median
const result = {
  scenario: `fan-out: one server broadcasting ${MESSAGES} × 128 B to ${CLIENTS} loopback connections`,
  unit: "deliveries/s",
  baseline: "bytechannel",
  higherIsBetter: true,
  rows
}
for (const row of result.rows) {
  const mode = row.name.startsWith("bytechannel") ? "bytechannel" : "ws"
  row.name = `${row.name} (server peak RSS ${(rss.get(mode) / 1024 / 1024).toFixed(0)} MiB)`
}
result.notes = ["Each run starts a fresh server and connects every client; timed from the last connection to the last delivery."]
emit(result)
process.exit(0)

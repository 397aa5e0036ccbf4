// Fan-out: one server (its own process) broadcasts to many loopback clients; deliveries per
// second until every client has every message, and the server's peak RSS. The clients are plain
// ws clients for both servers, and bytechannel clients (NodeConnector) for the both-ends row.
import { ByteChannel } from "@bytechannel/core"
import { NodeConnector } from "@bytechannel/node"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"
import { spawn } from "node:child_process"
import { once } from "node:events"
import { performance } from "node:perf_hooks"
import { WebSocket } from "ws"
import { emit, median, quick } from "./lib.mjs"

const CLIENTS = quick ? 200 : 1_000
const MESSAGES = 100
const rss = new Map()

/** Opens CLIENTS ByteChannels; calls `onBytes` for every chunk read. Resolves to a closer once all are open. */
const bytechannelClients = (port, onBytes) =>
  new Promise((opened, failed) => {
    const fiber = Effect.runFork(Effect.gen(function*() {
      const channels = yield* Effect.forEach(Array.from({ length: CLIENTS }), () => ByteChannel.connect(`ws://127.0.0.1:${port}/`), { concurrency: "unbounded" })
      opened(() => Effect.runPromise(Fiber.interrupt(fiber)))
      yield* Effect.forEach(channels, (channel) =>
        channel.read.pipe(
          Stream.runForEach((chunk) => Effect.sync(() => onBytes(chunk.length))),
          Effect.ignore // the server is stopped at the end of a run: 1006
        ), { concurrency: "unbounded", discard: true })
    }).pipe(Effect.scoped, Effect.provide(NodeConnector.layer), Effect.tapCause((cause) => Effect.sync(() => failed(cause)))))
  })

const run = (mode, clients = "ws") => async () => {
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
  let remaining = CLIENTS * MESSAGES * 128 // bytes
  let done
  const allReceived = new Promise((resolve) => (done = resolve))
  const sockets = []
  let closeBytechannels
  let start = 0
  if (clients === "ws") {
    await Promise.all(Array.from({ length: CLIENTS }, async () => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false })
      ws.on("message", (data) => {
        if ((remaining -= data.length) === 0) done()
      })
      sockets.push(ws)
      await once(ws, "open")
    }))
  } else {
    closeBytechannels = await bytechannelClients(port, (bytes) => {
      if ((remaining -= bytes) === 0) done()
    })
  }
  start = performance.now()
  await allReceived
  const elapsed = (performance.now() - start) / 1000
  const { peakRss } = await line(1)
  const key = `${mode}/${clients}`
  rss.set(key, Math.max(rss.get(key) ?? 0, peakRss))
  for (const ws of sockets) ws.terminate()
  server.kill("SIGTERM")
  await once(server, "exit")
  await closeBytechannels?.()
  // Deliveries per second of the broadcast phase (from the last client connected to the last delivery).
  return (CLIENTS * MESSAGES) / elapsed
}

const modes = [
  ["bytechannel (bounded outbox per client)", "bytechannel", "ws"],
  ["raw ws broadcast loop", "ws", "ws"],
  ["bytechannel both ends (bytechannel clients)", "bytechannel", "bytechannel"]
]
const samples = new Map(modes.map(([name]) => [name, []]))
for (const [, mode, clients] of modes) await run(mode, clients)() // warm-up
for (let i = 0; i < (quick ? 2 : 3); i++) for (const [name, mode, clients] of modes) samples.get(name).push(await run(mode, clients)())
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
const bothEnds = rows[2].median / rows[1].median
for (const [i, [, mode, clients]] of modes.entries()) {
  result.rows[i].name = `${result.rows[i].name} (server peak RSS ${(rss.get(`${mode}/${clients}`) / 1024 / 1024).toFixed(0)} MiB)`
}
result.notes = [
  "Each run starts a fresh server and connects every client; timed from the last connection to the last delivery. The first two rows use the same plain ws clients; the last has bytechannel at both ends (NodeConnector clients, all in this process).",
  `Both ends, bytechannel ÷ ws (clients and server): ${bothEnds.toFixed(2)}× (the fan-out goal: within 20%, ≥ 0.8× ${bothEnds >= 0.8 ? "✓" : "✗"}).`
]
emit(result)
process.exit(0)

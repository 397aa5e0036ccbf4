// Browser bulk throughput (a benchmark run by `pnpm bench`, not a test of speed): 64 KiB binary
// messages to a sink, bytechannel (both strategies) against a raw browser WebSocket, interleaved.
import { BrowserConnector } from "@bytechannel/browser"
import { ByteChannel } from "@bytechannel/core"
import * as Effect from "effect/Effect"
import * as Socket from "effect/socket/Socket"
import * as Stream from "effect/Stream"
import { expect, inject, it } from "vitest"
import { commands } from "vitest/browser"

const { ws: base, quick } = inject("bench")
const MiB = 1024 * 1024
const TOTAL = (quick ? 16 : 128) * MiB
const CHUNK = 64 * 1024
const payload = new Uint8Array(CHUNK).fill(7)

const viaBytechannel = (strategy: BrowserConnector.Strategy) => () =>
  Effect.runPromise(Effect.gen(function*() {
    const channel = yield* ByteChannel.connect(`${base}/sink?total=${TOTAL}`)
    yield* Stream.run(Stream.fromEffectRepeat(Effect.succeed(payload)).pipe(Stream.take(TOTAL / CHUNK)), channel.write)
    yield* channel.readChunk() // the server's "ok"
  }).pipe(Effect.scoped, Effect.provide(BrowserConnector.layerWith({ strategy }))))

const rawWebSocket = () =>
  new Promise<void>((resolve, reject) => {
    const ws = new WebSocket(`${base}/sink?total=${TOTAL}`)
    ws.binaryType = "arraybuffer"
    ws.onerror = () => reject(new Error("websocket error"))
    ws.onmessage = () => {
      ws.close()
      resolve()
    }
    ws.onopen = () => {
      for (let i = 0; i < TOTAL / CHUNK; i++) ws.send(payload)
    }
  })

// Effect 4's own socket in the browser: Socket.makeWebSocket on globalThis.WebSocket; its writer
// hands each message to the WebSocket at once (no backpressure), like the raw WebSocket.
const effectSocket = () =>
  Effect.runPromise(Effect.gen(function*() {
    const socket = yield* Socket.makeWebSocket(`${base}/sink?total=${TOTAL}`)
    const pull = yield* Socket.readerBytes(socket) // connects
    const { write } = yield* socket.writer
    for (let i = 0; i < TOTAL / CHUNK; i++) yield* write(payload)
    yield* pull // the server's "ok"
  }).pipe(Effect.scoped, Effect.provide(Socket.layerWebSocketConstructorGlobal)))

const median = (values: Array<number>) => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

it("bulk 64 KiB messages in Chromium", async () => {
  const contenders: Array<{ name: string; run: () => Promise<void> }> = [
    { name: "bytechannel (WebSocketStream)", run: viaBytechannel("websocketstream") },
    { name: "bytechannel (WebSocket)", run: viaBytechannel("websocket") },
    { name: "raw browser WebSocket", run: rawWebSocket },
    { name: "Effect 4 socket (Socket.makeWebSocket)", run: effectSocket }
  ]
  for (const c of contenders) await c.run()
  const samples = new Map(contenders.map((c) => [c.name, [] as Array<number>]))
  for (let i = 0; i < (quick ? 3 : 5); i++) {
    for (const c of contenders) {
      const start = performance.now()
      await c.run()
      samples.get(c.name)!.push(TOTAL / ((performance.now() - start) / 1000))
    }
  }
  const rows = contenders.map((c) => {
    const values = samples.get(c.name)!
    return { name: c.name, min: Math.min(...values), median: median(values), max: Math.max(...values), runs: values, ratio: 0 }
  })
  const baseline = rows[0]!
  for (const row of rows) row.ratio = baseline.median / row.median
  const result = {
    scenario: `browser bulk: ${TOTAL / MiB} MiB as 64 KiB messages from Chromium`,
    unit: "bytes/s",
    baseline: baseline.name,
    higherIsBetter: true,
    rows,
    notes: ["Chromium (Debian) headless; the raw WebSocket queues everything at once (no backpressure)."]
  }
  await commands.writeFile("./results.json", JSON.stringify(result))
  expect(rows.every((r) => r.median > 0)).toBe(true)
})

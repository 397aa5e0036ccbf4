// Fan-out server (its own process): once CLIENTS have connected, broadcasts MESSAGES messages of
// 128 B to all of them, then reports its peak RSS. MODE "bytechannel": NodeServer with a bounded
// outbox per client (one slow client cannot stall the others); MODE "ws": a plain ws send loop.
import { NodeServer } from "@bytechannel/node"
import * as Effect from "effect/Effect"
import * as Queue from "effect/Queue"
import * as Stream from "effect/Stream"
import { WebSocketServer } from "ws"

const [mode, clients, messages] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])]
const message = Buffer.alloc(128, 7)
let peak = process.memoryUsage().rss
const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20)
const report = () => setTimeout(() => console.log(JSON.stringify({ peakRss: Math.max(peak, process.memoryUsage().rss) })), 200)

if (mode === "ws") {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false }, () => console.log(JSON.stringify({ port: wss.address().port })))
  const all = []
  wss.on("connection", (ws) => {
    all.push(ws)
    if (all.length === clients) {
      for (let m = 0; m < messages; m++) for (const client of all) client.send(message)
      report()
    }
  })
} else {
  const outboxes = []
  Effect.runFork(Effect.gen(function*() {
    const server = yield* NodeServer.serve({}, (channel) =>
      Effect.gen(function*() {
        const outbox = yield* Queue.sliding(1024)
        outboxes.push(outbox)
        if (outboxes.length === clients) {
          for (let m = 0; m < messages; m++) for (const box of outboxes) Queue.offerUnsafe(box, message)
          report()
        }
        yield* Stream.fromQueue(outbox).pipe(Stream.run(channel.write))
      }))
    console.log(JSON.stringify({ port: server.port }))
    return yield* Effect.never
  }).pipe(Effect.scoped))
}
process.on("SIGTERM", () => {
  clearInterval(sample)
  process.exit(0)
})

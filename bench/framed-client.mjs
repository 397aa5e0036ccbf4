// The bytechannel client of the framed NDJSON row in a process of its own, loading bytechannel
// and effect from `--root <dir>` (default: this workspace; bench/framed.mjs passes the last
// Effect 3 commit's built checkout). Only API Effect 3 and Effect 4 share is used. IPC: sends
// {"ready": {effect}}, then answers {id, op: "ndjson", url, count} with {id, units, seconds, cpuMs}
// after decoding `count` messages with Framed(ndjson(Schema.Struct)).
import { performance } from "node:perf_hooks"
import { loadBytechannel } from "./lib.mjs"

const rootAt = process.argv.indexOf("--root")
const { ByteChannel, Codec, Effect, NodeConnector, Schema, Stream, effectVersion } = await loadBytechannel(rootAt === -1 ? undefined : process.argv[rootAt + 1])
const ChatMessage = Schema.Struct({ from: Schema.String, text: Schema.String, at: Schema.Number })
const codec = Codec.ndjson(ChatMessage)

process.on("message", async ({ id, op, url, count }) => {
  try {
    if (op !== "ndjson") throw new Error(`unknown op ${op}`)
    const cpu = process.cpuUsage()
    const start = performance.now()
    const n = await Effect.runPromise(Effect.gen(function*() {
      const channel = yield* ByteChannel.connect(url)
      return yield* Stream.runCount(ByteChannel.framed(channel, codec).messages)
    }).pipe(Effect.scoped, Effect.provide(NodeConnector.layer)))
    if (n !== count) throw new Error(`decoded ${n} messages, expected ${count}`)
    const seconds = (performance.now() - start) / 1000
    const used = process.cpuUsage(cpu)
    process.send({ id, units: n, seconds, cpuMs: (used.user + used.system) / 1000 })
  } catch (error) {
    process.send({ id, error: String(error?.stack ?? error) })
  }
})
process.on("disconnect", () => process.exit(0))
process.send({ ready: { effect: effectVersion } })

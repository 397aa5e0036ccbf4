// Child process for the fast-writer test: a Sink offered TOTAL bytes in 64 KiB chunks, to a
// server that does not read. After SECONDS it reports RSS growth and how far the writer got.
import { ByteChannel } from "@bytechannel/core"
import { NodeConnector } from "@bytechannel/node"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"

const [url, total, seconds] = [process.argv[2]!, Number(process.argv[3]), Number(process.argv[4])]
const CHUNK = 64 * 1024
const rss = () => process.memoryUsage().rss

const program = Effect.gen(function*() {
  const channel = yield* ByteChannel.connect(url)
  globalThis.gc?.()
  const baseline = rss()
  let peak = baseline
  let written = 0
  const chunk = new Uint8Array(CHUNK).fill(7)
  const chunks = Stream.range(1, Math.ceil(total / CHUNK)).pipe(Stream.map(() => chunk), Stream.tap(() => Effect.sync(() => (written += CHUNK))))
  yield* Effect.forkChild(Stream.run(chunks, channel.write))
  // A fixed observation window: a writer without backpressure would hand over all of TOTAL
  // within it (loopback moves gigabytes per second).
  for (let i = 0; i < seconds * 10; i++) {
    yield* Effect.sleep("100 millis")
    peak = Math.max(peak, rss())
  }
  return { baseline, peak, growth: peak - baseline, written }
}).pipe(Effect.scoped, Effect.provide(NodeConnector.layerWith({ closeTimeout: "200 millis" })))

Effect.runPromise(program).then(
  (result) => {
    console.log(JSON.stringify(result))
    process.exit(0)
  },
  (error) => {
    console.error(error)
    process.exit(1)
  }
)

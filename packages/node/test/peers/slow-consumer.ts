// Child process for the slow-consumer test: connects with bytechannel, reads about RATE bytes per
// second for SECONDS, prints its RSS growth as JSON and stays connected until killed. Run with --expose-gc.
import { ByteChannel } from "@bytechannel/core"
import { NodeConnector } from "@bytechannel/node"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"

const [url, seconds, rate] = [process.argv[2]!, Number(process.argv[3]), Number(process.argv[4])]
const rss = () => process.memoryUsage().rss

const program = Effect.gen(function*() {
  const channel = yield* ByteChannel.connect(url)
  // Let the connection fill every buffer it is allowed to, then take the baseline.
  yield* Effect.sleep("300 millis")
  globalThis.gc?.()
  const baseline = rss()
  let peak = baseline
  let consumed = 0
  const ticks = Math.round(seconds * 10)
  for (let tick = 0; tick < ticks; tick++) {
    let budget = Math.floor(rate / 10)
    while (budget > 0) {
      const next = yield* channel.readChunk(budget)
      if (Option.isNone(next)) break
      consumed += next.value.length
      budget -= next.value.length
    }
    peak = Math.max(peak, rss())
    yield* Effect.sleep("100 millis")
  }
  // Report while still connected, so the test can look at the server's buffer; then wait to be killed.
  console.log(JSON.stringify({ baseline, peak, growth: peak - baseline, consumed }))
  return yield* Effect.never
}).pipe(Effect.scoped, Effect.provide(NodeConnector.layerWith({ closeTimeout: "200 millis" })))

Effect.runPromise(program).then(
  () => process.exit(0),
  (error) => {
    console.error(error)
    process.exit(1)
  }
)

/**
 * `--stats`: messages and bytes per second on stderr, from the library's own `SocketMetrics`
 * (every socket of the process counts there), and the totals at the end.
 *
 * @internal
 */
import { SocketMetrics } from "@bytechannel/core"
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as constants from "./constants.js"
import { report } from "./stdio.js"

interface Counts {
  readonly messagesOut: number
  readonly bytesOut: number
  readonly messagesIn: number
  readonly bytesIn: number
}

const counts: Effect.Effect<Counts> = Effect.all({
  messagesOut: Effect.map(Metric.value(SocketMetrics.messagesSent), (state) => state.count),
  bytesOut: Effect.map(Metric.value(SocketMetrics.bytesSent), (state) => state.count),
  messagesIn: Effect.map(Metric.value(SocketMetrics.messagesReceived), (state) => state.count),
  bytesIn: Effect.map(Metric.value(SocketMetrics.bytesReceived), (state) => state.count)
})

const MIB = 1024 * 1024

/** `12.3 MiB` above a MiB, else bytes. */
const size = (bytes: number) => (bytes >= MIB ? `${(bytes / MIB).toFixed(1)} MiB` : `${Math.round(bytes)} B`)

/**
 * Prints rates every second while the scope is open, and the totals (with the process's peak
 * resident memory) when it closes.
 */
export const track: Effect.Effect<void, never, Scope.Scope> = Effect.gen(function*() {
  const start = yield* counts
  const started = Date.now()
  let previous = start
  let previousAt = started
  const tick = Effect.gen(function*() {
    const now = yield* counts
    const at = Date.now()
    const seconds = Math.max((at - previousAt) / 1000, 1e-3)
    yield* report(
      `stats: sent ${Math.round((now.messagesOut - previous.messagesOut) / seconds)} msg/s ${
        size((now.bytesOut - previous.bytesOut) / seconds)
      }/s, received ${Math.round((now.messagesIn - previous.messagesIn) / seconds)} msg/s ${size((now.bytesIn - previous.bytesIn) / seconds)}/s`
    )
    previous = now
    previousAt = at
  })
  yield* Effect.forkScoped(Effect.repeat(tick, Schedule.spaced(constants.STATS_INTERVAL_MILLIS)).pipe(Effect.delay(constants.STATS_INTERVAL_MILLIS)))
  yield* Effect.addFinalizer(() =>
    Effect.gen(function*() {
      const end = yield* counts
      const seconds = ((Date.now() - started) / 1000).toFixed(1)
      const peak = process.resourceUsage().maxRSS * 1024
      yield* report(
        `stats: sent ${end.messagesOut - start.messagesOut} messages (${end.bytesOut - start.bytesOut} B), received ${
          end.messagesIn - start.messagesIn
        } messages (${end.bytesIn - start.bytesIn} B) in ${seconds} s; peak RSS ${size(peak)}`
      )
    })
  )
})

/**
 * The send-stall watch of one socket: while something waits to be sent (or is held unsent),
 * one timer fiber checks at every `timeout` that the transport's send buffer drained at all
 * since the last check. Progress, not size: what the buffer held, plus what was written since,
 * minus what it holds now. No progress for a whole window: the peer reads nothing, and
 * `onStall` ends the connection.
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
import * as CloseCode from "../CloseCode.js"
import { SocketError } from "../SocketError.js"

/** @internal */
export interface SendStallWatch {
  /** Starts the watch unless it runs (or the timeout is infinite). */
  readonly start: Effect.Effect<void>
  /** Stops it (the connection closed). */
  readonly stop: () => void
}

/** @internal */
export const make = (options: {
  readonly timeout: Duration.Duration
  /** The transport's send buffer now. */
  readonly buffered: () => number
  /** Bytes handed to the transport so far. */
  readonly sentBytes: () => number
  /** Whether there is anything to judge: the socket is open and a send waits or data is unsent. */
  readonly pending: () => boolean
  /** The peer read nothing for a whole window: fail and close; what it returns runs in the watch. */
  readonly onStall: (error: SocketError) => Effect.Effect<void>
}): SendStallWatch => {
  let fiber: Fiber.Fiber<void> | undefined
  let buffered = 0
  let sentBytes = 0
  const mark = () => {
    buffered = options.buffered()
    sentBytes = options.sentBytes()
  }
  const check: Effect.Effect<void> = Effect.suspend(() => {
    if (!options.pending()) {
      fiber = undefined
      return Effect.void
    }
    if (options.buffered() < buffered + (options.sentBytes() - sentBytes)) {
      mark()
      return watch
    }
    fiber = undefined
    return options.onStall(
      new SocketError({
        reason: "SendTimeout",
        code: CloseCode.PolicyViolation,
        detail: `the send buffer did not drain at all for ${Duration.format(options.timeout)}: the peer reads nothing, or too slowly to show`
      })
    )
  })
  const watch: Effect.Effect<void> = Effect.andThen(Effect.sleep(options.timeout), check)
  return {
    start: Effect.suspend(() => {
      if (fiber !== undefined || !Duration.isFinite(options.timeout)) return Effect.void
      mark()
      return Effect.map(Effect.forkDetach(watch), (started) => {
        fiber = started
      })
    }),
    stop: () => {
      const running = fiber
      fiber = undefined
      running?.interruptUnsafe()
    }
  }
}

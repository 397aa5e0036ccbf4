/**
 * The send-stall watch of one socket: while something waits to be sent (or is held unsent),
 * one timer fiber checks at every `timeout` that the transport's send buffer drained at all
 * since the last check. Progress, not size: what the buffer held, plus what was written since,
 * minus what it holds now. No progress for a whole window: the peer reads nothing, and
 * `onStall` ends the connection.
 *
 * Made by the first send that has to wait: an idle connection holds none.
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
import * as CloseCode from "../CloseCode.js"
import { SocketError } from "../SocketError.js"

/** What the watch reads from, and reports to, its socket. @internal */
export interface SendStallHost {
  /** The transport's send buffer now. */
  readonly stallBuffered: () => number
  /** Bytes handed to the transport so far. */
  readonly stallSentBytes: () => number
  /** Whether there is anything to judge: the socket is open and a send waits or data is unsent. */
  readonly stallPending: () => boolean
  /** The peer read nothing for a whole window: fail and close; what it returns runs in the watch. */
  readonly onStall: (error: SocketError) => Effect.Effect<void>
}

/** @internal */
export class SendStall {
  private fiber: Fiber.Fiber<void> | undefined = undefined
  private buffered = 0
  private sentBytes = 0
  private readonly watch: Effect.Effect<void>
  /** Starts the watch unless it runs (or the timeout is infinite). */
  readonly start: Effect.Effect<void>

  constructor(readonly host: SendStallHost, readonly timeout: Duration.Duration) {
    const check: Effect.Effect<void> = Effect.suspend(() => this.check())
    this.watch = Effect.andThen(Effect.sleep(timeout), check)
    this.start = Effect.suspend(() => {
      if (this.fiber !== undefined || !Duration.isFinite(this.timeout)) return Effect.void
      this.mark()
      return Effect.map(Effect.forkDetach(this.watch), (started) => {
        this.fiber = started
      })
    })
  }

  private mark(): void {
    this.buffered = this.host.stallBuffered()
    this.sentBytes = this.host.stallSentBytes()
  }

  private check(): Effect.Effect<void> {
    const host = this.host
    if (!host.stallPending()) {
      this.fiber = undefined
      return Effect.void
    }
    if (host.stallBuffered() < this.buffered + (host.stallSentBytes() - this.sentBytes)) {
      this.mark()
      return this.watch
    }
    this.fiber = undefined
    return host.onStall(
      new SocketError({
        reason: "SendTimeout",
        code: CloseCode.PolicyViolation,
        detail: `the send buffer did not drain at all for ${
          Duration.format(this.timeout)
        }: the peer reads nothing, or too slowly to show`
      })
    )
  }

  /** Stops it (the connection closed). */
  stop(): void {
    const running = this.fiber
    this.fiber = undefined
    running?.interruptUnsafe()
  }
}

import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type * as Keepalive from "../Keepalive.js"
import type * as Transport from "../Transport.js"
import { SocketError } from "../SocketError.js"
import * as CloseCode from "../CloseCode.js"

/** @internal */
export const run = (
  controller: Transport.Controller,
  probe: Keepalive.Probe,
  options: Keepalive.KeepaliveOptions
): Effect.Effect<void, never, Scope.Scope> => {
  const interval = Duration.fromInputUnsafe(options.interval)
  const timeout = Duration.fromInputUnsafe(options.timeout ?? options.interval)
  // Any sign of life since the probe went out: an answer, any message, or a receive pause (while
  // paused the answer may wait behind unread data, and it still does right after the resume).
  const signs = () => probe.answers() + controller.receivedMessages() + controller.receivePauses()
  const loop = Effect.gen(function*() {
    while (true) {
      yield* Effect.sleep(interval)
      if (controller.state() !== "open") return
      if (!probe.ready()) continue
      const before = signs()
      const bufferedBefore = controller.sendBuffered()
      const sentBefore = controller.sentMessages()
      probe.send()
      yield* Effect.sleep(timeout)
      if (controller.state() !== "open") return
      if (signs() !== before || controller.receivePaused()) continue
      // Under send backpressure the probe may still wait behind our own unsent data: a peer
      // that is reading it (the buffer went down, or had room for more) is busy, not dead.
      const buffered = controller.sendBuffered()
      if (buffered > 0 && (buffered < bufferedBefore || controller.sentMessages() !== sentBefore)) continue
      controller.onError(
        new SocketError({
          reason: "Read",
          code: CloseCode.Abnormal,
          detail: `no ${probe.answer} within ${Duration.format(timeout)}: the peer is not answering`
        })
      )
      return yield* controller.socket.terminate
    }
  })
  return Effect.asVoid(Effect.forkScoped(loop))
}

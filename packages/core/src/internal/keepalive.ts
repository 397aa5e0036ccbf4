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
      probe.send()
      yield* Effect.sleep(timeout)
      if (controller.state() !== "open") return
      if (signs() !== before || controller.receivePaused()) continue
      // The probe may wait behind our own unsent data, and on a real socket that moves only as
      // the kernel takes more (a third of its buffer at a time): a peer behind it is busy, or
      // reads nothing at all. The send-stall rule judges which, by progress over
      // `sendStallTimeout` (1008, SendTimeout), not this timeout.
      if (controller.sendBuffered() > 0) {
        yield* controller.watchSendStall
        continue
      }
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

import { CloseCode } from "@bytechannel/core"
import type { ByteChannel } from "@bytechannel/core"
import * as Cause from "effect/Cause"
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import { Duplex } from "node:stream"

/** @internal */
export const toDuplexWith = (channel: ByteChannel.ByteChannel, context: Context.Context<never>): Duplex => {
  // Every operation runs with the given context: its tracer and parent span, logger and references.
  const runCallback = Effect.runCallbackWith(context)
  const run = <A, E>(effect: Effect.Effect<A, E>, done: (error: Error | null, value?: A) => void) => {
    runCallback(effect, {
      onExit: (exit) => {
        if (Exit.isSuccess(exit)) done(null, exit.value)
        else done(Cause.squash(exit.cause) as Error)
      }
    })
  }
  let reading = false
  const duplex: Duplex = new Duplex({
    read() {
      if (reading) return
      reading = true
      run(channel.readChunk(), (error, next) => {
        reading = false
        if (error) duplex.destroy(error)
        else if (Option.isNone(next!)) duplex.push(null)
        // Node calls read() again while the consumer wants more.
        else duplex.push(next!.value)
      })
    },
    write(chunk: Buffer, _encoding, callback) {
      run(channel.send(chunk), (error) => callback(error))
    },
    final(callback) {
      run(channel.close(), (error) => callback(error))
    },
    destroy(error, callback) {
      const close = error
        ? channel.socket.closeWithProtocolCode({ code: CloseCode.InternalError, reason: "stream destroyed" })
        : channel.close()
      run(Effect.ignore(close), () => callback(error))
    }
  })
  return duplex
}

/** @internal */
export const toDuplex = (channel: ByteChannel.ByteChannel): Effect.Effect<Duplex> =>
  Effect.map(Effect.context<never>(), (context) => toDuplexWith(channel, context))

import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Scope from "effect/Scope"
import type * as ByteChannel from "../ByteChannel.js"
import type * as MessageSocket from "../MessageSocket.js"
import { fromSocket } from "./byteChannel.js"
import * as CloseCode from "../CloseCode.js"

/**
 * One connection's whole life in the calling fiber: the handler runs in a scope of its own,
 * then the connection is closed by the rule of its exit. A server forks one such fiber per
 * connection into a `FiberSet`, so a finished connection leaves nothing behind.
 * @internal
 */
export const handle = <E, R>(
  socket: MessageSocket.MessageSocket,
  handler: (channel: ByteChannel.ByteChannel) => Effect.Effect<void, E, R>,
  options?: {
    readonly channel?: ByteChannel.ByteChannelOptions | undefined
    readonly onError?: ((cause: Cause.Cause<E>) => Effect.Effect<void>) | undefined
  }
): Effect.Effect<void, never, Exclude<R, Scope.Scope>> => {
  const channel = fromSocket(socket, options?.channel)
  // Suspended: a handler that throws as it is called fails like one that fails (1011), not as a clean exit.
  return Effect.scoped(Effect.suspend(() => handler(channel))).pipe(
    Effect.onExit((exit) => {
      if (Exit.isSuccess(exit)) return channel.close().pipe(Effect.ignore)
      // Interrupted from outside: the server is shutting down ("going away").
      if (Cause.hasInterruptsOnly(exit.cause)) {
        return socket.closeWithProtocolCode({ code: CloseCode.GoingAway, reason: "server shutting down" }).pipe(
          Effect.ignore
        )
      }
      return Effect.andThen(
        options?.onError ? options.onError(exit.cause) : Effect.logDebug("bytechannel: connection handler failed", exit.cause),
        socket.closeWithProtocolCode({ code: CloseCode.InternalError, reason: "handler failed" }).pipe(Effect.ignore)
      )
    }),
    Effect.ignore
  ) as Effect.Effect<void, never, Exclude<R, Scope.Scope>>
}

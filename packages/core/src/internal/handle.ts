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
 * then the connection is closed by the rule of its exit, whatever it is (a close that cannot
 * run drops the connection), so a server may hand over a socket no scope closes. A server forks
 * one such fiber per connection, so a finished connection leaves nothing behind.
 * @internal
 */
export const handle = <E, R>(
  socket: MessageSocket.MessageSocket,
  handler: (channel: ByteChannel.ByteChannel) => Effect.Effect<void, E, R>,
  options?: HandleOptions<E>
): Effect.Effect<void, never, Exclude<R, Scope.Scope>> =>
  // Each run starts afresh: `start` is good for one.
  Effect.suspend(() => serve(socket, handler, options))

interface HandleOptions<E> {
  readonly channel?: ByteChannel.ByteChannelOptions | undefined
  readonly onError?: ((cause: Cause.Cause<E>) => Effect.Effect<void>) | undefined
}

const serve = <E, R>(
  socket: MessageSocket.MessageSocket,
  handler: (channel: ByteChannel.ByteChannel) => Effect.Effect<void, E, R>,
  options: HandleOptions<E> | undefined
): Effect.Effect<void, never, Exclude<R, Scope.Scope>> => {
  let channel: ByteChannel.ByteChannel
  try {
    channel = fromSocket(socket, options?.channel)
  } catch (defect) {
    // Channel options it cannot take: closed as a failed handler's connection is, and the defect goes on.
    return Effect.andThen(orDrop(socket, socket.closeWithProtocolCode(failed)), Effect.die(defect))
  }
  // Typed failures end here (handled above); a defect or an interrupt goes on to the caller, as before.
  return Effect.catch(
    Effect.onExit(Effect.scoped(start(handler, channel)), (exit) => {
      if (Exit.isSuccess(exit)) return orDrop(socket, channel.close())
      // Interrupted from outside: the server is shutting down ("going away").
      if (Cause.hasInterruptsOnly(exit.cause)) {
        return orDrop(socket, socket.closeWithProtocolCode({ code: CloseCode.GoingAway, reason: "server shutting down" }))
      }
      return Effect.andThen(
        options?.onError ? options.onError(exit.cause) : Effect.logDebug("bytechannel: connection handler failed", exit.cause),
        orDrop(socket, socket.closeWithProtocolCode(failed))
      )
    }),
    toVoid
  ) as Effect.Effect<void, never, Exclude<R, Scope.Scope>>
}

// The handler's start, run once. Suspended: a handler that throws as it is called fails like one
// that fails (1011), not as a clean exit. It lets go of the handler as it calls it, so what the connection
// keeps while the handler runs (Effect's `scoped` keeps the effect it ran) does not keep the
// handler, nor what the handler closes over (a server's `ConnectionInfo` and its headers).
const start = <E, R>(
  handler: (channel: ByteChannel.ByteChannel) => Effect.Effect<void, E, R>,
  channel: ByteChannel.ByteChannel
): Effect.Effect<void, E, R> => {
  let pending: typeof handler | undefined = handler
  return Effect.suspend(() => {
    const run = pending!
    pending = undefined
    return run(channel)
  })
}

const failed = { code: CloseCode.InternalError, reason: "handler failed" }

// `Effect.ignore` makes two closures at every call; these are made once.
const toVoid = (): Effect.Effect<void> => Effect.void

// A close that fails (it cannot, with these codes and options) drops the connection instead.
const orDrop = <A, E>(socket: MessageSocket.MessageSocket, close: Effect.Effect<A, E>): Effect.Effect<void> =>
  Effect.catch(Effect.flatMap(close, toVoid), () => socket.terminate)

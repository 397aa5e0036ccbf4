import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as ExecutionStrategy from "effect/ExecutionStrategy"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as Scope from "effect/Scope"
import type * as ByteChannel from "../ByteChannel.js"
import type * as MessageSocket from "../MessageSocket.js"
import { fromSocket } from "./byteChannel.js"
import * as constants from "./constants.js"

/** @internal */
export const handle = <E, R>(
  socket: MessageSocket.MessageSocket,
  handler: (channel: ByteChannel.ByteChannel) => Effect.Effect<void, E, R>,
  options: {
    readonly parent: Scope.Scope
    readonly channel?: ByteChannel.ByteChannelOptions | undefined
    readonly onError?: ((cause: Cause.Cause<E>) => Effect.Effect<void>) | undefined
  }
): Effect.Effect<Fiber.RuntimeFiber<void>, never, Exclude<R, Scope.Scope>> =>
  Effect.gen(function*() {
    const scope = yield* Scope.fork(options.parent, ExecutionStrategy.sequential)
    // Runs when the parent closes first (server shutdown): "going away".
    yield* Scope.addFinalizer(
      scope,
      socket.closeWithProtocolCode({ code: constants.CLOSE_GOING_AWAY, reason: "server shutting down" }).pipe(Effect.ignore)
    )
    const channel = fromSocket(socket, options.channel)
    const context = yield* Effect.context<Exclude<R, Scope.Scope>>()
    const run = handler(channel).pipe(
      Effect.onExit((exit) => {
        if (Exit.isSuccess(exit)) return channel.close().pipe(Effect.ignore)
        if (Cause.isInterruptedOnly(exit.cause)) return Effect.void
        return Effect.zipRight(
          options.onError ? options.onError(exit.cause) : Effect.logDebug("bytechannel: connection handler failed", exit.cause),
          socket.closeWithProtocolCode({ code: constants.CLOSE_INTERNAL_ERROR, reason: "handler failed" }).pipe(Effect.ignore)
        )
      }),
      Effect.ignore,
      Effect.ensuring(Scope.close(scope, Exit.void)),
      Scope.extend(scope),
      Effect.provide(context)
    ) as Effect.Effect<void>
    return yield* Effect.forkIn(run, options.parent)
  })

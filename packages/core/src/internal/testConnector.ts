import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as ExecutionStrategy from "effect/ExecutionStrategy"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import * as ByteChannel from "../ByteChannel.js"
import * as Connector from "../Connector.js"
import * as MemorySocket from "../MemorySocket.js"
import * as MessageSocket from "../MessageSocket.js"
import { SocketError } from "../SocketError.js"
import type * as TestConnector from "../TestConnector.js"
import * as constants from "./constants.js"

/** @internal */
export const layerWith = <E, R>(
  handler: (channel: ByteChannel.ByteChannel, request: TestConnector.ConnectRequest) => Effect.Effect<void, E, R>,
  options?: TestConnector.TestConnectorOptions
): Layer.Layer<Connector.Connector, never, Exclude<R, Scope.Scope>> =>
  Layer.scoped(
    Connector.Connector,
    Effect.gen(function*() {
      const layerScope = yield* Effect.scope
      const context = yield* Effect.context<Exclude<R, Scope.Scope>>()

      const serve = (server: MemorySocket.MemorySocket, request: TestConnector.ConnectRequest) =>
        Effect.gen(function*() {
          const connectionScope = yield* Scope.fork(layerScope, ExecutionStrategy.sequential)
          // Released with the layer: a server going away says 1001.
          yield* Scope.addFinalizer(
            connectionScope,
            server.closeWithProtocolCode({ code: constants.CLOSE_GOING_AWAY }).pipe(Effect.ignore)
          )
          const channel = ByteChannel.fromSocket(server, options?.channel)
          const run = handler(channel, request).pipe(
            Effect.onExit((exit) =>
              Exit.isSuccess(exit)
                ? server.close().pipe(Effect.ignore)
                : Cause.isInterruptedOnly(exit.cause)
                // Interrupted by the layer's release: the connection scope's finalizer says 1001.
                ? Effect.void
                : Effect.zipRight(
                  Effect.logDebug("TestConnector handler failed", exit.cause),
                  server.closeWithProtocolCode({ code: constants.CLOSE_INTERNAL_ERROR }).pipe(Effect.ignore)
                )
            ),
            Effect.ensuring(Scope.close(connectionScope, Exit.void)),
            Effect.provide(context),
            Scope.extend(connectionScope)
          ) as Effect.Effect<void, E>
          yield* Effect.forkIn(Effect.ignore(run), layerScope)
        })

      return Connector.make((url, connectOptions) =>
        Effect.gen(function*() {
          const parsed = yield* Effect.try({
            try: () => new URL(url),
            catch: (cause) => new SocketError({ reason: "Open", cause, detail: `invalid URL ${String(url)}` })
          })
          const protocols = typeof connectOptions?.protocols === "string"
            ? [connectOptions.protocols]
            : [...(connectOptions?.protocols ?? [])]
          const [client, server] = yield* MemorySocket.makePair({
            ...options?.pair,
            protocol: options?.pair?.protocol ?? protocols[0] ?? ""
          })
          yield* MessageSocket.closeOnScopeClose(client)
          yield* serve(server, { url: parsed, protocols, socket: server })
          return client
        })
      )
    })
  )

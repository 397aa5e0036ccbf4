/**
 * `NodeServer` as an `effect/socket` `SocketServer`: each accepted connection, a `ByteChannel`
 * served by `NodeServer`, is handed to the running `run` handler as a `Socket`.
 *
 * @internal
 */
import { type ByteChannel, CloseCode, type SocketError } from "@bytechannel/core"
import * as EffectSocket from "@bytechannel/core/EffectSocket"
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Latch from "effect/Latch"
import * as Layer from "effect/Layer"
import * as NetAddress from "effect/net/NetAddress"
import * as Result from "effect/Result"
import * as Scope from "effect/Scope"
import type * as Socket from "effect/socket/Socket"
import * as SocketServer from "effect/socket/SocketServer"
import * as NodeServer from "../NodeServer.js"

/** A running `run`: starts a connection's handler in the run's scope, with the run's context. */
interface Run {
  readonly start: (socket: Socket.Socket) => Fiber.Fiber<unknown, unknown>
}

type Listen = (
  serveConnection: (channel: ByteChannel.ByteChannel) => Effect.Effect<void, unknown>
) => Effect.Effect<{ readonly host: string; readonly port: number }, SocketError.SocketError, Scope.Scope>

const openError = (cause: unknown) => new SocketServer.SocketServerError({ reason: new SocketServer.SocketServerOpenError({ cause }) })

const makeWith = (listen: Listen): Effect.Effect<SocketServer.SocketServer["Service"], SocketServer.SocketServerError, Scope.Scope> =>
  Effect.gen(function*() {
    // The latest `run` serves new connections; while none runs, connections wait (open, with
    // their receive bounds) for one, as effect's socket servers hold theirs.
    const runs: Array<Run> = []
    const running = Latch.makeUnsafe(false)

    // In the connection's fiber (NodeServer's): it owns the channel and closes it by the rule of
    // this fiber's exit — 1000 when the handler completed, 1011 when it failed, 1001 when the run
    // or the server ended.
    // A connection that closes while it waits for a run is done: nothing of it is kept, and no run
    // is handed a connection that is already gone.
    const serveConnection = (channel: ByteChannel.ByteChannel): Effect.Effect<void, unknown> =>
      Effect.flatMap(Effect.raceFirst(Effect.as(running.await, true), Effect.as(channel.closed, false)), (waited) => {
        if (!waited) return Effect.void
        const run = runs[runs.length - 1]
        // The run ended between the wake-up and now: wait for the next one.
        if (run === undefined) return serveConnection(channel)
        const fiber = run.start(EffectSocket.toSocket(channel))
        return Fiber.await(fiber).pipe(
          Effect.onInterrupt(() => Fiber.interrupt(fiber)),
          Effect.flatMap((exit) =>
            // The run ended under the handler: the server stops serving it, as at shutdown.
            Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause)
              ? Effect.ignore(channel.socket.closeWithProtocolCode({ code: CloseCode.GoingAway, reason: "server shutting down" }))
              : Effect.asVoid(exit)
          )
        )
      })

    const server = yield* Effect.mapError(listen(serveConnection), openError)
    const address = NetAddress.inetAddressFromIpString(server.host, server.port)
    if (Result.isFailure(address)) return yield* Effect.fail(openError(address.failure))

    const run = <R, E, _>(handler: (socket: Socket.Socket) => Effect.Effect<_, E, R>): Effect.Effect<never, never, R> =>
      Effect.gen(function*() {
        const scope = yield* Scope.make()
        // Each connection's handler gets a scope of its own, not the caller's.
        const context = Context.omit(Scope.Scope)(yield* Effect.context<R>()) as Context.Context<never>
        const entry: Run = {
          start: (socket) => Fiber.runIn(Effect.runForkWith(context)(Effect.scoped(handler(socket)) as Effect.Effect<_, E>), scope)
        }
        runs.push(entry)
        running.openUnsafe()
        return yield* Effect.never.pipe(
          Effect.ensuring(Effect.suspend(() => {
            runs.splice(runs.indexOf(entry), 1)
            if (runs.length === 0) running.closeUnsafe()
            // Interrupts this run's handlers: their connections close with 1001.
            return Scope.close(scope, Exit.void)
          }))
        )
      })

    return SocketServer.SocketServer.of({ address: address.success, run })
  })

/** @internal */
export const make = (options: NodeServer.ServeOptions) =>
  makeWith((serveConnection) => NodeServer.serve(options, serveConnection))

/** @internal */
export const layer = (options: NodeServer.ServeOptions) => Layer.effect(SocketServer.SocketServer)(make(options))

/** @internal */
export const makeTcp = (options: NodeServer.ServeTcpOptions) =>
  makeWith((serveConnection) => NodeServer.serveTcp(options, serveConnection))

/** @internal */
export const layerTcp = (options: NodeServer.ServeTcpOptions) => Layer.effect(SocketServer.SocketServer)(makeTcp(options))

/**
 * The connections of a Node server: one fiber each, and when ws let go of one.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import type * as Scope from "effect/Scope"
import { WebSocket } from "ws"

/**
 * @internal
 * The connections of one server: one fiber each, counted from its start to its end (span and
 * close included), interrupted (1001) when the server's scope closes. A failure to serve is
 * logged, never raised. A connection that arrives once the scope is closing is dropped: nobody
 * would serve it.
 */
export const makeConnections = <R>() =>
  Effect.gen(function*() {
    const runFork = Effect.runForkWith(yield* Effect.context<R>())
    const fibers = new Set<Fiber.Fiber<void>>()
    // Counted before the fiber runs: its first steps run at once, and may be observed.
    let open = 0
    let closed = false
    yield* Effect.addFinalizer(() =>
      Effect.suspend(() => {
        closed = true
        return Fiber.interruptAll(fibers)
      })
    )
    return {
      count: () => open,
      serve: (
        attributes: Record<string, string>,
        drop: () => void,
        serve: Effect.Effect<void, never, R | Scope.Scope>,
        released: Effect.Effect<void> = Effect.void
      ): void => {
        if (closed) return drop()
        open++
        const fiber = runFork(
          Effect.withSpan(Effect.andThen(Effect.scoped(serve), released), "bytechannel.server.connection", {
            kind: "server",
            captureStackTrace: false,
            attributes
          })
        )
        fibers.add(fiber)
        fiber.addObserver((exit) => {
          open--
          fibers.delete(fiber)
          if (exit._tag === "Failure" && !Cause.hasInterruptsOnly(exit.cause)) {
            runFork(Effect.logWarning("bytechannel: could not serve a connection", exit.cause))
          }
        })
      }
    }
  })

/**
 * @internal
 * Ends once ws let go of the connection (its TCP connection closed; ws's closeTimeout bounds
 * the wait): a connection is counted, and its fiber kept, until then, so a server that counts
 * none open holds none. Not waited for when the server shuts down (interrupted).
 */
export const released = (ws: WebSocket): Effect.Effect<void> =>
  Effect.callback<void>((resume) => {
    if (ws.readyState === WebSocket.CLOSED) return resume(Effect.void)
    const done = () => resume(Effect.void)
    ws.once("close", done)
    return Effect.sync(() => ws.off("close", done))
  })

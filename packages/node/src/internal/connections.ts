/**
 * The connections of a Node server: one fiber each, and when ws let go of one.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import type * as Tracer from "effect/Tracer"
import { WebSocket } from "ws"
import { makeConnectionSpans } from "./connectionSpan.js"

const SPAN_NAME = "bytechannel.server.connection"

/**
 * @internal
 * The connections of one server: one fiber each, in its own span, interrupted (1001) when the
 * server's scope closes. A connection is counted from its start until its fiber ended and its
 * `release` said so (for ws: its TCP connection closed), and its span ends then. A failure to
 * serve is logged, never raised. A connection that arrives once the scope is closing is dropped:
 * nobody would serve it.
 */
export const makeConnections = <R>() =>
  Effect.gen(function*() {
    const context = yield* Effect.context<R>()
    const runFork = Effect.runForkWith(context)
    const spans = makeConnectionSpans(context, SPAN_NAME, "server")
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
        serve: Effect.Effect<void, never, R>,
        release?: (done: () => void) => void
      ): void => {
        if (closed) return drop()
        open++
        let span: Tracer.Span | undefined
        let fiber: Fiber.Fiber<void>
        if (spans === undefined) {
          // Tracing off, or not propagated here: as `withSpan` does it (the span ends with the fiber).
          fiber = runFork(Effect.withSpan(serve, SPAN_NAME, { kind: "server", captureStackTrace: false, attributes }))
        } else {
          const started = spans.start(attributes)
          span = started.span
          fiber = Effect.runForkWith(started.context)(serve as Effect.Effect<void>)
        }
        fibers.add(fiber)
        fiber.addObserver((exit) => {
          fibers.delete(fiber)
          if (exit._tag === "Failure" && !Cause.hasInterruptsOnly(exit.cause)) {
            runFork(Effect.logWarning("bytechannel: could not serve a connection", exit.cause))
          }
          const done = () => {
            open--
            if (span !== undefined) spans!.end(span, exit)
          }
          // Not waited for once the server shuts down.
          if (release === undefined || closed) done()
          else release(done)
        })
      }
    }
  })

/**
 * @internal
 * Calls `done` once ws let go of the connection (its TCP connection closed; ws's closeTimeout
 * bounds the wait): a connection is counted until then, so a server that counts none open holds
 * none.
 */
export const released = (ws: WebSocket) => (done: () => void): void => {
  if (ws.readyState === WebSocket.CLOSED) done()
  else ws.once("close", done)
}

/**
 * The connections of a Node server: one fiber each, and when ws let go of one.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import type * as Net from "node:net"
import { WebSocket } from "ws"
import { type ConnectionSpans, makeConnectionSpans } from "./connectionSpan.js"

const SPAN_NAME = "bytechannel.server.connection"

/**
 * @internal
 * What the server does with one kind of connection, outside its fiber: shared by all of them,
 * so a connection holds no closure for it.
 */
export interface Peers<P> {
  /** Drops it (no close handshake). */
  readonly drop: (peer: P) => void
  /** Whether nobody has begun to close it: then its fiber ended before anyone could. */
  readonly unclosed: (peer: P) => boolean
  /** Calls `done` once the transport let go of it (at once if it has). */
  readonly release: (peer: P, done: () => void) => void
}

/** @internal ws connections: counted until ws let go of them (their TCP connection closed; ws's closeTimeout bounds the wait). */
export const wsPeers: Peers<WebSocket> = {
  drop: (ws) => ws.terminate(),
  unclosed: (ws) => ws.readyState === WebSocket.OPEN,
  release: (ws, done) => {
    if (ws.readyState === WebSocket.CLOSED) done()
    else ws.once("close", done)
  }
}

/** @internal TCP connections: counted until their fiber ends. */
export const tcpPeers: Peers<Net.Socket> = {
  drop: (socket) => socket.resetAndDestroy(),
  unclosed: (socket) => !socket.destroyed && !socket.writableEnded,
  release: (_, done) => done()
}

/**
 * @internal
 * The connections of one server: one fiber each, in its own span, interrupted (1001) when the
 * server's scope closes. A connection is counted from its start until its fiber ended and the
 * transport let go of it, and its span ends then. A fiber that ends with the connection still
 * open (it never got as far as closing it: interrupted at once, or a defect before the handler
 * ran) drops it. A failure to serve is logged, never raised; so is a tracer that throws. A
 * connection that arrives once the scope is closing is dropped: nobody would serve it.
 */
export const makeConnections = <R>() =>
  Effect.gen(function*() {
    const context = yield* Effect.context<R>()
    const runFork = Effect.runForkWith(context)
    const spans = makeConnectionSpans(context, SPAN_NAME, "server")
    const fibers = new Set<Fiber.Fiber<void>>()
    let open = 0
    let closed = false
    yield* Effect.addFinalizer(() =>
      Effect.suspend(() => {
        closed = true
        return Fiber.interruptAll(fibers)
      })
    )
    const warn = (message: string, cause: unknown): void => {
      runFork(Effect.logWarning(message, cause))
    }
    return {
      count: () => open,
      serve: <P>(
        attributes: Record<string, string>,
        peer: P,
        peers: Peers<P>,
        serve: Effect.Effect<void, never, R>
      ): void => {
        if (closed) return peers.drop(peer)
        let started: ReturnType<ConnectionSpans["start"]> | undefined
        if (spans !== undefined) {
          try {
            started = spans.start(attributes)
          } catch (cause) {
            // A tracer that throws: the connection is not served (nor counted).
            peers.drop(peer)
            return warn("bytechannel: could not start a connection's span", cause)
          }
        }
        const span = started?.span
        // Counted before the fiber runs: its first steps run at once, and may be observed.
        open++
        const fiber: Fiber.Fiber<void> = started === undefined
          // Tracing off, or not propagated here: as `withSpan` does it (the span ends with the fiber).
          ? runFork(Effect.withSpan(serve, SPAN_NAME, { kind: "server", captureStackTrace: false, attributes }))
          : Effect.runForkWith(started.context)(serve as Effect.Effect<void>)
        fibers.add(fiber)
        fiber.addObserver((exit) => {
          fibers.delete(fiber)
          if (exit._tag === "Failure" && !Cause.hasInterruptsOnly(exit.cause)) {
            warn("bytechannel: could not serve a connection", exit.cause)
          }
          if (peers.unclosed(peer)) peers.drop(peer)
          const done = () => {
            open--
            if (span === undefined) return
            try {
              spans!.end(span, exit)
            } catch (cause) {
              warn("bytechannel: could not end a connection's span", cause)
            }
          }
          // A connection whose fiber ends as the server shuts down is not waited for.
          if (closed) done()
          else peers.release(peer, done)
        })
      }
    }
  })

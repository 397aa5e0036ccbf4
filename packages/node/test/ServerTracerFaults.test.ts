// A tracer that throws when a NodeServer connection's span starts or ends (outside the
// connection's fiber): logged, never an exception out of ws's emitter, never a connection counted forever.
import { NodeServer } from "@bytechannel/node"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Tracer from "effect/Tracer"
import { WebSocket } from "ws"
import { eventually } from "./fixtures.js"

/** Connects, and resolves with the close code (or "error: ..." when the handshake fails). */
const closeOnce = (url: string) =>
  Effect.callback<number | string>((resume) => {
    const ws = new WebSocket(url)
    ws.on("error", (e) => resume(Effect.succeed(`error: ${e.message}`)))
    ws.on("close", (code) => resume(Effect.succeed(code)))
    return Effect.sync(() => ws.terminate())
  }).pipe(Effect.timeout("5 seconds"))

let endsTried = 0
const failingTracer = (where: "span" | "end") =>
  Tracer.make({
    span: (options) => {
      if (where === "span" && options.name === "bytechannel.server.connection") throw new Error("tracer span failed")
      const span = new Tracer.NativeSpan(options)
      if (where === "end" && options.name === "bytechannel.server.connection") {
        span.end = () => {
          endsTried++
          throw new Error("tracer end failed")
        }
      }
      return span
    }
  })

describe("a tracer that throws", () => {
  it.live("tracer.span throws for a connection: the connection is not counted forever (maxConnections still admits)", () =>
    Effect.gen(function*() {
      const server = yield* NodeServer.serve({ maxConnections: 1 }, () => Effect.void)
      yield* closeOnce(server.url)
      // The connection could not be served; it must not hold a slot of maxConnections forever.
      yield* eventually(() => server.connections() === 0, () => `connections() is ${server.connections()}`)
    }).pipe(Effect.scoped, Effect.withTracer(failingTracer("span"))))

  it.live("span.end throws for a connection: no exception escapes to the process (ws's event emitter)", () =>
    Effect.gen(function*() {
      const escaped: Array<unknown> = []
      const onUncaught = (error: unknown) => escaped.push(error)
      process.prependListener("uncaughtException", onUncaught)
      yield* Effect.addFinalizer(() => Effect.sync(() => process.off("uncaughtException", onUncaught)))
      const tried = endsTried
      const server = yield* NodeServer.serve({}, () => Effect.void)
      expect(yield* closeOnce(server.url)).toBe(1000)
      // The span's end runs in the same callback as the release (ws's "close" listener): a throw
      // out of it reaches "uncaughtException" before the next turn.
      yield* eventually(() => endsTried > tried || escaped.length > 0, "the span's end tried")
      expect(escaped.map(String)).toEqual([])
    }).pipe(Effect.scoped, Effect.withTracer(failingTracer("end"))))
})

// A NodeServer connection's span (made outside the fiber, from the server's context) against what
// `Effect.withSpan` makes in the same context.
import { NodeServer } from "@bytechannel/node"
import { describe, expect, it } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Tracer from "effect/Tracer"
import { WebSocket } from "ws"
import { eventually, recordingTracer } from "./fixtures.js"

const closeOnce = (url: string) =>
  Effect.callback<number>((resume) => {
    const ws = new WebSocket(url)
    ws.on("error", () => {})
    ws.on("close", (code) => resume(Effect.succeed(code)))
    return Effect.sync(() => ws.terminate())
  }).pipe(Effect.timeout("5 seconds"))

const summary = (span: Tracer.NativeSpan) => ({
  sampled: span.sampled,
  parent: Option.match(span.parent, { onNone: () => "none", onSome: (p) => p._tag === "Span" ? p.name : p.spanId }),
  links: span.links.length,
  timed: span.startTime !== BigInt(0),
  kind: span.kind,
  service: span.attributes.get("service"),
  ended: span.status._tag
})

type Wrap = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>

/** The connection's span and a reference `withSpan` span made in the same context. */
const compare = (wrap: Wrap) => {
  const { tracer, spans } = recordingTracer()
  return Effect.gen(function*() {
    const server = yield* NodeServer.serve({}, () => Effect.void)
    yield* Effect.withSpan(Effect.void, "bytechannel.server.connection", { kind: "server", captureStackTrace: false })
    const reference = spans.at(-1)!
    expect(yield* closeOnce(server.url)).toBe(1000)
    yield* eventually(() => server.connections() === 0, "released")
    const connection = spans.find((s) => s !== reference && s.name === "bytechannel.server.connection")!
    expect(connection).toBeDefined()
    return { connection: summary(connection), reference: summary(reference) }
  }).pipe(Effect.scoped, wrap, Effect.withTracer(tracer))
}

describe("connection span vs Effect.withSpan", () => {
  const cases: ReadonlyArray<readonly [string, Wrap]> = [
    ["a sampled parent with annotations", (e) => e.pipe(Effect.withSpan("root"), Effect.annotateSpans("service", "chat"))],
    ["an unsampled parent", (e) => e.pipe(Effect.withSpan("root", { sampled: false }))],
    ["no parent", (e) => e],
    ["MinimumTraceLevel above CurrentTraceLevel", (e) => e.pipe(Effect.withSpan("root"), Effect.provideService(Tracer.MinimumTraceLevel, "Error"))],
    ["timing disabled", (e) => e.pipe(Effect.withSpan("root"), Effect.withTracerTiming(false))],
    ["linked spans", (e) => Effect.flatMap(Effect.makeSpan("other"), (other) => e.pipe(Effect.linkSpans(other), Effect.withSpan("root")))],
    ["a parent that disables propagation", (e) => e.pipe(Effect.withSpan("root", { annotations: Context.make(Tracer.DisablePropagation, true) }), Effect.withSpan("outer"))]
  ]
  for (const [name, wrap] of cases) {
    it.live(name, () =>
      Effect.gen(function*() {
        const { connection, reference } = yield* compare(wrap)
        expect(connection).toEqual(reference)
      }))
  }

  it.live("a tracer with a context function sees the connection's span as the fiber's span while the handler runs", () => {
    const seen = new Set<string>()
    let inHandler = false
    const tracer = Tracer.make({
      span: (options) => new Tracer.NativeSpan(options),
      context: (primitive, fiber) => {
        if (inHandler) seen.add(fiber.cache.span?._tag === "Span" ? fiber.cache.span.name : "none")
        return primitive["~effect/Effect/evaluate"](fiber)
      }
    })
    return Effect.gen(function*() {
      const server = yield* NodeServer.serve({}, () =>
        Effect.sync(() => (inHandler = true)).pipe(Effect.andThen(Effect.yieldNow), Effect.andThen(Effect.sync(() => (inHandler = false)))))
      expect(yield* closeOnce(server.url)).toBe(1000)
      expect([...seen]).toEqual(["bytechannel.server.connection"])
    }).pipe(Effect.scoped, Effect.withSpan("root"), Effect.withTracer(tracer))
  })
})

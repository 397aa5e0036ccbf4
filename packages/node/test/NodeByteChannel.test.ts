import { describe, expect, it } from "@effect/vitest"
import { ByteChannel, MemorySocket } from "@bytechannel/core"
import { NodeByteChannel } from "@bytechannel/node"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as Option from "effect/Option"
import * as References from "effect/References"
import { once } from "node:events"

/** A fiber-local value of the caller's (what a FiberRef was on Effect 3). */
const RequestId = Context.Reference<string>("test/RequestId", { defaultValue: () => "none" })

interface Seen {
  readonly op: string
  readonly requestId: string
  readonly span: string | undefined
}

/**
 * A channel over a memory pair whose operations record the context they run in: a reference,
 * the parent span, and a log line through whatever logger is installed.
 */
const observedChannel = Effect.gen(function*() {
  const [a, b] = yield* MemorySocket.pair()
  const channel = ByteChannel.fromSocket(a)
  const seen: Array<Seen> = []
  const observe = (op: string) =>
    Effect.gen(function*() {
      const span = yield* Effect.currentSpan.pipe(Effect.option)
      seen.push({ op, requestId: yield* RequestId, span: Option.getOrUndefined(Option.map(span, (s) => s.name)) })
      yield* Effect.logDebug(`duplex ${op}`)
    })
  const observed: ByteChannel.ByteChannel = {
    ...channel,
    send: (bytes) => Effect.andThen(observe("send"), channel.send(bytes)),
    readChunk: (max) => Effect.andThen(observe("read"), channel.readChunk(max)),
    close: (options) => Effect.andThen(observe("close"), channel.close(options))
  }
  return { observed, peer: ByteChannel.fromSocket(b), seen }
})

describe("NodeByteChannel.toDuplex", () => {
  it.effect("runs reads, writes and close with the caller's context: tracer, logger and references are kept", () =>
    Effect.gen(function*() {
      const { observed, peer, seen } = yield* observedChannel
      const logged: Array<string> = []
      const logger = Logger.make(({ message }) => logged.push(Array.isArray(message) ? message.join(" ") : String(message)))
      const duplex = yield* NodeByteChannel.toDuplex(observed).pipe(
        Effect.withSpan("caller"),
        Effect.provideService(RequestId, "req-42"),
        Effect.provideService(References.CurrentLoggers, new Set([logger])),
        Effect.provideService(References.MinimumLogLevel, "Debug")
      )
      // Driven from plain Node callbacks, outside any fiber of the caller.
      yield* Effect.promise(() => new Promise<void>((resolve, reject) => duplex.write(Buffer.from("ping"), (e) => (e ? reject(e) : resolve()))))
      yield* peer.send(new TextEncoder().encode("pong"))
      const [chunk] = yield* Effect.promise(() => once(duplex, "data"))
      expect(Buffer.from(chunk as Uint8Array).toString()).toBe("pong")
      yield* Effect.promise(() => new Promise<void>((resolve) => duplex.end(resolve)))

      expect(seen.map((s) => s.op)).toEqual(expect.arrayContaining(["send", "read", "close"]))
      for (const s of seen) expect(s).toMatchObject({ requestId: "req-42", span: "caller" })
      expect(logged).toEqual(expect.arrayContaining(["duplex send", "duplex read", "duplex close"]))
    }))

  it.effect("toDuplexWith runs with the context it is given", () =>
    Effect.gen(function*() {
      const { observed, seen } = yield* observedChannel
      const context = yield* Effect.context<never>().pipe(Effect.provideService(RequestId, "given"))
      const duplex = NodeByteChannel.toDuplexWith(observed, context)
      yield* Effect.promise(() => new Promise<void>((resolve, reject) => duplex.write(Buffer.from("x"), (e) => (e ? reject(e) : resolve()))))
      expect(seen).toEqual([{ op: "send", requestId: "given", span: undefined }])
      const plain = NodeByteChannel.toDuplexWith(observed, Context.empty())
      yield* Effect.promise(() => new Promise<void>((resolve, reject) => plain.write(Buffer.from("y"), (e) => (e ? reject(e) : resolve()))))
      expect(seen[1]).toEqual({ op: "send", requestId: "none", span: undefined })
      duplex.destroy()
      plain.destroy()
    }))
})

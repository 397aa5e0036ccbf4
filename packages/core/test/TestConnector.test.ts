import { describe, expect, it } from "@effect/vitest"
import * as ByteChannel from "@bytechannel/core/ByteChannel"
import * as Connector from "@bytechannel/core/Connector"
import * as TestConnector from "@bytechannel/core/TestConnector"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"

const encode = (s: string) => new TextEncoder().encode(s)
const decode = (chunks: ReadonlyArray<Uint8Array>) => new TextDecoder().decode(Buffer.concat(chunks))

// The program under test: written once against `Connector`, run against any layer.
const shout = (text: string) =>
  Effect.gen(function*() {
    const channel = yield* ByteChannel.connect("ws://example.test/shout")
    yield* channel.send(encode(text))
    const reply = yield* channel.read.pipe(Stream.runCollect)
    return decode(reply)
  }).pipe(Effect.scoped)

describe("TestConnector", () => {
  it.effect("runs the same program text against an in-memory server", () =>
    Effect.gen(function*() {
      const reply = yield* shout("hello")
      expect(reply).toBe("HELLO")
    }).pipe(
      Effect.provide(TestConnector.layer((channel) =>
        Effect.gen(function*() {
          const chunk = yield* channel.readChunk()
          if (chunk._tag === "Some") yield* channel.send(encode(new TextDecoder().decode(chunk.value).toUpperCase()))
          // Completing the handler closes the server side with 1000: the client reads EOF.
        })
      ))
    ))

  it.effect("gives the handler the URL and protocols, and every connect its own server scope", () =>
    Effect.gen(function*() {
      const seen: Array<string> = []
      const layer = TestConnector.layer((channel, request) =>
        Effect.gen(function*() {
          seen.push(`${request.url.pathname} ${request.protocols.join(",")}`)
          yield* Effect.addFinalizer(() => Effect.sync(() => seen.push("server scope closed")))
          yield* channel.send(encode(request.url.pathname))
        })
      )
      const replies = yield* Effect.all([
        ByteChannel.connect("ws://x/a", { protocols: ["chat.v1"] }).pipe(Effect.flatMap((c) => Stream.runCollect(c.read)), Effect.scoped),
        ByteChannel.connect("ws://x/b").pipe(Effect.flatMap((c) => Stream.runCollect(c.read)), Effect.scoped)
      ]).pipe(Effect.provide(layer))
      expect(replies.map(decode)).toEqual(["/a", "/b"])
      expect(seen.filter((s) => s === "server scope closed")).toHaveLength(2)
      expect(seen).toContain("/a chat.v1")
    }))

  it.effect("a failing handler closes the connection with 1011", () =>
    Effect.gen(function*() {
      const error = yield* ByteChannel.connect("ws://x/").pipe(
        Effect.flatMap((channel) => Effect.flip(Stream.runDrain(channel.read))),
        Effect.scoped,
        Effect.provide(TestConnector.layer(() => Effect.fail("boom")))
      )
      expect(error).toMatchObject({ _tag: "SocketError", reason: "Closed", code: 1011 })
    }))

  it.effect("releasing the layer closes open server sides with 1001", () =>
    Effect.gen(function*() {
      const connected = yield* Deferred.make<void>()
      const layer = TestConnector.layer(() => Effect.andThen(Deferred.succeed(connected, undefined), Effect.never))
      const clientScope = yield* Scope.make()
      const layerScope = yield* Scope.make()
      const connector = Context.get(yield* Layer.buildWithScope(layer, layerScope), Connector.Connector)
      const socket = yield* Scope.provide(connector.connect("ws://x/"), clientScope)
      yield* Deferred.await(connected)
      yield* Scope.close(layerScope, Exit.void)
      expect(yield* socket.closed).toEqual({ code: 1001, reason: "server shutting down", wasClean: true, local: false })
      yield* Scope.close(clientScope, Exit.void)
    }))

  it.effect("an invalid URL is a typed Open error", () =>
    Effect.gen(function*() {
      const error = yield* Connector.connect("not a url").pipe(
        Effect.flip,
        Effect.scoped,
        Effect.provide(TestConnector.layer(() => Effect.void))
      )
      expect(error).toMatchObject({ _tag: "SocketError", reason: "Open" })
    }))
})

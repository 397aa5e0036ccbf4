import { describe, expect, it } from "@effect/vitest"
import { ByteChannel, Codec } from "@bytechannel/core"
import * as PlatformSocket from "@bytechannel/core/PlatformSocket"
import { NodeConnector } from "@bytechannel/node"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import { createServer } from "node:http"

// An @effect/platform HttpServer with a route that upgrades to a ByteChannel.
const app = HttpRouter.empty.pipe(
  HttpRouter.get("/lines", PlatformSocket.upgrade((channel) => {
    const lines = ByteChannel.framed(channel, Codec.lines())
    return lines.messages.pipe(Stream.map((line) => `echo: ${line}`), Stream.run(lines.sink))
  }))
)
const ServerLive = NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" })

describe("PlatformSocket: an @effect/platform HttpServer route upgrading to a ByteChannel", () => {
  it.live("lines round-trip through HttpServerRequest.upgrade", () =>
    Effect.gen(function*() {
      yield* HttpServer.serveEffect(app)
      const port = yield* HttpServer.addressWith((address) => Effect.succeed(address._tag === "TcpAddress" ? address.port : 0))
      const replies = yield* Effect.gen(function*() {
        const lines = ByteChannel.framed(yield* ByteChannel.connect(`ws://127.0.0.1:${port}/lines`), Codec.lines())
        yield* Effect.forEach(["one", "two", "three"], lines.send)
        return yield* lines.messages.pipe(Stream.take(3), Stream.runCollect)
      }).pipe(Effect.scoped, Effect.provide(NodeConnector.layer))
      expect(Chunk.toReadonlyArray(replies)).toEqual(["echo: one", "echo: two", "echo: three"])
    }).pipe(Effect.scoped, Effect.provide(Layer.fresh(ServerLive))))

  it.live("a close code from the client reaches the handler's channel", () =>
    Effect.gen(function*() {
      let seen: ByteChannel.ByteChannel | undefined
      const closing = HttpRouter.empty.pipe(
        HttpRouter.get("/hold", PlatformSocket.upgrade((channel) => {
          seen = channel
          return Effect.asVoid(Stream.runDrain(channel.read).pipe(Effect.either))
        }))
      )
      yield* HttpServer.serveEffect(closing)
      const port = yield* HttpServer.addressWith((address) => Effect.succeed(address._tag === "TcpAddress" ? address.port : 0))
      yield* Effect.gen(function*() {
        const channel = yield* ByteChannel.connect(`ws://127.0.0.1:${port}/hold`)
        yield* channel.send(new Uint8Array([1]))
        yield* channel.close({ code: 4002, reason: "later" })
      }).pipe(Effect.scoped, Effect.provide(NodeConnector.layer))
      const info = yield* Effect.suspend(() => seen!.closed)
      expect(info).toMatchObject({ code: 4002, reason: "later" })
    }).pipe(Effect.scoped, Effect.provide(Layer.fresh(ServerLive))))

  it.live("a transport that cannot pause keeps its bound whatever the options say (1009, never an unbounded queue)", () =>
    Effect.gen(function*() {
      // A user (or a cast from JavaScript) asking for "pause" must not reach a transport that cannot pause.
      const unsafe = { receiveHighWaterMessages: 4, receiveOverflow: "pause" } as Parameters<typeof PlatformSocket.upgrade>[1]
      const hold = HttpRouter.empty.pipe(
        HttpRouter.get("/never-reads", PlatformSocket.upgrade((channel) => Effect.asVoid(channel.closed), unsafe))
      )
      yield* HttpServer.serveEffect(hold)
      const port = yield* HttpServer.addressWith((address) => Effect.succeed(address._tag === "TcpAddress" ? address.port : 0))
      const info = yield* Effect.gen(function*() {
        const channel = yield* ByteChannel.connect(`ws://127.0.0.1:${port}/never-reads`)
        yield* Effect.forEach(Array.from({ length: 16 }, (_, i) => new Uint8Array([i])), channel.send, { discard: true })
        return yield* channel.closed.pipe(Effect.timeoutFail({ duration: "10 seconds", onTimeout: () => "the server kept queueing" }))
      }).pipe(Effect.scoped, Effect.provide(NodeConnector.layer))
      expect(info).toMatchObject({ code: 1009 })
    }).pipe(Effect.scoped, Effect.provide(Layer.fresh(ServerLive))), 30_000)
})

/**
 * Interop with Effect 4's `effect/socket`, both ways: an effect `Socket` as a MessageSocket
 * (`EffectSocket.fromSocket`, and `EffectSocket.upgrade` as an `effect/http` route), a ByteChannel
 * as an effect `Socket` (`EffectSocket.toSocket`), and `NodeServer` as a `SocketServer`
 * (`NodeSocketServer`). Real servers on 127.0.0.1 with OS-chosen ports; every wait bounded.
 * (The cases of the former PlatformSocket.test.ts are the first describe block.)
 */
import { describe, expect, it } from "@effect/vitest"
import { ByteChannel, Codec, type MessageSocket } from "@bytechannel/core"
import * as EffectSocket from "@bytechannel/core/EffectSocket"
import { NodeConnector, NodeServer } from "@bytechannel/node"
import * as NodeSocketServer from "@bytechannel/node/NodeSocketServer"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeSocket from "@effect/platform-node/NodeSocket"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as HttpRouter from "effect/http/HttpRouter"
import * as HttpServer from "effect/http/HttpServer"
import type * as HttpServerRequest from "effect/http/HttpServerRequest"
import type * as HttpServerResponse from "effect/http/HttpServerResponse"
import * as Layer from "effect/Layer"
import type * as NetAddress from "effect/net/NetAddress"
import * as Option from "effect/Option"
import * as Socket from "effect/socket/Socket"
import * as SocketServer from "effect/socket/SocketServer"
import * as Stream from "effect/Stream"
import { createServer } from "node:http"
import * as Net from "node:net"
import { awaitSuspended, concat } from "../../core/test/utils.js"

const KiB = 1024
const WAIT = "10 seconds"
const utf8 = new TextEncoder()
const fromUtf8 = new TextDecoder()

/** A bounded wait: a defect naming what did not come, never a hang. */
const within = <A, E, R>(what: string, effect: Effect.Effect<A, E, R>) =>
  Effect.timeoutOrElse(effect, { duration: WAIT, orElse: () => Effect.die(new Error(`no ${what} within ${WAIT}`)) })

/** Lets every other ready fiber run `n` times (no clock involved). */
const turns = (n: number) =>
  Effect.gen(function*() {
    for (let i = 0; i < n; i++) yield* Effect.yieldNow
  })

/** Yields until `condition` holds, at most 10,000 turns. */
const turnsUntil = (condition: () => boolean, what: string) =>
  Effect.gen(function*() {
    for (let i = 0; i < 10_000; i++) {
      if (condition()) return
      yield* Effect.yieldNow
    }
    return yield* Effect.die(new Error(`never: ${what}`))
  })

const portOf = (address: NetAddress.SocketAddress) => {
  if (address._tag === "UnixPathAddress") throw new Error("expected an internet address")
  return address.port
}

/** The i-th message of a flood: bytes that say where they belong. */
const floodMessage = (i: number, size: number) => {
  const bytes = new Uint8Array(size)
  for (let j = 0; j < size; j++) bytes[j] = (i * 31 + j) & 0xff
  return bytes
}

/** A pulled batch as bytes: toSocket's reader yields bytes only (a string would fail here). */
const bytesOf = (frames: ReadonlyArray<Uint8Array | string>): Array<Uint8Array> =>
  frames.map((frame) => {
    if (typeof frame === "string") throw new Error(`a string frame: ${JSON.stringify(frame)}`)
    return frame
  })

const closeErrorOf = (error: Socket.SocketError) => {
  expect(error.reason._tag).toBe("SocketCloseError")
  const reason = error.reason as Socket.SocketCloseError
  return { code: reason.code, closeReason: reason.closeReason }
}

/** An effect/http server (NodeHttpServer) serving `routes` on 127.0.0.1; its port. Stops with the scope. */
const serveRoutes = (routes: Layer.Layer<never, never, HttpRouter.HttpRouter>) =>
  Effect.gen(function*() {
    const context = yield* Layer.build(
      NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1", gracefulShutdownTimeout: "1 second" })
    )
    const server = Context.get(context, HttpServer.HttpServer)
    const app = yield* HttpRouter.toHttpEffect(routes)
    yield* server.serve(app)
    return portOf(server.address)
  })

const route = (
  path: `/${string}`,
  handler: Effect.Effect<HttpServerResponse.HttpServerResponse, never, HttpServerRequest.HttpServerRequest>
) =>
  HttpRouter.add("GET", path, handler)

/** A NodeServer whose handler hands each channel over and holds it until it closes. */
const handOverServer = (options: NodeServer.ServeOptions = {}) =>
  Effect.gen(function*() {
    const accepted = yield* Deferred.make<ByteChannel.ByteChannel>()
    const server = yield* NodeServer.serve(options, (channel) =>
      Effect.andThen(Deferred.succeed(accepted, channel), Effect.asVoid(channel.closed)))
    return { url: server.url, accepted: within("connection", Deferred.await(accepted)) }
  })

/** A ByteChannel client (NodeConnector) as an effect Socket, with the client's bounds. */
const connectSocket = (url: string, bounds: MessageSocket.SocketOptions = {}) =>
  Effect.gen(function*() {
    const messages = yield* NodeConnector.make(bounds).connect(url)
    const channel = ByteChannel.fromSocket(messages)
    return { channel, socket: EffectSocket.toSocket(channel) }
  })

describe("EffectSocket.upgrade: an effect/http route upgrading to a ByteChannel", () => {
  it.live("lines round-trip through HttpServerRequest.upgrade", () =>
    Effect.gen(function*() {
      const port = yield* serveRoutes(route(
        "/lines",
        EffectSocket.upgrade((channel) => {
          const lines = ByteChannel.framed(channel, Codec.lines())
          return lines.messages.pipe(Stream.map((line) => `echo: ${line}`), Stream.run(lines.sink))
        })
      ))
      const replies = yield* Effect.gen(function*() {
        const lines = ByteChannel.framed(yield* ByteChannel.connect(`ws://127.0.0.1:${port}/lines`), Codec.lines())
        yield* Effect.forEach(["one", "two", "three"], lines.send)
        return yield* within("replies", lines.messages.pipe(Stream.take(3), Stream.runCollect))
      }).pipe(Effect.scoped, Effect.provide(NodeConnector.layer))
      expect(replies).toEqual(["echo: one", "echo: two", "echo: three"])
    }))

  it.live("a close code and reason from the client reach the handler's channel", () =>
    Effect.gen(function*() {
      const seen = yield* Deferred.make<ByteChannel.ByteChannel>()
      const port = yield* serveRoutes(route(
        "/hold",
        EffectSocket.upgrade((channel) =>
          Effect.andThen(Deferred.succeed(seen, channel), Effect.ignore(Stream.runDrain(channel.read)))
        )
      ))
      yield* Effect.gen(function*() {
        const channel = yield* ByteChannel.connect(`ws://127.0.0.1:${port}/hold`)
        yield* channel.send(new Uint8Array([1]))
        yield* within("close", channel.close({ code: 4002, reason: "later" }))
      }).pipe(Effect.scoped, Effect.provide(NodeConnector.layer))
      const info = yield* within("server close", Effect.flatMap(Deferred.await(seen), (channel) => channel.closed))
      expect(info).toMatchObject({ code: 4002, reason: "later", wasClean: true })
    }))

  it.live("a client that drops the connection: the handler's read fails with 1006, a close neither side sent", () =>
    Effect.gen(function*() {
      const seen = yield* Deferred.make<readonly [unknown, MessageSocket.CloseInfo]>()
      const port = yield* serveRoutes(route(
        "/drop",
        EffectSocket.upgrade((channel) =>
          Effect.flatMap(
            Effect.flip(Stream.runDrain(channel.read)),
            (error) => Effect.flatMap(channel.closed, (info) => Deferred.succeed(seen, [error, info] as const))
          )
        )
      ))
      const closed = yield* Effect.gen(function*() {
        const channel = yield* ByteChannel.connect(`ws://127.0.0.1:${port}/drop`)
        yield* channel.send(new Uint8Array([1]))
        yield* channel.socket.terminate
        return yield* within("the handler's read to fail", Deferred.await(seen))
      }).pipe(Effect.scoped, Effect.provide(NodeConnector.layer))
      expect(closed[0]).toMatchObject({ _tag: "SocketError", reason: "Closed", code: 1006 })
      expect(closed[1]).toEqual({ code: 1006, reason: "", wasClean: false, local: false })
    }))

  it.live("a handler that does not read holds the socket at its receive bound, then gets every message (pulled, never failed with 1009)", () =>
    Effect.gen(function*() {
      const pausedAt = yield* Deferred.make<MessageSocket.SocketEvent>()
      const port = yield* serveRoutes(route(
        "/slow",
        EffectSocket.upgrade((channel) =>
          Effect.gen(function*() {
            const events = yield* Effect.forkScoped(Stream.runForEach(channel.events, (event) =>
              event._tag === "ReceivePaused" ? Deferred.succeed(pausedAt, event) : Effect.void))
            yield* awaitSuspended(events)
            yield* channel.send(utf8.encode("ready"))
            yield* Deferred.await(pausedAt)
            // Only now read: all 64, in order, then say how many arrived.
            const got: Array<Uint8Array> = []
            while (got.length < 64) got.push(Option.getOrThrow(yield* channel.readChunk()))
            yield* channel.send(concat(got))
          }), { receiveHighWaterMessages: 4 })
      ))
      const reply = yield* Effect.gen(function*() {
        const channel = yield* ByteChannel.connect(`ws://127.0.0.1:${port}/slow`)
        expect(fromUtf8.decode(Option.getOrThrow(yield* within("ready", channel.readChunk())))).toBe("ready")
        yield* Effect.forEach(Array.from({ length: 64 }, (_, i) => new Uint8Array([i])), channel.send, { discard: true })
        return yield* within("the handler's reply", channel.readChunk())
      }).pipe(Effect.scoped, Effect.provide(NodeConnector.layer))
      // The engine paused at its bound (what the socket had pulled in one batch may follow).
      expect(yield* Deferred.await(pausedAt)).toMatchObject({ _tag: "ReceivePaused", messages: 4 })
      expect(Array.from(Option.getOrThrow(reply))).toEqual(Array.from({ length: 64 }, (_, i) => i))
    }))

  it.live("a request that is not an upgrade is answered with 400", () =>
    Effect.gen(function*() {
      const port = yield* serveRoutes(route("/ws", EffectSocket.upgrade(() => Effect.void)))
      const response = yield* within("response", Effect.promise(() => fetch(`http://127.0.0.1:${port}/ws`)))
      expect(response.status).toBe(400)
    }))
})

describe("EffectSocket.fromSocket: a socket made by effect/socket as a MessageSocket", () => {
  /** An effect/socket WebSocket client (Node's global WebSocket) to `url`, as a MessageSocket. */
  const effectClient = (url: string) =>
    Effect.flatMap(Socket.makeWebSocket(url), (socket) => EffectSocket.fromSocket(socket)).pipe(
      Effect.provide(NodeSocket.layerWebSocketConstructor)
    )

  it.live("text and binary stay apart both ways; the peer's close code and reason reach closed, and read ends", () =>
    Effect.gen(function*() {
      const server = yield* handOverServer({ path: "/x" })
      const client = yield* effectClient(server.url)
      const peer = yield* server.accepted
      yield* peer.socket.send("héllo")
      yield* peer.socket.send(new Uint8Array([1, 2, 3]))
      expect(yield* within("text", client.receive)).toEqual(Option.some("héllo"))
      expect(Option.map(yield* within("binary", client.receive), (m) => Array.from(m as Uint8Array))).toEqual(Option.some([1, 2, 3]))
      yield* client.send("hi")
      yield* client.send(new Uint8Array([9]))
      expect(yield* within("text at the peer", peer.socket.receive)).toEqual(Option.some("hi"))
      expect(Option.map(yield* within("binary at the peer", peer.socket.receive), (m) => Array.from(m as Uint8Array))).toEqual(
        Option.some([9])
      )
      yield* Effect.forkChild(peer.close({ code: 1000, reason: "bye" }))
      const channel = ByteChannel.fromSocket(client)
      expect(yield* within("EOF", Stream.runCollect(channel.read))).toEqual([])
      expect(yield* within("closed", client.closed)).toEqual({ code: 1000, reason: "bye", wasClean: true, local: false })
    }))

  it.live("a lost connection is 1006 and fails read, never a clean close", () =>
    Effect.gen(function*() {
      const server = yield* handOverServer()
      const client = yield* effectClient(server.url)
      const channel = ByteChannel.fromSocket(client, { cleanCloseCodes: [1000, 1006] })
      yield* (yield* server.accepted).socket.terminate
      const error = yield* within("failure", Effect.flip(Stream.runDrain(channel.read)))
      expect(error).toMatchObject({ _tag: "SocketError", reason: "Closed", code: 1006 })
      expect(yield* within("closed", client.closed)).toMatchObject({ code: 1006, wasClean: false })
    }))

  it.live("a socket that cannot open fails with SocketError Open", () =>
    Effect.gen(function*() {
      // A port that was free a moment ago: nothing listens there now.
      const port = yield* Effect.callback<number>((resume) => {
        const probe = Net.createServer().listen(0, "127.0.0.1", () => {
          const { port } = probe.address() as Net.AddressInfo
          probe.close(() => resume(Effect.succeed(port)))
        })
      })
      const error = yield* within("failure", Effect.flip(Effect.scoped(effectClient(`ws://127.0.0.1:${port}/`))))
      expect(error).toMatchObject({ _tag: "SocketError", reason: "Open" })
    }))

  /** An in-memory effect Socket: every pull is ready at once (one frame); writes are recorded. */
  const fakeSocket = (gate?: Deferred.Deferred<void>) => {
    const state = {
      pulls: 0,
      writeAlls: 0,
      written: [] as Array<Uint8Array | string | Socket.CloseEvent>,
      closed: undefined as Socket.CloseEvent | undefined
    }
    const socket = Socket.make({
      reader: Effect.succeed({
        pull: Effect.suspend(() =>
          state.closed !== undefined
            ? Effect.fail(
              new Socket.SocketError({
                reason: new Socket.SocketCloseError({ code: state.closed.code, closeReason: state.closed.reason })
              })
            )
            : Effect.sync(() => [new Uint8Array([++state.pulls])] as const)
        ),
        upgrade: Socket.SocketUpgradeError.unsupported
      }),
      writer: Effect.succeed({
        write: (chunk) =>
          Effect.sync(() => {
            state.written.push(chunk)
            if (Socket.isCloseEvent(chunk)) state.closed = chunk
          }),
        writeAll: (chunks) =>
          Effect.andThen(
            gate ? Deferred.await(gate) : Effect.void,
            Effect.sync(() => {
              state.writeAlls++
              state.written.push(...chunks)
            })
          )
      })
    })
    return { socket, state }
  }

  it.effect("pulls the socket only while the receive queue has room, and again once it is read", () =>
    Effect.gen(function*() {
      const { socket, state } = fakeSocket()
      const messages = yield* EffectSocket.fromSocket(socket, { receiveHighWaterMessages: 8, receiveResumeRatio: 0.5 })
      yield* turnsUntil(() => state.pulls >= 8, "8 pulls")
      // A socket always ready to give more: what stops the pulls is the bound, however long we wait.
      yield* turns(500)
      expect(state.pulls).toBe(8)
      const taken: Array<number> = []
      for (let i = 0; i < 4; i++) taken.push((Option.getOrThrow(yield* messages.receive) as Uint8Array)[0]!)
      expect(taken).toEqual([1, 2, 3, 4])
      // Down to the low-water mark (4): pulled again, up to the bound.
      yield* turnsUntil(() => state.pulls >= 12, "pulls after the resume")
      yield* turns(500)
      expect(state.pulls).toBe(12)
    }))

  it.effect("writes in order, a run of messages in one writeAll, the close after them; close completes with the socket's answer", () =>
    Effect.gen(function*() {
      const { socket, state } = fakeSocket()
      const messages = yield* EffectSocket.fromSocket(socket)
      yield* messages.sendAll(["a", new Uint8Array([1]), new Uint8Array([2])])
      const info = yield* within("close", messages.close({ code: 4000, reason: "bye" }))
      expect(info).toEqual({ code: 4000, reason: "bye", wasClean: true, local: true })
      expect(state.writeAlls).toBe(1)
      expect(state.written.slice(0, 3)).toEqual(["a", new Uint8Array([1]), new Uint8Array([2])])
      expect(state.written[3]).toMatchObject({ code: 4000, reason: "bye" })
      expect(state.written).toHaveLength(4)
    }))

  it.effect("send waits while the socket's writer has not taken what was sent (the send backpressure an effect socket gives)", () =>
    Effect.gen(function*() {
      const gate = yield* Deferred.make<void>()
      yield* Effect.addFinalizer(() => Deferred.succeed(gate, undefined))
      const { socket, state } = fakeSocket(gate)
      const messages = yield* EffectSocket.fromSocket(socket, { sendHighWaterMark: 4, receiveHighWaterMessages: 1 })
      yield* messages.send(new Uint8Array(4))
      const second = yield* Effect.forkChild(messages.send(new Uint8Array(4)))
      yield* awaitSuspended(second)
      expect(state.writeAlls).toBe(0)
      yield* Deferred.succeed(gate, undefined)
      yield* within("second send", Fiber.join(second))
      yield* turnsUntil(() => state.writeAlls === 2, "both written")
    }))

  it.live("a writer that takes what it is given slowly (a slow reader behind it) is never a stall: its progress shows run by run", () =>
    Effect.gen(function*() {
      let written = 0
      // The peer reads 4 KiB every 5 ms; 1.6 MiB to send past a 1 MiB high-water mark, and a
      // send-stall timeout of 1 s: shorter than the writer takes for a whole buffer (1.3 s).
      const slowly = () => Effect.andThen(Effect.sleep("5 millis"), Effect.sync(() => written++))
      const socket = Socket.make({
        reader: Effect.succeed({ pull: Effect.never, upgrade: Socket.SocketUpgradeError.unsupported }),
        writer: Effect.succeed({
          write: (chunk) => Socket.isCloseEvent(chunk) ? Effect.void : slowly(),
          writeAll: (chunks) => Effect.forEach(chunks, slowly, { discard: true })
        })
      })
      const messages = yield* EffectSocket.fromSocket(socket, { sendHighWaterMark: 1024 * 1024, sendStallTimeout: "1 second" })
      const exit = yield* within("the sends", Effect.exit(messages.sendAll(Array.from({ length: 400 }, () => new Uint8Array(4096)))))
      expect(exit._tag === "Failure" ? String(exit.cause) : "sent", "a reader draining 800 KB/s was dropped as stalled").toBe("sent")
      // The writer goes on with what is queued (about 2 s of it): a bounded wait on the count.
      for (let i = 0; i < 1000 && written < 400; i++) yield* Effect.sleep("10 millis")
      expect(written).toBe(400)
      yield* messages.terminate
    }))
})

describe("EffectSocket.toSocket: a ByteChannel as an effect/socket Socket", () => {
  it.live("reader and writer: bytes and strings out, one chunk per message in", () =>
    Effect.gen(function*() {
      const server = yield* NodeServer.serve({}, (channel) => Stream.run(channel.read, channel.write))
      const { socket } = yield* connectSocket(server.url)
      const { pull } = yield* socket.reader
      const writer = yield* socket.writer
      yield* writer.write(new Uint8Array([1, 2, 3]))
      yield* writer.write("héllo")
      yield* writer.writeAll([new Uint8Array([4]), "z"])
      const frames: Array<Uint8Array> = []
      while (frames.length < 4) frames.push(...bytesOf(yield* within("frames", pull)))
      expect(frames.map((frame) => Array.from(frame))).toEqual([[1, 2, 3], Array.from(utf8.encode("héllo")), [4], [122]])
    }))

  it.live("the peer's close fails pull with SocketCloseError carrying its code and reason; a later reader fails with it", () =>
    Effect.gen(function*() {
      const server = yield* handOverServer()
      const { socket } = yield* connectSocket(server.url)
      const peer = yield* server.accepted
      yield* Effect.forkChild(peer.close({ code: 4001, reason: "bye" }))
      const first = yield* within("failure", Effect.flip(Effect.scoped(Effect.flatMap(socket.reader, ({ pull }) => Effect.forever(pull)))))
      expect(closeErrorOf(first)).toEqual({ code: 4001, closeReason: "bye" })
      const again = yield* Effect.flip(Effect.scoped(socket.reader))
      expect(closeErrorOf(again)).toEqual({ code: 4001, closeReason: "bye" })
      // And writes fail at once with the same close.
      const write = yield* Effect.flip(Effect.scoped(Effect.flatMap(socket.writer, (w) => w.write(new Uint8Array([1])))))
      expect(closeErrorOf(write)).toEqual({ code: 4001, closeReason: "bye" })
    }))

  it.live("a lost connection fails pull with SocketCloseError 1006", () =>
    Effect.gen(function*() {
      const server = yield* handOverServer()
      const { socket } = yield* connectSocket(server.url)
      const { pull } = yield* socket.reader
      yield* (yield* server.accepted).socket.terminate
      expect(closeErrorOf(yield* within("failure", Effect.flip(Effect.forever(pull))))).toEqual({ code: 1006, closeReason: undefined })
    }))

  it.live("the writer waits on the channel's send backpressure while the peer reads nothing; every byte arrives once it reads", () =>
    Effect.gen(function*() {
      const go = yield* Deferred.make<void>()
      const total = 512 * 32 * KiB
      const received = yield* Deferred.make<Uint8Array>()
      const server = yield* NodeServer.serve({ receiveHighWaterMessages: 4 }, (channel) =>
        Effect.gen(function*() {
          yield* Deferred.await(go)
          const chunks: Array<Uint8Array> = []
          let bytes = 0
          while (bytes < total) {
            const chunk = Option.getOrThrow(yield* channel.readChunk())
            chunks.push(chunk)
            bytes += chunk.length
          }
          yield* Deferred.succeed(received, concat(chunks))
        }))
      const { socket } = yield* connectSocket(server.url, { sendHighWaterMark: 64 * KiB })
      const writer = yield* socket.writer
      const messages = Array.from({ length: 512 }, (_, i) => floodMessage(i, 32 * KiB))
      let handedOver = 0
      const writing = yield* Effect.forkChild(Effect.forEach(messages, (message) =>
        Effect.tap(writer.write(message), () => Effect.sync(() => (handedOver += message.length))), { discard: true }))
      // Suspended in `write`: a writer that did not wait would have handed all 16 MiB over.
      yield* awaitSuspended(writing)
      expect(handedOver).toBeLessThan(total)
      yield* Deferred.succeed(go, undefined)
      const bytes = yield* within("every byte at the peer", Deferred.await(received))
      yield* within("the writer", Fiber.join(writing))
      expect(Buffer.from(bytes).equals(Buffer.from(concat(messages)))).toBe(true)
    }))

  it.live("the reader reads nothing ahead: the peer's sends wait while nobody pulls, and every byte comes in order when pulled", () =>
    Effect.gen(function*() {
      const total = 512 * 32 * KiB
      const probeSize = total
      const sender = yield* Deferred.make<{ readonly fiber: Fiber.Fiber<void, unknown>; readonly handedOver: () => number }>()
      const probed = yield* Deferred.make<void>()
      const server = yield* NodeServer.serve({ sendHighWaterMark: 64 * KiB }, (channel) =>
        Effect.gen(function*() {
          let handedOver = 0
          const fiber = yield* Effect.forkChild(Effect.forEach(
            Array.from({ length: 512 }, (_, i) => i),
            (i) => Effect.tap(channel.send(floodMessage(i, 32 * KiB)), () => Effect.sync(() => (handedOver += 32 * KiB))),
            { discard: true }
          ))
          yield* Deferred.succeed(sender, { fiber, handedOver: () => handedOver })
          // Reads the client's probe, the other way.
          let bytes = 0
          while (bytes < probeSize) bytes += Option.getOrThrow(yield* channel.readChunk()).length
          yield* Deferred.succeed(probed, undefined)
          yield* Effect.asVoid(channel.closed)
        }))
      const { socket } = yield* connectSocket(server.url, { receiveHighWaterMessages: 4, receiveHighWaterBytes: 256 * KiB })
      const { pull } = yield* socket.reader
      const first = bytesOf(yield* within("first frame", pull))
      const flood = yield* within("sender", Deferred.await(sender))
      // Nobody pulls now. A clock made of traffic: the client sends a probe as large as the flood
      // the other way, and the server reads it all. A reader that read ahead would have taken the
      // whole flood meanwhile; one that does not leaves the server holding most of it.
      const writer = yield* socket.writer
      yield* within("the probe", writer.writeAll(Array.from({ length: 64 }, () => new Uint8Array(probeSize / 64)) as [Uint8Array]))
      yield* within("the probe at the server", Deferred.await(probed))
      expect(total - flood.handedOver(), "bytes of the flood the server still holds").toBeGreaterThanOrEqual(4 * 1024 * KiB)
      expect(flood.fiber.pollUnsafe(), "the server's sender is still waiting").toBeUndefined()
      const chunks: Array<Uint8Array> = [...first]
      let bytes = first[0]!.length
      while (bytes < total) {
        const frames = bytesOf(yield* within("frames", pull))
        for (const frame of frames) {
          chunks.push(frame)
          bytes += frame.length
        }
      }
      const expected = concat(Array.from({ length: 512 }, (_, i) => floodMessage(i, 32 * KiB)))
      expect(Buffer.from(concat(chunks)).equals(Buffer.from(expected))).toBe(true)
    }))

  it.live("write(CloseEvent) runs the close handshake with its code and reason (protocol codes too); a code that may not be sent fails the write and closes nothing", () =>
    Effect.gen(function*() {
      const server = yield* NodeServer.serve({}, (channel) => Stream.run(channel.read, channel.write))
      const { channel, socket } = yield* connectSocket(server.url)
      const writer = yield* socket.writer
      const refused = yield* Effect.flip(writer.write(new Socket.CloseEvent(1005)))
      expect(refused.reason).toMatchObject({ _tag: "SocketWriteError", cause: { _tag: "CloseArgumentError", reason: "InvalidCode" } })
      // Still open both ways.
      const { pull } = yield* socket.reader
      yield* writer.write(new Uint8Array([7]))
      expect(bytesOf(yield* within("echo", pull)).map((frame) => Array.from(frame))).toEqual([[7]])
      yield* within("close", writer.write(new Socket.CloseEvent(1009, "too big")))
      expect(yield* channel.closed).toMatchObject({ code: 1009, reason: "too big", wasClean: true, local: true })
      expect(closeErrorOf(yield* within("failure", Effect.flip(pull)))).toEqual({ code: 1009, closeReason: "too big" })
    }))

  it.live("releasing the reader's scope closes the channel: 1000 after success, 1011 after a failure", () =>
    Effect.gen(function*() {
      const server = yield* handOverServer()
      const ok = yield* connectSocket(server.url)
      const okPeer = yield* server.accepted
      yield* Effect.scoped(ok.socket.reader)
      expect(yield* within("close", okPeer.closed)).toMatchObject({ code: 1000, local: false })

      const server2 = yield* handOverServer()
      const failed = yield* connectSocket(server2.url)
      const failedPeer = yield* server2.accepted
      yield* Effect.ignore(Effect.scoped(Effect.andThen(failed.socket.reader, Effect.fail("boom"))))
      expect(yield* within("close", failedPeer.closed)).toMatchObject({ code: 1011, local: false })
    }))
})

describe("NodeSocketServer: NodeServer as an effect/socket SocketServer", () => {
  /** Echoes every frame until the connection ends. */
  const echo = (socket: Socket.Socket) =>
    Effect.gen(function*() {
      const { pull } = yield* socket.reader
      const { writeAll } = yield* socket.writer
      while (true) yield* writeAll(yield* pull)
    }).pipe(Effect.catchReason("SocketError", "SocketCloseError", () => Effect.void))

  const roundTrip = (url: string, message: string) =>
    Effect.gen(function*() {
      const channel = yield* ByteChannel.connect(url)
      yield* channel.send(utf8.encode(message))
      return fromUtf8.decode(Option.getOrThrow(yield* within("echo", channel.readChunk())))
    }).pipe(Effect.scoped, Effect.provide(NodeConnector.layer))

  it.live("each connection is served to run's handler as a Socket; address is where it listens", () =>
    Effect.gen(function*() {
      const server = yield* NodeSocketServer.make({ path: "/echo" })
      expect(server.address).toMatchObject({ _tag: "InetAddressV4" })
      yield* Effect.forkScoped(server.run(echo))
      const url = `ws://127.0.0.1:${portOf(server.address)}/echo`
      expect(yield* Effect.all([roundTrip(url, "one"), roundTrip(url, "two")], { concurrency: 2 })).toEqual(["one", "two"])
    }))

  it.live("a connection closes by its handler's exit: 1000 completed, 1011 failed, 1001 when the run is interrupted", () =>
    Effect.gen(function*() {
      const server = yield* NodeSocketServer.make({})
      const holding = yield* Deferred.make<void>()
      const run = yield* Effect.forkScoped(server.run((socket) =>
        Effect.gen(function*() {
          const { pull } = yield* socket.reader
          const word = fromUtf8.decode(bytesOf(yield* pull)[0])
          if (word === "fail") return yield* Effect.fail("the handler failed")
          if (word === "hold") yield* Effect.andThen(Deferred.succeed(holding, undefined), Effect.never)
        })
      ))
      const sendWord = (word: string) =>
        Effect.gen(function*() {
          const channel = yield* ByteChannel.connect(`ws://127.0.0.1:${portOf(server.address)}/`)
          yield* channel.send(utf8.encode(word))
          return channel
        })
      const closedAfter = (word: string) =>
        Effect.flatMap(sendWord(word), (channel) => within(`close after ${word}`, channel.closed)).pipe(
          Effect.scoped,
          Effect.provide(NodeConnector.layer)
        )
      expect(yield* closedAfter("done")).toMatchObject({ code: 1000, local: false })
      expect(yield* closedAfter("fail")).toMatchObject({ code: 1011, local: false })
      yield* Effect.gen(function*() {
        const held = yield* sendWord("hold")
        yield* within("the handler holding", Deferred.await(holding))
        yield* Fiber.interrupt(run)
        expect(yield* within("close after the run", held.closed)).toMatchObject({ code: 1001, local: false })
      }).pipe(Effect.scoped, Effect.provide(NodeConnector.layer))
    }))

  it.live("a connection that closes while it waits for a run is done: the run that starts later is never handed it", () =>
    Effect.gen(function*() {
      const server = yield* NodeSocketServer.make({})
      const url = `ws://127.0.0.1:${portOf(server.address)}/`
      // Three clients come and go (a clean close each) while no run is there.
      for (let i = 0; i < 3; i++) {
        yield* Effect.gen(function*() {
          const channel = yield* ByteChannel.connect(url)
          yield* channel.close()
        }).pipe(Effect.scoped, Effect.provide(NodeConnector.layer))
      }
      let handed = 0
      yield* Effect.forkScoped(server.run(() => Effect.sync(() => handed++)))
      // A fourth, once the run is there: it is the only one the run gets.
      yield* Effect.gen(function*() {
        const channel = yield* ByteChannel.connect(url)
        yield* within("the run's close", channel.closed)
      }).pipe(Effect.scoped, Effect.provide(NodeConnector.layer))
      expect(handed).toBe(1)
    }))

  it.live("connections accepted before run wait for it, held open by their bounds, then are served", () =>
    Effect.gen(function*() {
      const server = yield* NodeSocketServer.make({ receiveHighWaterMessages: 4 })
      const url = `ws://127.0.0.1:${portOf(server.address)}/`
      const messages = Array.from({ length: 256 }, (_, i) => floodMessage(i, 32 * KiB))
      const total = 256 * 32 * KiB
      yield* Effect.gen(function*() {
        const channel = yield* ByteChannel.connect(url)
        const sending = yield* Effect.forkChild(Effect.forEach(messages, channel.send, { discard: true }))
        // No run yet: the connection waits, neither served nor closed; the sender waits on it.
        yield* awaitSuspended(sending)
        yield* Effect.forkScoped(server.run((socket) =>
          Effect.gen(function*() {
            const { pull } = yield* socket.reader
            const chunks: Array<Uint8Array> = []
            let bytes = 0
            while (bytes < total) {
              for (const frame of bytesOf(yield* pull)) {
                chunks.push(frame)
                bytes += frame.length
              }
            }
            const same = Buffer.from(concat(chunks)).equals(Buffer.from(concat(messages)))
            yield* Effect.flatMap(socket.writer, (writer) => writer.write(same ? "all of it" : "not the same bytes"))
          })
        ))
        yield* within("the sender", Fiber.join(sending))
        expect(fromUtf8.decode(Option.getOrThrow(yield* within("the reply", channel.readChunk())))).toBe("all of it")
      }).pipe(Effect.scoped, Effect.provide(NodeConnector.layer))
    }))

  it.live("makeTcp: a raw TCP server as a SocketServer", () =>
    Effect.gen(function*() {
      const server = yield* NodeSocketServer.makeTcp({})
      yield* Effect.forkScoped(server.run(echo))
      expect(yield* roundTrip(`tcp://127.0.0.1:${portOf(server.address)}`, "over tcp")).toBe("over tcp")
    }))

  it.live("a busy port fails with SocketServerError (SocketServerOpenError)", () =>
    Effect.gen(function*() {
      const first = yield* NodeSocketServer.make({})
      const error = yield* Effect.flip(NodeSocketServer.make({ port: portOf(first.address) }))
      expect(error).toBeInstanceOf(SocketServer.SocketServerError)
      expect(error.reason._tag).toBe("SocketServerOpenError")
    }))
})

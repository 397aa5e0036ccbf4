import { describe, expect, it } from "@effect/vitest"
import { ByteChannel, Codec, Server } from "@bytechannel/core"
import { NodeConnector, NodeServer } from "@bytechannel/node"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Https from "node:https"
import * as Net from "node:net"
import type { WebSocket } from "ws"
import { selfSignedCertificate } from "../../core/test/nodeUtils.js"
import { prng, randomBytes } from "../../core/test/utils.js"
import { concat, eventually, rawServer as rawWsServer, recordingTracer } from "./fixtures.js"

const echo = (channel: ByteChannel.ByteChannel) => Stream.run(channel.read, channel.write)

/** The test body shared by every transport: only the URL (and TLS trust) changes. */
const echoRoundTrip = (url: string) =>
  Effect.gen(function*() {
    const channel = yield* ByteChannel.connect(url)
    const random = prng(url.length)
    const sent = Array.from({ length: 200 }, (_, i) => randomBytes(random, i % 50 === 0 ? 0 : Math.floor(random() * 70_000)))
    const total = sent.reduce((n, b) => n + b.length, 0)
    const writer = yield* Effect.forkChild(Stream.run(Stream.fromIterable(sent), channel.write))
    const received: Array<Uint8Array> = []
    let bytes = 0
    yield* channel.read.pipe(
      Stream.takeUntil((chunk) => {
        received.push(chunk)
        bytes += chunk.length
        return bytes >= total
      }),
      Stream.runDrain
    )
    yield* Fiber.join(writer)
    expect(concat(received).equals(concat(sent))).toBe(true)
    const info = yield* channel.close({ code: 4000, reason: "bye" })
    return info
  }).pipe(Effect.scoped)

describe("NodeConnector + NodeServer", () => {
  // A peer's close code, a lost connection (ws terminate, TCP reset), the close timeout and the
  // open timeout run on every transport in the contract suite (WsContract, TcpContract).
  it.live("echo over ws, wss and tcp: the same program, only the URL changes", () =>
    Effect.gen(function*() {
      const ws = yield* NodeServer.serve({ path: "/echo" }, echo)
      const tcp = yield* NodeServer.serveTcp({}, echo)
      const { key, cert } = selfSignedCertificate()
      const https = Https.createServer({ key, cert })
      yield* NodeServer.attach(https, { path: "/echo" }, echo)
      yield* Effect.acquireRelease(
        Effect.callback<number>((resume) => {
          https.listen(0, "127.0.0.1", () => resume(Effect.succeed((https.address() as Net.AddressInfo).port)))
        }),
        () =>
          Effect.callback<void>((resume) => {
            https.close(() => resume(Effect.void))
          })
      ).pipe(Effect.flatMap((port) =>
        echoRoundTrip(`wss://127.0.0.1:${port}/echo`).pipe(Effect.provide(NodeConnector.layerWith({ tls: { ca: cert } })))
      ))
      const wsInfo = yield* echoRoundTrip(ws.url).pipe(Effect.provide(NodeConnector.layer))
      expect(wsInfo).toEqual({ code: 4000, reason: "bye", wasClean: true, local: true })
      const tcpInfo = yield* echoRoundTrip(tcp.url).pipe(Effect.provide(NodeConnector.layer))
      // TCP has no close codes: an orderly shutdown is reported as 1000.
      expect(tcpInfo).toMatchObject({ code: 1000, wasClean: true, local: true })
    }))

  it.live("the portable Server service: Server.serve with NodeServer.layerServer serves like NodeServer.serve", () =>
    Effect.gen(function*() {
      const server = yield* Server.serve({ path: "/echo" }, (channel, info) =>
        channel.send(new TextEncoder().encode(`${info.url} ${info.headers["x-test"]} `)).pipe(
          Effect.andThen(echo(channel))
        )).pipe(Effect.provide(NodeServer.layerServer))
      expect(server.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/echo$/)
      const socket = yield* NodeConnector.make({ headers: { "x-test": "yes" } }).connect(`${server.url}?q=1`)
      yield* socket.send(new TextEncoder().encode("hi"))
      let text = ""
      while (text.length < "/echo?q=1 yes hi".length) {
        const message = yield* socket.receive
        if (message._tag === "None") break
        text += typeof message.value === "string" ? message.value : new TextDecoder().decode(message.value)
      }
      expect(text).toBe("/echo?q=1 yes hi")
      expect(server.connections()).toBe(1)
    }).pipe(Effect.scoped))

  it.live("typed NDJSON over ws: Framed on both ends", () =>
    Effect.gen(function*() {
      const Chat = Schema.Struct({ from: Schema.String, text: Schema.String })
      const server = yield* NodeServer.serve({}, (channel) => {
        const chat = ByteChannel.framed(channel, Codec.ndjson(Chat))
        return chat.messages.pipe(Stream.map((m) => ({ from: "server", text: m.text.toUpperCase() })), Stream.run(chat.sink))
      })
      const replies = yield* Effect.gen(function*() {
        const chat = ByteChannel.framed(yield* ByteChannel.connect(server.url), Codec.ndjson(Chat))
        yield* Effect.forEach(["a", "b", "c"], (text) => chat.send({ from: "me", text }))
        return yield* chat.messages.pipe(Stream.take(3), Stream.runCollect)
      }).pipe(Effect.scoped, Effect.provide(NodeConnector.layer))
      expect(replies).toEqual([
        { from: "server", text: "A" },
        { from: "server", text: "B" },
        { from: "server", text: "C" }
      ])
    }))

  it.live("the server's scope closing closes every connection with 1001", () =>
    Effect.gen(function*() {
      const connected = yield* Deferred.make<void>()
      const stop = yield* Deferred.make<void>()
      const urlReady = yield* Deferred.make<string>()
      const serverFiber = yield* Effect.forkChild(
        Effect.scoped(Effect.gen(function*() {
          const server = yield* NodeServer.serve({}, () => Effect.andThen(Deferred.succeed(connected, undefined), Effect.never))
          yield* Deferred.succeed(urlReady, server.url)
          yield* Deferred.await(stop)
        }))
      )
      const url = yield* Deferred.await(urlReady)
      const info = yield* Effect.gen(function*() {
        const channel = yield* ByteChannel.connect(url)
        yield* Deferred.await(connected)
        yield* Deferred.succeed(stop, undefined)
        return yield* channel.closed
      }).pipe(Effect.scoped, Effect.provide(NodeConnector.layer))
      yield* Fiber.join(serverFiber)
      expect(info).toMatchObject({ code: 1001, reason: "server shutting down", local: false })
    }))

  it.live("each server connection's handler runs inside its connection span", () =>
    Effect.gen(function*() {
      const server = yield* NodeServer.serve({}, (channel) =>
        Effect.gen(function*() {
          const span = yield* Effect.currentSpan
          const name = span._tag === "Span" ? span.name : "none"
          yield* channel.send(new TextEncoder().encode(name))
        }))
      const reply = yield* ByteChannel.connect(server.url).pipe(
        Effect.flatMap((channel) => Stream.runCollect(channel.read)),
        Effect.scoped,
        Effect.provide(NodeConnector.layer)
      )
      expect(new TextDecoder().decode(concat(reply))).toBe("bytechannel.server.connection")
    }))

  it.live("a connection's span: child of the server's span, with its attributes and the server's annotations, ended with the connection's exit once it is released", () => {
    const { tracer, spans } = recordingTracer()
    return Effect.gen(function*() {
      const seen = yield* Deferred.make<{ readonly name: string; readonly parent: string }>()
      const server = yield* NodeServer.serve({}, () =>
        Effect.gen(function*() {
          const span = yield* Effect.currentSpan
          const parent = span.parent._tag === "Some" && span.parent.value._tag === "Span" ? span.parent.value.name : "none"
          yield* Deferred.succeed(seen, { name: span.name, parent })
          return yield* Effect.fail("boom")
        }))
      yield* ByteChannel.connect(`${server.url}/chat?token=secret`).pipe(
        Effect.flatMap((channel) => channel.closed),
        Effect.scoped,
        Effect.provide(NodeConnector.layer)
      )
      expect(yield* Deferred.await(seen)).toEqual({ name: "bytechannel.server.connection", parent: "server root" })
      yield* eventually(() => server.connections() === 0, "the connection released")
      const span = spans.find((s) => s.name === "bytechannel.server.connection")!
      expect(span.kind).toBe("server")
      expect(span.attributes.get("url.path")).toBe("/chat")
      expect(span.attributes.get("client.address")).toBe("127.0.0.1")
      expect(span.attributes.get("service")).toBe("chat")
      expect(span.status._tag).toBe("Ended")
      const exit = span.status._tag === "Ended" ? span.status.exit : undefined
      expect(exit?._tag).toBe("Success")
      expect(span.links).toEqual([])
    }).pipe(Effect.withSpan("server root"), Effect.annotateSpans("service", "chat"), Effect.withTracer(tracer))
  })

  it.live("a handler that fails closes its connection with 1011", () =>
    Effect.gen(function*() {
      const server = yield* NodeServer.serve({}, () => Effect.fail("boom"))
      const error = yield* ByteChannel.connect(server.url).pipe(
        Effect.flatMap((channel) => Effect.flip(Stream.runDrain(channel.read))),
        Effect.scoped,
        Effect.provide(NodeConnector.layer)
      )
      expect(error).toMatchObject({ reason: "Closed", code: 1011 })
    }))

  it.live("path, origin allow-list, verifyClient and subprotocols are enforced at the handshake", () =>
    Effect.gen(function*() {
      const server = yield* NodeServer.serve({
        path: "/chat",
        allowOrigins: ["http://ok.example"],
        verifyClient: (request) => request.headers.authorization === "Bearer yes",
        protocols: ["chat.v2", "chat.v1"]
      }, (channel) => echo(channel))
      const base = `ws://127.0.0.1:${server.port}`
      const attempt = (path: string, headers: Record<string, string>, protocols?: Array<string>) =>
        ByteChannel.connect(base + path, { protocols }).pipe(
          Effect.map((channel) => channel.socket.protocol),
          Effect.scoped,
          Effect.provide(NodeConnector.layerWith({ headers }))
        )
      const good = { origin: "http://ok.example", authorization: "Bearer yes" }
      expect(yield* Effect.flip(attempt("/other", good))).toMatchObject({ reason: "Open", status: 404 })
      expect(yield* Effect.flip(attempt("/chat", { ...good, origin: "http://evil.example" }))).toMatchObject({ status: 403 })
      // No Origin header at all is not on the list either.
      expect(yield* Effect.flip(attempt("/chat", { authorization: "Bearer yes" }))).toMatchObject({ status: 403 })
      expect(yield* Effect.flip(attempt("/chat", { origin: "http://ok.example" }))).toMatchObject({ status: 401 })
      expect(yield* attempt("/chat", good, ["chat.v1", "chat.v2"])).toBe("chat.v2")
      expect(yield* attempt("/chat", good, ["chat.v1"])).toBe("chat.v1")
    }))

  it.live("maxConnections: an excess connection is closed with 1013", () =>
    Effect.gen(function*() {
      const server = yield* NodeServer.serve({ maxConnections: 1 }, (channel) => Effect.asVoid(Stream.runDrain(channel.read)))
      const error = yield* Effect.gen(function*() {
        const first = yield* ByteChannel.connect(server.url)
        yield* first.send(new Uint8Array([1]))
        const second = yield* ByteChannel.connect(server.url)
        return yield* Effect.flip(Stream.runDrain(second.read))
      }).pipe(Effect.scoped, Effect.provide(NodeConnector.layer))
      expect(error).toMatchObject({ reason: "Closed", code: 1013 })
    }))

  it.live("a busy port is a typed Open error, not a crash", () =>
    Effect.gen(function*() {
      const first = yield* NodeServer.serve({}, echo)
      const error = yield* Effect.flip(NodeServer.serve({ port: first.port }, echo))
      expect(error).toMatchObject({ _tag: "SocketError", reason: "Open" })
      expect(error.message).toContain("already in use")
    }))

  it.live("connecting to a closed port is a typed Open error", () =>
    Effect.gen(function*() {
      // Listen, note the port, close: nothing listens there now.
      const probe = Net.createServer()
      const port = yield* Effect.callback<number>((resume) => {
        probe.listen(0, "127.0.0.1", () => {
          const port = (probe.address() as Net.AddressInfo).port
          probe.close(() => resume(Effect.succeed(port)))
        })
      })
      for (const url of [`ws://127.0.0.1:${port}/`, `tcp://127.0.0.1:${port}`]) {
        const error = yield* ByteChannel.connect(url).pipe(Effect.flip, Effect.scoped, Effect.provide(NodeConnector.layer))
        expect(error).toMatchObject({ _tag: "SocketError", reason: "Open" })
      }
    }))

  it.live("an oversized message closes with 1009 on the wire and fails read locally", () =>
    Effect.gen(function*() {
      const serverSaw = yield* Deferred.make<number>()
      const server = yield* NodeServer.serve({}, (channel) =>
        Effect.gen(function*() {
          yield* channel.send(new Uint8Array(4096))
          const info = yield* channel.closed
          yield* Deferred.succeed(serverSaw, info.code)
        }))
      const error = yield* ByteChannel.connect(server.url).pipe(
        Effect.flatMap((channel) => Effect.flip(Stream.runDrain(channel.read))),
        Effect.scoped,
        Effect.provide(NodeConnector.layerWith({ maxPayload: 1024 }))
      )
      expect(error).toMatchObject({ _tag: "SocketError", reason: "Read", code: 1009 })
      expect(yield* Deferred.await(serverSaw)).toBe(1009)
    }))

  it.live("an invalid UTF-8 text frame is reported locally as 1007", () =>
    Effect.gen(function*() {
      const wss = yield* rawServer((ws) => {
        // A text frame (FIN + opcode 1) of two bytes that are not UTF-8, written under ws's framing.
        ;(ws as unknown as { _socket: Net.Socket })._socket.write(Buffer.from([0x81, 0x02, 0xff, 0xfe]))
      })
      const error = yield* ByteChannel.connect(wss).pipe(
        Effect.flatMap((channel) => Effect.flip(Stream.runDrain(channel.read))),
        Effect.scoped,
        Effect.provide(NodeConnector.layer)
      )
      expect(error).toMatchObject({ _tag: "SocketError", reason: "Read", code: 1007 })
    }))

  it.live("keepalive: a peer that stops answering pings fails the channel and closes it", () =>
    Effect.gen(function*() {
      const url = yield* rawServer((ws) => ws.pause()) // a paused peer cannot answer pings
      const result = yield* Effect.gen(function*() {
        const channel = yield* ByteChannel.connect(url)
        const pong = yield* Effect.forkChild(channel.events.pipe(Stream.filter((e) => e._tag === "Error"), Stream.runHead))
        const error = yield* Effect.flip(Stream.runDrain(channel.read))
        return { error, event: yield* Fiber.join(pong), info: yield* channel.closed }
      }).pipe(Effect.scoped, Effect.provide(NodeConnector.layerWith({ pingInterval: "100 millis", pongTimeout: "200 millis" })))
      expect(result.error).toMatchObject({ _tag: "SocketError", reason: "Read" })
      expect(result.error.message).toContain("no pong")
      expect(result.event._tag).toBe("Some")
      expect(result.info.code).toBe(1006)
    }))

  it.live("keepalive: pings and pongs appear on events while the peer answers", () =>
    Effect.gen(function*() {
      const server = yield* NodeServer.serve({}, echo)
      const events = yield* Effect.gen(function*() {
        const channel = yield* ByteChannel.connect(server.url)
        return yield* channel.events.pipe(Stream.filter((e) => e._tag === "Pong"), Stream.take(2), Stream.runCollect)
      }).pipe(Effect.scoped, Effect.provide(NodeConnector.layerWith({ pingInterval: "50 millis" })))
      expect(events).toHaveLength(2)
    }))

  it.live("keepalive: a peer that answered, then stops answering, is detected", () =>
    Effect.gen(function*() {
      let answered = 0
      // ws answers a ping by itself; after the first one this server stops reading, so no more pongs.
      const url = yield* rawServer((ws) =>
        ws.once("ping", () => {
          answered++
          ws.pause()
        })
      )
      const error = yield* ByteChannel.connect(url).pipe(
        Effect.flatMap((channel) => Effect.flip(Stream.runDrain(channel.read))),
        // Bounded: a keepalive that still counts the first pong would never fail the read.
        Effect.timeout("5 seconds"),
        Effect.scoped,
        Effect.provide(NodeConnector.layerWith({ pingInterval: "100 millis", pongTimeout: "200 millis", closeTimeout: "200 millis" }))
      )
      expect(answered).toBe(1)
      expect(error).toMatchObject({ _tag: "SocketError", reason: "Read", code: 1006 })
      expect(error.message).toContain("no pong")
    }))

  /**
   * A server that offers TOTAL bytes at once, then closes with 1000, and resolves `pings` when it
   * has seen three pings: our pongs wait behind the data, unread while our queue is full.
   */
  const floodingServer = (total: number) =>
    Effect.gen(function*() {
      const CHUNK = 64 * 1024
      const threePings = yield* Deferred.make<void>()
      let pings = 0
      const url = yield* rawServer((ws) => {
        ws.on("ping", () => ++pings === 3 && Deferred.doneUnsafe(threePings, Effect.void))
        for (let i = 0; i < total / CHUNK; i++) ws.send(Buffer.alloc(CHUNK, 1))
        ws.close(1000)
      })
      // Bounded, and cut short if the channel closes first (a keepalive that took the pause for a dead peer).
      const awaitThreePings = (channel: ByteChannel.ByteChannel) =>
        Effect.raceFirst(Deferred.await(threePings), Effect.asVoid(channel.closed)).pipe(
          Effect.timeoutOrElse({ duration: "10 seconds", orElse: () => Effect.fail(new Error(`the server saw ${pings} pings`)) })
        )
      return { url, awaitThreePings }
    })
  const pausedKeepalive = NodeConnector.layerWith({
    pingInterval: "100 millis",
    pongTimeout: "100 millis",
    receiveHighWaterMessages: 8,
    closeTimeout: "100 millis" // the server's close frame waits behind the unread data too
  })

  it.live("keepalive: a socket held paused by backpressure is not a dead peer", () =>
    Effect.gen(function*() {
      const server = yield* floodingServer(8 * 1024 * 1024)
      const alive = yield* Effect.gen(function*() {
        const channel = yield* ByteChannel.connect(server.url)
        // Nothing read until the server has seen three pings: the keepalive looked for a pong at
        // least twice while the full queue (8 messages) held the socket paused.
        yield* server.awaitThreePings(channel)
        return yield* Effect.result(channel.send(new Uint8Array(0)))
      }).pipe(Effect.scoped, Effect.provide(pausedKeepalive))
      expect(alive).toEqual(Result.succeed(undefined))
    }))

  it.live("keepalive: a reader that comes back after a pause gets every byte, though the pong was still behind the data", () =>
    Effect.gen(function*() {
      const TOTAL = 8 * 1024 * 1024
      const server = yield* floodingServer(TOTAL)
      const read = yield* Effect.gen(function*() {
        const channel = yield* ByteChannel.connect(server.url)
        yield* server.awaitThreePings(channel)
        return yield* Effect.result(Stream.runFold(channel.read, () => 0, (n, chunk) => n + chunk.length))
      }).pipe(Effect.scoped, Effect.provide(pausedKeepalive))
      expect(read).toEqual(Result.succeed(TOTAL))
    }))

  it.live("keepalive: a handshake slower than pingInterval still gets pings", () =>
    Effect.gen(function*() {
      const server = yield* NodeServer.serve({
        verifyClient: () => new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 300))
      }, echo)
      const pongs = yield* Effect.gen(function*() {
        const channel = yield* ByteChannel.connect(server.url)
        return yield* channel.events.pipe(Stream.filter((e) => e._tag === "Pong"), Stream.take(2), Stream.runCollect)
      }).pipe(
        Effect.timeout("5 seconds"),
        Effect.scoped,
        Effect.provide(NodeConnector.layerWith({ pingInterval: "50 millis" }))
      )
      expect(pongs).toHaveLength(2)
    }))

  it.live("a handler that throws as it is called closes with 1011, as one that fails does (never a clean 1000)", () =>
    Effect.gen(function*() {
      const server = yield* NodeServer.serve({ host: "127.0.0.1", port: 0 }, (): Effect.Effect<void> => {
        throw new Error("the handler broke")
      })
      const channel = yield* ByteChannel.connect(server.url)
      expect(yield* channel.closed).toMatchObject({ code: 1011 })
    }).pipe(Effect.provide(NodeConnector.layer)))

  it.live("Infinity as handshakeTimeout and closeTimeout: no deadline, never a timer that fires at once", () =>
    Effect.gen(function*() {
      const server = yield* NodeServer.serve({ host: "127.0.0.1", port: 0, handshakeTimeout: Infinity, closeTimeout: Infinity }, (channel) =>
        Effect.asVoid(channel.close({ code: 4000, reason: "bye" })))
      const closed = yield* Deferred.make<number>()
      const { WebSocket } = yield* Effect.promise(() => import("ws"))
      const ws = new WebSocket(server.url)
      // A peer that answers the server's close only after a while (ws answers at once: hold it).
      ws.on("open", () => {
        const socket = (ws as unknown as { _socket: Net.Socket })._socket
        socket.pause()
        setTimeout(() => socket.resume(), 300)
      })
      ws.on("close", (code) => Deferred.doneUnsafe(closed, Effect.succeed(code)))
      expect(yield* Deferred.await(closed).pipe(Effect.timeout("10 seconds"))).toBe(4000)
    }))

  it.live("100 concurrent connections exchange verified byte streams", () =>
    Effect.gen(function*() {
      const server = yield* NodeServer.serve({}, echo)
      const results = yield* Effect.forEach(
        Array.from({ length: 100 }, (_, i) => i),
        (i) =>
          Effect.gen(function*() {
            const channel = yield* ByteChannel.connect(server.url)
            const random = prng(1000 + i)
            const sent = Array.from({ length: 20 }, () => randomBytes(random, Math.floor(random() * 4096)))
            const total = sent.reduce((n, b) => n + b.length, 0)
            yield* Effect.forkChild(Stream.run(Stream.fromIterable(sent), channel.write))
            const received: Array<Uint8Array> = []
            let bytes = 0
            if (total > 0) {
              yield* channel.read.pipe(Stream.takeUntil((c) => (received.push(c), (bytes += c.length) >= total)), Stream.runDrain)
            }
            return concat(received).equals(concat(sent))
          }).pipe(Effect.scoped),
        { concurrency: "unbounded" }
      ).pipe(Effect.provide(NodeConnector.layer))
      expect(results.every(Boolean)).toBe(true)
      expect(results).toHaveLength(100)
    }))
})

const rawServer = (onConnection: (ws: WebSocket) => void) => Effect.map(rawWsServer(onConnection), ({ url }) => url)

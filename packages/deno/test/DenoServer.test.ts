/**
 * DenoServer from the outside, on Deno: each ServeOptions of core's `Server` contract (path,
 * allowOrigins, maxConnections, maxPayload, protocols, keepalive, close codes, busy port), and
 * hostile clients on raw TCP (node/test/hostile/raw.ts: hand-made handshakes and frames), which
 * get an HTTP error or a close frame with the right code while the server keeps serving.
 */
import { ByteChannel, Server, type SocketError } from "@bytechannel/core"
import { DenoServer } from "@bytechannel/deno"
import { describe, expect, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { frame, rawConnect, rawUpgrade, readHead, statusOf, upgradeRequest } from "../../node/test/hostile/raw.js"
import { binary, close, ends, stillServes, within as bounded } from "../../node/test/hostile/serverChecks.js"

const echo = (channel: ByteChannel.ByteChannel) => Stream.run(channel.read, channel.write)

/** A well-behaved client (core's WebSocketConnector on Deno's WebSocket) still gets its echo. */

/** A masked client frame. */

/** Waits for a socket to end (the server dropped it); false when it did not within 5 s. */


describe("DenoServer: the Server contract's options", () => {
  it.live("echo, ConnectionInfo (path and query, lower-case headers, remote address, protocol), url", () =>
    Effect.gen(function*() {
      const seen = yield* Deferred.make<Server.ConnectionInfo>()
      const server = yield* DenoServer.serve({ path: "/echo" }, (channel, info) =>
        Effect.andThen(Deferred.succeed(seen, info), echo(channel)))
      expect(server.url).toBe(`ws://127.0.0.1:${server.port}/echo`)
      const client = yield* rawUpgrade(server.port, "/echo?room=1", { "X-Custom": "yes" })
      client.send(binary(new Uint8Array([7, 8])))
      expect(yield* client.reader.until((frames) => frames.some((f) => f.opcode === 0x2))).toBe(true)
      expect([...client.reader.frames.find((f) => f.opcode === 0x2)!.payload]).toEqual([7, 8])
      const info = yield* Deferred.await(seen)
      expect(info).toMatchObject({ url: "/echo?room=1", remoteAddress: "127.0.0.1", protocol: "" })
      expect(info.headers["x-custom"]).toBe("yes")
      expect(server.connections()).toBe(1)
      yield* stillServes(server.url)
    }))

  it.live("path: another path gets 404, whatever its query; the served path with a query is accepted", () =>
    Effect.gen(function*() {
      const server = yield* DenoServer.serve({ path: "/chat" }, echo)
      expect(yield* statusOf(server.port, upgradeRequest("/chatroom"))).toMatch(/^HTTP\/1\.1 404/)
      expect(yield* statusOf(server.port, upgradeRequest("/chat/"))).toMatch(/^HTTP\/1\.1 404/)
      expect(yield* statusOf(server.port, upgradeRequest("/"))).toMatch(/^HTTP\/1\.1 404/)
      expect(yield* statusOf(server.port, upgradeRequest("/chat?room=1"))).toMatch(/^HTTP\/1\.1 101/)
    }))

  it.live("allowOrigins: a missing or other Origin gets 403; an allowed one is upgraded", () =>
    Effect.gen(function*() {
      const server = yield* DenoServer.serve({ allowOrigins: ["https://ok.example"] }, echo)
      expect(yield* statusOf(server.port, upgradeRequest("/"))).toMatch(/^HTTP\/1\.1 403/)
      expect(yield* statusOf(server.port, upgradeRequest("/", { Origin: "https://evil.example" }))).toMatch(/^HTTP\/1\.1 403/)
      expect(yield* statusOf(server.port, upgradeRequest("/", { Origin: "https://ok.example" }))).toMatch(/^HTTP\/1\.1 101/)
    }))

  it.live("protocols: the server's first choice among those offered; none in common: no protocol", () =>
    Effect.gen(function*() {
      const protocols = yield* Deferred.make<string>()
      const server = yield* DenoServer.serve({ protocols: ["v2", "v1"] }, (channel, info) =>
        Effect.andThen(Deferred.succeed(protocols, info.protocol), echo(channel)))
      const socket = yield* rawConnect(server.port)
      socket.write(upgradeRequest("/", { "Sec-WebSocket-Protocol": "v1, v2" }))
      const answer = yield* readHead(socket)
      expect(answer?.head).toMatch(/^HTTP\/1\.1 101/)
      expect(answer?.head.toLowerCase()).toContain("sec-websocket-protocol: v2")
      expect(yield* bounded("handler", Deferred.await(protocols))).toBe("v2")
      const other = yield* rawConnect(server.port)
      other.write(upgradeRequest("/", { "Sec-WebSocket-Protocol": "v3" }))
      const refused = yield* readHead(other)
      expect(refused?.head.toLowerCase()).not.toContain("sec-websocket-protocol")
    }))

  it.live("maxConnections: one more is accepted and closed with 1013, and does not count", () =>
    Effect.gen(function*() {
      const server = yield* DenoServer.serve({ maxConnections: 1 }, echo)
      const first = yield* rawUpgrade(server.port)
      first.send(binary("x", 0x1))
      yield* first.reader.until((frames) => frames.length > 0)
      const second = yield* rawUpgrade(server.port)
      expect(yield* bounded("close frame", second.reader.awaitClose)).toEqual({ code: 1013, reason: "too many connections" })
      second.send(close(1013))
      expect(server.connections()).toBe(1)
      // The first one is still served.
      first.send(binary(new Uint8Array([5])))
      expect(yield* first.reader.until((frames) => frames.some((f) => f.opcode === 0x2))).toBe(true)
    }))

  it.live("maxPayload: a message of exactly maxPayload is delivered; one byte more closes with 1009", () =>
    Effect.gen(function*() {
      const failed = yield* Deferred.make<Exit.Exit<void, unknown>>()
      const server = yield* DenoServer.serve({ maxPayload: 1000 }, (channel) =>
        Effect.exit(echo(channel)).pipe(Effect.flatMap((exit) => Deferred.succeed(failed, exit))))
      const client = yield* rawUpgrade(server.port)
      client.send(binary(new Uint8Array(1000).fill(1)))
      expect(yield* client.reader.until((frames) => frames.some((f) => f.opcode === 0x2 && f.payload.length === 1000))).toBe(true)
      client.send(binary(new Uint8Array(1001)))
      expect(yield* bounded("close frame", client.reader.awaitClose)).toMatchObject({ code: 1009 })
      const exit = yield* bounded("handler exit", Deferred.await(failed))
      expect(Exit.isFailure(exit) ? JSON.stringify(exit.cause) : "success").toMatch(/"reason":"Read".*"code":1009|"code":1009.*"reason":"Read"/)
    }))

  it.live("the handler completes: 1000; it fails: 1011", () =>
    Effect.gen(function*() {
      const server = yield* DenoServer.serve({}, (channel, info): Effect.Effect<void, unknown> =>
        info.url === "/fail" ? Effect.fail("boom") : Effect.asVoid(channel.readChunk()))
      const done = yield* rawUpgrade(server.port, "/done")
      done.send(binary(new Uint8Array([1])))
      expect(yield* bounded("close frame", done.reader.awaitClose)).toMatchObject({ code: 1000 })
      const failing = yield* rawUpgrade(server.port, "/fail")
      expect(yield* bounded("close frame", failing.reader.awaitClose)).toMatchObject({ code: 1011 })
    }))

  it.live("the server's scope closes: every connection closes with 1001, then the port is free", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const server = yield* DenoServer.serve({}, echo).pipe(Scope.provide(scope))
      const clients = [yield* rawUpgrade(server.port), yield* rawUpgrade(server.port)]
      // The clients answer the close frame, as a well-behaved peer does.
      for (const client of clients) {
        void client.reader.until((frames) => frames.some((f) => f.opcode === 0x8)).pipe(
          Effect.andThen(Effect.sync(() => client.send(close(1001)))),
          Effect.runFork
        )
      }
      yield* bounded("scope close", Scope.close(scope, Exit.void))
      for (const client of clients) expect(yield* bounded("close frame", client.reader.awaitClose)).toMatchObject({ code: 1001 })
      // Listening again on the same port works: the listener is gone.
      const again = yield* DenoServer.serve({ port: server.port }, echo)
      expect(again.port).toBe(server.port)
    }))

  it.live("200 connections at once: each echoed its own bytes, each counted, all given back when they close", () =>
    Effect.gen(function*() {
      const server = yield* DenoServer.serve({}, echo)
      const clients = yield* Effect.forEach(Array.from({ length: 200 }, (_, i) => i), () => rawUpgrade(server.port), { concurrency: 20 })
      clients.forEach((client, i) => client.send(binary(new Uint8Array([i & 0xff, i >> 8]))))
      for (const [i, client] of clients.entries()) {
        expect(yield* bounded("echo", client.reader.until((frames) => frames.some((f) => f.opcode === 0x2)))).toBe(true)
        expect([...client.reader.frames.find((f) => f.opcode === 0x2)!.payload]).toEqual([i & 0xff, i >> 8])
      }
      expect(server.connections()).toBe(200)
      for (const client of clients) client.send(close(1000))
      for (const client of clients) expect(yield* bounded("close answer", client.reader.awaitClose)).toMatchObject({ code: 1000 })
      yield* bounded("count back to 0", Effect.suspend(() => server.connections() === 0 ? Effect.void : Effect.fail("not yet")).pipe(
        Effect.retry({ schedule: Schedule.spaced("20 millis"), times: 250 })
      ))
    }))

  it.live("a busy port fails with SocketError Open, naming the address", () =>
    Effect.gen(function*() {
      const server = yield* DenoServer.serve({}, echo)
      const error = yield* Effect.flip(Effect.scoped(DenoServer.serve({ port: server.port }, echo)))
      expect(error).toMatchObject({ _tag: "SocketError", reason: "Open" })
      expect((error as SocketError.SocketError).message).toContain(`127.0.0.1:${server.port} is already in use`)
    }))

  it.live("layerServer provides core's Server: the portable program echoes", () =>
    Effect.gen(function*() {
      const server = yield* Server.serve({ path: "/echo" }, echo)
      yield* stillServes(server.url)
    }).pipe(Effect.provide(DenoServer.layerServer)))

  it.live("pingInterval: a peer that answers pings stays; one that does not is dropped", () =>
    Effect.gen(function*() {
      const ended = yield* Deferred.make<Exit.Exit<void, unknown>>()
      const server = yield* DenoServer.serve({ pingInterval: "200 millis" }, (channel, info) =>
        info.url === "/silent"
          ? Effect.exit(Stream.runDrain(channel.read)).pipe(Effect.flatMap((exit) => Deferred.succeed(ended, exit)))
          : echo(channel))
      // Answers every ping with a pong.
      const lively = yield* rawUpgrade(server.port, "/lively")
      let answered = 0
      const answer = () => {
        const pings = lively.reader.frames.filter((f) => f.opcode === 0x9).length
        for (; answered < pings; answered++) lively.send(frame({ opcode: 0xa, mask: true }))
      }
      const silent = yield* rawUpgrade(server.port, "/silent")
      for (let i = 0; i < 3; i++) {
        yield* lively.reader.until((frames) => frames.filter((f) => f.opcode === 0x9).length > i)
        answer()
      }
      // The silent one got pings too, answered none, and was dropped; its reader failed.
      expect(silent.reader.frames.some((f) => f.opcode === 0x9)).toBe(true)
      const exit = yield* bounded("silent peer dropped", Deferred.await(ended))
      // As the keepalive on Node: read fails with Read, code 1006 (Deno's own words in the detail).
      expect(Exit.isFailure(exit) ? JSON.stringify(exit.cause) : "success").toMatch(/"reason":"Read".*"code":1006|"code":1006.*"reason":"Read"/)
      expect(lively.reader.isEnded()).toBe(false)
      expect(lively.reader.closeFrame()).toBeUndefined()
    }))
})

describe("DenoServer under hostile clients", () => {
  it.live("plain HTTP gets 426; a broken upgrade gets 400; garbage is refused; the server keeps serving", () =>
    Effect.gen(function*() {
      const server = yield* DenoServer.serve({}, echo)
      expect(yield* statusOf(server.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")).toMatch(/^HTTP\/1\.1 426/)
      const noKey = upgradeRequest("/").replace(/Sec-WebSocket-Key: .*\r\n/, "")
      expect(yield* statusOf(server.port, noKey)).toMatch(/^HTTP\/1\.1 400/)
      const badVersion = upgradeRequest("/").replace("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8")
      expect(yield* statusOf(server.port, badVersion)).toMatch(/^HTTP\/1\.1 400/)
      const badKey = upgradeRequest("/").replace("dGhlIHNhbXBsZSBub25jZQ==", "short")
      expect(yield* statusOf(server.port, badKey)).toMatch(/^HTTP\/1\.1 400/)
      const garbage = yield* statusOf(server.port, "\x00\x01\x02 not http at all\r\n\r\n")
      expect(garbage === undefined || /^HTTP\/1\.1 4\d\d/.test(garbage)).toBe(true)
      yield* stillServes(server.url)
    }))

  it.live("protocol errors (RSV bits, a reserved opcode, bad UTF-8, a long or fragmented ping): read fails, the connection ends, the server serves on", () =>
    Effect.gen(function*() {
      const exits: Array<Exit.Exit<void, unknown>> = []
      const server = yield* DenoServer.serve({}, (channel) =>
        Effect.exit(echo(channel)).pipe(Effect.flatMap((exit) => Effect.sync(() => exits.push(exit)))))
      const bad = [
        frame({ opcode: 0x2, payload: "x", rsv: 0b100, mask: true }),
        frame({ opcode: 0x3, mask: true }),
        frame({ opcode: 0x1, payload: new Uint8Array([0xc3, 0x28]), mask: true }),
        frame({ opcode: 0x9, payload: new Uint8Array(200), mask: true }),
        frame({ opcode: 0x9, fin: false, mask: true })
      ]
      for (const bytes of bad) {
        const client = yield* rawUpgrade(server.port)
        client.send(bytes)
        // Deno drops the connection without a close frame (the peer sees 1006); never a message.
        expect(yield* ends(client.socket)).toBe(true)
        expect(client.reader.frames.some((f) => f.opcode === 0x1 || f.opcode === 0x2)).toBe(false)
      }
      yield* stillServes(server.url)
      // Every handler's read failed with Read and the rule's code (Deno names the rule; it sends no close frame).
      const errors = exits.filter(Exit.isFailure).map((exit) => JSON.parse(JSON.stringify(exit.cause)).reasons[0].error)
      // RSV bits, a reserved opcode, a ping over 125 bytes, a fragmented ping: 1002; invalid UTF-8: 1007.
      expect(errors.map((error) => [error.reason, error.code])).toEqual([
        ["Read", 1002],
        ["Read", 1002],
        ["Read", 1007],
        ["Read", 1002],
        ["Read", 1002]
      ])
    }))

  it.live("a message over Deno's own 64 MiB limit announced in a header: dropped at once, nothing read", () =>
    Effect.gen(function*() {
      const server = yield* DenoServer.serve({}, echo)
      const client = yield* rawUpgrade(server.port)
      client.send(frame({ opcode: 0x2, announce: 2n ** 40n, mask: true }))
      expect(yield* ends(client.socket)).toBe(true)
      yield* stillServes(server.url)
    }))

  it.live("a flood the handler does not read: read fails with ReceiveOverflow (1009) at the bound (a Deno WebSocket cannot pause)", () =>
    Effect.gen(function*() {
      const read = yield* Deferred.make<Exit.Exit<void, unknown>>()
      // Reads only once the connection is closed: what was queued, then the failure.
      const server = yield* DenoServer.serve({ receiveHighWaterMessages: 16 }, (channel) =>
        channel.closed.pipe(
          Effect.andThen(Effect.exit(Stream.runDrain(channel.read))),
          Effect.flatMap((exit) => Deferred.succeed(read, exit))
        ))
      const client = yield* rawUpgrade(server.port)
      for (let i = 0; i < 64; i++) client.send(binary(new Uint8Array(1024)))
      const exit = yield* bounded("handler's read", Deferred.await(read))
      expect(Exit.isFailure(exit) ? JSON.stringify(exit.cause) : "success").toMatch(/ReceiveOverflow/)
      // The peer gets 1009, or, when its next frames were already in flight, Deno drops it first (1006).
      const seen = yield* bounded("close or end", client.reader.awaitClose)
      if (seen !== undefined) expect(seen.code).toBe(1009)
      expect(yield* ends(client.socket)).toBe(true)
    }))

  it.live("a client that never reads: the handler's send waits (bounded), then the stall closes it with 1008", () =>
    Effect.gen(function*() {
      const result = yield* Deferred.make<{ readonly handedOver: number; readonly exit: Exit.Exit<void, unknown> }>()
      const total = 64 * 1024 * 1024
      const server = yield* DenoServer.serve({ sendHighWaterMark: 256 * 1024, sendStallTimeout: "1 second" }, (channel) =>
        Effect.gen(function*() {
          let handedOver = 0
          const chunk = new Uint8Array(64 * 1024)
          const exit = yield* Effect.exit(Effect.forEach(
            Array.from({ length: total / chunk.length }),
            () => Effect.tap(channel.send(chunk), () => Effect.sync(() => (handedOver += chunk.length))),
            { discard: true }
          ))
          yield* Deferred.succeed(result, { handedOver, exit })
        }))
      const client = yield* rawUpgrade(server.port)
      client.socket.pause()
      const { exit, handedOver } = yield* bounded("stall", Deferred.await(result))
      // Backpressure held the writer far below what it wanted to send, then the stall ended it.
      expect(handedOver).toBeLessThan(total / 4)
      expect(Exit.isFailure(exit) ? JSON.stringify(exit.cause) : "success").toContain("SendTimeout")
    }))

  it.live("a client that never answers our close frame: the connection is dropped at closeTimeout (not held for ever)", () =>
    Effect.gen(function*() {
      const server = yield* DenoServer.serve({ closeTimeout: "300 millis" }, () => Effect.void)
      const client = yield* rawUpgrade(server.port)
      // The handler returned: our 1000 comes, and this client reads it but never answers.
      expect(yield* bounded("close frame", client.reader.awaitClose)).toMatchObject({ code: 1000 })
      expect(yield* ends(client.socket)).toBe(true)
      expect(server.connections()).toBe(0)
    }))

  it.live("a client that vanishes mid-handshake or right after it does not count and leaves nothing", () =>
    Effect.gen(function*() {
      const server = yield* DenoServer.serve({ maxConnections: 1 }, echo)
      for (let i = 0; i < 20; i++) {
        const socket = yield* rawConnect(server.port)
        socket.write(i % 2 === 0 ? upgradeRequest("/").slice(0, 40) : upgradeRequest("/"))
        socket.destroy()
      }
      yield* stillServes(server.url)
      expect(server.connections()).toBe(0)
    }))

  it.live("a handler reading slowly still gets every byte, in order (bounded by the receive limit, not dropped)", () =>
    Effect.gen(function*() {
      const got = yield* Deferred.make<number>()
      const server = yield* DenoServer.serve({}, (channel) =>
        Effect.gen(function*() {
          let bytes = 0
          let next = 0
          while (bytes < 200 * 1000) {
            const chunk = yield* channel.readChunk()
            if (Option.isNone(chunk)) break
            for (const byte of chunk.value) {
              if (byte !== (next++ & 0xff)) return yield* Effect.die(new Error(`byte ${next - 1} out of order`))
            }
            bytes += chunk.value.length
            yield* Effect.sleep("1 millis")
          }
          yield* Deferred.succeed(got, bytes)
        }))
      const client = yield* rawUpgrade(server.port)
      let n = 0
      for (let i = 0; i < 200; i++) {
        const message = new Uint8Array(1000)
        for (let j = 0; j < message.length; j++) message[j] = n++ & 0xff
        client.send(binary(message))
      }
      expect(yield* bounded("all bytes", Deferred.await(got))).toBe(200 * 1000)
      expect(client.reader.closeFrame()).toBeUndefined()
    }))
})

/**
 * An adversarial review of DenoServer from the outside: hostile and unlucky clients on raw TCP,
 * with what NodeServer does for the same bytes (node/src/internal/nodeServer.ts) as the reference.
 */
import { ByteChannel } from "@bytechannel/core"
import { DenoServer } from "@bytechannel/deno"
import { describe, expect, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { rawConnect, rawUpgrade, readHead, statusOf, upgradeRequest } from "../../node/test/hostile/raw.js"
import { binary, close, ends, stillServes, within as bounded } from "../../node/test/hostile/serverChecks.js"

const echo = (channel: ByteChannel.ByteChannel) => Stream.run(channel.read, channel.write)


/** Waits for a socket to end (the server dropped it); false when it did not within 5 s. */


const eventually = (what: string, check: () => boolean) =>
  bounded(
    what,
    Effect.suspend(() => check() ? Effect.void : Effect.fail("not yet")).pipe(
      Effect.retry({ schedule: Schedule.spaced("20 millis"), times: 400 })
    )
  )

const causeOf = (exit: Exit.Exit<unknown, unknown>) => Exit.isFailure(exit) ? JSON.stringify(exit.cause) : "success"

describe("DenoServer adversarial review: defects found", () => {
  it.live("path is matched on the target as the client wrote it: dot segments and backslashes are not the served path (as on Node)", () =>
    Effect.gen(function*() {
      const seen = yield* Deferred.make<string>()
      const server = yield* DenoServer.serve({ path: "/chat" }, (channel, info) => Effect.andThen(Deferred.succeed(seen, info.url), echo(channel)))
      for (const target of ["/x/../chat", "/./chat", "/chat/x/..", "/chat\\", "/%63hat", "/chat/"]) {
        expect([target, yield* statusOf(server.port, upgradeRequest(target))]).toEqual([target, "HTTP/1.1 404 Not Found"])
      }
      // Absolute-form and a query are the served path, as on Node; ConnectionInfo.url is the target as written.
      expect(yield* statusOf(server.port, upgradeRequest("http://127.0.0.1/chat?a=/../b"))).toBe("HTTP/1.1 101 Switching Protocols")
      expect(yield* bounded("handler", Deferred.await(seen))).toBe("/chat?a=/../b")
    }))

  it.live("a handshake deadline that passes before Deno opens the socket: the client is dropped, not left upgraded and unowned", () =>
    Effect.gen(function*() {
      // 0: the deadline passes before most upgrades complete (a few may win the race and be
      // served: their handler ends at once). Either way every client's connection must end.
      const server = yield* DenoServer.serve({ handshakeTimeout: 0, closeTimeout: "300 millis" }, () => Effect.void)
      const sockets = yield* Effect.forEach(Array.from({ length: 30 }), () => rawConnect(server.port))
      // Read (and discard) what comes, so that the end of the connection is seen.
      for (const socket of sockets) socket.resume().write(upgradeRequest("/"))
      const ended = yield* Effect.forEach(sockets, ends, { concurrency: "unbounded" })
      expect(ended).toEqual(sockets.map(() => true))
      expect(server.connections()).toBe(0)
    }))

  it.live("keepalive: a peer that reads nothing while our data waits for it is dropped within the keepalive window, not after the default 60 s stall", () =>
    Effect.gen(function*() {
      const ended = yield* Deferred.make<Exit.Exit<void, unknown>>()
      // One send of 16 MiB (more than the socket buffers hold), then the handler only reads.
      const server = yield* DenoServer.serve({ pingInterval: "200 millis", closeTimeout: "300 millis" }, (channel) =>
        Effect.exit(Effect.andThen(channel.send(new Uint8Array(16 * 1024 * 1024)), Stream.runDrain(channel.read))).pipe(
          Effect.flatMap((exit) => Deferred.succeed(ended, exit))
        ))
      const client = yield* rawUpgrade(server.port)
      client.socket.pause()
      const exit = yield* bounded("the silent peer dropped", Deferred.await(ended))
      // Deno's ping is stuck behind the data, so the send stall ends it (on Node the pong deadline does).
      expect(causeOf(exit)).toContain("SendTimeout")
      // Dropped: once it reads again it gets what was in flight, then the end, not all 16 MiB.
      client.socket.resume()
      expect(yield* ends(client.socket)).toBe(true)
      expect(client.reader.bytesRead()).toBeLessThan(16 * 1024 * 1024)
    }))

  it.live("protocols not given: the client's first offer is selected, as on Node (ws) and Bun, not none (a browser would fail)", () =>
    Effect.gen(function*() {
      const seen = yield* Deferred.make<string>()
      const server = yield* DenoServer.serve({}, (channel, info) => Effect.andThen(Deferred.succeed(seen, info.protocol), echo(channel)))
      const socket = yield* rawConnect(server.port)
      socket.write(upgradeRequest("/", { "Sec-WebSocket-Protocol": "chat, v2" }))
      const answer = yield* bounded("answer", readHead(socket))
      expect(answer?.head).toMatch(/^HTTP\/1\.1 101/)
      expect(answer?.head.toLowerCase()).toContain("sec-websocket-protocol: chat\r\n")
      expect(yield* bounded("handler", Deferred.await(seen))).toBe("chat")
    }))

  it.live("maxPayload counts a text message's UTF-8 bytes, as on Node: 400 '€' (1200 bytes) over maxPayload 1000 closes with 1009", () =>
    Effect.gen(function*() {
      const server = yield* DenoServer.serve({ maxPayload: 1000 }, echo)
      const client = yield* rawUpgrade(server.port)
      client.send(binary("€".repeat(400), 0x1))
      expect(yield* bounded("close frame", client.reader.awaitClose)).toMatchObject({ code: 1009 })
      expect(client.reader.frames.some((f) => f.opcode === 0x1 || f.opcode === 0x2)).toBe(false)
    }))

  it.live("an upgrade by another method than GET gets 405, as on Node (ws); a GET with Firefox's Connection header is upgraded", () =>
    Effect.gen(function*() {
      const server = yield* DenoServer.serve({}, echo)
      for (const method of ["POST", "PUT", "DELETE"]) {
        expect([method, yield* statusOf(server.port, upgradeRequest("/").replace("GET", method))]).toEqual([method, "HTTP/1.1 405 Method Not Allowed"])
      }
      const firefox = upgradeRequest("/").replace("Connection: Upgrade", "Connection: keep-alive, Upgrade")
      expect(yield* statusOf(server.port, firefox)).toBe("HTTP/1.1 101 Switching Protocols")
      yield* stillServes(server.url)
    }))

})

describe("DenoServer adversarial review: what held up", () => {
  it.live("a handler that throws synchronously: 1011, not counted afterwards, the server serves on", () =>
    Effect.gen(function*() {
      const server = yield* DenoServer.serve({}, (channel, info) => {
        if (info.url === "/throw") throw new Error("sync boom")
        return echo(channel)
      })
      const client = yield* rawUpgrade(server.port, "/throw")
      expect(yield* bounded("close frame", client.reader.awaitClose)).toMatchObject({ code: 1011 })
      client.send(close(1011))
      yield* eventually("count back to 0", () => server.connections() === 0)
      yield* stillServes(server.url)
    }))

  it.live("one 10 MiB message (within the default maxPayload, over the default receive limit) is delivered whole", () =>
    Effect.gen(function*() {
      const got = yield* Deferred.make<Exit.Exit<number, unknown>>()
      const server = yield* DenoServer.serve({}, (channel) =>
        Effect.exit(Stream.runFold(channel.read, () => 0, (n, chunk) => n + chunk.length)).pipe(
          Effect.flatMap((exit) => Deferred.succeed(got, exit))
        ))
      const client = yield* rawUpgrade(server.port)
      client.send(binary(new Uint8Array(10 * 1024 * 1024)))
      client.send(close(1000))
      expect(yield* bounded("handler", Deferred.await(got))).toEqual(Exit.succeed(10 * 1024 * 1024))
    }))

  it.live("close frames with codes a peer must not send (1005, 1006, 999, 2000) are answered with 1002", () =>
    Effect.gen(function*() {
      const server = yield* DenoServer.serve({}, echo)
      for (const code of [1005, 1006, 999, 2000]) {
        const client = yield* rawUpgrade(server.port)
        client.send(close(code))
        expect(yield* bounded("close frame", client.reader.awaitClose)).toMatchObject({ code: 1002 })
      }
      yield* stillServes(server.url)
    }))

  it.live("the scope closes while 50 clients are mid-handshake: it completes, every socket ends, the port is free", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const server = yield* DenoServer.serve({ closeTimeout: "300 millis" }, echo).pipe(Scope.provide(scope))
      const sockets = yield* Effect.forEach(Array.from({ length: 50 }), () => rawConnect(server.port), { concurrency: 10 })
      for (const socket of sockets) socket.resume().write(upgradeRequest("/"))
      yield* bounded("scope close", Scope.close(scope, Exit.void))
      expect(yield* Effect.forEach(sockets, ends, { concurrency: "unbounded" })).toEqual(sockets.map(() => true))
      expect((yield* DenoServer.serve({ port: server.port }, echo)).port).toBe(server.port)
    }))

  it.live("maxConnections under churn (clients vanish before, during and right after the upgrade): every slot is given back", () =>
    Effect.gen(function*() {
      const server = yield* DenoServer.serve({ maxConnections: 5, closeTimeout: "300 millis" }, echo)
      for (let round = 0; round < 10; round++) {
        const sockets = yield* Effect.forEach(Array.from({ length: 20 }), () => rawConnect(server.port), { concurrency: 20 })
        sockets.forEach((socket, i) => {
          socket.write(upgradeRequest("/"))
          if (i % 3 === 0) socket.destroy()
          else if (i % 3 === 1) setTimeout(() => socket.destroy(), i)
          else socket.once("data", () => socket.destroy())
        })
        yield* Effect.forEach(sockets, ends, { concurrency: "unbounded" })
      }
      yield* eventually("count back to 0", () => server.connections() === 0)
      const clients = yield* Effect.forEach(Array.from({ length: 5 }), () => rawUpgrade(server.port))
      for (const client of clients) client.send(binary(new Uint8Array([1])))
      for (const client of clients) expect(yield* bounded("echo", client.reader.until((f) => f.some((x) => x.opcode === 0x2)))).toBe(true)
      expect(server.connections()).toBe(5)
    }))

  it.live("serve interrupted at once, again and again: the port is free afterwards", () =>
    Effect.gen(function*() {
      const port = yield* Effect.scoped(Effect.map(DenoServer.serve({}, echo), (server) => server.port))
      for (let i = 0; i < 5; i++) {
        const fiber = yield* Effect.forkChild(Effect.scoped(Effect.andThen(DenoServer.serve({ port }, echo), Effect.never)))
        if (i % 2 === 0) yield* Effect.yieldNow
        yield* Fiber.interrupt(fiber)
      }
      expect((yield* DenoServer.serve({ port }, echo)).port).toBe(port)
    }))

  it.live("1000 connections at once, all counted, then all vanish: the count goes back to 0 and the server serves on", () =>
    Effect.gen(function*() {
      const server = yield* DenoServer.serve({}, echo)
      const clients = yield* Effect.forEach(Array.from({ length: 1000 }), () => rawUpgrade(server.port), { concurrency: 50 })
      yield* eventually("1000 counted", () => server.connections() === 1000)
      for (const client of clients) client.socket.destroy()
      yield* eventually("count back to 0", () => server.connections() === 0)
      yield* stillServes(server.url)
    }))
})

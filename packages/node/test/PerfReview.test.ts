// Adversarial review of the cost-per-connection rewrite (issue #23) on Node: one fiber per server
// connection counted until ws let go of its TCP, shared ws listeners with per-connection links,
// events ws emits before the engine exists, clients dropping TCP after the close handshake.
import { ByteChannel } from "@bytechannel/core"
import { NodeConnector, NodeServer } from "@bytechannel/node"
import { describe, expect, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Logger from "effect/Logger"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import * as Net from "node:net"
import { eventually } from "./fixtures.js"
import { closePayload, frame, rawTcpServer, rawUpgrade, readHead, switchingProtocols } from "./hostile/raw.js"

const resources = (kind: string) => process.getActiveResourcesInfo().filter((k) => k === kind).length

/** Fails the test instead of hanging it when `effect` never completes. */
const bounded = <A, E, R>(effect: Effect.Effect<A, E, R>, what: string) =>
  Effect.timeoutOrElse(effect, { duration: "10 seconds", orElse: () => Effect.die(new Error(`never completed: ${what}`)) })

describe("perf review: NodeServer and NodeConnector", () => {
  it.live("churn: 2,000 connections opened, echoed once and closed; the count, timers and sockets return to baseline", () =>
    Effect.gen(function*() {
      const server = yield* NodeServer.serve({}, (channel) =>
        Effect.gen(function*() {
          const chunk = yield* channel.readChunk()
          if (Option.isSome(chunk)) yield* channel.send(chunk.value)
          yield* channel.closed
        }))
      const url = `ws://127.0.0.1:${server.port}/`
      const timers = resources("Timeout")
      const sockets = resources("TCPSocketWrap")
      for (let i = 0; i < 2_000; i++) {
        yield* Effect.scoped(Effect.gen(function*() {
          const channel = yield* ByteChannel.connect(url)
          yield* channel.send(new Uint8Array([i & 0xff]))
          expect(Option.map(yield* channel.readChunk(), (b) => Array.from(b))).toEqual(Option.some([i & 0xff]))
        }))
      }
      yield* eventually(() => server.connections() === 0, () => `connections() = ${server.connections()}`)
      yield* eventually(() => resources("TCPSocketWrap") <= sockets, () => `TCP sockets ${resources("TCPSocketWrap")} vs ${sockets}`)
      yield* eventually(() => resources("Timeout") <= timers, () => `timers ${resources("Timeout")} vs ${timers}`)
    }).pipe(Effect.provide(NodeConnector.layer)), 60_000)

  it.live("a handler that fails at once: the connection ends, is not counted, and the server keeps serving", () =>
    Effect.gen(function*() {
      const server = yield* NodeServer.serve({}, () => Effect.die(new Error("handler failed at once")))
      const url = `ws://127.0.0.1:${server.port}/`
      for (let i = 0; i < 3; i++) {
        const info = yield* bounded(Effect.scoped(Effect.flatMap(ByteChannel.connect(url), (channel) => channel.closed)), "closed")
        expect(info.code).not.toBe(1000)
      }
      yield* eventually(() => server.connections() === 0, () => `connections() = ${server.connections()}`)
    }).pipe(Effect.provide(NodeConnector.layer)))

  it.live("a handler that dies is logged at warning level (as before the rewrite), not swallowed", () => {
    const warnings: Array<string> = []
    const collector = Logger.make((options) => {
      if (options.logLevel === "Warn" || options.logLevel === "Error") warnings.push(String(options.message))
    })
    return Effect.gen(function*() {
      const server = yield* NodeServer.serve({}, () => Effect.die(new Error("handler died")))
      const info = yield* bounded(
        Effect.scoped(Effect.flatMap(ByteChannel.connect(`ws://127.0.0.1:${server.port}/`), (channel) => channel.closed)),
        "closed"
      )
      expect(info.code).toBe(1011)
      yield* eventually(() => server.connections() === 0, () => `connections() = ${server.connections()}`)
      yield* eventually(() => warnings.length > 0, "a warning about the handler's defect")
      expect(warnings.join("\n")).toContain("could not serve a connection")
    }).pipe(Effect.provide(NodeConnector.layer), Effect.provide(Logger.layer([collector])))
  })

  it.live("a server-initiated close with a NodeConnector client ends clean on both sides (the client's early TCP drop loses no close frame)", () =>
    Effect.gen(function*() {
      const serverSide: Array<{ code: number; wasClean: boolean }> = []
      const server = yield* NodeServer.serve({}, (channel) =>
        Effect.gen(function*() {
          const chunk = yield* channel.readChunk()
          if (Option.isSome(chunk)) yield* channel.send(chunk.value)
          const info = yield* channel.close({ code: 4000, reason: "server done" })
          serverSide.push({ code: info.code, wasClean: info.wasClean })
        }))
      const url = `ws://127.0.0.1:${server.port}/`
      for (let i = 0; i < 50; i++) {
        const info = yield* bounded(
          Effect.scoped(Effect.gen(function*() {
            const channel = yield* ByteChannel.connect(url)
            yield* channel.send(new Uint8Array([1, 2, 3]))
            return yield* channel.closed
          })),
          "client closed"
        )
        expect(info).toMatchObject({ code: 4000, wasClean: true, local: false })
      }
      yield* eventually(() => serverSide.length === 50, () => `server saw ${serverSide.length} closes`)
      expect(serverSide.filter((s) => s.code !== 4000 || !s.wasClean)).toEqual([])
      yield* eventually(() => server.connections() === 0, () => `connections() = ${server.connections()}`)
    }).pipe(Effect.provide(NodeConnector.layer)), 60_000)

  it.live("server shutdown with a peer that never answers the close nor ends TCP: done within closeTimeout, peer dropped", () =>
    Effect.gen(function*() {
      const serverScope = yield* Scope.make()
      const server = yield* NodeServer.serve({ closeTimeout: "300 millis" }, (channel) => channel.closed).pipe(
        Scope.provide(serverScope)
      )
      const peer = yield* rawUpgrade(server.port)
      const dropped = new Promise<void>((resolve) => peer.socket.once("close", () => resolve()))
      yield* eventually(() => server.connections() === 1, "counted")
      yield* bounded(Scope.close(serverScope, Exit.void), "server scope close")
      yield* bounded(Effect.promise(() => dropped), "the peer's socket dropped")
      expect(server.connections()).toBe(0)
    }))

  it.live("server: a message and the close frame in the upgrade's own packet reach the handler", () =>
    Effect.gen(function*() {
      const seen = yield* Deferred.make<{ bytes: Array<number>; code: number }>()
      const server = yield* NodeServer.serve({}, (channel) =>
        Effect.gen(function*() {
          const bytes: Array<number> = []
          while (true) {
            const chunk = yield* Effect.orElseSucceed(channel.readChunk(), () => Option.none())
            if (Option.isNone(chunk)) break
            bytes.push(...chunk.value)
          }
          const info = yield* channel.closed
          yield* Deferred.succeed(seen, { bytes, code: info.code })
        }))
      const socket = yield* Effect.acquireRelease(
        Effect.callback<Net.Socket>((resume) => {
          const socket = Net.connect({ host: "127.0.0.1", port: server.port })
          socket.on("error", () => {})
          socket.once("connect", () => resume(Effect.succeed(socket)))
        }),
        (socket) => Effect.sync(() => socket.destroy())
      )
      const request = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
      socket.write(Buffer.concat([
        Buffer.from(request),
        frame({ opcode: 0x2, payload: Buffer.from([7, 8, 9]), mask: true }),
        frame({ opcode: 0x8, payload: closePayload(1000), mask: true })
      ]))
      // Read (and drop) what the server sends: a peer that reads nothing never sees the server's FIN.
      socket.resume()
      expect(yield* bounded(Deferred.await(seen), "handler saw the close")).toEqual({ bytes: [7, 8, 9], code: 1000 })
      yield* eventually(() => server.connections() === 0, () => `connections() = ${server.connections()}`)
    }))

  it.live("client: the server's close frame right behind its 101 ends the connection cleanly", () =>
    Effect.gen(function*() {
      const server = yield* rawTcpServer((socket) => {
        Effect.runFork(Effect.gen(function*() {
          const request = yield* readHead(socket)
          if (request === undefined) return
          socket.write(Buffer.concat([
            Buffer.from(switchingProtocols(request.head)),
            frame({ opcode: 0x2, payload: Buffer.from([1, 2]) }),
            frame({ opcode: 0x8, payload: closePayload(4000) })
          ]))
        }))
      })
      const result = yield* bounded(
        Effect.scoped(Effect.gen(function*() {
          const channel = yield* ByteChannel.connect(`ws://127.0.0.1:${server.port}/`)
          const chunk = yield* channel.readChunk()
          const info = yield* channel.closed
          return { chunk: Option.map(chunk, (b) => Array.from(b)), code: info.code }
        })),
        "connect, read, closed"
      )
      expect(result).toEqual({ chunk: Option.some([1, 2]), code: 4000 })
    }).pipe(Effect.provide(NodeConnector.layerWith({ closeTimeout: "60 seconds" }))))

  it.live("client: a server that drops TCP right after the 101: connect or closed ends, typed", () =>
    Effect.gen(function*() {
      const server = yield* rawTcpServer((socket) => {
        Effect.runFork(Effect.gen(function*() {
          const request = yield* readHead(socket)
          if (request === undefined) return
          socket.end(switchingProtocols(request.head))
          socket.destroy()
        }))
      })
      const exit = yield* bounded(
        Effect.exit(Effect.scoped(Effect.flatMap(ByteChannel.connect(`ws://127.0.0.1:${server.port}/`), (c) => c.closed))),
        "connect against a server gone after its 101"
      )
      if (Exit.isSuccess(exit)) expect(exit.value.code).toBe(1006)
      else expect(exit.cause).toBeDefined()
    }).pipe(Effect.provide(NodeConnector.layer)))
})

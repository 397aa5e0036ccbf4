// BunServer from the outside, in Bun: its options (path, origins, protocols, limits, deadlines,
// keepalive), how a connection ends (1000, 1011, 1001, 1013, 1009), and hostile clients (raw
// frames and malformed HTTP over node:net, bursts, a client that never reads).
import { describe, expect, it } from "@effect/vitest"
import { ByteChannel, Server } from "@bytechannel/core"
import { BunServer } from "@bytechannel/bun"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Logger from "effect/Logger"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { spawn } from "node:child_process"
import { fileURLToPath, pathToFileURL } from "node:url"
import { NODE } from "../../core/test/contract/remote/globalSetup.js"
import { awaitSuspended } from "../../core/test/utils.js"
import { frame, type ParsedFrame, rawConnect, rawUpgrade, readHead, statusOf, upgradeRequest } from "../../node/test/hostile/raw.js"
import { connect, stillServes, within } from "../../node/test/hostile/serverChecks.js"

const PEERS = fileURLToPath(new URL("./peers/", import.meta.url))
const TSX = pathToFileURL(fileURLToPath(new URL("../../../node_modules/tsx/dist/loader.mjs", import.meta.url))).href

const echo = (channel: ByteChannel.ByteChannel) => Stream.run(channel.read, channel.write)

/** Records how the probe connection's read ended; every other connection is echoed. */
const probe = (seen: Deferred.Deferred<Exit.Exit<unknown, unknown>>) => (channel: ByteChannel.ByteChannel, info: Server.ConnectionInfo) =>
  info.url === "/probe"
    ? channel.read.pipe(Stream.runDrain, Effect.exit, Effect.flatMap((exit) => Deferred.succeed(seen, exit)))
    : echo(channel)




/** A plain Bun WebSocket client; what it saw of the close. */
const plainClient = (url: string, protocols?: Array<string>, headers?: Record<string, string>) =>
  Effect.acquireRelease(
    Effect.callback<{ readonly ws: WebSocket; readonly closed: Promise<{ code: number; reason: string }> }, Error>((resume) => {
      const ws = new WebSocket(url, { protocols, headers } as unknown as Array<string>)
      const closed = new Promise<{ code: number; reason: string }>((resolve) => {
        ws.onclose = (event) => resolve({ code: event.code, reason: event.reason })
      })
      ws.onopen = () => resume(Effect.succeed({ ws, closed }))
      ws.onerror = () => resume(Effect.fail(new Error("handshake failed")))
    }),
    ({ ws }) => Effect.sync(() => ws.close())
  )

describe("BunServer", () => {
  it.live("path: only that path is served, whatever the query; dot segments are resolved by Bun first", () =>
    Effect.gen(function*() {
      const server = yield* BunServer.serve({ path: "/chat" }, echo)
      expect(server.url).toBe(`ws://127.0.0.1:${server.port}/chat`)
      expect(yield* statusOf(server.port, upgradeRequest("/chat?room=1"))).toBe("HTTP/1.1 101 Switching Protocols")
      for (const target of ["/", "/chatroom", "/chat/", "//chat", "/chat%2F"]) {
        expect(yield* statusOf(server.port, upgradeRequest(target)), target).toBe("HTTP/1.1 404 Not Found")
      }
      // Bun hands over the target with dot segments resolved (Node's server does not): documented.
      expect(yield* statusOf(server.port, upgradeRequest("/x/../chat"))).toBe("HTTP/1.1 101 Switching Protocols")
      yield* stillServes(server.url)
    }))

  it.live("layerServer: a program written against core's Server.serve runs on Bun, options and all", () =>
    Effect.gen(function*() {
      const server = yield* Server.serve({ path: "/echo", maxPayload: 1024 }, echo)
      expect(server.url).toBe(`ws://127.0.0.1:${server.port}/echo`)
      yield* stillServes(server.url)
      expect(yield* statusOf(server.port, upgradeRequest("/other"))).toBe("HTTP/1.1 404 Not Found")
      const peer = yield* rawUpgrade(server.port, "/echo")
      peer.send(frame({ opcode: 0x2, payload: new Uint8Array(1025), mask: true }))
      expect((yield* within("close frame", peer.reader.awaitClose))?.code).toBe(1009)
    }).pipe(Effect.provide(BunServer.layerServer)))

  it.live("allowOrigins: a missing or other Origin gets 403, a listed one is served", () =>
    Effect.gen(function*() {
      const server = yield* BunServer.serve({ allowOrigins: ["https://good.example"] }, echo)
      expect(yield* statusOf(server.port, upgradeRequest("/"))).toBe("HTTP/1.1 403 Forbidden")
      expect(yield* statusOf(server.port, upgradeRequest("/", { Origin: "https://evil.example" }))).toBe("HTTP/1.1 403 Forbidden")
      expect(yield* statusOf(server.port, upgradeRequest("/", { Origin: "https://good.example" }))).toBe("HTTP/1.1 101 Switching Protocols")
    }))

  it.live("a plain HTTP request gets 426; malformed requests get an error status or a close, and the server serves on", () =>
    Effect.gen(function*() {
      const server = yield* BunServer.serve({}, echo)
      expect(yield* statusOf(server.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")).toBe("HTTP/1.1 426 Upgrade Required")
      for (const garbage of ["\x00\x01\x02 nonsense\r\n\r\n", "GET / HTTP/1.1\r\nHost x\r\nBad Header\r\n\r\n", `GET /${"a".repeat(100_000)} HTTP/1.1\r\n\r\n`]) {
        const status = yield* statusOf(server.port, garbage)
        // Bun answers 400/431 or just closes: never a 101, never a crash.
        expect(status === undefined || /^HTTP\/1\.1 4\d\d/.test(status), String(status)).toBe(true)
      }
      yield* stillServes(server.url)
    }))

  it.live("protocols: the server's first choice among those offered; none offered in common is none", () =>
    Effect.gen(function*() {
      const seen: Array<string> = []
      const server = yield* BunServer.serve({ protocols: ["v2", "v1"] }, (channel, info) => {
        seen.push(info.protocol)
        return echo(channel)
      })
      const both = yield* plainClient(server.url, ["v1", "v2"])
      expect(both.ws.protocol).toBe("v2")
      expect(seen).toEqual(["v2"])
      // Nothing in common: a 101 without a protocol (which the client may then refuse).
      const raw = yield* rawConnect(server.port)
      raw.write(upgradeRequest("/", { "Sec-WebSocket-Protocol": "v3, v4" }))
      const head = (yield* within("answer", readHead(raw)))?.head ?? ""
      expect(head.split("\r\n")[0]).toBe("HTTP/1.1 101 Switching Protocols")
      expect(head.toLowerCase()).not.toContain("sec-websocket-protocol")
    }))

  it.live("maxConnections: one more is accepted and closed with 1013; a freed place is taken again", () =>
    Effect.gen(function*() {
      const server = yield* BunServer.serve({ maxConnections: 1 }, echo)
      const scope = yield* Scope.make()
      yield* Scope.provide(stillServesHeld(server.url), scope)
      expect(server.connections()).toBe(1)
      const second = yield* plainClient(server.url)
      expect(yield* Effect.promise(() => second.closed)).toMatchObject({ code: 1013 })
      yield* Scope.close(scope, Exit.void)
      yield* stillServes(server.url).pipe(Effect.retry({ times: 50 }))
    }))

  it.live("the handler's end: 1000 when it completes, 1011 when it fails, 1001 when the server's scope closes", () =>
    Effect.gen(function*() {
      const done = yield* BunServer.serve({}, () => Effect.void)
      const seenDone = yield* plainClient(done.url)
      expect(yield* Effect.promise(() => seenDone.closed)).toMatchObject({ code: 1000 })
      const failing = yield* BunServer.serve({}, () => Effect.fail("boom"))
      const seenFail = yield* plainClient(failing.url)
      expect(yield* Effect.promise(() => seenFail.closed)).toMatchObject({ code: 1011 })
      const scope = yield* Scope.make()
      const held = yield* Scope.provide(BunServer.serve({}, () => Effect.never), scope)
      const client = yield* plainClient(held.url)
      expect(held.connections()).toBe(1)
      yield* Scope.close(scope, Exit.void)
      // The handler's fiber was interrupted, and its connection closed by the engine (not dropped by Bun's stop).
      expect(yield* Effect.promise(() => client.closed)).toEqual({ code: 1001, reason: "server shutting down" })
    }))

  it.live("a handler that dies closes with 1011 and is logged at warning level, as on Node (not swallowed)", () => {
    const warnings: Array<string> = []
    const collector = Logger.make((options) => {
      if (options.logLevel === "Warn" || options.logLevel === "Error") warnings.push(String(options.message))
    })
    return Effect.gen(function*() {
      const server = yield* BunServer.serve({}, () => Effect.die(new Error("handler died")))
      const seen = yield* plainClient(server.url)
      expect(yield* within("close", Effect.promise(() => seen.closed))).toMatchObject({ code: 1011 })
      yield* within("warning", Effect.gen(function*() {
        while (warnings.length === 0) yield* Effect.yieldNow
      }))
      expect(warnings.join("\n")).toContain("could not serve a connection")
    }).pipe(Effect.provide(Logger.layer([collector])))
  })

  it.live("a busy port fails with SocketError Open", () =>
    Effect.gen(function*() {
      const first = yield* BunServer.serve({}, echo)
      const error = yield* Effect.flip(BunServer.serve({ port: first.port }, echo))
      expect(error).toMatchObject({ _tag: "SocketError", reason: "Open" })
      expect(error.message).toContain(`${first.port}`)
    }))

  it.live("maxPayload: exactly maxPayload is delivered; one byte more is 1009 on the wire and in read", () =>
    Effect.gen(function*() {
      const seen = yield* Deferred.make<Exit.Exit<unknown, unknown>>()
      const sizes: Array<number> = []
      const server = yield* BunServer.serve({ maxPayload: 1024 }, (channel, info) =>
        info.url === "/probe"
          ? channel.read.pipe(Stream.runForEach((chunk) => Effect.sync(() => sizes.push(chunk.length))), Effect.exit, Effect.flatMap((exit) => Deferred.succeed(seen, exit)))
          : echo(channel))
      const peer = yield* rawUpgrade(server.port, "/probe")
      peer.send(frame({ opcode: 0x2, payload: new Uint8Array(1024), mask: true }))
      peer.send(frame({ opcode: 0x2, payload: new Uint8Array(1025), mask: true }))
      expect((yield* within("close frame", peer.reader.awaitClose))?.code).toBe(1009)
      const exit = yield* within("end of read", Deferred.await(seen))
      expect(sizes).toEqual([1024])
      expect(Exit.isFailure(exit) && JSON.stringify(exit.cause)).toMatch(/"code":1009/)
      yield* stillServes(server.url)
    }))

  const protocolErrors: ReadonlyArray<{ readonly name: string; readonly bytes: () => Uint8Array; readonly code: number }> = [
    { name: "an unmasked client frame", bytes: () => frame({ opcode: 0x2, payload: "abc", mask: false }), code: 1002 },
    { name: "a reserved opcode", bytes: () => frame({ opcode: 0x3, payload: "abc", mask: true }), code: 1002 },
    { name: "RSV bits without an extension", bytes: () => frame({ opcode: 0x2, payload: "abc", mask: true, rsv: 0b100 }), code: 1002 },
    { name: "a fragmented ping", bytes: () => frame({ opcode: 0x9, payload: "p", mask: true, fin: false }), code: 1002 },
    { name: "invalid UTF-8 in a text message", bytes: () => frame({ opcode: 0x1, payload: new Uint8Array([0xc3, 0x28]), mask: true }), code: 1007 },
    { name: "a length of 2^62", bytes: () => frame({ opcode: 0x2, announce: 2n ** 62n, mask: true }), code: 1009 },
    { name: "a continuation frame with nothing to continue", bytes: () => frame({ opcode: 0x0, payload: "x", mask: true }), code: 1002 },
    { name: "a ping of 200 bytes", bytes: () => frame({ opcode: 0x9, payload: new Uint8Array(200), mask: true }), code: 1002 },
    { name: "a close frame with code 1005", bytes: () => frame({ opcode: 0x8, payload: Uint8Array.of(0x03, 0xed), mask: true }), code: 1002 },
    { name: "a close reason of invalid UTF-8", bytes: () => frame({ opcode: 0x8, payload: Uint8Array.of(0x03, 0xe8, 0xff), mask: true }), code: 1007 }
  ]
  for (const { bytes, code, name } of protocolErrors) {
    it.live(`hostile frames: ${name} closes with ${code}; read fails; the server serves on`, () =>
      Effect.gen(function*() {
        const seen = yield* Deferred.make<Exit.Exit<unknown, unknown>>()
        const server = yield* BunServer.serve({}, probe(seen))
        const peer = yield* rawUpgrade(server.port, "/probe")
        peer.send(bytes())
        expect((yield* within("close frame", peer.reader.awaitClose))?.code).toBe(code)
        const exit = yield* within("end of read", Deferred.await(seen))
        // Read fails with the code that went on the wire.
        expect(Exit.isFailure(exit) && JSON.stringify(exit.cause)).toContain(`"code":${code}`)
        yield* stillServes(server.url)
      }))
  }

  it.live("nothing lingers before an upgrade: a plain request is answered and closed; an incomplete head is dropped by Bun", () =>
    Effect.gen(function*() {
      const server = yield* BunServer.serve({}, echo)
      const plain = yield* rawConnect(server.port)
      plain.write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
      expect((yield* within("answer", readHead(plain)))?.head.split("\r\n")[0]).toBe("HTTP/1.1 426 Upgrade Required")
      yield* within("the close after the answer", Effect.callback<void>((resume) => {
        if (plain.destroyed) return resume(Effect.void)
        plain.once("close", () => resume(Effect.void))
      }))
      // Half a request head, then silence: Bun's own bound (about 10 s; handshakeTimeout has no say).
      const silent = yield* rawConnect(server.port)
      silent.write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpg")
      const answer = yield* readHead(silent).pipe(
        Effect.timeoutOrElse({ duration: "25 seconds", orElse: () => Effect.succeed("still open" as const) })
      )
      expect(answer === "still open" ? answer : answer?.head.split("\r\n")[0] ?? "dropped").not.toBe("still open")
      yield* stillServes(server.url)
    }), { timeout: 40_000 })

  it.live("pingInterval: a client that answers pings stays; one that never answers is dropped (read fails, 1006)", () =>
    Effect.gen(function*() {
      const seen = yield* Deferred.make<Exit.Exit<unknown, unknown>>()
      const pongs = yield* Deferred.make<void>()
      let pongCount = 0
      const server = yield* BunServer.serve({ pingInterval: "100 millis", pongTimeout: "200 millis" }, (channel, info) =>
        info.url === "/probe"
          ? probe(seen)(channel, info)
          : Effect.andThen(
            Effect.forkChild(Stream.runForEach(channel.events, (event) =>
              event._tag === "Pong" && ++pongCount === 3 ? Deferred.succeed(pongs, undefined) : Effect.void)),
            echo(channel)
          ))
      // Bun's WebSocket answers pings: three pongs later, the connection still echoes.
      const channel = yield* connect(server.url)
      yield* within("three pongs", Deferred.await(pongs))
      yield* channel.send(new Uint8Array([7]))
      expect(Option.map(yield* within("echo", channel.readChunk()), (chunk) => [...chunk])).toEqual(Option.some([7]))
      // A raw client never answers.
      const peer = yield* rawUpgrade(server.port, "/probe")
      expect(yield* within("pings", peer.reader.until((frames: ReadonlyArray<ParsedFrame>) => frames.some((f) => f.opcode === 0x9)))).toBe(true)
      const exit = yield* within("the drop", Deferred.await(seen))
      expect(Exit.isFailure(exit) && JSON.stringify(exit.cause)).toMatch(/no pong/)
      yield* within("the end of the raw connection", Effect.promise(() => peer.reader.ended))
    }))

  it.live("close by the server completes at once, even against a client that never answers (Bun does not wait)", () =>
    Effect.gen(function*() {
      const closed = yield* Deferred.make<unknown>()
      const server = yield* BunServer.serve({ closeTimeout: "30 seconds" }, (channel) =>
        Effect.flatMap(channel.close({ code: 4000, reason: "bye" }), (info) => Deferred.succeed(closed, info)))
      const peer = yield* rawUpgrade(server.port)
      // The raw client never sends its close frame; the close still completes, long before 30 s.
      expect(yield* within("close", Deferred.await(closed))).toEqual({ code: 4000, reason: "bye", wasClean: true, local: true })
      expect((yield* within("close frame", peer.reader.awaitClose))).toEqual({ code: 4000, reason: "bye" })
      yield* within("the end of the raw connection", Effect.promise(() => peer.reader.ended))
    }))

  it.live("a client that floods pings and reads none of the pongs: Bun holds a bounded amount of them", () =>
    Effect.gen(function*() {
      const BURSTS = 600
      const PER_BURST = 1000
      const server = yield* BunServer.serve({}, echo)
      const peer = yield* rawUpgrade(server.port)
      peer.socket.pause()
      const burst = Buffer.concat(Array.from({ length: PER_BURST }, () => frame({ opcode: 0x9, payload: new Uint8Array(125), mask: true })))
      for (let i = 0; i < BURSTS; i++) peer.send(burst)
      peer.send(frame({ opcode: 0x2, payload: "end", mask: true }))
      // Everything handed to the kernel: the server reads on (it is not paused), we read nothing.
      yield* within("the flood written", Effect.callback<void>((resume) => {
        if (peer.socket.writableLength === 0) return resume(Effect.void)
        peer.socket.once("drain", () => resume(Effect.void))
      }))
      peer.socket.resume()
      // The echo of "end" comes after every pong the server kept.
      expect(yield* within("the echo", peer.reader.until((frames) => frames.some((f) => f.opcode === 0x2)))).toBe(true)
      const pongBytes = peer.reader.frames.filter((f) => f.opcode === 0xa).reduce((sum, f) => sum + f.payload.length, 0)
      // 75 MB of pongs were owed; Bun keeps at most about 16 MiB of them (its own bound: the same
      // with its backpressureLimit off or at 64 MiB), plus what the sockets buffered.
      expect(pongBytes).toBeGreaterThan(0)
      expect(pongBytes).toBeLessThan(45 * 1000 * 1000)
      yield* stillServes(server.url)
    }), { timeout: 60_000 })

  it.live("a client process killed mid-transfer: the handler's read fails with 1006 and the slot is freed", () =>
    Effect.gen(function*() {
      const seen = yield* Deferred.make<Exit.Exit<unknown, unknown>>()
      const started = yield* Deferred.make<void>()
      let bytes = 0
      const server = yield* BunServer.serve({}, (channel) =>
        channel.read.pipe(
          Stream.runForEach((chunk) => {
            bytes += chunk.length
            return Effect.andThen(channel.send(chunk), bytes > 100_000 ? Deferred.succeed(started, undefined) : Effect.void)
          }),
          Effect.exit,
          Effect.flatMap((exit) => Deferred.succeed(seen, exit))
        ))
      const child = spawn(NODE, ["--import", TSX, `${PEERS}node-client.ts`, server.url, "forever"], {
        stdio: ["ignore", "ignore", "inherit"],
        env: { ...process.env, TSX_TSCONFIG_PATH: `${PEERS}tsconfig.json` }
      })
      yield* Effect.addFinalizer(() => Effect.sync(() => child.kill("SIGKILL")))
      yield* within("the transfer", Deferred.await(started))
      child.kill("SIGKILL")
      const exit = yield* within("the end of read", Deferred.await(seen))
      expect(Exit.isFailure(exit) && JSON.stringify(exit.cause)).toMatch(/"code":1006/)
      yield* within("the slot freed", Effect.suspend(() => server.connections() === 0 ? Effect.void : Effect.fail(new Error("still counted"))).pipe(
        Effect.retry({ times: 100, schedule: Schedule.spaced("20 millis") })
      ))
    }), { timeout: 60_000 })

  it.live("10,000 messages in one burst come back in order, byte-identical", () =>
    Effect.gen(function*() {
      const COUNT = 10_000
      const server = yield* BunServer.serve({}, echo)
      const channel = yield* connect(server.url)
      const messages = Array.from({ length: COUNT }, (_, i) => Uint8Array.of(i & 0xff, (i >> 8) & 0xff, 1 + (i % 5)))
      const writer = yield* Effect.forkChild(Effect.forEach(messages, (m) => channel.send(m), { discard: true }))
      const back = yield* within("the echo", channel.read.pipe(Stream.take(COUNT), Stream.runCollect))
      yield* Fiber.join(writer)
      expect(back.length).toBe(COUNT)
      back.forEach((chunk, i) => {
        if (chunk[0] !== (i & 0xff) || chunk[1] !== ((i >> 8) & 0xff)) expect.fail(`message ${i} out of order`)
      })
    }))

  it.live("a client that never reads: the handler's send waits; what the server took stays bounded", () =>
    Effect.gen(function*() {
      const CHUNK = 64 * 1024
      const TOTAL = 256 * 1024 * 1024
      const state = { handedOver: 0 }
      const writing = yield* Deferred.make<Fiber.Fiber<void, unknown>>()
      const server = yield* BunServer.serve({ sendHighWaterMark: 256 * 1024 }, (channel) =>
        Effect.gen(function*() {
          const chunk = new Uint8Array(CHUNK)
          const fiber = yield* Effect.forkChild(Effect.gen(function*() {
            while (state.handedOver < TOTAL) {
              yield* channel.send(chunk)
              state.handedOver += CHUNK
            }
          }))
          yield* Deferred.succeed(writing, fiber)
          yield* Fiber.join(fiber)
        }))
      const peer = yield* rawUpgrade(server.port)
      peer.socket.pause()
      const fiber = yield* within("the writer", Deferred.await(writing))
      // Suspended in `send`, with a bounded amount handed over (the high-water mark, and what the
      // kernel's socket buffers took): far below everything it had to send.
      yield* awaitSuspended(fiber)
      expect(state.handedOver).toBeLessThan(32 * 1024 * 1024)
    }))
})

/** A client whose echo worked, held open with the scope. */
const stillServesHeld = (url: string) =>
  Effect.gen(function*() {
    const channel = yield* connect(url)
    yield* channel.send(new Uint8Array([1]))
    yield* within("echo", channel.readChunk())
  })

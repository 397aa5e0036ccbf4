// BunServer against hostile and unlucky clients (adversarial review): request targets Bun cannot
// make absolute, malformed upgrade heads, churn and races around the upgrade, the server's scope
// closing mid-handshake / mid-send, receive backpressure with slow readers, send backpressure and
// a close behind unsent data, oversized and deflated messages, hostile close frames, 2,000
// connections, two servers in one process, and a child process that must exit after its scope closes.
import { describe, expect, it } from "@effect/vitest"
import { ByteChannel } from "@bytechannel/core"
import { BunServer } from "@bytechannel/bun"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { spawn } from "node:child_process"
import * as Net from "node:net"
import { fileURLToPath } from "node:url"
import * as Zlib from "node:zlib"
import { frame, frameReader, rawConnect, rawUpgrade, readHead, statusOf, upgradeRequest } from "../../node/test/hostile/raw.js"
import { connect, stillServes, within } from "../../node/test/hostile/serverChecks.js"

const PEERS = fileURLToPath(new URL("./peers/", import.meta.url))
/** The real Bun binary (node_modules/.bin/bun is a shell wrapper: a signal to it would miss Bun). */
const BUN = fileURLToPath(new URL("../../../node_modules/bun/bin/bun.exe", import.meta.url))

const echo = (channel: ByteChannel.ByteChannel) => Stream.run(channel.read, channel.write)




/** Polls `check` until it holds (bounded). */
const eventually = (what: string, check: () => boolean) =>
  within(what, Effect.suspend(() => check() ? Effect.void : Effect.fail(new Error(what))).pipe(
    Effect.retry({ times: 250, schedule: Schedule.spaced("20 millis") })
  ))

/** A request head with the Host header given as is ("" for none). */
const requestWithHost = (target: string, host: string | undefined) =>
  upgradeRequest(target).replace("Host: 127.0.0.1\r\n", host === undefined ? "" : `Host: ${host}\r\n`)

/** A raw socket's whole life: resolves when it is closed (by either side). */
const closedOf = (socket: Net.Socket) =>
  Effect.callback<void>((resume) => {
    if (socket.destroyed) return resume(Effect.void)
    socket.once("close", () => resume(Effect.void))
  })

describe("BunServer (adversarial review)", () => {
  it.live("path: a target Bun cannot make absolute (Host with a slash, no Host) is matched as written, not by its last '//'", () =>
    Effect.gen(function*() {
      const urls: Array<string> = []
      const server = yield* BunServer.serve({ path: "/chat" }, (channel, info) => {
        urls.push(info.url)
        return echo(channel)
      })
      // Bun hands these over as the bare target ("/a//b/chat"), not as "http://host/a//b/chat".
      for (const host of ["x/y", "", undefined]) {
        for (const target of ["/a//b/chat", "/other"]) {
          // Without a Host, Bun answers 400 itself; never 101 off the path.
          const expected = host === undefined ? /^HTTP\/1\.1 4\d\d / : /^HTTP\/1\.1 404 Not Found$/
          expect(yield* statusOf(server.port, requestWithHost(target, host)), `${target} with Host ${host}`).toMatch(expected)
        }
      }
      // The real path is still served, and the handler learns the target as sent.
      expect(yield* statusOf(server.port, requestWithHost("/chat?q=1", "x/y"))).toBe("HTTP/1.1 101 Switching Protocols")
      yield* eventually("the handler", () => urls.length === 1)
      expect(urls).toEqual(["/chat?q=1"])
      const root = yield* BunServer.serve({ path: "/" }, echo)
      expect(yield* statusOf(root.port, requestWithHost("/secret", "x/y"))).toBe("HTTP/1.1 404 Not Found")
    }))

  it.live("churn: clients that vanish before, during and after the upgrade; the count never leaks or goes negative", () =>
    Effect.gen(function*() {
      const MAX = 8
      const ROUNDS = 300
      let lowest = 0
      let highest = 0
      const server = yield* BunServer.serve({ maxConnections: MAX }, (channel, info): Effect.Effect<void, unknown> => {
        const kind = info.url.slice(1, 2)
        // Handlers that end at once, fail at once, throw as they are called, or echo.
        if (kind === "e") return Effect.void
        if (kind === "f") return Effect.fail("boom")
        if (kind === "t") throw new Error("thrown")
        return echo(channel)
      })
      const sample = () => {
        const n = server.connections()
        lowest = Math.min(lowest, n)
        highest = Math.max(highest, n)
      }
      yield* Effect.forEach(Array.from({ length: ROUNDS }, (_, i) => i), (i) =>
        Effect.scoped(Effect.gen(function*() {
          const socket = yield* rawConnect(server.port)
          const kind = "eftx"[i % 4]!
          socket.write(upgradeRequest(`/${kind}${i}`))
          sample()
          switch (i % 5) {
            case 0: // gone before the answer
              socket.resetAndDestroy()
              return
            case 1: // half a frame, then gone
              socket.write(frame({ opcode: 0x2, payload: new Uint8Array(100), mask: true }).subarray(0, 10))
              socket.destroy()
              return
            default: {
              yield* within("answer", readHead(socket))
              sample()
              if (i % 5 === 2) socket.write(frame({ opcode: 0x8, payload: Uint8Array.of(0x03, 0xe8), mask: true }))
              if (i % 5 === 3) socket.resetAndDestroy()
              if (i % 5 === 4) socket.end()
              return
            }
          }
        })), { concurrency: 16, discard: true })
      yield* eventually("the count back to 0", () => {
        sample()
        return server.connections() === 0
      })
      expect(lowest).toBe(0)
      expect(highest).toBeLessThanOrEqual(MAX)
      // Every place is free again: MAX clients are served at once.
      const held = yield* Effect.forEach(Array.from({ length: MAX }), () => connect(`${server.url}/x`), { concurrency: MAX })
      for (const channel of held) {
        yield* channel.send(new Uint8Array([9]))
        expect(Option.isSome(yield* within("echo", channel.readChunk()))).toBe(true)
      }
      expect(server.connections()).toBe(MAX)
    }), { timeout: 60_000 })

  it.live("the server's scope closes with clients mid-handshake, mid-send and mid-close; every socket ends; the port is free at once", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const server = yield* Scope.provide(BunServer.serve({}, echo), scope)
      const sockets: Array<Net.Socket> = []
      for (let i = 0; i < 30; i++) {
        const socket = yield* rawConnect(server.port)
        sockets.push(socket)
        if (i % 3 === 0) socket.write(upgradeRequest("/").slice(0, 20)) // half a head
        else if (i % 3 === 1) socket.write(upgradeRequest("/")) // an upgrade in flight
        else {
          socket.write(upgradeRequest("/"))
          yield* within("answer", readHead(socket))
          socket.write(frame({ opcode: 0x2, payload: new Uint8Array(200_000), mask: true }))
          socket.write(frame({ opcode: 0x8, payload: Uint8Array.of(0x03, 0xe8), mask: true }))
        }
      }
      for (const socket of sockets) socket.resume() // read on: a paused Node socket never sees the server's FIN
      yield* within("scope close", Scope.close(scope, Exit.void))
      expect(server.connections()).toBe(0)
      yield* eventually("every client socket closed by the server", () => sockets.every((socket) => socket.destroyed))
      // The same port at once, in the same process.
      const again = yield* BunServer.serve({ port: server.port }, echo)
      yield* stillServes(again.url)
    }))

  it.live("receive backpressure: a flood into a slow reader with a tiny queue arrives whole and in order, never hangs", () =>
    Effect.gen(function*() {
      const COUNT = 3000
      const SIZE = 4096
      const done = yield* Deferred.make<number>()
      const server = yield* BunServer.serve({ receiveHighWaterMessages: 2, receiveHighWaterBytes: 8192 }, (channel) =>
        Effect.gen(function*() {
          let next = 0
          let bad = 0
          while (next < COUNT) {
            const message = yield* channel.socket.receive
            if (Option.isNone(message)) break
            const bytes = message.value as Uint8Array
            if (bytes.length !== SIZE || bytes[0] !== (next & 0xff)) bad++
            next++
            if (next % 7 === 0) yield* Effect.yieldNow
          }
          yield* Deferred.succeed(done, bad === 0 ? next : -bad)
        }))
      const channel = yield* connect(server.url)
      for (let i = 0; i < COUNT; i++) {
        const m = new Uint8Array(SIZE)
        m[0] = i & 0xff
        yield* channel.send(m)
      }
      expect(yield* within("every message", Deferred.await(done), 20)).toBe(COUNT)
    }), { timeout: 60_000 })

  it.live("a handler that never reads: the client fills the queue, then resets the connection; it ends although reads are paused", () =>
    Effect.gen(function*() {
      const closed = yield* Deferred.make<unknown>()
      // No keepalive: Bun sees the reset of a socket whose reads are paused.
      const server = yield* BunServer.serve({}, (channel) =>
        Effect.flatMap(channel.closed, (info) => Deferred.succeed(closed, info)))
      const peer = yield* rawUpgrade(server.port)
      for (let i = 0; i < 200; i++) peer.send(frame({ opcode: 0x2, payload: new Uint8Array(64 * 1024), mask: true }))
      yield* eventually("the connection served", () => server.connections() === 1)
      peer.socket.resetAndDestroy()
      yield* within("the end of the connection", Deferred.await(closed), 20)
      yield* eventually("the slot freed", () => server.connections() === 0)
    }), { timeout: 40_000 })

  it.live("frames pipelined with the upgrade head are delivered; fragments over maxPayload are 1009", () =>
    Effect.gen(function*() {
      const got = yield* Deferred.make<Array<number>>()
      const server = yield* BunServer.serve({ maxPayload: 1024 }, (channel) =>
        channel.read.pipe(
          Stream.take(1),
          Stream.runCollect,
          Effect.flatMap((chunks) => Deferred.succeed(got, chunks.flatMap((c) => [...c]))),
          Effect.andThen(echo(channel))
        ))
      const socket = yield* rawConnect(server.port)
      socket.write(Buffer.concat([Buffer.from(upgradeRequest("/")), frame({ opcode: 0x2, payload: Uint8Array.of(5, 6), mask: true })]))
      expect(yield* within("the message", Deferred.await(got))).toEqual([5, 6])
      const peer = yield* rawUpgrade(server.port)
      peer.send(frame({ opcode: 0x2, payload: new Uint8Array(600), mask: true, fin: false }))
      peer.send(frame({ opcode: 0x0, payload: new Uint8Array(600), mask: true, fin: true }))
      expect((yield* within("close frame", peer.reader.awaitClose))?.code).toBe(1009)
    }))

  it.live("two servers in one process: each connection gets its own server's handler and info", () =>
    Effect.gen(function*() {
      const tag = (name: number) => (channel: ByteChannel.ByteChannel, info: { readonly url: string }) =>
        Effect.andThen(channel.send(new TextEncoder().encode(`${name}${info.url}`)), echo(channel))
      const a = yield* BunServer.serve({}, tag(1))
      const b = yield* BunServer.serve({}, tag(2))
      const seen = yield* Effect.forEach(Array.from({ length: 40 }, (_, i) => i), (i) =>
        Effect.scoped(Effect.gen(function*() {
          const channel = yield* connect(`${i % 2 === 0 ? a.url : b.url}/c${i}`)
          const first = yield* within("greeting", channel.readChunk())
          return Option.map(first, (c) => new TextDecoder().decode(c))
        })), { concurrency: 10 })
      expect(seen).toEqual(Array.from({ length: 40 }, (_, i) => Option.some(`${i % 2 === 0 ? 1 : 2}/c${i}`)))
    }))

  it.live("close codes: a client's 4001 reaches the handler as the peer's clean close; the server answers it", () =>
    Effect.gen(function*() {
      const closed = yield* Deferred.make<unknown>()
      const server = yield* BunServer.serve({}, (channel) => Effect.flatMap(channel.closed, (info) => Deferred.succeed(closed, info)))
      const peer = yield* rawUpgrade(server.port)
      peer.send(frame({ opcode: 0x8, payload: Buffer.concat([Buffer.from([0x0f, 0xa1]), Buffer.from("bye")]), mask: true }))
      expect(yield* within("close", Deferred.await(closed))).toEqual({ code: 4001, reason: "bye", wasClean: true, local: false })
      expect((yield* within("close frame", peer.reader.awaitClose))?.code).toBe(4001)
      yield* within("the end of the raw connection", closedOf(peer.socket))
    }))

  /** A raw client that negotiated permessage-deflate. */
  const deflateClient = (port: number) =>
    Effect.gen(function*() {
      const socket = yield* rawConnect(port)
      socket.write(upgradeRequest("/probe", { "Sec-WebSocket-Extensions": "permessage-deflate" }))
      const answer = yield* within("answer", readHead(socket))
      expect(answer?.head.toLowerCase()).toContain("permessage-deflate")
      return { socket, reader: frameReader(socket, answer!.rest) }
    })
  const deflated = (bytes: Uint8Array) => {
    const out = Zlib.deflateRawSync(bytes, { finishFlush: Zlib.constants.Z_SYNC_FLUSH })
    return out.subarray(0, out.length - 4)
  }
  const compressedCases = [
    { name: "garbage as compressed data", payload: () => new TextEncoder().encode("not deflate at all!!"), code: 1007 },
    { name: "a deflate bomb (10 MB of zeros in 10 KB)", payload: () => deflated(new Uint8Array(10_000_000)), code: 1009 }
  ]
  for (const { code, name, payload } of compressedCases) {
    it.live(`perMessageDeflate: ${name} closes with ${code} on the wire, and read fails with the same code`, () =>
      Effect.gen(function*() {
        const seen = yield* Deferred.make<Exit.Exit<unknown, unknown>>()
        const server = yield* BunServer.serve({ perMessageDeflate: true, maxPayload: 64 * 1024 }, (channel, info) =>
          info.url === "/probe"
            ? channel.read.pipe(Stream.runDrain, Effect.exit, Effect.flatMap((exit) => Deferred.succeed(seen, exit)))
            : echo(channel))
        const peer = yield* deflateClient(server.port)
        peer.socket.write(frame({ opcode: 0x2, payload: payload(), mask: true, rsv: 0b100 }))
        expect((yield* within("close frame", peer.reader.awaitClose))?.code).toBe(code)
        const exit = yield* within("end of read", Deferred.await(seen))
        expect(Exit.isFailure(exit) && JSON.stringify(exit.cause)).toContain(`"code":${code}`)
        yield* stillServes(server.url)
      }))
  }

  it.live("malformed upgrade heads (no key, a bad key, version 8, POST, no Upgrade token in Connection) never get a 101", () =>
    Effect.gen(function*() {
      const server = yield* BunServer.serve({}, echo)
      const good = upgradeRequest("/")
      const heads = [
        good.replace(/Sec-WebSocket-Key: [^\r]*\r\n/, ""),
        good.replace(/Sec-WebSocket-Key: [^\r]*/, "Sec-WebSocket-Key: short"),
        good.replace("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8"),
        good.replace(/^GET/, "POST"),
        // Without the Upgrade token in Connection it is a plain request: 426, as on Node.
        good.replace("Connection: Upgrade", "Connection: keep-alive"),
        good.replace("Connection: Upgrade\r\n", "")
      ]
      for (const head of heads) {
        const status = yield* statusOf(server.port, head)
        expect(status === undefined || /^HTTP\/1\.[01] 4\d\d/.test(status), `${JSON.stringify(head)}: ${status}`).toBe(true)
      }
      // The token among others, in any case, is an upgrade.
      expect(yield* statusOf(server.port, good.replace("Connection: Upgrade", "Connection: keep-alive, UPGRADE"))).toBe("HTTP/1.1 101 Switching Protocols")
      yield* stillServes(server.url)
    }))

  it.live("a slow reader: send waits while Bun holds the high-water mark, wakes on drain, and every byte arrives", () =>
    Effect.gen(function*() {
      const CHUNK = 64 * 1024
      const COUNT = 512 // 32 MiB
      const sent = yield* Deferred.make<void>()
      const server = yield* BunServer.serve({ sendHighWaterMark: 256 * 1024 }, (channel) =>
        Effect.gen(function*() {
          for (let i = 0; i < COUNT; i++) {
            const chunk = new Uint8Array(CHUNK)
            chunk[0] = i & 0xff
            yield* channel.send(chunk)
          }
          yield* Deferred.succeed(sent, undefined)
          yield* channel.closed
        }))
      const peer = yield* rawUpgrade(server.port)
      peer.socket.pause()
      // Nothing read yet: the sender is held back.
      const early = yield* Effect.exit(Effect.timeout(Deferred.await(sent), "300 millis"))
      expect(Exit.isFailure(early)).toBe(true)
      peer.socket.resume()
      yield* within("every send", Deferred.await(sent), 20)
      expect(yield* within("every frame", peer.reader.until((frames) => frames.filter((f) => f.opcode === 0x2).length >= COUNT), 20)).toBe(true)
      const data = peer.reader.frames.filter((f) => f.opcode === 0x2)
      expect(data.every((f, i) => f.payload.length === CHUNK && f.payload[0] === (i & 0xff))).toBe(true)
    }), { timeout: 60_000 })

  it.live("the server's scope closes while a handler sends to a client that reads nothing: the close is bounded by closeTimeout", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const sending = yield* Deferred.make<void>()
      const server = yield* Scope.provide(BunServer.serve({ sendHighWaterMark: 64 * 1024, closeTimeout: "500 millis" }, (channel) =>
        Effect.gen(function*() {
          yield* Deferred.succeed(sending, undefined)
          while (true) yield* channel.send(new Uint8Array(16 * 1024))
        })), scope)
      const peer = yield* rawUpgrade(server.port)
      peer.socket.pause()
      yield* within("the handler", Deferred.await(sending))
      yield* within("scope close", Scope.close(scope, Exit.void), 5)
      expect(server.connections()).toBe(0)
    }))

  it.live("the client closes while the server is paused on a full queue: the handler reads every message, then the clean close", () =>
    Effect.gen(function*() {
      const COUNT = 200
      const ready = yield* Deferred.make<void>()
      const result = yield* Deferred.make<{ readonly count: number; readonly close: unknown }>()
      const server = yield* BunServer.serve({ receiveHighWaterMessages: 4 }, (channel) =>
        Effect.gen(function*() {
          // Reads nothing until the server paused the socket's reads.
          const paused = yield* Effect.forkChild(
            channel.events.pipe(Stream.filter((event) => event._tag === "ReceivePaused"), Stream.runHead),
            { startImmediately: true }
          )
          yield* Deferred.succeed(ready, undefined)
          yield* Fiber.join(paused)
          let count = 0
          while (Option.isSome(yield* channel.socket.receive)) count++
          yield* Deferred.succeed(result, { count, close: yield* channel.closed })
        }))
      const peer = yield* rawUpgrade(server.port)
      yield* within("the handler", Deferred.await(ready))
      // 12.5 MiB: far more than one read of Bun's, so most of it waits behind the pause.
      for (let i = 0; i < COUNT; i++) peer.send(frame({ opcode: 0x2, payload: new Uint8Array(64 * 1024), mask: true }))
      peer.send(frame({ opcode: 0x8, payload: Uint8Array.of(0x0f, 0xa0), mask: true }))
      expect(yield* within("the end", Deferred.await(result))).toEqual({ count: COUNT, close: { code: 4000, reason: "", wasClean: true, local: false } })
    }))

  it.live("2,000 connections at once, each echoed, then all gone: the count returns to 0", () =>
    Effect.gen(function*() {
      const N = 2000
      const server = yield* BunServer.serve({}, echo)
      const scope = yield* Scope.make()
      yield* Effect.forEach(Array.from({ length: N }, (_, i) => i), (i) =>
        Effect.gen(function*() {
          const channel = yield* connect(server.url)
          yield* channel.send(Uint8Array.of(i & 0xff, i >> 8))
          const back = yield* within("echo", channel.readChunk())
          if (Option.isNone(back) || back.value[0] !== (i & 0xff) || back.value[1] !== i >> 8) return yield* Effect.fail(new Error(`echo ${i} wrong`))
        }).pipe(Scope.provide(scope)), { concurrency: 200, discard: true })
      expect(server.connections()).toBe(N)
      yield* Scope.close(scope, Exit.void)
      yield* eventually("the count back to 0", () => server.connections() === 0)
    }), { timeout: 60_000 })

  it.live("after the server's scope closes, the process exits by itself: hostile clients still connected keep nothing alive", () =>
    Effect.gen(function*() {
      const child = spawn(BUN, ["--tsconfig-override", `${PEERS}tsconfig.bun.json`, `${PEERS}bun-server.ts`], { cwd: PEERS, stdio: ["pipe", "pipe", "inherit"] })
      yield* Effect.addFinalizer(() => Effect.sync(() => child.kill("SIGKILL")))
      const lines: Array<string> = []
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => lines.push(...chunk.split("\n").filter((l) => l !== "")))
      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)))
      yield* eventually("the port", () => lines.length > 0)
      const port = Number(lines[0])
      // A half request head, a client that reads nothing while the handler sends, one that floods.
      const half = yield* rawConnect(port)
      half.write(upgradeRequest("/").slice(0, 30))
      const stalled = yield* rawUpgrade(port)
      stalled.socket.pause()
      const flooder = yield* rawUpgrade(port)
      const flood = frame({ opcode: 0x2, payload: new Uint8Array(64 * 1024), mask: true })
      let writes = 0
      const pump = () => {
        while (writes < 2000 && flooder.socket.write(flood)) writes++
        if (writes < 2000 && !flooder.socket.destroyed) flooder.socket.once("drain", pump)
      }
      pump()
      child.stdin.write("stop\n")
      yield* eventually("the scope closed", () => lines.includes("closed"))
      expect(yield* within("the exit", Effect.promise(() => exited))).toBe(0)
    }), { timeout: 40_000 })

  const closeFrames = [
    { name: "a close payload of one byte", payload: Uint8Array.of(0x03) },
    { name: "close code 999", payload: Uint8Array.of(0x03, 0xe7) },
    { name: "close code 1004", payload: Uint8Array.of(0x03, 0xec) },
    { name: "close code 1015", payload: Uint8Array.of(0x03, 0xf7) },
    { name: "close code 5000", payload: Uint8Array.of(0x13, 0x88) },
    { name: "a control frame of 126 bytes (16-bit length)", payload: new Uint8Array(126) }
  ]
  for (const { name, payload } of closeFrames) {
    it.live(`hostile close frames: ${name}: the code on the wire is the code read fails with`, () =>
      Effect.gen(function*() {
        const seen = yield* Deferred.make<Exit.Exit<unknown, unknown>>()
        const server = yield* BunServer.serve({}, (channel) =>
          channel.read.pipe(Stream.runDrain, Effect.exit, Effect.flatMap((exit) => Deferred.succeed(seen, exit))))
        const peer = yield* rawUpgrade(server.port)
        peer.send(frame({ opcode: 0x8, payload, mask: true }))
        const wire = (yield* within("close frame", peer.reader.awaitClose))?.code
        const exit = yield* within("end of read", Deferred.await(seen))
        expect(wire).toBe(1002)
        expect(Exit.isFailure(exit) && JSON.stringify(exit.cause)).toContain(`"code":${wire}`)
      }))
  }

  it.live("a close behind unsent data: clean only once it left; a peer that reads nothing is dropped after closeTimeout (1006), as on Node", () =>
    Effect.gen(function*() {
      const SIZE = 8 * 1024 * 1024
      const closes = new Map<string, Deferred.Deferred<unknown>>([["/stalled", yield* Deferred.make<unknown>()], ["/slow", yield* Deferred.make<unknown>()]])
      const server = yield* BunServer.serve({ closeTimeout: "1 second", sendHighWaterMark: 16 * 1024 * 1024 }, (channel, info) =>
        Effect.gen(function*() {
          yield* channel.send(new Uint8Array(SIZE))
          yield* Deferred.succeed(closes.get(info.url)!, yield* channel.close({ code: 4000, reason: "bye" }))
        }))
      // Reads nothing: the close frame sits behind 8 MiB that never leave.
      const stalled = yield* rawUpgrade(server.port, "/stalled")
      stalled.socket.pause()
      expect(yield* within("the close", Deferred.await(closes.get("/stalled")!))).toEqual({ code: 1006, reason: "", wasClean: false, local: true })
      // Reads, late but within closeTimeout: everything arrives, then the close frame; a clean close.
      const slow = yield* rawUpgrade(server.port, "/slow")
      slow.socket.pause()
      const early = yield* Effect.exit(Effect.timeout(Deferred.await(closes.get("/slow")!), "200 millis"))
      expect(Exit.isFailure(early)).toBe(true)
      slow.socket.resume()
      expect(yield* within("the close", Deferred.await(closes.get("/slow")!))).toEqual({ code: 4000, reason: "bye", wasClean: true, local: true })
      expect(yield* within("the close frame", slow.reader.awaitClose)).toEqual({ code: 4000, reason: "bye" })
      expect(slow.reader.frames.filter((f) => f.opcode === 0x2).reduce((n, f) => n + f.payload.length, 0)).toBe(SIZE)
    }))
})

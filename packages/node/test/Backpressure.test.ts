import { describe, expect, it } from "@effect/vitest"
import { ByteChannel, type SocketError, SocketMetrics } from "@bytechannel/core"
import { NodeByteChannel, NodeConnector, NodeServer } from "@bytechannel/node"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Metric from "effect/Metric"
import * as Stream from "effect/Stream"
import { Readable, Writable } from "node:stream"
import { pipeline } from "node:stream/promises"
import { WebSocket } from "ws"
import { prng, randomBytes } from "../../core/test/utils.js"
import { concat, eventually, rawServer, spawnPeer } from "./fixtures.js"

const MiB = 1024 * 1024

/** A plain `ws` client that reads `total` bytes from `url` as fast as they come, then closes. */
const readAll = (url: string, total: number) =>
  Effect.callback<void, Error>((resume) => {
    const client = new WebSocket(url)
    let bytes = 0
    client.on("message", (data: Buffer) => {
      if ((bytes += data.length) >= total) {
        client.close()
        resume(Effect.void)
      }
    })
    client.on("error", (error) => resume(Effect.fail(error)))
    return Effect.sync(() => client.terminate())
  })

/** Bytes every transport in this process has handed to its socket engine so far. */
const bytesTaken = Effect.map(Metric.value(SocketMetrics.bytesReceived), (state) => Number(state.count))

/**
 * A plain `ws` client that reads about `bytesPerTick` every `tickMillis` (its socket paused in
 * between) and answers pings as ws does, when it reads them. `pings` holds, for each ping, the
 * bytes the server had handed over and this reader not yet read when it arrived: the server keeps
 * its buffer full, so about what was ahead of the ping. Terminated with the scope.
 */
const slowWsReader = (
  url: string,
  options: { readonly bytesPerTick: number; readonly tickMillis: number; readonly sent: () => number }
) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const ws = new WebSocket(url, { perMessageDeflate: false })
      const pings: Array<number> = []
      let bytes = 0
      let budget = options.bytesPerTick
      let fast = false
      let closed: number | undefined
      ws.on("message", (data: Buffer) => {
        bytes += data.length
        if ((budget -= data.length) <= 0 && !fast) ws.pause()
      })
      ws.on("ping", () => pings.push(options.sent() - bytes))
      ws.on("close", (code) => (closed = code))
      ws.on("error", () => {})
      const timer = setInterval(() => {
        budget = options.bytesPerTick
        ws.resume()
      }, options.tickMillis)
      return {
        ws,
        timer,
        pings,
        closed: () => closed,
        readFast: () => {
          fast = true
          ws.resume()
        }
      }
    }),
    ({ timer, ws }) =>
      Effect.sync(() => {
        clearInterval(timer)
        ws.terminate()
      })
  )

const child = (name: string, args: ReadonlyArray<string> = []) => spawnPeer(name, args, { nodeOptions: ["--expose-gc"] })

describe("backpressure against real sockets", () => {
  it.live("slow consumer: the server offers 160 MiB, the client reads 1 MiB/s; client RSS stays bounded, the server's buffer grows", () =>
    Effect.gen(function*() {
      let serverSide: WebSocket | undefined
      const { url } = yield* rawServer((ws) => {
        serverSide = ws
        const chunk = Buffer.alloc(64 * 1024, 1)
        for (let i = 0; i < 160 * 16; i++) ws.send(chunk) // 160 MiB, all handed to ws at once
      })
      const consumer = yield* child("slow-consumer", [url, "2", String(MiB)])
      const report = JSON.parse(yield* consumer.line(0))
      // The client read only what it consumed plus its bounded queue (64 messages / 4 MiB) and
      // the kernel's socket buffers; the rest waits in the server.
      expect(report.consumed).toBeGreaterThanOrEqual(MiB)
      expect(report.growth).toBeLessThan(24 * MiB)
      expect(serverSide!.bufferedAmount).toBeGreaterThan(100 * MiB)
    }), 60_000)

  it.live("fast writer: a Sink offered 256 MiB for a server that does not read keeps memory flat", () =>
    Effect.gen(function*() {
      const { url } = yield* rawServer((ws) => ws.pause())
      const writer = yield* child("fast-writer", [url, String(256 * MiB), "2"])
      const report = JSON.parse(yield* writer.line(0))
      // Held by backpressure: what was handed over is the kernel buffers plus the 1 MiB high-water mark.
      expect(report.written).toBeLessThan(32 * MiB)
      expect(report.growth).toBeLessThan(24 * MiB)
    }), 60_000)

  it.live("receive backpressure in process: a full queue pauses the socket itself (the sender keeps the rest); reading resumes it, every byte in order", () =>
    Effect.gen(function*() {
      const TOTAL = 32 * MiB
      const CHUNK = 64 * 1024
      // The first connection is offered TOTAL bytes at once (chunk i filled with i % 251), the
      // next one twice that; the server-side sockets are kept to read what each still holds.
      const serverSides: Array<WebSocket> = []
      const { url } = yield* rawServer((ws) => {
        const chunks = (serverSides.push(ws) === 1 ? TOTAL : 2 * TOTAL) / CHUNK
        for (let i = 0; i < chunks; i++) ws.send(Buffer.alloc(CHUNK, i % 251))
      })
      const result = yield* Effect.gen(function*() {
        const taken = yield* bytesTaken
        const channel = yield* ByteChannel.connect(url)
        // The clock of this test: a plain ws client that reads everything, connected next and
        // offered twice as much. When it has all of it, an unpaused channel (half the bytes, a
        // head start, the same loopback) would have had all of its own long before.
        yield* readAll(url, 2 * TOTAL)
        const held = serverSides[0]!.bufferedAmount
        // What the transport handed to this process meanwhile (the plain client is not counted).
        const inProcess = (yield* bytesTaken) - taken
        // Now read it all: reading resumes the socket, and nothing is lost or reordered.
        let bytes = 0
        let bad = -1
        yield* channel.read.pipe(
          Stream.takeUntil((chunk) => {
            for (let i = 0; i < chunk.length && bad === -1; i++) {
              if (chunk[i] !== Math.floor((bytes + i) / CHUNK) % 251) bad = bytes + i
            }
            return (bytes += chunk.length) >= TOTAL
          }),
          Stream.runDrain
        )
        return { held, inProcess, bytes, bad }
      }).pipe(Effect.scoped, Effect.provide(NodeConnector.layerWith({ receiveHighWaterMessages: 8 })))
      // Paused at 8 unread messages: beyond those and the kernel's socket buffers, the bytes
      // wait in the sender.
      expect(result.held).toBeGreaterThan(TOTAL / 2)
      // And this process took no more than the queue's 8 messages, and the one ws was parsing.
      expect(result.inProcess).toBeLessThanOrEqual(16 * CHUNK)
      expect(result.bad).toBe(-1)
      expect(result.bytes).toBe(TOTAL)
    }), 60_000)

  it.live("keepalive under send backpressure: a peer that reads slowly, its pongs behind a full send buffer, is not taken for dead", () =>
    Effect.gen(function*() {
      const ended = yield* Deferred.make<Exit.Exit<never, SocketError.SocketError>>()
      let sent = 0
      const chunk = new Uint8Array(16 * 1024)
      // Pings every 100 ms, 200 ms for an answer: far less than the data ahead of each ping takes
      // to cross to this reader.
      const server = yield* NodeServer.serve({ pingInterval: "100 millis", pongTimeout: "200 millis" }, (channel) =>
        Effect.forever(Effect.tap(channel.send(chunk), () => Effect.sync(() => (sent += chunk.length)))).pipe(
          Effect.exit,
          Effect.flatMap((exit) => Deferred.succeed(ended, exit))
        ))
      const reader = yield* slowWsReader(server.url, { bytesPerTick: 64 * 1024, tickMillis: 50, sent: () => sent })
      // Three pings crossed (ws pongs each as it reads it), each behind a full send buffer.
      yield* eventually(
        () => reader.pings.length >= 3 || reader.closed() !== undefined,
        () => `pings seen: ${reader.pings.length}`
      )
      expect(reader.closed(), "the server dropped the reader").toBeUndefined()
      expect(yield* Deferred.isDone(ended)).toBe(false)
      for (const behind of reader.pings.slice(0, 3)) expect(behind).toBeGreaterThan(512 * 1024)
      // And it stays so once the reader catches up.
      reader.readFast()
      yield* eventually(() => reader.pings.length >= 6 || reader.closed() !== undefined, () => `pings seen: ${reader.pings.length}`)
      expect(reader.closed()).toBeUndefined()
      expect(yield* Deferred.isDone(ended)).toBe(false)
    }), 30_000)

  it.live("a peer killed mid-frame (SIGKILL) fails read with a 1006 SocketError, no hang", () =>
    Effect.gen(function*() {
      const server = yield* child("half-frame-server")
      const port = yield* server.line(0)
      const error = yield* Effect.gen(function*() {
        const channel = yield* ByteChannel.connect(`ws://127.0.0.1:${port}/`)
        const reading = yield* Effect.forkChild(Effect.flip(Stream.runDrain(channel.read)))
        yield* server.line(1) // "mid-frame"
        server.process.kill("SIGKILL")
        return yield* Fiber.join(reading)
      }).pipe(Effect.scoped, Effect.provide(NodeConnector.layer))
      expect(error).toMatchObject({ _tag: "SocketError", reason: "Closed", code: 1006 })
    }))

  it.live("NodeByteChannel.toDuplex: pipeline through a Duplex, both directions", () =>
    Effect.gen(function*() {
      const server = yield* NodeServer.serve({}, (channel) => Stream.run(channel.read, channel.write))
      const random = prng(5)
      const sent = Array.from({ length: 100 }, () => randomBytes(random, Math.floor(random() * 40_000)))
      const total = sent.reduce((n, b) => n + b.length, 0)
      const received = yield* Effect.gen(function*() {
        const duplex = yield* NodeByteChannel.toDuplex(yield* ByteChannel.connect(server.url))
        const out: Array<Uint8Array> = []
        let bytes = 0
        const sink = new Writable({
          write(chunk: Buffer, _encoding, callback) {
            out.push(chunk)
            bytes += chunk.length
            if (bytes >= total) duplex.end()
            callback()
          }
        })
        // A WebSocket has no half-close: ending the writable side closes the channel, so the
        // source must not end it before every echoed byte is back (the sink ends it then).
        Readable.from(sent).pipe(duplex, { end: false })
        yield* Effect.promise(() => pipeline(duplex, sink))
        return out
      }).pipe(Effect.scoped, Effect.provide(NodeConnector.layer))
      expect(concat(received).equals(concat(sent))).toBe(true)
    }))
})

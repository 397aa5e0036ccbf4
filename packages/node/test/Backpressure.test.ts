import { describe, expect, it } from "@effect/vitest"
import { ByteChannel } from "@bytechannel/core"
import { NodeByteChannel, NodeConnector, NodeServer } from "@bytechannel/node"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { Readable, Writable } from "node:stream"
import { pipeline } from "node:stream/promises"
import { fileURLToPath } from "node:url"
import type { WebSocket } from "ws"
import { concat, prng, randomBytes, rawServer, spawnWithLines } from "./fixtures.js"

const MiB = 1024 * 1024
const peer = (name: string) => fileURLToPath(new URL(`./peers/${name}`, import.meta.url))

const child = (args: ReadonlyArray<string>) =>
  spawnWithLines(process.execPath, ["--expose-gc", ...args], { cwd: fileURLToPath(new URL(".", import.meta.url)) })

describe("backpressure against real sockets", () => {
  it.live("slow consumer: the server offers 160 MiB, the client reads 1 MiB/s; client RSS stays bounded, the server's buffer grows", () =>
    Effect.gen(function*() {
      let serverSide: WebSocket | undefined
      const { url } = yield* rawServer((ws) => {
        serverSide = ws
        const chunk = Buffer.alloc(64 * 1024, 1)
        for (let i = 0; i < 160 * 16; i++) ws.send(chunk) // 160 MiB, all handed to ws at once
      })
      const consumer = yield* child([peer("slow-consumer.mjs"), url, "2", String(MiB)])
      const report = JSON.parse(yield* consumer.line(0))
      // The client read only what it consumed plus its bounded queue (64 messages / 4 MiB) and
      // the kernel's socket buffers; the rest waits in the server.
      expect(report.consumed).toBeGreaterThanOrEqual(MiB)
      expect(report.growth).toBeLessThan(24 * MiB)
      expect(serverSide!.bufferedAmount).toBeGreaterThan(100 * MiB)
    }).pipe(Effect.scoped), 60_000)

  it.live("fast writer: a Sink offered 256 MiB for a server that does not read keeps memory flat", () =>
    Effect.gen(function*() {
      const { url } = yield* rawServer((ws) => ws.pause())
      const writer = yield* child([peer("fast-writer.mjs"), url, String(256 * MiB), "2"])
      const report = JSON.parse(yield* writer.line(0))
      // Held by backpressure: what was handed over is the kernel buffers plus the 1 MiB high-water mark.
      expect(report.written).toBeLessThan(32 * MiB)
      expect(report.growth).toBeLessThan(24 * MiB)
    }).pipe(Effect.scoped), 60_000)

  it.live("receive backpressure in process: a full queue pauses the socket and reading resumes it", () =>
    Effect.gen(function*() {
      const server = yield* NodeServer.serve({}, (channel) =>
        Stream.range(1, 200).pipe(Stream.map(() => new Uint8Array(1024)), Stream.run(channel.write)))
      const events = yield* Effect.gen(function*() {
        const channel = yield* ByteChannel.connect(server.url)
        // The first pause may come before this subscription: look for a pause, then its resume.
        const tags = yield* Effect.fork(channel.events.pipe(
          Stream.filter((e) => e._tag === "ReceivePaused" || e._tag === "ReceiveResumed"),
          Stream.dropWhile((e) => e._tag !== "ReceivePaused"),
          Stream.take(2),
          Stream.runCollect
        ))
        let bytes = 0
        yield* channel.read.pipe(Stream.takeUntil((c) => (bytes += c.length) >= 200 * 1024), Stream.runDrain)
        return [...(yield* tags)].map((e) => e._tag)
      }).pipe(Effect.scoped, Effect.provide(NodeConnector.layerWith({ receiveHighWaterMessages: 8 })))
      expect(events).toEqual(["ReceivePaused", "ReceiveResumed"])
    }).pipe(Effect.scoped))

  it.live("a peer killed mid-frame (SIGKILL) fails read with a 1006 SocketError, no hang", () =>
    Effect.gen(function*() {
      const server = yield* child([peer("half-frame-server.mjs")])
      const port = yield* server.line(0)
      const error = yield* Effect.gen(function*() {
        const channel = yield* ByteChannel.connect(`ws://127.0.0.1:${port}/`)
        const reading = yield* Effect.fork(Effect.flip(Stream.runDrain(channel.read)))
        yield* server.line(1) // "mid-frame"
        server.process.kill("SIGKILL")
        return yield* reading
      }).pipe(Effect.scoped, Effect.provide(NodeConnector.layer))
      expect(error).toMatchObject({ _tag: "SocketError", reason: "Closed", code: 1006 })
    }).pipe(Effect.scoped))

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
    }).pipe(Effect.scoped))
})

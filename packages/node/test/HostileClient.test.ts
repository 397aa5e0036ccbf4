/**
 * A hostile server (hand-made handshake and frames on node:net) against NodeConnector: every
 * bad frame gives a typed error, the same close code on the wire and in `read`, and a resolved
 * `closed`; handshakes are bounded by a deadline; close waits are ours, not ws's 30 s timer.
 */
import { ByteChannel, type SocketError } from "@bytechannel/core"
import { NodeConnector } from "@bytechannel/node"
import { describe, expect, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import type * as Net from "node:net"
import { closePayload, frame, frameReader, type ParsedFrame, rawTcpServer, readHead, switchingProtocols } from "./hostile/raw.js"

type Peer = { readonly socket: Net.Socket; readonly reader: ReturnType<typeof frameReader> }

/** A server that completes the handshake by hand, then lets `script` speak raw frames. */
const hostileServer = (script: (peer: Peer) => void) =>
  Effect.gen(function*() {
    const peers = yield* Deferred.make<Peer>()
    const { port } = yield* rawTcpServer((socket) => {
      Effect.runFork(
        Effect.gen(function*() {
          const request = yield* readHead(socket)
          if (request === undefined) return
          socket.write(switchingProtocols(request.head))
          const peer = { socket, reader: frameReader(socket, request.rest) }
          yield* Deferred.succeed(peers, peer)
          script(peer)
        })
      )
    })
    return { url: `ws://127.0.0.1:${port}/`, peer: Deferred.await(peers) }
  })

/** A server that reads each upgrade request and lets `answer` do what it likes with the 101 it would send. */
const answeringServer = (answer: (socket: Net.Socket, switching: string) => void) =>
  rawTcpServer((socket) => {
    Effect.runFork(
      Effect.gen(function*() {
        const request = yield* readHead(socket)
        if (request !== undefined) answer(socket, switchingProtocols(request.head))
      })
    )
  })

// A hostile peer rarely answers our close frame: a short close timeout keeps the scope's end quick.
const connect = (url: string, options?: NodeConnector.NodeConnectorOptions) =>
  ByteChannel.connect(url).pipe(Effect.provide(NodeConnector.layerWith({ closeTimeout: "300 millis", ...options })))

const readFailure = (channel: ByteChannel.ByteChannel) =>
  channel.read.pipe(
    Stream.runDrain,
    Effect.exit,
    Effect.map((exit) => (Exit.isFailure(exit) ? Option.getOrUndefined(Cause.findErrorOption(exit.cause)) : undefined))
  )

/** Each bad frame: the code our side sends, and the code `read` fails with, are the same. */
const badFrames: ReadonlyArray<{ readonly name: string; readonly bytes: () => Buffer; readonly code: number }> = [
  { name: "a length of 2^62", bytes: () => frame({ opcode: 0x2, announce: 2n ** 62n }), code: 1009 },
  { name: "a length over 2^53", bytes: () => frame({ opcode: 0x2, announce: 2n ** 53n + 1n }), code: 1009 },
  { name: "a message of maxPayload + 1", bytes: () => frame({ opcode: 0x2, payload: new Uint8Array(4097) }), code: 1009 },
  {
    name: "fragments adding up past maxPayload",
    bytes: () =>
      Buffer.concat([
        frame({ opcode: 0x2, fin: false, payload: new Uint8Array(3000) }),
        frame({ opcode: 0x0, fin: true, payload: new Uint8Array(3000) })
      ]),
    code: 1009
  },
  { name: "RSV1 without an extension", bytes: () => frame({ opcode: 0x2, rsv: 0b100, payload: "x" }), code: 1002 },
  { name: "RSV2 and RSV3", bytes: () => frame({ opcode: 0x2, rsv: 0b011, payload: "x" }), code: 1002 },
  { name: "an unknown data opcode", bytes: () => frame({ opcode: 0x3, payload: "x" }), code: 1002 },
  { name: "an unknown control opcode", bytes: () => frame({ opcode: 0xb, payload: "x" }), code: 1002 },
  { name: "a masked server frame", bytes: () => frame({ opcode: 0x2, mask: true, payload: "x" }), code: 1002 },
  { name: "a fragmented ping", bytes: () => frame({ opcode: 0x9, fin: false, payload: "x" }), code: 1002 },
  { name: "a ping over 125 bytes", bytes: () => frame({ opcode: 0x9, payload: new Uint8Array(126) }), code: 1002 },
  { name: "a continuation with nothing to continue", bytes: () => frame({ opcode: 0x0, payload: "x" }), code: 1002 },
  { name: "invalid UTF-8 in a text message", bytes: () => frame({ opcode: 0x1, payload: new Uint8Array([0xc3, 0x28]) }), code: 1007 },
  { name: "close code 999", bytes: () => frame({ opcode: 0x8, payload: closePayload(999) }), code: 1002 },
  { name: "close code 1005 on the wire", bytes: () => frame({ opcode: 0x8, payload: closePayload(1005) }), code: 1002 },
  { name: "close code 1006 on the wire", bytes: () => frame({ opcode: 0x8, payload: closePayload(1006) }), code: 1002 },
  { name: "close code 5000", bytes: () => frame({ opcode: 0x8, payload: closePayload(5000) }), code: 1002 },
  { name: "a one-byte close payload", bytes: () => frame({ opcode: 0x8, payload: new Uint8Array([3]) }), code: 1002 },
  {
    name: "a close reason that is not UTF-8",
    bytes: () => frame({ opcode: 0x8, payload: closePayload(1000, new Uint8Array([0xff, 0xfe])) }),
    code: 1007
  }
]

describe("NodeConnector against a hostile server", () => {
  for (const bad of badFrames) {
    it.live(`${bad.name}: ${bad.code} on the wire and in read, closed resolves`, () =>
      Effect.gen(function*() {
        const server = yield* hostileServer((peer) => peer.socket.write(bad.bytes()))
        const channel = yield* connect(server.url, { maxPayload: 4096 })
        const error = (yield* readFailure(channel)) as SocketError.SocketError | undefined
        expect(error?._tag).toBe("SocketError")
        expect(error?.code).toBe(bad.code)
        const peer = yield* server.peer
        expect((yield* peer.reader.awaitClose)?.code).toBe(bad.code)
        peer.socket.end()
        const info = yield* channel.closed
        expect(info.local).toBe(true)
      }))
  }

  it.live("a message of exactly maxPayload is delivered", () =>
    Effect.gen(function*() {
      const server = yield* hostileServer((peer) => peer.socket.write(frame({ opcode: 0x2, payload: new Uint8Array(4096).fill(7) })))
      const channel = yield* connect(server.url, { maxPayload: 4096 })
      const chunk = yield* channel.readChunk()
      expect(Option.map(chunk, (c) => c.length)).toEqual(Option.some(4096))
    }))

  it.live("a flood of fragments: 1008 on the wire and in read, bounded by ws's part limit", () =>
    Effect.gen(function*() {
      // Empty continuation frames: no bytes to count against maxPayload, only parts.
      const parts = 256 * 1024 + 1
      const flood = Buffer.alloc(2 * parts)
      flood[0] = 0x02
      for (let i = 1; i < parts; i++) flood[2 * i] = 0x00
      const server = yield* hostileServer((peer) => peer.socket.write(flood))
      const channel = yield* connect(server.url)
      const error = (yield* readFailure(channel)) as SocketError.SocketError | undefined
      expect(error?.code).toBe(1008)
      const peer = yield* server.peer
      expect((yield* peer.reader.awaitClose)?.code).toBe(1008)
    }), 30_000)

  it.live("pings are answered, in order with data", () =>
    Effect.gen(function*() {
      const server = yield* hostileServer((peer) => {
        peer.socket.write(Buffer.concat([frame({ opcode: 0x9, payload: "a" }), frame({ opcode: 0x9, payload: "b" })]))
        peer.socket.write(frame({ opcode: 0x2, payload: "data" }))
      })
      const channel = yield* connect(server.url)
      const chunk = yield* channel.readChunk()
      expect(Option.map(chunk, (c) => Buffer.from(c).toString())).toEqual(Option.some("data"))
      const peer = yield* server.peer
      yield* peer.reader.until((frames) => frames.filter((f) => f.opcode === 0xa).length === 2)
      expect(peer.reader.frames.filter((f) => f.opcode === 0xa).map((f) => f.payload.toString())).toEqual(["a", "b"])
    }))

  it.live("3,000 pings in bursts, each burst sent once the last one's pongs came: all answered, never a flood", () =>
    Effect.gen(function*() {
      // Never more than 100 pongs owed at once, 3,000 in all: only pongs still unwritten count
      // towards the flood bound (1,024), never every pong ever owed.
      const ROUNDS = 30
      const BURST = 100
      const burst = Buffer.concat(Array.from({ length: BURST }, (_, i) => frame({ opcode: 0x9, payload: `p${i}` })))
      const pongs = (frames: ReadonlyArray<ParsedFrame>) => frames.filter((f) => f.opcode === 0xa).length
      const server = yield* hostileServer((peer) => {
        Effect.runFork(
          Effect.gen(function*() {
            for (let round = 1; round <= ROUNDS; round++) {
              peer.socket.write(burst)
              if (!(yield* peer.reader.until((frames) => pongs(frames) >= round * BURST))) return
            }
            peer.socket.write(frame({ opcode: 0x2, payload: "after" }))
          })
        )
      })
      const channel = yield* connect(server.url)
      const chunk = yield* channel.readChunk()
      expect(Option.map(chunk, (c) => Buffer.from(c).toString())).toEqual(Option.some("after"))
      const peer = yield* server.peer
      expect(pongs(peer.reader.frames)).toBe(ROUNDS * BURST)
      expect(peer.reader.closeFrame()).toBeUndefined()
    }))

  it.live("a burst of 500 pings in one packet from a peer that reads: all answered, no flood", () =>
    Effect.gen(function*() {
      const server = yield* hostileServer((peer) => {
        peer.socket.write(Buffer.concat(Array.from({ length: 500 }, () => frame({ opcode: 0x9, payload: "p" }))))
        peer.socket.write(frame({ opcode: 0x2, payload: "after" }))
      })
      const channel = yield* connect(server.url)
      const chunk = yield* channel.readChunk()
      expect(Option.map(chunk, (c) => Buffer.from(c).toString())).toEqual(Option.some("after"))
      const peer = yield* server.peer
      expect(yield* peer.reader.until((frames) => frames.filter((f) => f.opcode === 0xa).length === 500)).toBe(true)
      expect(peer.reader.closeFrame()).toBeUndefined()
    }))

  it.live("a ping flood: 1008 on the wire and in read (not a silent drop)", () =>
    Effect.gen(function*() {
      const server = yield* hostileServer((peer) => {
        const parts: Array<Buffer> = []
        for (let i = 0; i < 20_000; i++) parts.push(frame({ opcode: 0x9, payload: "p" }))
        peer.socket.write(Buffer.concat(parts))
      })
      const channel = yield* connect(server.url)
      const error = (yield* readFailure(channel)) as SocketError.SocketError | undefined
      expect(error).toMatchObject({ reason: "Read", code: 1008 })
      const peer = yield* server.peer
      expect((yield* peer.reader.awaitClose)?.code).toBe(1008)
    }), 30_000)

  it.live("a dribbled 101: OpenTimeout at openTimeout (a deadline, not an idle timer)", () =>
    Effect.gen(function*() {
      const { port } = yield* rawTcpServer((socket) => {
        Effect.runFork(
          Effect.gen(function*() {
            const request = yield* readHead(socket)
            if (request === undefined) return
            const answer = Buffer.from(switchingProtocols(request.head))
            // One byte every 50 ms: the whole answer would take several seconds.
            for (let i = 0; i < answer.length && !socket.destroyed; i++) {
              socket.write(answer.subarray(i, i + 1))
              yield* Effect.sleep("50 millis")
            }
          })
        )
      })
      const start = Date.now()
      const exit = yield* Effect.exit(Effect.scoped(connect(`ws://127.0.0.1:${port}/`, { openTimeout: "400 millis" })))
      const elapsed = Date.now() - start
      expect(Exit.isFailure(exit) && Cause.findErrorOption(exit.cause).pipe(Option.map((e) => e.reason), Option.getOrUndefined))
        .toBe("OpenTimeout")
      // The dribble alone lasts over 6 s; the deadline cuts it far earlier.
      expect(elapsed).toBeLessThan(4_000)
    }), 30_000)

  it.live("a server that never answers the upgrade: OpenTimeout", () =>
    Effect.gen(function*() {
      const { port } = yield* rawTcpServer(() => {})
      const exit = yield* Effect.exit(Effect.scoped(connect(`ws://127.0.0.1:${port}/`, { openTimeout: "300 millis" })))
      expect(Exit.isFailure(exit) && Cause.findErrorOption(exit.cause).pipe(Option.map((e) => e.reason), Option.getOrUndefined))
        .toBe("OpenTimeout")
    }))

  it.live("a handshake cut in the middle: Open error, nothing hangs", () =>
    Effect.gen(function*() {
      // Forty bytes of the answer, then the end.
      const { port } = yield* answeringServer((socket, answer) => socket.end(answer.slice(0, 40)))
      const exit = yield* Effect.exit(Effect.scoped(connect(`ws://127.0.0.1:${port}/`, { openTimeout: "10 seconds" })))
      expect(Exit.isFailure(exit) && Cause.findErrorOption(exit.cause).pipe(Option.map((e) => e.reason), Option.getOrUndefined))
        .toBe("Open")
    }))

  it.live("a wrong Sec-WebSocket-Accept: Open error", () =>
    Effect.gen(function*() {
      const { port } = yield* answeringServer((socket, answer) =>
        socket.write(answer.replace(/Sec-WebSocket-Accept: .*\r\n/, "Sec-WebSocket-Accept: AAAA\r\n"))
      )
      const exit = yield* Effect.exit(Effect.scoped(connect(`ws://127.0.0.1:${port}/`)))
      expect(Exit.isFailure(exit) && Cause.findErrorOption(exit.cause).pipe(Option.map((e) => e.reason), Option.getOrUndefined))
        .toBe("Open")
    }))

  it.live("the peer sends close 1000 and holds TCP: read ends at once, clean, with the peer's code", () =>
    Effect.gen(function*() {
      const server = yield* hostileServer((peer) => {
        peer.socket.write(Buffer.concat([frame({ opcode: 0x2, payload: "last" }), frame({ opcode: 0x8, payload: closePayload(1000, "bye") })]))
      })
      // A close timeout far above the test's own: if `read` waited for TCP, the test would time out.
      const channel = yield* connect(server.url, { closeTimeout: "60 seconds" })
      const all = yield* channel.read.pipe(Stream.decodeText(), Stream.mkString)
      expect(all).toBe("last")
      expect(yield* channel.closed).toEqual({ code: 1000, reason: "bye", wasClean: true, local: false })
      const peer = yield* server.peer
      expect((yield* peer.reader.awaitClose)?.code).toBe(1000)
    }), 20_000)

  it.live("the peer answers our close and holds TCP: close reports the exchange clean, with the peer's code", () =>
    Effect.gen(function*() {
      const server = yield* hostileServer((peer) => {
        Effect.runFork(
          Effect.gen(function*() {
            yield* peer.reader.awaitClose
            peer.socket.write(frame({ opcode: 0x8, payload: closePayload(4001, "ok") }))
          })
        )
      })
      const channel = yield* connect(server.url, { closeTimeout: "60 seconds" })
      yield* server.peer
      const info = yield* channel.close({ code: 4000, reason: "done" })
      expect(info).toEqual({ code: 4001, reason: "ok", wasClean: true, local: true })
    }), 20_000)

  it.live("closing a paused channel: the peer's close frame behind unread data is still read (no close timeout)", () =>
    Effect.gen(function*() {
      const server = yield* hostileServer((peer) => {
        // Far more than the receive bounds and the kernel buffers hold: our side pauses.
        const chunk = frame({ opcode: 0x2, payload: new Uint8Array(64 * 1024) })
        let sent = 0
        const pump = (): void => {
          while (sent < 512 && !peer.socket.destroyed) {
            sent++
            if (!peer.socket.write(chunk)) {
              peer.socket.once("drain", pump)
              return
            }
          }
        }
        pump()
        Effect.runFork(
          Effect.gen(function*() {
            yield* peer.reader.awaitClose
            peer.socket.write(frame({ opcode: 0x8, payload: closePayload(1000) }))
          })
        )
      })
      const channel = yield* connect(server.url, { closeTimeout: "60 seconds", receiveHighWaterBytes: 256 * 1024 })
      const peer = yield* server.peer
      // Wait until our side has paused (the event is the engine's own, from a real pause).
      yield* channel.events.pipe(Stream.filter((e) => e._tag === "ReceivePaused"), Stream.take(1), Stream.runDrain).pipe(
        Effect.race(channel.readChunk().pipe(Effect.andThen(Effect.never)))
      )
      const info = yield* channel.close()
      expect(info).toMatchObject({ code: 1000, wasClean: true })
      expect(peer.reader.closeFrame()).toBeDefined()
    }), 30_000)
})

describe("closing while paused, from a protocol error", () => {
  it.live("a ping flood while our receiving is paused: 1008, and the peer's answer is read at once (no close timeout)", () =>
    Effect.gen(function*() {
      const server = yield* hostileServer((peer) => {
        const parts: Array<Buffer> = []
        for (let i = 0; i < 70; i++) parts.push(frame({ opcode: 0x2, payload: new Uint8Array(16) }))
        for (let i = 0; i < 1_100; i++) parts.push(frame({ opcode: 0x9, payload: "p" }))
        peer.socket.write(Buffer.concat(parts))
        Effect.runFork(
          Effect.gen(function*() {
            yield* peer.reader.awaitClose
            peer.socket.write(frame({ opcode: 0x8, payload: closePayload(1008) }))
          })
        )
      })
      // Paused after 8 messages; a close timeout longer than the test's own.
      const channel = yield* connect(server.url, { closeTimeout: "60 seconds", receiveHighWaterMessages: 8 })
      const info = yield* channel.closed
      expect(info).toMatchObject({ code: 1008, wasClean: true, local: true })
    }), 20_000)
})

describe("cancel-safe reads", () => {
  it.live("interrupting a waiting read loses no bytes and leaves the channel open", () =>
    Effect.gen(function*() {
      const count = 2_000
      const server = yield* hostileServer((peer) => {
        let i = 0
        const next = () => {
          // Small bursts with pauses, so reads are often waiting when a message lands.
          for (let k = 0; k < 5 && i < count; k++, i++) peer.socket.write(frame({ opcode: 0x2, payload: `${i},` }))
          if (i < count) setImmediate(next)
        }
        next()
      })
      const channel = yield* connect(server.url)
      let text = ""
      let timeouts = 0
      while (!text.endsWith(`${count - 1},`)) {
        // A deadline shorter than the gaps between messages: many reads are interrupted while waiting.
        const chunk = yield* channel.readChunk().pipe(Effect.timeout("1 millis"), Effect.option)
        if (Option.isNone(chunk)) {
          timeouts++
          continue
        }
        if (Option.isSome(chunk.value)) text += Buffer.from(chunk.value.value).toString()
      }
      expect(text.split(",").slice(0, -1).map(Number)).toEqual(Array.from({ length: count }, (_, i) => i))
      expect(timeouts).toBeGreaterThan(0)
      const fiber = yield* Effect.forkChild(channel.readChunk())
      yield* Fiber.interrupt(fiber)
      // Still open: the peer hears nothing from us, and we can still send.
      const peer = yield* server.peer
      yield* channel.send(new Uint8Array([1]))
      expect(yield* peer.reader.until((frames) => frames.some((f) => f.opcode === 0x2))).toBe(true)
      expect(peer.reader.closeFrame()).toBeUndefined()
    }), 30_000)
})

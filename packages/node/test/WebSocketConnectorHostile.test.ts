/**
 * A hostile server (hand-made handshake and frames on node:net) against core's WebSocketConnector on
 * Node 22's global WHATWG WebSocket: what the runtime says about a broken rule reaches `read` as a
 * typed error with the rule's code (as NodeConnector's, HostileClient.test.ts), maxPayload counts
 * bytes, and a peer that closes then holds TCP does not leave `read` waiting for ever. What goes on
 * the wire is the runtime's to say (a WHATWG client cannot choose it), so only `read` is checked.
 */
import { ByteChannel, type SocketError, WebSocketConnector } from "@bytechannel/core"
import { describe, expect, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import type * as Net from "node:net"
import { closePayload, frame, frameReader, rawTcpServer, readHead, switchingProtocols } from "./hostile/raw.js"

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

// A hostile peer rarely answers our close frame: a short close timeout keeps the scope's end quick.
const connect = (url: string, options?: WebSocketConnector.WebSocketConnectorOptions) =>
  ByteChannel.connect(url).pipe(Effect.provide(WebSocketConnector.layerWith({ closeTimeout: "300 millis", ...options })))

/** How `read` ended: its error, or "ended". */
const readEnd = (channel: ByteChannel.ByteChannel) =>
  channel.read.pipe(
    Stream.runDrain,
    Effect.exit,
    Effect.map((exit) => (Exit.isFailure(exit) ? Option.getOrUndefined(Cause.findErrorOption(exit.cause)) : "ended" as const))
  )

/** Each bad frame and the code `read` fails with (NodeConnector's, for the same frame). */
const badFrames: ReadonlyArray<{ readonly name: string; readonly bytes: () => Buffer; readonly code: number }> = [
  { name: "a length of 2^62", bytes: () => frame({ opcode: 0x2, announce: 2n ** 62n }), code: 1009 },
  { name: "RSV1 without an extension", bytes: () => frame({ opcode: 0x2, rsv: 0b100, payload: "x" }), code: 1002 },
  { name: "RSV2 and RSV3", bytes: () => frame({ opcode: 0x2, rsv: 0b011, payload: "x" }), code: 1002 },
  { name: "an unknown data opcode", bytes: () => frame({ opcode: 0x3, payload: "x" }), code: 1002 },
  { name: "a masked server frame", bytes: () => frame({ opcode: 0x2, mask: true, payload: "x" }), code: 1002 },
  { name: "a fragmented ping", bytes: () => frame({ opcode: 0x9, fin: false, payload: "x" }), code: 1002 },
  { name: "a ping over 125 bytes", bytes: () => frame({ opcode: 0x9, payload: new Uint8Array(126) }), code: 1002 },
  { name: "a continuation with nothing to continue", bytes: () => frame({ opcode: 0x0, payload: "x" }), code: 1002 },
  { name: "invalid UTF-8 in a text message", bytes: () => frame({ opcode: 0x1, payload: new Uint8Array([0xc3, 0x28]) }), code: 1007 },
  { name: "close code 999", bytes: () => frame({ opcode: 0x8, payload: closePayload(999) }), code: 1002 },
  { name: "close code 1005 on the wire", bytes: () => frame({ opcode: 0x8, payload: closePayload(1005) }), code: 1002 },
  { name: "close code 1006 on the wire", bytes: () => frame({ opcode: 0x8, payload: closePayload(1006) }), code: 1002 },
  { name: "close code 1015 on the wire", bytes: () => frame({ opcode: 0x8, payload: closePayload(1015) }), code: 1002 },
  { name: "close code 5000", bytes: () => frame({ opcode: 0x8, payload: closePayload(5000) }), code: 1002 },
  { name: "a one-byte close payload", bytes: () => frame({ opcode: 0x8, payload: new Uint8Array([3]) }), code: 1002 },
  {
    name: "a close reason that is not UTF-8",
    bytes: () => frame({ opcode: 0x8, payload: closePayload(1000, new Uint8Array([0xff, 0xfe])) }),
    code: 1007
  }
]

describe("WebSocketConnector (Node's global WebSocket) against a hostile server", () => {
  for (const bad of badFrames) {
    it.live(`${bad.name}: read fails with Read ${bad.code} (not a lost connection), closed resolves`, () =>
      Effect.gen(function*() {
        const server = yield* hostileServer((peer) => peer.socket.write(bad.bytes()))
        const channel = yield* connect(server.url)
        const error = (yield* readEnd(channel)) as SocketError.SocketError
        expect(error).toMatchObject({ _tag: "SocketError", reason: "Read", code: bad.code })
        const info = yield* channel.closed
        expect(info).toMatchObject({ wasClean: false, local: true })
      }))
  }

  it.live("a lost connection (the server ends TCP) stays Closed 1006, not a protocol error", () =>
    Effect.gen(function*() {
      const server = yield* hostileServer((peer) => peer.socket.end(frame({ opcode: 0x2, payload: new Uint8Array([1, 2]) })))
      const channel = yield* connect(server.url)
      expect(yield* readEnd(channel)).toMatchObject({ reason: "Closed", code: 1006 })
      expect(yield* channel.closed).toMatchObject({ code: 1006, wasClean: false, local: false })
    }))
})

describe("WebSocketConnector: maxPayload counts bytes, as on the wire (a text message its UTF-8 bytes)", () => {
  it.live("text of 4,098 UTF-8 bytes in 1,366 UTF-16 units over maxPayload 4096: Read 1009; 4,096 bytes of text are delivered", () =>
    Effect.gen(function*() {
      const atBound = "€".repeat(1365) + "a" // 4,096 bytes
      const over = "€".repeat(1366) // 4,098 bytes
      const server = yield* hostileServer((peer) =>
        peer.socket.write(Buffer.concat([frame({ opcode: 0x1, payload: atBound }), frame({ opcode: 0x1, payload: over })]))
      )
      const channel = yield* connect(server.url, { maxPayload: 4096 })
      const first = yield* channel.readChunk()
      expect(Option.map(first, (chunk) => chunk.length)).toEqual(Option.some(4096))
      const error = (yield* readEnd(channel)) as SocketError.SocketError
      expect(error).toMatchObject({ reason: "Read", code: 1009 })
      expect(error.message).toContain("4098 bytes")
      const peer = yield* server.peer
      // Node's client sends 1009 in the reason (it refuses close(1009)).
      expect(yield* peer.reader.awaitClose).toEqual({ code: 1000, reason: "1009: message too big" })
    }))

  it.live("four-byte characters (surrogate pairs) count four bytes each", () =>
    Effect.gen(function*() {
      const server = yield* hostileServer((peer) => peer.socket.write(frame({ opcode: 0x1, payload: "😀".repeat(1025) }))) // 4,100 bytes
      const channel = yield* connect(server.url, { maxPayload: 4096 })
      expect(yield* readEnd(channel)).toMatchObject({ reason: "Read", code: 1009 })
    }))
})

describe("WebSocketConnector: a server that closes and then holds TCP", () => {
  // Node's (and Bun's) WebSocket answers the close frame, then waits for the server to end TCP
  // before its close event, with no timeout: measured, still CLOSING after two minutes.
  it.live("read ends within the close timeout (not never), closed resolves (1006: the runtime never said the code)", () =>
    Effect.gen(function*() {
      const server = yield* hostileServer((peer) =>
        peer.socket.write(Buffer.concat([frame({ opcode: 0x2, payload: "last" }), frame({ opcode: 0x8, payload: closePayload(1000, "bye") })]))
      )
      const channel = yield* connect(server.url, { closeTimeout: "300 millis" })
      const peer = yield* server.peer
      expect(yield* peer.reader.awaitClose).toMatchObject({ code: 1000 })
      const chunks = yield* channel.read.pipe(Stream.runCollect, Effect.exit)
      expect(yield* channel.closed).toEqual({ code: 1006, reason: "", wasClean: false, local: false })
      expect(Exit.isFailure(chunks) && Option.getOrUndefined(Cause.findErrorOption(chunks.cause))).toMatchObject({ reason: "Closed", code: 1006 })
    }), 20_000)
})

describe("WebSocketConnector: this side fails the connection, and the peer never answers the close", () => {
  // Nothing answers our close frame and TCP stays open: only our close timeout can end it.
  it.live("over maxPayload: read fails with 1009 and closed resolves (local) after the close timeout, not never", () =>
    Effect.gen(function*() {
      const server = yield* hostileServer((peer) => peer.socket.write(frame({ opcode: 0x2, payload: new Uint8Array(4097) })))
      const channel = yield* connect(server.url, { maxPayload: 4096, closeTimeout: "300 millis" })
      expect(yield* readEnd(channel)).toMatchObject({ reason: "Read", code: 1009 })
      expect(yield* channel.closed).toEqual({ code: 1006, reason: "", wasClean: false, local: true })
    }), 20_000)

  it.live("past the receive bound: read fails with ReceiveOverflow and closed resolves (local) after the close timeout, not never", () =>
    Effect.gen(function*() {
      const server = yield* hostileServer((peer) =>
        peer.socket.write(Buffer.concat(Array.from({ length: 20 }, () => frame({ opcode: 0x2, payload: "x" }))))
      )
      const channel = yield* connect(server.url, { receiveLimitMessages: 10, closeTimeout: "300 millis" })
      expect(yield* channel.closed).toEqual({ code: 1006, reason: "", wasClean: false, local: true })
      expect(yield* readEnd(channel)).toMatchObject({ reason: "ReceiveOverflow", code: 1009 })
    }), 20_000)
})

describe("WebSocketConnector: opening against a hostile server", () => {
  it.live("a close frame in the same packet as the 101 (then TCP ended once ours came): the connect succeeds, read ends, the peer's code", () =>
    Effect.gen(function*() {
      const { port } = yield* rawTcpServer((socket) => {
        Effect.runFork(
          Effect.gen(function*() {
            const request = yield* readHead(socket)
            if (request === undefined) return
            socket.write(Buffer.concat([
              Buffer.from(switchingProtocols(request.head)),
              frame({ opcode: 0x2, payload: "hi" }),
              frame({ opcode: 0x8, payload: closePayload(1000, "bye") })
            ]))
            const reader = frameReader(socket, request.rest)
            yield* reader.awaitClose
            socket.end()
          })
        )
      })
      const channel = yield* connect(`ws://127.0.0.1:${port}/`)
      const all = yield* channel.read.pipe(Stream.decodeText(), Stream.mkString)
      expect(all).toBe("hi")
      expect(yield* channel.closed).toEqual({ code: 1000, reason: "bye", wasClean: true, local: false })
    }))

  it.live("interrupting a connect the server never answers drops its TCP connection at once (no open deadline left)", () =>
    Effect.gen(function*() {
      const requested = yield* Deferred.make<void>()
      const dropped = yield* Deferred.make<void>()
      const { port } = yield* rawTcpServer((socket) => {
        socket.once("data", () => Deferred.doneUnsafe(requested, Effect.void))
        // Half-open server: the client ending its side is the drop.
        socket.once("end", () => Deferred.doneUnsafe(dropped, Effect.void))
        socket.once("close", () => Deferred.doneUnsafe(dropped, Effect.void))
      })
      const connecting = yield* Effect.forkChild(Effect.scoped(connect(`ws://127.0.0.1:${port}/`, { openTimeout: "1 hour" })))
      // The request head arrived: the connect waits for its answer.
      yield* Deferred.await(requested)
      yield* Fiber.interrupt(connecting)
      yield* Deferred.await(dropped).pipe(Effect.timeout("5 seconds"))
    }))

  it.live("a subprotocol list the WebSocket constructor refuses (a space, a duplicate): a typed Open error, no throw", () =>
    Effect.gen(function*() {
      const { port } = yield* rawTcpServer(() => {})
      for (const protocols of [["a b"], ["chat", "chat"]]) {
        const exit = yield* Effect.exit(Effect.scoped(WebSocketConnector.make().connect(`ws://127.0.0.1:${port}/`, { protocols })))
        expect(Exit.isFailure(exit) && Option.getOrUndefined(Cause.findErrorOption(exit.cause))).toMatchObject({ _tag: "SocketError", reason: "Open" })
      }
    }))
})

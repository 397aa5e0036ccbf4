// Core's WebSocketTransport (what WebSocketConnector opens) from the outside, on a scripted WHATWG
// WebSocket: the receive bound (it cannot pause), maxPayload, the close-code mapping per runtime
// (Bun's client accepts 1001–1014, Deno's and Node's throw as browsers do; measured with each),
// the opening deadline, the bufferedAmount poll, the heartbeat. And the mapping on Node's real one.
import { describe, expect, it } from "@effect/vitest"
import { CloseCode, type MessageSocket, WebSocketConnector, WebSocketTransport } from "@bytechannel/core"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import * as TestClock from "effect/testing/TestClock"
import type { WebSocket as WsSocket } from "ws"
import { awaitSuspended } from "../../core/test/utils.js"
import { rawServer } from "./fixtures.js"

/**
 * A scripted WHATWG WebSocket. `refuses` says which codes its `close` throws on, as the runtime
 * it stands for does: `"browser"` (browsers, Deno, Node: all but 1000 and 3000–4999) or `"bun"`.
 */
class ScriptedWebSocket {
  readyState = 0
  bufferedAmount = 0
  protocol = ""
  binaryType = "blob"
  readonly sent: Array<string | Uint8Array> = []
  readonly closes: Array<{ readonly code: number | undefined; readonly reason: string | undefined }> = []
  onopen: (() => void) | null = null
  onmessage: ((event: { readonly data: unknown }) => void) | null = null
  onerror: ((event: { readonly message?: string }) => void) | null = null
  onclose: ((event: { readonly code: number; readonly reason: string; readonly wasClean: boolean }) => void) | null = null
  constructor(readonly refuses: "browser" | "bun", open = true) {
    if (open) this.readyState = 1
  }
  send(data: string | Uint8Array) {
    this.sent.push(data)
  }
  /** Whether the peer answers a close frame (then the close event comes at once). */
  answersClose = true
  close(code?: number, reason?: string) {
    const allowed = code === undefined || CloseCode.isApplicationCode(code) ||
      (this.refuses === "bun" && code >= 1000 && code <= 1014 && (code < 1004 || code > 1006))
    if (!allowed) throw new DOMException(`invalid code ${code}`, "InvalidAccessError")
    this.closes.push({ code, reason })
    if (this.readyState === 3) return
    this.readyState = 2
    if (this.answersClose) this.closedByNetwork(code ?? 1005, reason ?? "")
  }
  // What the network does.
  open() {
    this.readyState = 1
    this.onopen?.()
  }
  message(data: string | Uint8Array) {
    this.onmessage?.({ data: typeof data === "string" ? data : data.slice().buffer })
  }
  /** An error event: Deno's server socket names the rule the peer broke; browsers say nothing. */
  error(message?: string) {
    this.onerror?.(message === undefined ? {} : { message })
  }
  closedByNetwork(code: number, reason = "", wasClean = true) {
    this.readyState = 3
    this.onclose?.({ code, reason, wasClean })
  }
}

const asWebSocket = (ws: ScriptedWebSocket) => ws as unknown as WebSocket
const fromScripted = (ws: ScriptedWebSocket, options?: WebSocketTransport.WebSocketTransportOptions) =>
  WebSocketTransport.fromWebSocket(asWebSocket(ws), options)

const failureOf = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.map(Effect.result(effect), (result) => (Result.isFailure(result) ? result.failure : expect.fail(`expected a failure, got ${String(result.success)}`)))

const receiveAll = (socket: MessageSocket.MessageSocket, count: number) =>
  Effect.forEach(Array.from({ length: count }), () => Effect.map(socket.receive, Option.getOrThrow))

describe("WebSocketTransport: the receive bound (a WHATWG WebSocket cannot pause)", () => {
  it.effect("past receiveLimitMessages unread: receive fails with ReceiveOverflow after the messages before it; 1009 goes as 1000 + reason", () =>
    Effect.gen(function*() {
      const ws = new ScriptedWebSocket("browser")
      const socket = yield* fromScripted(ws, { receiveLimitMessages: 4 })
      expect(ws.binaryType).toBe("arraybuffer")
      // Exactly the limit unread is within it.
      for (let i = 0; i < 4; i++) ws.message(new Uint8Array([i]))
      expect(ws.closes).toEqual([])
      ws.message(new Uint8Array([4]))
      expect(ws.closes).toEqual([{ code: 1000, reason: "1009: receive buffer full" }])
      const taken = yield* receiveAll(socket, 5)
      expect(taken.map((m) => Array.from(m as Uint8Array))).toEqual([[0], [1], [2], [3], [4]])
      expect(yield* failureOf(socket.receive)).toMatchObject({ reason: "ReceiveOverflow", code: 1009 })
    }).pipe(Effect.scoped))

  it.effect("past receiveLimitBytes unread: the same; receiveHighWaterBytes, when given, wins", () =>
    Effect.gen(function*() {
      const limited = new ScriptedWebSocket("browser")
      const socket = yield* fromScripted(limited, { receiveLimitBytes: 1000 })
      limited.message(new Uint8Array(999))
      limited.message(new Uint8Array(1))
      // Exactly the limit unread is within it.
      expect(limited.closes).toEqual([])
      limited.message(new Uint8Array(1))
      expect(limited.closes).toHaveLength(1)
      yield* receiveAll(socket, 3)
      expect(yield* failureOf(socket.receive)).toMatchObject({ reason: "ReceiveOverflow" })

      const overridden = new ScriptedWebSocket("browser")
      yield* fromScripted(overridden, { receiveLimitBytes: 1000, receiveHighWaterBytes: 10_000 })
      overridden.message(new Uint8Array(5000))
      expect(overridden.closes).toEqual([])
    }).pipe(Effect.scoped))

  it.effect("the default bound: 1024 messages (the 1025th unread fails)", () =>
    Effect.gen(function*() {
      const ws = new ScriptedWebSocket("browser")
      yield* fromScripted(ws)
      for (let i = 0; i < 1024; i++) ws.message("m")
      expect(ws.closes).toEqual([])
      ws.message("m")
      expect(ws.closes).toHaveLength(1)
    }).pipe(Effect.scoped))

  it.effect("maxPayload: a larger message fails receive with Read 1009 and closes; one at the bound is delivered", () =>
    Effect.gen(function*() {
      const ws = new ScriptedWebSocket("bun")
      const socket = yield* fromScripted(ws, { maxPayload: 10, closeCodes: "as-is" })
      ws.message(new Uint8Array(10))
      ws.message(new Uint8Array(11))
      expect(ws.closes).toEqual([{ code: 1009, reason: "message too big" }])
      const first = yield* Effect.map(socket.receive, Option.getOrThrow)
      expect((first as Uint8Array).length).toBe(10)
      const error = yield* failureOf(socket.receive)
      expect(error).toMatchObject({ reason: "Read", code: 1009 })
      expect(error.message).toContain("11 bytes, over maxPayload (10)")
    }).pipe(Effect.scoped))
})

describe("WebSocketTransport: one message of exactly receiveLimitBytes", () => {
  it.effect("is delivered, read or not yet (the limit is what may be unread, not one byte less)", () =>
    Effect.gen(function*() {
      const ws = new ScriptedWebSocket("browser")
      const socket = yield* fromScripted(ws, { receiveLimitBytes: 1000 })
      ws.message(new Uint8Array(1000))
      expect(ws.closes).toEqual([])
      expect(Option.map(yield* socket.receive, (m) => (m as Uint8Array).length)).toEqual(Option.some(1000))
    }).pipe(Effect.scoped))
})

describe("WebSocketTransport: close codes on the wire", () => {
  const closeWith = (ws: ScriptedWebSocket, options: WebSocketTransport.WebSocketTransportOptions, code: number, reason: string) =>
    Effect.gen(function*() {
      const socket = yield* fromScripted(ws, options)
      yield* socket.closeWithProtocolCode({ code, reason })
      return ws.closes
    }).pipe(Effect.scoped)

  it.effect("in-reason (the default): 1011 goes as 1000 \"1011: ...\"; 1000 and 4000 as they are", () =>
    Effect.gen(function*() {
      expect(yield* closeWith(new ScriptedWebSocket("bun"), {}, 1011, "boom")).toEqual([{ code: 1000, reason: "1011: boom" }])
      expect(yield* closeWith(new ScriptedWebSocket("bun"), {}, 4000, "bye")).toEqual([{ code: 4000, reason: "bye" }])
      expect(yield* closeWith(new ScriptedWebSocket("browser"), {}, 1000, "")).toEqual([{ code: 1000, reason: "" }])
    }))

  it.effect("as-is: 1011 goes as 1011 where the runtime takes it (Bun's client, a server's socket)", () =>
    Effect.gen(function*() {
      expect(yield* closeWith(new ScriptedWebSocket("bun"), { closeCodes: "as-is" }, 1011, "boom")).toEqual([{ code: 1011, reason: "boom" }])
    }))

  it.effect("as-is on a runtime whose close() refuses 1011 (Deno's, Node's client): 1000 + reason, never a throw", () =>
    Effect.gen(function*() {
      expect(yield* closeWith(new ScriptedWebSocket("browser"), { closeCodes: "as-is" }, 1011, "boom")).toEqual([{ code: 1000, reason: "1011: boom" }])
    }))

  it.effect("a reason made long by the code in it is cut to 123 bytes", () =>
    Effect.gen(function*() {
      const [close] = yield* closeWith(new ScriptedWebSocket("browser"), {}, 1011, "x".repeat(123))
      expect(close!.reason).toBe(`1011: ${"x".repeat(117)}`)
    }))

  it.effect("a close event with code 0 (a runtime's failed connection) is reported as 1006", () =>
    Effect.gen(function*() {
      const ws = new ScriptedWebSocket("browser")
      const socket = yield* fromScripted(ws)
      ws.closedByNetwork(0, "", false)
      expect(yield* socket.closed).toMatchObject({ code: 1006, wasClean: false, local: false })
    }).pipe(Effect.scoped))
})

describe("WebSocketTransport: errors a runtime names (Deno's server socket)", () => {
  // Deno 2.9.6's messages, as its server socket reports raw frames that break a rule.
  const cases = [
    ["Invalid UTF-8", 1007],
    ["Frame too large", 1009],
    ["Reserved bits are not zero", 1002],
    ["Invalid value", 1002],
    ["Control frame must not be fragmented", 1002],
    ["Ping frame too large", 1002],
    ["No response from ping frame.", 1006],
    // Deno 2.9.6's client.
    ["Invalid close code", 1002],
    ["Invalid close frame", 1002],
    ["Invalid continuation frame", 1002],
    // Node 22's (undici).
    ["Expected RSV1 to be clear.", 1002],
    ["Unexpected continuation frame", 1002],
    ["Invalid status code", 1002],
    ["Received close frame with a 1-byte body.", 1002],
    ["Received payload length > 2^31 bytes.", 1009],
    ["Received invalid UTF-8 in text frame.", 1007],
    // Bun 1.4.5's client: the URL first.
    ["WebSocket connection to 'ws://127.0.0.1:1/' failed: Protocol error - RSV1 must be clear", 1002],
    ["WebSocket connection to 'ws://127.0.0.1:1/' failed: Protocol error - invalid close code: 999", 1002],
    ["WebSocket connection to 'ws://127.0.0.1:1/' failed: Payload length over 2^53 - 1", 1009],
    ["WebSocket connection to 'ws://127.0.0.1:1/' failed: Server sent invalid UTF8", 1007]
  ] as const
  for (const [message, code] of cases) {
    it.effect(`"${message}": read fails with Read ${code} after the messages before it; an unclean close is 1006`, () =>
      Effect.gen(function*() {
        const ws = new ScriptedWebSocket("browser")
        const socket = yield* fromScripted(ws)
        ws.message("before")
        ws.error(message)
        ws.closedByNetwork(1001, "", false)
        expect(yield* Effect.map(socket.receive, Option.getOrThrow)).toBe("before")
        const error = yield* failureOf(socket.receive)
        expect(error).toMatchObject({ reason: "Read", code })
        expect(error.message).toContain(message)
        expect(yield* socket.closed).toMatchObject({ code: 1006, wasClean: false })
      }).pipe(Effect.scoped))
  }

  it.effect("an error with no message (browsers), or one that names no protocol rule: the close event says what happened", () =>
    Effect.gen(function*() {
      const ws = new ScriptedWebSocket("browser")
      const socket = yield* fromScripted(ws)
      ws.error()
      ws.error("Unexpected EOF")
      ws.error("Connection reset by peer (os error 104)")
      // Bun names the URL: a path with a rule's words in it is not a protocol error.
      ws.error("WebSocket connection to 'ws://127.0.0.1:1/protocol/too-large/utf8/mask' failed: Connection ended")
      ws.closedByNetwork(4000, "bye", true)
      expect(yield* socket.closed).toMatchObject({ code: 4000, reason: "bye", wasClean: true })
      expect(Option.isNone(yield* socket.receive)).toBe(true)
    }).pipe(Effect.scoped))
})

describe("WebSocketTransport: opening", () => {
  it.effect("a connecting socket is waited for: messages flow once it opens", () =>
    Effect.gen(function*() {
      const ws = new ScriptedWebSocket("browser", false)
      const fiber = yield* Effect.forkChild(fromScripted(ws))
      yield* awaitSuspended(fiber)
      ws.open()
      const socket = yield* Fiber.join(fiber)
      yield* socket.send("hi")
      expect(ws.sent).toEqual(["hi"])
    }).pipe(Effect.scoped))

  it.effect("closed before it opened: Open, with the code", () =>
    Effect.gen(function*() {
      const ws = new ScriptedWebSocket("browser", false)
      const fiber = yield* Effect.forkChild(fromScripted(ws))
      yield* awaitSuspended(fiber)
      ws.closedByNetwork(1002, "", false)
      expect(yield* failureOf(Fiber.join(fiber))).toMatchObject({ reason: "Open", code: 1002 })
    }).pipe(Effect.scoped))

  it.effect("never opens: OpenTimeout at openTimeout, and the socket is closed at once (no close timeout to wait)", () =>
    Effect.gen(function*() {
      const ws = new ScriptedWebSocket("browser", false)
      ws.answersClose = false
      const fiber = yield* Effect.forkChild(Effect.scoped(fromScripted(ws, { openTimeout: "2 seconds", closeTimeout: "1 minute" })))
      yield* awaitSuspended(fiber)
      yield* TestClock.adjust("1999 millis")
      expect(fiber.pollUnsafe()).toBeUndefined()
      yield* TestClock.adjust("1 millis")
      // The scope closed too: it did not wait for the minute of the close timeout.
      expect(yield* failureOf(Fiber.join(fiber))).toMatchObject({ reason: "OpenTimeout" })
      expect(ws.closes).toEqual([{ code: undefined, reason: undefined }])
    }))

  it.effect("an already closed socket: Open", () =>
    Effect.gen(function*() {
      const ws = new ScriptedWebSocket("browser")
      ws.readyState = 3
      expect(yield* failureOf(fromScripted(ws))).toMatchObject({ reason: "Open" })
    }).pipe(Effect.scoped))
})

describe("WebSocketTransport: dropping a connection", () => {
  it.effect("a runtime whose WebSocket can drop one (Bun's client: terminate()): a peer that never answers the close is dropped after closeTimeout", () =>
    Effect.gen(function*() {
      const ws = new ScriptedWebSocket("browser")
      ws.answersClose = false
      let terminated = 0
      ;(ws as unknown as { terminate: () => void }).terminate = () => void terminated++
      const closing = yield* Effect.forkChild(Effect.scoped(fromScripted(ws, { closeTimeout: "1 second" })))
      yield* awaitSuspended(closing)
      expect(ws.closes).toEqual([{ code: 1000, reason: "" }])
      expect(terminated).toBe(0)
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(closing)
      expect(terminated).toBe(1)
    }))
})

describe("WebSocketTransport: send backpressure by polling bufferedAmount", () => {
  it.live("send waits while bufferedAmount is at sendHighWaterMark, and goes on once it drains (no drain event)", () =>
    Effect.gen(function*() {
      const ws = new ScriptedWebSocket("browser")
      // What is sent stays buffered until the test lets it drain.
      ws.send = function(this: ScriptedWebSocket, data: string | Uint8Array) {
        this.sent.push(data)
        this.bufferedAmount += typeof data === "string" ? data.length : data.length
      }
      const socket = yield* fromScripted(ws, { sendHighWaterMark: 100 })
      const sending = yield* Effect.forkChild(socket.sendAll([new Uint8Array(100), "b"]))
      yield* awaitSuspended(sending)
      expect(ws.sent).toHaveLength(1)
      ws.bufferedAmount = 0
      yield* Effect.timeoutOrElse(Fiber.join(sending), { duration: "5 seconds", orElse: () => Effect.die(new Error("send never woke")) })
      expect(ws.sent).toHaveLength(2)
    }).pipe(Effect.scoped))
})

describe("WebSocketTransport: heartbeat", () => {
  it.effect("sends its message every interval; a peer silent for idleTimeout after one is failed (1006)", () =>
    Effect.gen(function*() {
      const ws = new ScriptedWebSocket("browser")
      const socket = yield* fromScripted(ws, { heartbeat: { interval: "10 seconds", idleTimeout: "5 seconds", message: "ping" } })
      yield* TestClock.adjust("10 seconds")
      expect(ws.sent).toEqual(["ping"])
      ws.message("pong")
      yield* TestClock.adjust("5 seconds")
      yield* TestClock.adjust("10 seconds")
      expect(ws.sent).toEqual(["ping", "ping"])
      yield* Effect.map(socket.receive, Option.getOrThrow)
      yield* TestClock.adjust("5 seconds")
      expect(yield* failureOf(socket.receive)).toMatchObject({ reason: "Read", code: 1006 })
    }).pipe(Effect.scoped))
})

describe("WebSocketConnector on Node's global WebSocket: the close mapping on a real connection", () => {
  const peerSees = (options: WebSocketConnector.WebSocketConnectorOptions) =>
    Effect.gen(function*() {
      const seen = yield* Deferred.make<{ code: number; reason: string }>()
      const { url } = yield* rawServer((ws: WsSocket) =>
        ws.on("close", (code, reason) => Deferred.doneUnsafe(seen, Effect.succeed({ code, reason: reason.toString() }))))
      const socket = yield* WebSocketConnector.make(options).connect(url)
      yield* socket.closeWithProtocolCode({ code: CloseCode.InternalError, reason: "boom" })
      return yield* Deferred.await(seen)
    }).pipe(Effect.scoped)

  it.live("Node's client refuses close(1011): with either mode the peer sees 1000 \"1011: boom\"", () =>
    Effect.gen(function*() {
      expect(yield* peerSees({})).toEqual({ code: 1000, reason: "1011: boom" })
      expect(yield* peerSees({ closeCodes: "as-is" })).toEqual({ code: 1000, reason: "1011: boom" })
    }))
})

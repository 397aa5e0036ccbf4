/**
 * The transport contract: one body of behaviour tests that every transport runs (memory, ws
 * client and server, TCP client and server, the `effect/socket` Socket adapter, both browser
 * strategies), so that no transport can silently differ from the others. Written once, against
 * the user's API (`MessageSocket`, `ByteChannel`); what differs between transports by design
 * (documented in the README) is a capability, never a copy of a test.
 *
 * A run is a `subject` (the transport under test, as a `MessageSocket`) connected to a `Peer`
 * (the other end: our own engine, a raw `ws`/`node:net` socket, or a remote `ws` driven from the
 * browser). Each case connects afresh.
 */
import { describe, expect, it } from "@effect/vitest"
import * as ByteChannel from "@bytechannel/core/ByteChannel"
import type * as MessageSocket from "@bytechannel/core/MessageSocket"
import type * as SocketError from "@bytechannel/core/SocketError"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/testing/TestClock"
import { awaitSuspended, concat, prng } from "../utils.js"

/** What a transport can do, where transports differ by design (each documented in the README). */
export interface Capabilities {
  /**
   * Messages exist: boundaries are kept, zero-length and text messages exist, and so do close
   * codes and reasons. False for TCP, a byte stream whose orderly end is 1000 and reset 1006.
   */
  readonly messages: boolean
  /**
   * What the subject does when its receive queue is full: `"pause"` the network read (the peer
   * keeps the rest), or `"fail"` with `ReceiveOverflow` and close 1009, for transports that cannot
   * pause (the browser's `WebSocket`, the `effect/socket` Socket).
   */
  readonly receiveOverflow: "pause" | "fail"
  /** `send` waits on the transport's buffer. False for the `effect/socket` Socket adapter. */
  readonly sendBackpressure: boolean
  /**
   * How a protocol close code chosen by the library (1003, 1009, 1011) goes on the wire: as it is,
   * or, in browsers (which may send only 1000 and 3000–4999), as 1000 with the code in the reason.
   */
  readonly protocolCodesOnWire: "as-is" | "in-reason"
}

/** How the peer saw the connection end: the code and reason of the subject's close frame, 1006 without one. */
export interface PeerClose {
  readonly code: number
  readonly reason: string
}

/** The other end of a subject. None of its operations wait on the subject unless they say so. */
export interface Peer {
  /** Sends one message (a string is a text frame; on a byte stream, its UTF-8 bytes). */
  readonly send: (message: string | Uint8Array) => Effect.Effect<void>
  /**
   * Starts sending `count` messages of `size` bytes (`floodMessage(i, size)`) in the background;
   * `held` is how many of those bytes the peer still holds unsent (not yet taken by the network).
   */
  readonly flood: (count: number, size: number) => Effect.Effect<{ readonly held: Effect.Effect<number> }>
  /** The next message the subject sent, in order; `None` once the connection has closed. */
  readonly receive: Effect.Effect<Option.Option<string | Uint8Array>>
  /** Stops reading from the network (the suite calls `receive` only after `resume`). */
  readonly pause: Effect.Effect<void>
  readonly resume: Effect.Effect<void>
  /** Starts the close handshake with any code the protocol allows (on a byte stream: an orderly end). */
  readonly close: (code: number, reason: string) => Effect.Effect<void>
  /** Loses the connection: no close frame (on TCP, a reset). */
  readonly drop: Effect.Effect<void>
  /** From now on never answers a close frame (nor reads anything); `undefined` when this peer cannot. */
  readonly hang: Effect.Effect<void> | undefined
  /** Completes when the connection ended for the peer. */
  readonly closed: Effect.Effect<PeerClose>
}

/** A subject and its peer, connected. */
export interface Connection {
  readonly subject: MessageSocket.MessageSocket
  readonly peer: Peer
  /**
   * Ends the subject's life the way its owner does (a client's scope closes; a server's
   * connection handler returns), leaving the peer up.
   */
  readonly release: Effect.Effect<void>
}

/** A transport as the suite runs it. */
export interface ContractTransport {
  readonly capabilities: Capabilities
  /** `"test"`: runs under `it.effect` and `TestClock` (no real network); `"live"`: `it.live`, real sockets. */
  readonly clock: "test" | "live"
  /** Whether the peer of this run can hang (never answer a close frame): our own engine over a network cannot. */
  readonly peerCanHang: boolean
  /** Connects a subject with the given bounds to a peer; everything is closed with the scope. */
  readonly connect: (bounds: MessageSocket.SocketOptions) => Effect.Effect<Connection, unknown, Scope.Scope>
  /** Opens a subject against a server that accepts TCP and never completes the handshake (clients only). */
  readonly openSilent?: ((openTimeout: Duration.Input) => Effect.Effect<unknown, SocketError.SocketError, Scope.Scope>) | undefined
  /**
   * Cases left out for this transport because it fails them: a defect reported to the lead,
   * named here with a `// defect reported: <one line>` comment until the transport is fixed.
   */
  readonly omit?: ReadonlyArray<CaseName> | undefined
}

/** The content of the `i`-th flood message (the browser's test server builds the same bytes). */
export const floodMessage = (i: number, size: number): Uint8Array => {
  const bytes = new Uint8Array(size)
  for (let j = 0; j < size; j++) bytes[j] = (i * 31 + j) & 0xff
  return bytes
}

const KiB = 1024
const MiB = 1024 * KiB
/**
 * The bound on any wait (on the real clock even under TestClock): a failing transport fails the
 * case, naming what did not come, rather than hang it until the test runner's timeout.
 */
const LIVE_WAIT = Duration.seconds(10)
const TEST_WAIT = Duration.seconds(3)
/** Close timeouts: short on a real network, and moved by TestClock otherwise. */
const LIVE_CLOSE_TIMEOUT = Duration.millis(300)
const TEST_CLOSE_TIMEOUT = Duration.seconds(3)
/** Receive bounds of the backpressure cases: small, so the cases move little data. */
const RECEIVE_BOUNDS = { receiveHighWaterMessages: 16, receiveHighWaterBytes: 256 * KiB } as const
/** Sizes of the receive flood and of the probe the subject sends meanwhile (see the pause case). */
const FLOOD_COUNT = 256
const FLOOD_SIZE = 64 * KiB
/** The amount of a paused flood the peer must still hold: more than every buffer on the way can take. */
const FLOOD_HELD = 4 * MiB
/**
 * What the subject sends meanwhile: a clock made of traffic (see the pause case), as large as the
 * flood. A transport that ignores pause has then taken the whole flood (measured: 0 bytes held,
 * against 9–13 MB when it pauses; a 4 MiB probe was too short a clock to tell).
 */
const PROBE = FLOOD_COUNT * FLOOD_SIZE

const utf8 = new TextEncoder()
const TEXT = "héllo € 𝄞"

const bytesOf = (...values: ReadonlyArray<number>) => new Uint8Array(values)

/** Equal bytes, reported by the first difference (a 16 MiB diff helps nobody). */
const expectSameBytes = (actual: Uint8Array, expected: Uint8Array, what: string) => {
  expect(actual.length, `${what}: length`).toBe(expected.length)
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] !== expected[i]) expect.fail(`${what}: first difference at byte ${i} (${actual[i]} instead of ${expected[i]})`)
  }
}

const asBytes = (message: string | Uint8Array) => (typeof message === "string" ? utf8.encode(message) : message)

/** Messages as plain arrays of numbers: a Node Buffer and a Uint8Array of the same bytes compare equal. */
const numbers = (messages: Iterable<string | Uint8Array>) => Array.from(messages, (m) => Array.from(asBytes(m)))

/** A chunk read, as plain numbers (`None` as `undefined`). */
const chunkNumbers = (chunk: Option.Option<Uint8Array>) => Option.match(chunk, { onNone: () => undefined, onSome: (c) => Array.from(c) })

/** Random messages of 0..maxSize bytes (every 25th empty where messages exist). */
const randomMessages = (seed: number, count: number, maxSize: number, empty: boolean) => {
  const random = prng(seed)
  return Array.from({ length: count }, (_, i) => {
    const size = i % 25 === 0 ? (empty ? 0 : 1) : 1 + Math.floor(random() * maxSize)
    const bytes = new Uint8Array(size)
    for (let j = 0; j < size; j++) bytes[j] = (random() * 256) | 0
    return bytes
  })
}

/** The error `effect` fails with; a success fails the case, saying what came instead. */
const failure = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<E, Error, R> =>
  Effect.flatMap(Effect.result(effect), (result) =>
    Result.isFailure(result)
      ? Effect.succeed(result.failure)
      : Effect.fail(new Error(`expected a failure, got a success: ${result.success === undefined ? "(end of input)" : String(result.success)}`)))

/** Every case, by the name a transport's `omit` uses. */
export const CASES = [
  "order",
  "zero-length messages",
  "maxMessageSize split",
  "text bytes",
  "text ignore",
  "text error",
  "send backpressure",
  "send waiting when the connection is lost",
  "receive backpressure (pause)",
  "receive overflow (fail)",
  "close while receiving is paused",
  "close by this side",
  "close by the peer, 1000",
  "close by the peer, 4000",
  "cleanCloseCodes",
  "connection lost (1006)",
  "close timeout",
  "release closes with 1000",
  "close arguments",
  "events",
  "open timeout"
] as const

export type CaseName = (typeof CASES)[number]

/**
 * Registers the contract cases that apply to `transport` under `describe("transport contract: name")`.
 * Returns the names of the cases registered.
 */
export const transportContract = (name: string, transport: ContractTransport): ReadonlyArray<CaseName> => {
  const caps = transport.capabilities
  const live = transport.clock === "live"
  const closeTimeout = live ? LIVE_CLOSE_TIMEOUT : TEST_CLOSE_TIMEOUT
  const wait = live ? LIVE_WAIT : TEST_WAIT
  const omitted = new Set(transport.omit ?? [])
  const registered: Array<CaseName> = []

  /** A bounded wait. */
  const within = <A, E, R>(what: string, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | Error, R> =>
    Effect.raceFirst(
      effect,
      Effect.andThen(
        live ? Effect.sleep(wait) : TestClock.withLive(Effect.sleep(wait)),
        Effect.fail(new Error(`${name}: no ${what} within ${Duration.format(wait)}`))
      )
    )

  /** Runs `effect`, which completes only once `timeout` passed: real time when live, TestClock otherwise. */
  const afterTimeout = <A, E>(effect: Effect.Effect<A, E>, timeout: Duration.Duration): Effect.Effect<A, E | Error> =>
    live
      ? within("end of the close timeout", effect)
      : Effect.gen(function*() {
        const fiber = yield* Effect.forkChild(effect)
        yield* awaitSuspended(fiber)
        yield* TestClock.adjust(Duration.subtract(timeout, Duration.millis(1)))
        expect(fiber.pollUnsafe(), "completed before its timeout").toBeUndefined()
        yield* TestClock.adjust(Duration.millis(1))
        return yield* Fiber.join(fiber)
      })

  const register = (
    caseName: CaseName,
    applies: boolean,
    title: string,
    body: () => Effect.Effect<void, unknown, Scope.Scope>
  ) => {
    if (!applies || omitted.has(caseName)) return
    registered.push(caseName)
    const run = () => Effect.scoped(body())
    if (live) it.live(`${caseName}: ${title}`, run)
    else it.effect(`${caseName}: ${title}`, run)
  }

  const connect = (bounds: MessageSocket.SocketOptions = {}) => within("connection", transport.connect(bounds))

  /** The subject's bytes until `total` arrived (its chunks, one per message where messages exist). */
  const readChunks = (channel: ByteChannel.ByteChannel, total: number) =>
    within(
      `${total} bytes at the subject`,
      Effect.gen(function*() {
        const chunks: Array<Uint8Array> = []
        let bytes = 0
        while (bytes < total) {
          const next = yield* channel.readChunk()
          if (Option.isNone(next)) return yield* Effect.fail(new Error(`EOF after ${bytes} of ${total} bytes`))
          chunks.push(next.value)
          bytes += next.value.length
        }
        return chunks
      })
    )

  /** The peer's messages until `total` bytes arrived. */
  const peerReceive = (peer: Peer, total: number) =>
    within(
      `${total} bytes at the peer`,
      Effect.gen(function*() {
        const messages: Array<string | Uint8Array> = []
        let bytes = 0
        while (bytes < total) {
          const next = yield* peer.receive
          if (Option.isNone(next)) return yield* Effect.fail(new Error(`the peer's connection ended after ${bytes} of ${total} bytes`))
          messages.push(next.value)
          bytes += asBytes(next.value).length
        }
        return messages
      })
    )

  /** The peer's view of a protocol code the subject sent. */
  const expectWireCode = (seen: PeerClose, code: number) => {
    if (caps.protocolCodesOnWire === "as-is") expect(seen.code).toBe(code)
    else {
      expect(seen.code).toBe(1000)
      expect(seen.reason.startsWith(`${code}`), `reason ${JSON.stringify(seen.reason)} carries ${code}`).toBe(true)
    }
  }

  const expectSendClosed = (channel: ByteChannel.ByteChannel) =>
    Effect.gen(function*() {
      const error = yield* failure(channel.send(bytesOf(1)))
      expect(error).toMatchObject({ _tag: "SocketError", reason: "Closed" })
    })

  /**
   * A writer of 512 messages of 32 KiB, counting what `send` took, suspended in `send` because the
   * peer stopped reading (send high-water mark 64 KiB).
   */
  const stalledWriter = Effect.gen(function*() {
    const { peer, subject } = yield* connect({ sendHighWaterMark: 64 * KiB })
    const channel = ByteChannel.fromSocket(subject)
    yield* peer.pause
    const messages = Array.from({ length: 512 }, (_, i) => floodMessage(i + 7, 32 * KiB))
    const state = { handedOver: 0 }
    const fiber = yield* Effect.forkChild(
      Effect.forEach(messages, (message) => Effect.tap(channel.send(message), () => Effect.sync(() => (state.handedOver += message.length))), {
        discard: true
      })
    )
    yield* awaitSuspended(fiber)
    return { peer, subject, writer: { fiber, messages, state, total: 512 * 32 * KiB } }
  })

  describe(`transport contract: ${name}`, () => {
    // The byte stream ---------------------------------------------------------------------------

    register("order", true, "messages of 0..16 KiB arrive in order and byte-identical, both ways at once", () =>
      Effect.gen(function*() {
        const { peer, subject } = yield* connect()
        const channel = ByteChannel.fromSocket(subject)
        const up = randomMessages(1, 150, 16 * KiB, caps.messages)
        const down = randomMessages(2, 150, 16 * KiB, caps.messages)
        const writer = yield* Effect.forkChild(Stream.run(Stream.fromIterable(up), channel.write))
        const peerWriter = yield* Effect.forkChild(Effect.forEach(down, peer.send, { discard: true }))
        const [atSubject, atPeer] = yield* Effect.all(
          [readChunks(channel, concat(down).length), peerReceive(peer, concat(up).length)],
          { concurrency: 2 }
        )
        yield* Fiber.join(writer)
        yield* Fiber.join(peerWriter)
        expectSameBytes(concat(atSubject), concat(down), "peer to subject")
        expectSameBytes(concat(atPeer.map(asBytes)), concat(up), "subject to peer")
        if (caps.messages) {
          // Each message is one chunk, the empty ones included.
          expect(atSubject.map((chunk) => chunk.length)).toEqual(down.map((m) => m.length))
          expect(atPeer.map((m) => asBytes(m).length)).toEqual(up.map((m) => m.length))
        }
      }))

    register("zero-length messages", caps.messages, "a zero-length message is a zero-length chunk, never EOF, both ways", () =>
      Effect.gen(function*() {
        const { peer, subject } = yield* connect()
        const channel = ByteChannel.fromSocket(subject)
        for (const message of [bytesOf(), bytesOf(2), bytesOf()]) yield* peer.send(message)
        const chunks: Array<Uint8Array> = []
        for (let i = 0; i < 3; i++) chunks.push(Option.getOrThrow(yield* within("chunk", channel.readChunk())))
        expect(numbers(chunks)).toEqual([[], [2], []])
        yield* peer.send(bytesOf(3))
        expect(chunkNumbers(yield* within("chunk", channel.readChunk()))).toEqual([3])
        for (const message of [bytesOf(), bytesOf(4), bytesOf()]) yield* channel.send(message)
        const atPeer: Array<ReadonlyArray<number>> = []
        for (let i = 0; i < 3; i++) atPeer.push(Array.from(asBytes(Option.getOrThrow(yield* within("message", peer.receive)))))
        expect(atPeer).toEqual([[], [4], []])
      }))

    register("maxMessageSize split", caps.messages, "a write above maxMessageSize goes as messages of at most that size (send and the Sink)", () =>
      Effect.gen(function*() {
        const { peer, subject } = yield* connect()
        const channel = ByteChannel.fromSocket(subject, { maxMessageSize: 1000 })
        const sent = [floodMessage(3, 2500), floodMessage(4, 1500), floodMessage(5, 10), floodMessage(6, 1200)]
        yield* channel.send(sent[0]!)
        // One Stream chunk of three writes: the Sink splits the large ones and leaves the small one whole.
        yield* Stream.run(Stream.make(sent[1]!, sent[2]!, sent[3]!), channel.write)
        const atPeer = (yield* peerReceive(peer, 2500 + 1500 + 10 + 1200)).map(asBytes)
        expect(atPeer.map((m) => m.length)).toEqual([1000, 1000, 500, 1000, 500, 10, 1000, 200])
        expectSameBytes(concat(atPeer), concat(sent), "split messages")
      }))

    // Text policy -------------------------------------------------------------------------------

    register("text bytes", caps.messages, "text: \"bytes\" (default) reads a text message as its UTF-8 bytes, in order", () =>
      Effect.gen(function*() {
        const { peer, subject } = yield* connect()
        const channel = ByteChannel.fromSocket(subject)
        yield* peer.send(bytesOf(1, 2, 3))
        yield* peer.send(TEXT)
        yield* peer.send(bytesOf(4, 5))
        const chunks = yield* readChunks(channel, 3 + utf8.encode(TEXT).length + 2)
        expect(numbers(chunks)).toEqual(numbers([bytesOf(1, 2, 3), TEXT, bytesOf(4, 5)]))
      }))

    register("text ignore", caps.messages, "text: \"ignore\" skips text messages and keeps binary ones in order", () =>
      Effect.gen(function*() {
        const { peer, subject } = yield* connect()
        const channel = ByteChannel.fromSocket(subject, { text: "ignore" })
        yield* peer.send(bytesOf(1))
        yield* peer.send(TEXT)
        yield* peer.send(bytesOf(2))
        expect(numbers(yield* readChunks(channel, 2))).toEqual([[1], [2]])
      }))

    register("text error", caps.messages, "text: \"error\" fails read with ProtocolError after the binary before it; the peer sees 1003", () =>
      Effect.gen(function*() {
        const { peer, subject } = yield* connect()
        const channel = ByteChannel.fromSocket(subject, { text: "error" })
        yield* peer.send(bytesOf(1))
        yield* peer.send(TEXT)
        expect(chunkNumbers(yield* within("chunk", channel.readChunk()))).toEqual([1])
        expect(yield* failure(within("failure", channel.readChunk()))).toMatchObject({ _tag: "ProtocolError", reason: "UnexpectedText" })
        expectWireCode(yield* within("peer close", peer.closed), 1003)
        expect(yield* within("close", subject.closed)).toMatchObject({ local: true })
        yield* expectSendClosed(channel)
      }))

    // Backpressure ------------------------------------------------------------------------------

    register("send backpressure", caps.sendBackpressure, "send waits while the peer does not read; every byte arrives once it reads", () =>
      Effect.gen(function*() {
        const { peer, writer } = yield* stalledWriter
        // Suspended in `send`: without backpressure the writer would hand all 16 MiB over at once.
        expect(writer.state.handedOver).toBeLessThan(writer.total)
        yield* peer.resume
        const atPeer = yield* peerReceive(peer, writer.total)
        yield* within("writer", Fiber.join(writer.fiber))
        expectSameBytes(concat(atPeer.map(asBytes)), concat(writer.messages), "after backpressure")
      }))

    register("send waiting when the connection is lost", caps.sendBackpressure, "a send waiting on backpressure fails at once when the connection is lost", () =>
      Effect.gen(function*() {
        const { peer, subject, writer } = yield* stalledWriter
        yield* peer.drop
        const error = yield* failure(within("failed send", Fiber.join(writer.fiber)))
        expect(error).toMatchObject({ _tag: "SocketError", reason: "Closed" })
        expect(yield* within("close", subject.closed)).toMatchObject({ code: 1006, wasClean: false })
      }))

    register(
      "receive backpressure (pause)",
      caps.receiveOverflow === "pause",
      "a full queue pauses the network read (the peer keeps the rest); reading resumes it, every byte in order",
      () =>
        Effect.gen(function*() {
          const { peer, subject } = yield* connect(RECEIVE_BOUNDS)
          const channel = ByteChannel.fromSocket(subject)
          const paused = yield* Deferred.make<MessageSocket.SocketEvent>()
          const resumed = yield* Deferred.make<MessageSocket.SocketEvent>()
          const events = yield* Effect.forkChild(Stream.runForEach(subject.events, (event) =>
            event._tag === "ReceivePaused"
              ? Deferred.succeed(paused, event)
              : event._tag === "ReceiveResumed"
              ? Deferred.succeed(resumed, event)
              : Effect.void))
          yield* awaitSuspended(events)
          const flood = yield* peer.flood(FLOOD_COUNT, FLOOD_SIZE)
          const pausedAt = yield* within("ReceivePaused", Deferred.await(paused))
          expect(pausedAt).toMatchObject({ _tag: "ReceivePaused" })
          // A clock made of traffic: the subject sends a probe the other way and the peer reads it
          // all. A subject that kept reading would have taken the rest of the flood meanwhile.
          yield* Effect.all([within("probe", channel.send(floodMessage(0, PROBE))), peerReceive(peer, PROBE)], {
            concurrency: 2,
            discard: true
          })
          const held = yield* flood.held
          expect(held, "bytes of the flood the peer still holds").toBeGreaterThanOrEqual(FLOOD_HELD)
          const chunks = yield* readChunks(channel, FLOOD_COUNT * FLOOD_SIZE)
          expect(yield* within("ReceiveResumed", Deferred.await(resumed))).toMatchObject({ _tag: "ReceiveResumed" })
          const expected = concat(Array.from({ length: FLOOD_COUNT }, (_, i) => floodMessage(i, FLOOD_SIZE)))
          expectSameBytes(concat(chunks), expected, "the flood")
        })
    )

    register(
      "receive overflow (fail)",
      caps.receiveOverflow === "fail",
      "past the receive bound read fails with ReceiveOverflow (1009) after the messages before it; the peer sees 1009",
      () =>
        Effect.gen(function*() {
          const { peer, subject } = yield* connect(RECEIVE_BOUNDS)
          const channel = ByteChannel.fromSocket(subject)
          const events = yield* Effect.forkChild(Stream.runCollect(subject.events))
          yield* awaitSuspended(events)
          yield* peer.flood(64, FLOOD_SIZE)
          const info = yield* within("close", subject.closed)
          expect(info).toMatchObject({ local: true })
          const chunks: Array<Uint8Array> = []
          const error = yield* failure(within("failure", Stream.runForEach(channel.read, (chunk) => Effect.sync(() => chunks.push(chunk)))))
          expect(error).toMatchObject({ _tag: "SocketError", reason: "ReceiveOverflow", code: 1009 })
          // What was queued before the bound is delivered, in order; never more than the bound.
          expect(chunks.length).toBeLessThanOrEqual(RECEIVE_BOUNDS.receiveHighWaterMessages)
          chunks.forEach((chunk, i) => expectSameBytes(chunk, floodMessage(i, FLOOD_SIZE), `message ${i}`))
          expectWireCode(yield* within("peer close", peer.closed), 1009)
          const tags = Array.from(yield* within("events", Fiber.join(events)), (event) => event._tag)
          expect(tags.filter((tag) => tag === "Error" || tag === "Close")).toEqual(["Error", "Close"])
          yield* expectSendClosed(channel)
        })
    )

    register(
      "close while receiving is paused",
      caps.receiveOverflow === "pause",
      "closing a paused subject does not wait behind the unread data: clean, with the peer's answer",
      () =>
        Effect.gen(function*() {
          const { peer, subject } = yield* connect({ ...RECEIVE_BOUNDS, closeTimeout: wait })
          const paused = yield* Deferred.make<void>()
          const events = yield* Effect.forkChild(Stream.runForEach(subject.events, (event) =>
            event._tag === "ReceivePaused" ? Deferred.succeed(paused, undefined) : Effect.void))
          yield* awaitSuspended(events)
          yield* peer.flood(128, FLOOD_SIZE)
          yield* within("ReceivePaused", Deferred.await(paused))
          const info = yield* within("close", subject.close())
          // Not the close timeout's 1006: the peer's answer was read behind the unread data.
          expect(info).toMatchObject({ code: 1000, wasClean: true, local: true })
        })
    )

    // Close -------------------------------------------------------------------------------------

    register("close by this side", true, "close(code, reason): data before it arrives, the peer sees the code, read ends, send fails", () =>
      Effect.gen(function*() {
        const { peer, subject } = yield* connect()
        const channel = ByteChannel.fromSocket(subject)
        const code = caps.messages ? 4001 : 1000
        const reason = caps.messages ? "done" : ""
        yield* channel.send(bytesOf(9))
        const info = yield* within("close", channel.close({ code, reason }))
        // The peer's answer: our peers all answer with the code and reason they received.
        expect(info).toEqual({ code, reason, wasClean: true, local: true })
        expect(yield* within("closed", channel.closed)).toEqual(info)
        expect(numbers(yield* peerReceive(peer, 1))).toEqual([[9]])
        expect(yield* within("peer close", peer.closed)).toEqual({ code, reason })
        expect(yield* within("peer EOF", peer.receive)).toEqual(Option.none())
        expect(Array.from(yield* within("EOF", Stream.runCollect(channel.read)))).toEqual([])
        yield* expectSendClosed(channel)
      }))

    register("close by the peer, 1000", true, "the peer closes with 1000: read ends after every message before it; the close is answered", () =>
      Effect.gen(function*() {
        const { peer, subject } = yield* connect()
        const channel = ByteChannel.fromSocket(subject)
        const reason = caps.messages ? "bye" : ""
        for (const message of [bytesOf(1), bytesOf(2), bytesOf(3)]) yield* peer.send(message)
        yield* peer.close(1000, reason)
        const all = yield* within("EOF", Stream.runCollect(channel.read))
        expectSameBytes(concat(Array.from(all)), bytesOf(1, 2, 3), "before the close")
        expect(yield* within("closed", channel.closed)).toEqual({ code: 1000, reason, wasClean: true, local: false })
        expect(yield* within("peer close", peer.closed)).toMatchObject({ code: 1000 })
        yield* expectSendClosed(channel)
      }))

    register("close by the peer, 4000", caps.messages, "the peer closes with 4000 \"bye\": read fails with the code and reason, after every message before it", () =>
      Effect.gen(function*() {
        const { peer, subject } = yield* connect()
        const channel = ByteChannel.fromSocket(subject)
        yield* peer.send(bytesOf(1))
        yield* peer.send(bytesOf(2))
        yield* peer.close(4000, "bye")
        const chunks: Array<Uint8Array> = []
        const error = yield* failure(within("failure", Stream.runForEach(channel.read, (chunk) => Effect.sync(() => chunks.push(chunk)))))
        expect(numbers(chunks)).toEqual([[1], [2]])
        expect(error).toMatchObject({ _tag: "SocketError", reason: "Closed", code: 4000, closeReason: "bye" })
        expect(yield* within("closed", channel.closed)).toEqual({ code: 4000, reason: "bye", wasClean: true, local: false })
        expect(yield* within("peer close", peer.closed)).toMatchObject({ code: 4000 })
        yield* expectSendClosed(channel)
      }))

    register("cleanCloseCodes", caps.messages, "a peer's code declared clean ends read (EOF)", () =>
      Effect.gen(function*() {
        const { peer, subject } = yield* connect()
        const channel = ByteChannel.fromSocket(subject, { cleanCloseCodes: [1000, 4001] })
        yield* peer.send(bytesOf(1))
        yield* peer.close(4001, "fine")
        expect(numbers(yield* within("EOF", Stream.runCollect(channel.read)))).toEqual([[1]])
        expect(yield* within("closed", channel.closed)).toMatchObject({ code: 4001, reason: "fine", local: false })
      }))

    register("connection lost (1006)", true, "a lost connection fails read with 1006, even when 1006 is declared clean; send fails at once", () =>
      Effect.gen(function*() {
        const { peer, subject } = yield* connect()
        const channel = ByteChannel.fromSocket(subject, { cleanCloseCodes: [1000, 1006] })
        yield* peer.send(bytesOf(1, 2))
        expectSameBytes(concat(yield* readChunks(channel, 2)), bytesOf(1, 2), "before the loss")
        const reading = yield* Effect.forkChild(failure(Stream.runDrain(channel.read)))
        yield* awaitSuspended(reading)
        yield* peer.drop
        expect(yield* within("failure", Fiber.join(reading))).toMatchObject({ _tag: "SocketError", reason: "Closed", code: 1006 })
        expect(yield* within("closed", channel.closed)).toEqual({ code: 1006, reason: "", wasClean: false, local: false })
        yield* expectSendClosed(channel)
      }))

    register("close timeout", transport.peerCanHang, "a peer that never answers the close: close completes after closeTimeout, 1006 local, read ends", () =>
      Effect.gen(function*() {
        const { peer, subject } = yield* connect()
        const channel = ByteChannel.fromSocket(subject, { closeTimeout: closeTimeout })
        if (peer.hang === undefined) return yield* Effect.die(new Error("this peer cannot hang: set peerCanHang to false"))
        yield* peer.hang
        const info = yield* afterTimeout(channel.close(caps.messages ? { code: 4000 } : {}), closeTimeout)
        expect(info).toEqual({ code: 1006, reason: "", wasClean: false, local: true })
        expect(Array.from(yield* within("EOF", Stream.runCollect(channel.read)))).toEqual([])
        yield* expectSendClosed(channel)
      }))

    register("release closes with 1000", true, "releasing the subject (its scope closes, or its handler returns) closes it with 1000", () =>
      Effect.gen(function*() {
        const { peer, release, subject } = yield* connect()
        yield* peer.send(bytesOf(1))
        const first = yield* within("message", subject.receive)
        expect(numbers(Option.toArray(first))).toEqual([[1]])
        yield* release
        expect(yield* within("peer close", peer.closed)).toMatchObject({ code: 1000 })
        expect(yield* within("closed", subject.closed)).toMatchObject({ code: 1000, wasClean: true, local: true })
      }))

    register("close arguments", true, "close refuses a code or reason it may not send, before anything is sent", () =>
      Effect.gen(function*() {
        const { peer, subject } = yield* connect()
        const channel = ByteChannel.fromSocket(subject)
        expect(yield* failure(channel.close({ code: 1001 }))).toMatchObject({ _tag: "CloseArgumentError", reason: "InvalidCode" })
        expect(yield* failure(channel.close({ reason: "é".repeat(62) }))).toMatchObject({ reason: "ReasonTooLong" })
        // Nothing was sent: both ways still work.
        yield* channel.send(bytesOf(1))
        expect(numbers(yield* peerReceive(peer, 1))).toEqual([[1]])
        yield* peer.send(bytesOf(2))
        expect(chunkNumbers(yield* within("chunk", channel.readChunk()))).toEqual([2])
      }))

    // Events ------------------------------------------------------------------------------------

    register("events", true, "the events stream ends with a Close event equal to closed; a late subscriber gets that Close", () =>
      Effect.gen(function*() {
        const { peer, subject } = yield* connect()
        const events = yield* Effect.forkChild(Stream.runCollect(subject.events))
        yield* awaitSuspended(events)
        yield* peer.close(caps.messages ? 4003 : 1000, caps.messages ? "x" : "")
        const all = Array.from(yield* within("end of events", Fiber.join(events)))
        const info = yield* subject.closed
        // Nothing but the close happened on this connection.
        expect(all).toEqual([{ _tag: "Close", info }])
        expect(info).toMatchObject({ code: caps.messages ? 4003 : 1000, local: false })
        expect(Array.from(yield* within("late events", Stream.runCollect(subject.events)))).toEqual([{ _tag: "Close", info }])
      }))

    // Deadlines ---------------------------------------------------------------------------------

    register("open timeout", transport.openSilent !== undefined, "a server that never completes the handshake: OpenTimeout at openTimeout", () =>
      Effect.gen(function*() {
        const error = yield* afterTimeout(failure(Effect.scoped(transport.openSilent!(closeTimeout))), closeTimeout)
        expect(error).toMatchObject({ _tag: "SocketError", reason: "OpenTimeout" })
      }))
  })

  return registered
}

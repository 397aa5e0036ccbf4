// The engine under every transport (internal/messageSocket.ts), seen through the MessageSocket a
// user gets: over a hand-made transport where the test must drive the transport's side exactly,
// and over the memory pair, whose pause is real (what the peer sends waits in flight).
import * as MemorySocket from "@bytechannel/core/MemorySocket"
import type * as MessageSocket from "@bytechannel/core/MessageSocket"
import { SocketError } from "@bytechannel/core/SocketError"
import * as Transport from "@bytechannel/core/Transport"
import { describe, expect, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as References from "effect/References"
import * as Exit from "effect/Exit"
import * as Metric from "effect/Metric"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/testing/TestClock"
import * as ByteChannel from "@bytechannel/core/ByteChannel"
import * as SocketMetrics from "@bytechannel/core/SocketMetrics"
import { awaitSuspended } from "./utils.js"

const bytes = (...values: Array<number>) => new Uint8Array(values)

/** A bound on a wait, on the real clock even under TestClock: a hang fails the case, saying what did not come. */
const within = <A, E, R>(what: string, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.raceFirst(
    effect,
    Effect.andThen(TestClock.withLive(Effect.sleep("3 seconds")), Effect.die(new Error(`no ${what} within 3 seconds`)))
  )

/** Sleeps pending on the TestClock (its own list): what timers a connection has left behind. */
const pendingSleeps = TestClock.testClockWith((clock) =>
  Effect.sync(() => {
    const sleeps = (clock as unknown as { readonly sleeps?: ReadonlyArray<unknown> }).sleeps
    if (sleeps === undefined) throw new Error("TestClock has no sleeps list any more: update pendingSleeps")
    return sleeps.length
  })
)

/** Forks `effect` and runs it until it first waits, so that a poll right after says whether it is waiting. */
const started = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.forkChild(effect, { startImmediately: true })

/** Every message until the end of input. */
const drain = (socket: MessageSocket.MessageSocket) =>
  Effect.gen(function*() {
    const messages: Array<MessageSocket.Message> = []
    for (let i = 0; i < 10_000; i++) {
      const next = yield* socket.receive
      if (Option.isNone(next)) return messages
      messages.push(next.value)
    }
    return yield* Effect.die(new Error("no end of input after 10,000 messages"))
  })

/**
 * An engine over a transport the test drives: `buffered` is its send buffer (`send` waits at 10 or
 * more), `written` what it sent and `closeFrames` the close frames; the peer never answers a close.
 */
const handMade = (options?: Transport.TransportOptions) =>
  Effect.gen(function*() {
    const wire = {
      buffered: 0,
      written: [] as Array<MessageSocket.Message>,
      closeFrames: [] as Array<{ readonly code: number; readonly reason: string }>,
      terminated: false
    }
    const controller = yield* Transport.make((controller) => ({
      write: (message) => {
        wire.written.push(message)
        wire.buffered++
      },
      bufferedAmount: () => wire.buffered,
      sendClose: (code, reason) => {
        wire.closeFrames.push({ code, reason })
      },
      terminate: () => {
        wire.terminated = true
        controller.onClose({ code: 1006, reason: "", wasClean: false })
      },
      pause: () => {},
      resume: () => {}
    }), { sendHighWaterMark: 10, closeTimeout: "5 seconds", ...options })
    return { controller, socket: controller.socket, wire }
  })

describe("MessageSocket engine", () => {
  describe("send backpressure", () => {
    it.effect("a transport failure (onError) fails the sends waiting on backpressure at once, before the close", () =>
      Effect.gen(function*() {
        const { controller, socket, wire } = yield* handMade()
        wire.buffered = 10
        const writers = [yield* started(socket.send(bytes(1))), yield* started(socket.sendAll([bytes(2), bytes(3)]))]
        for (const writer of writers) yield* awaitSuspended(writer)
        controller.onError(new SocketError({ reason: "Read", detail: "the peer broke the protocol" }))
        // Not closed yet (the transport has not reported the close), and yet no writer waits for it.
        expect(controller.state()).toBe("closing")
        for (const writer of writers) {
          const exit = writer.pollUnsafe()
          expect(exit, "a writer still waits after the transport failed").toBeDefined()
          // (Closed, "cannot send while this side is closing", or the transport's own error: either says it.)
          expect(yield* Effect.flip(Fiber.join(writer))).toMatchObject({ _tag: "SocketError" })
        }
        expect(wire.written).toEqual([])
        // Sending is over; receive reports the transport's error.
        expect(yield* Effect.flip(socket.send(bytes(4)))).toMatchObject({ reason: "Closed" })
        expect(yield* Effect.flip(socket.receive)).toMatchObject({ reason: "Read", detail: "the peer broke the protocol" })
      }))
  })

  describe("receive", () => {
    it.effect("after a local close, messages past the receive bounds are discarded, not queued", () =>
      Effect.gen(function*() {
        const { controller, socket } = yield* handMade({ receiveHighWaterMessages: 4 })
        yield* started(socket.close())
        expect(controller.state()).toBe("closing")
        // The peer goes on sending before it reads the close frame: what fits is a reply, the rest is dropped.
        for (let i = 0; i < 100; i++) controller.onMessage(bytes(i))
        expect(controller.receiveQueueSize()).toBe(4)
        expect(controller.receivePaused()).toBe(false)
        controller.onClose({ code: 1000, reason: "", wasClean: true })
        expect(yield* drain(socket)).toEqual([bytes(0), bytes(1), bytes(2), bytes(3)])
      }))

    it.effect("the byte bound too: after a local close a message that would pass receiveHighWaterBytes is discarded", () =>
      Effect.gen(function*() {
        const { controller, socket } = yield* handMade({ receiveHighWaterMessages: 100, receiveHighWaterBytes: 8 })
        yield* started(socket.close())
        for (let i = 0; i < 10; i++) controller.onMessage(new Uint8Array(4).fill(i))
        expect(controller.receiveQueueSize()).toBe(2)
        controller.onClose({ code: 1000, reason: "", wasClean: true })
        expect(yield* drain(socket)).toEqual([new Uint8Array(4).fill(0), new Uint8Array(4).fill(1)])
      }))

    it.effect("a reader woken and then interrupted before it takes its message passes the wake-up on to the next waiting reader", () =>
      Effect.gen(function*() {
        const [a, b] = yield* MemorySocket.pair()
        // With an operation budget of one, a woken reader yields to the scheduler before it takes
        // its message: the window in which an interruption (a timeout, a lost race) can land.
        const first = yield* Effect.forkChild(Effect.provideService(a.receive, References.MaxOpsBeforeYield, 1))
        yield* awaitSuspended(first)
        const second = yield* Effect.forkChild(a.receive)
        yield* awaitSuspended(second)
        yield* b.send("x") // wakes `first` only
        first.interruptUnsafe()
        expect(yield* within("message for the second reader", Fiber.join(second))).toEqual(Option.some("x"))
        expect((yield* Fiber.await(first))._tag).toBe("Failure")
      }))
  })

  describe("close", () => {
    it.effect("an Effect.timeout around close gives up waiting, not the close: a silent peer is still dropped at closeTimeout", () =>
      Effect.gen(function*() {
        const [a, b] = yield* MemorySocket.makePair({ closeTimeout: "3 seconds" })
        yield* b.ignoreCloseFrames
        const gaveUp = yield* started(Effect.flip(Effect.timeout(a.close({ code: 4000 }), "1 second")))
        yield* awaitSuspended(gaveUp)
        yield* TestClock.adjust("1 second")
        expect(yield* Fiber.join(gaveUp)).toMatchObject({ _tag: "TimeoutError" })
        const closed = yield* started(a.closed)
        yield* TestClock.adjust("1999 millis")
        expect(closed.pollUnsafe(), "dropped before the close deadline").toBeUndefined()
        // Still closing meanwhile: nothing can be sent.
        expect(yield* Effect.flip(a.send(bytes(1)))).toMatchObject({ reason: "Closed" })
        yield* TestClock.adjust("1 millis")
        expect(yield* within("drop at the close deadline", Fiber.join(closed))).toEqual({ code: 1006, reason: "", wasClean: false, local: true })
        expect(yield* b.closed).toMatchObject({ code: 1006, local: false })
      }))

    it.effect("a close deadline kept for a caller who gave up ends when the connection closes otherwise: no timer outlives it", () =>
      Effect.gen(function*() {
        const [a, b] = yield* MemorySocket.makePair({ closeTimeout: "30 seconds" })
        yield* b.ignoreCloseFrames
        const before = yield* pendingSleeps
        const gaveUp = yield* started(Effect.flip(Effect.timeout(a.close(), "1 second")))
        yield* awaitSuspended(gaveUp)
        yield* TestClock.adjust("1 second")
        yield* Fiber.join(gaveUp)
        expect(yield* pendingSleeps, "the close deadline runs on for the caller who gave up").toBe(before + 1)
        // The connection ends otherwise (lost) well before the deadline.
        yield* b.terminate
        expect(yield* a.closed).toMatchObject({ code: 1006 })
        expect(yield* pendingSleeps, "a timer of the closed connection is still pending").toBe(before)
      }))

    it.effect("a failure this side closes for is kept when the transport's close completes at once: read fails, never a clean EOF", () =>
      Effect.gen(function*() {
        // The loopback of Transport's docs: onClose from inside sendClose.
        const controller = yield* Transport.make((c) => ({
          write: () => {},
          bufferedAmount: () => 0,
          sendClose: (code, reason) => c.onClose({ code, reason, wasClean: true }),
          terminate: () => c.onClose({ code: 1006, reason: "", wasClean: false }),
          pause: () => {},
          resume: () => {}
        }), { receiveOverflow: "fail", receiveHighWaterMessages: 1 })
        controller.onMessage(bytes(1))
        expect(controller.state()).toBe("closed")
        const read = yield* Effect.exit(Stream.runCollect(ByteChannel.fromSocket(controller.socket).read))
        expect(Exit.isFailure(read), "the overflow read as a clean end of input").toBe(true)
        expect(Exit.isFailure(read) ? Exit.findErrorOption(read) : undefined).toMatchObject({ _tag: "Some", value: { reason: "ReceiveOverflow" } })
      }))

    it.effect("a transport whose build throws leaves the open-connections gauge where it was", () =>
      Effect.gen(function*() {
        const before = yield* Metric.value(SocketMetrics.openConnections)
        const exit = yield* Effect.exit(Transport.make(() => {
          throw new Error("boom")
        }))
        expect(Exit.isFailure(exit)).toBe(true)
        expect(yield* Metric.value(SocketMetrics.openConnections)).toEqual(before)
      }))
  })

  describe("sendStallTimeout", () => {
    it.effect("a peer that reads nothing: the waiting send fails with SendTimeout at the stall timeout (60 s by default), and the close code is 1008", () =>
      Effect.gen(function*() {
        const [a, b] = yield* MemorySocket.pair({ capacity: 2 })
        yield* a.sendAll([bytes(1), bytes(2)])
        const writer = yield* started(a.send(bytes(3)))
        yield* awaitSuspended(writer)
        yield* TestClock.adjust("59999 millis")
        expect(writer.pollUnsafe(), "gave up before the stall timeout").toBeUndefined()
        yield* TestClock.adjust("1 millis")
        expect(yield* within("failed send", Effect.flip(Fiber.join(writer)))).toMatchObject({
          _tag: "SocketError",
          reason: "SendTimeout"
        })
        expect(yield* Effect.flip(a.receive)).toMatchObject({ reason: "SendTimeout" })
        expect(yield* Effect.flip(a.send(bytes(4)))).toMatchObject({ reason: "Closed" })
        // The close frame waits behind what the peer did not read: once it reads, it sees 1008.
        expect(yield* drain(b)).toEqual([bytes(1), bytes(2)])
        expect(yield* b.closed).toEqual({ code: 1008, reason: "send stalled", wasClean: true, local: false })
        expect(yield* a.closed).toMatchObject({ code: 1008, wasClean: true, local: true })
      }))

    it.effect("a peer that never reads again is dropped (1006) at the close timeout after the stall", () =>
      Effect.gen(function*() {
        const [a, b] = yield* MemorySocket.pair({ capacity: 2, closeTimeout: "3 seconds" })
        yield* a.sendAll([bytes(1), bytes(2)])
        const writer = yield* started(a.send(bytes(3)))
        yield* awaitSuspended(writer)
        yield* TestClock.adjust("60 seconds")
        expect(yield* within("failed send", Effect.flip(Fiber.join(writer)))).toMatchObject({ reason: "SendTimeout" })
        const closed = yield* started(a.closed)
        yield* TestClock.adjust("2999 millis")
        expect(closed.pollUnsafe()).toBeUndefined()
        yield* TestClock.adjust("1 millis")
        expect(yield* within("drop", Fiber.join(closed))).toEqual({ code: 1006, reason: "", wasClean: false, local: true })
        expect(yield* b.closed).toMatchObject({ code: 1006, local: false })
      }))

    it.effect("a slow reader that drains within each window is never dropped, however long the send takes", () =>
      Effect.gen(function*() {
        const [a, b] = yield* MemorySocket.pair({ capacity: 2 })
        const messages = Array.from({ length: 12 }, (_, i) => bytes(i))
        const writer = yield* started(a.sendAll(messages))
        yield* awaitSuspended(writer)
        // One message every 40 seconds: 8 minutes in all, far past the 60-second stall timeout.
        const received: Array<MessageSocket.Message> = []
        while (received.length < messages.length) {
          yield* TestClock.adjust("40 seconds")
          received.push(Option.getOrThrow(yield* b.receive))
        }
        yield* within("writer", Fiber.join(writer))
        expect(received).toEqual(messages)
        const closed = yield* started(a.closed)
        expect(closed.pollUnsafe(), "the connection was closed").toBeUndefined()
        yield* a.send(bytes(99))
        expect(yield* b.receive).toEqual(Option.some(bytes(99)))
      }))

    it.effect("progress is any drain: a buffer that goes down and is refilled to the same level is a slow reader, not a stall", () =>
      Effect.gen(function*() {
        const { controller, socket, wire } = yield* handMade({ sendStallTimeout: "10 seconds" })
        wire.buffered = 10
        const writer = yield* started(socket.sendAll(Array.from({ length: 5 }, (_, i) => bytes(i))))
        yield* awaitSuspended(writer)
        for (let i = 0; i < 5; i++) {
          yield* TestClock.adjust("9 seconds")
          // The peer read one message; the writer refills the buffer at once.
          wire.buffered--
          controller.onDrain()
        }
        yield* within("writer", Fiber.join(writer))
        expect(wire.written).toHaveLength(5)
        expect(controller.state()).toBe("open")
        expect(wire.closeFrames).toEqual([])
      }))

    it.effect("the stall close goes on the wire as 1008 \"send stalled\"; Infinity turns the check off", () =>
      Effect.gen(function*() {
        const stalled = yield* handMade({ sendStallTimeout: "10 seconds" })
        stalled.wire.buffered = 10
        const failing = yield* started(stalled.socket.send(bytes(1)))
        yield* awaitSuspended(failing)
        yield* TestClock.adjust("10 seconds")
        expect(yield* within("failed send", Effect.flip(Fiber.join(failing)))).toMatchObject({ reason: "SendTimeout" })
        expect(stalled.wire.closeFrames).toEqual([{ code: 1008, reason: "send stalled" }])

        const patient = yield* handMade({ sendStallTimeout: Infinity })
        patient.wire.buffered = 10
        const waiting = yield* started(patient.socket.send(bytes(1)))
        yield* awaitSuspended(waiting)
        yield* TestClock.adjust(Duration.hours(24))
        expect(waiting.pollUnsafe(), "a send was given up with the check off").toBeUndefined()
        expect(patient.controller.state()).toBe("open")
        expect(patient.wire.closeFrames).toEqual([])
        patient.wire.buffered = 0
        patient.controller.onDrain()
        yield* within("writer", Fiber.join(waiting))
        expect(patient.wire.written).toEqual([bytes(1)])
      }))
  })

  describe("under the memory pair's real pause", () => {
    it.effect("a paused receiver holds the peer's sends in flight, its close frame too, and takes them in order as it reads", () =>
      Effect.gen(function*() {
        // Each message arrives as 1-byte messages: one send overfills the receiver, which pauses.
        const [a, b] = yield* MemorySocket.pair({ capacity: 2, rechunk: MemorySocket.randomRechunk({ maxChunkSize: 1 }) })
        yield* a.send(bytes(1, 2, 3, 4, 5, 6))
        const closing = yield* started(a.close({ code: 1000, reason: "done" }))
        const peerClosed = yield* started(b.closed)
        expect(peerClosed.pollUnsafe(), "the close frame overtook the data in flight").toBeUndefined()
        // Reading one resumes the transport only until the queue is full again: the close frame
        // still waits behind the rest.
        expect(yield* b.receive).toEqual(Option.some(bytes(1)))
        expect(peerClosed.pollUnsafe(), "the close frame overtook the data in flight").toBeUndefined()
        expect(closing.pollUnsafe()).toBeUndefined()
        expect(yield* drain(b)).toEqual([bytes(2), bytes(3), bytes(4), bytes(5), bytes(6)])
        expect(yield* Fiber.join(peerClosed)).toEqual({ code: 1000, reason: "done", wasClean: true, local: false })
        expect(yield* Fiber.join(closing)).toEqual({ code: 1000, reason: "done", wasClean: true, local: true })
      }))

    it.effect("the peer's close frame queued behind unread data is still read after a local close: clean, with the peer's code", () =>
      Effect.gen(function*() {
        const [a, b] = yield* MemorySocket.pair({ capacity: 2 })
        yield* a.sendAll([bytes(1), bytes(2)]) // b's queue is full: b is paused
        yield* started(a.close({ code: 4000, reason: "bye" })) // its close frame waits in flight
        const info = yield* within("close", b.close())
        // Not the close timeout's 1006: the close frame behind the unread data was read.
        expect(info).toEqual({ code: 4000, reason: "bye", wasClean: true, local: true })
        // What was unread before the close is still delivered, then the end.
        expect(yield* drain(b)).toEqual([bytes(1), bytes(2)])
        expect(yield* a.closed).toMatchObject({ wasClean: true, local: true })
      }))

    it.effect("backpressure end to end: the sender waits on the paused receiver and is woken as it reads; every byte in order", () =>
      Effect.gen(function*() {
        const capacity = 3
        const [a, b] = yield* MemorySocket.pair({ capacity, rechunk: MemorySocket.randomRechunk({ maxChunkSize: 3, seed: 5 }) })
        const events: Array<MessageSocket.SocketEvent> = []
        const watcher = yield* Effect.forkChild(Stream.runForEach(b.events, (event) => Effect.sync(() => events.push(event))))
        yield* awaitSuspended(watcher)
        const sent = Array.from({ length: 40 }, (_, i) => new Uint8Array(1 + (i % 7)).fill(i))
        let handedOver = 0
        const writer = yield* started(Effect.forEach(sent, (message) => Effect.tap(a.send(message), () => Effect.sync(() => handedOver++)), { discard: true }))
        yield* awaitSuspended(writer)
        // Nothing read yet: the sender waits once the receiver's queue and what is in flight fill the capacity.
        expect(handedOver).toBeLessThanOrEqual(capacity)
        expect(events.map((event) => event._tag)).toEqual(["ReceivePaused"])
        const received: Array<number> = []
        const total = sent.reduce((n, message) => n + message.length, 0)
        while (received.length < total) {
          const next = yield* within("message", b.receive)
          received.push(...(Option.getOrThrow(next) as Uint8Array))
        }
        yield* within("writer", Fiber.join(writer))
        expect(received).toEqual(sent.flatMap((message) => Array.from(message)))
        // Every pause is followed by a resume, and the queue was never past its bound.
        const tags = events.map((event) => event._tag)
        expect(tags.length).toBeGreaterThan(2)
        tags.forEach((tag, i) => expect(tag, `event ${i}`).toBe(i % 2 === 0 ? "ReceivePaused" : "ReceiveResumed"))
        for (const event of events) {
          if (event._tag === "ReceivePaused" || event._tag === "ReceiveResumed") expect(event.messages).toBeLessThanOrEqual(capacity)
        }
      }))
  })
})

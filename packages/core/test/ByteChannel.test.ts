import { describe, expect, it } from "@effect/vitest"
import * as ByteChannel from "@bytechannel/core/ByteChannel"
import * as MemorySocket from "@bytechannel/core/MemorySocket"
import * as MessageSocket from "@bytechannel/core/MessageSocket"
import * as Transport from "@bytechannel/core/Transport"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as References from "effect/References"
import * as Result from "effect/Result"
import * as Scope from "effect/Scope"
import * as Sink from "effect/Sink"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/testing/TestClock"
import { awaitSuspended, makePattern, prng } from "./utils.js"

const bytes = (...values: Array<number>) => new Uint8Array(values)
const channels = (options?: MemorySocket.PairOptions, channelOptions?: ByteChannel.ByteChannelOptions) =>
  Effect.map(MemorySocket.pair(options), ([a, b]) =>
    [ByteChannel.fromSocket(a, channelOptions), ByteChannel.fromSocket(b, channelOptions), a, b] as const)

/** Writes `count` messages of random sizes (every 97th empty) from the pattern; reads and verifies them on the other side. */
const integrity = (count: number, maxSize: number, pair: MemorySocket.PairOptions, seed: number) =>
  Effect.gen(function*() {
    const [writer, reader] = yield* channels(pair)
    const pattern = makePattern(maxSize)
    const random = prng(seed)
    let total = 0
    const sizes = Array.from({ length: count }, (_, i) => (i % 97 === 0 ? 0 : Math.floor(random() * (maxSize + 1))))
    for (const size of sizes) total += size

    const writes = Stream.fromIterable(sizes).pipe(
      Stream.mapAccum(() => 0, (offset, size) => [offset + size, [pattern.slice(offset, size)]] as const),
      Stream.run(writer.write),
      Effect.andThen(writer.close())
    )
    const writeFiber = yield* Effect.forkChild(writes)
    const received = yield* reader.read.pipe(
      Stream.runFold(() => ({ offset: 0, messages: 0, bad: -1 }), (state, chunk) => {
        if (state.bad === -1) {
          const at = pattern.mismatch(state.offset, chunk)
          if (at !== -1) state.bad = state.offset + at
        }
        state.offset += chunk.length
        state.messages++
        return state
      })
    )
    yield* Fiber.join(writeFiber)
    expect(received.bad).toBe(-1)
    expect(received.offset).toBe(total)
    return received
  })

// The integrity tests move ~350 MB through the engine: a few seconds alone, more on a busy machine.
describe("ByteChannel over MemorySocket", () => {
  describe("order and integrity", () => {
    it.effect("10,000 writes of 0..70,000 bytes arrive byte-identical", () =>
      Effect.gen(function*() {
        const received = yield* integrity(10_000, 70_000, {}, 1)
        // Without re-chunking, every write is one message, the empty ones included.
        expect(received.messages).toBe(10_000)
      }), 30_000)

    it.effect("the same 10,000 writes re-chunked at random points up to 16 KiB", () =>
      Effect.asVoid(integrity(10_000, 70_000, { rechunk: MemorySocket.randomRechunk({ maxChunkSize: 16_384, seed: 7 }) }, 2)), 30_000)

    it.effect("small writes re-chunked into 1..3 byte messages", () =>
      Effect.asVoid(integrity(2_000, 300, { rechunk: MemorySocket.randomRechunk({ maxChunkSize: 3, seed: 9 }) }, 3)))

    it.effect("the memory transport copies each message, as a real socket serializes it", () =>
      Effect.gen(function*() {
        const [a, b] = yield* channels()
        const buffer = bytes(1, 2, 3)
        yield* a.send(buffer)
        buffer.fill(9)
        const first = yield* b.readChunk()
        expect(first).toEqual(Option.some(bytes(1, 2, 3)))
      }))
  })

  describe("a socket wrapped by the user", () => {
    it.effect("a wrapper with its own receive is read through it, queued or waited for", () =>
      Effect.gen(function*() {
        const [a, b] = yield* MemorySocket.pair()
        // Reads the engine's socket, then changes what it read: the channel must see the change.
        const wrapped: MessageSocket.MessageSocket = {
          ...b,
          receive: Effect.map(b.receive, Option.map((message) => typeof message === "string" ? message : message.map((x) => x * 2)))
        }
        const channel = ByteChannel.fromSocket(wrapped)
        yield* a.send(bytes(1, 2))
        expect(Option.getOrThrow(yield* channel.readChunk())).toEqual(bytes(2, 4))
        const waiting = yield* Effect.forkChild(channel.readChunk())
        yield* awaitSuspended(waiting)
        yield* a.send(bytes(3))
        expect(Option.getOrThrow(yield* Fiber.join(waiting))).toEqual(bytes(6))
        yield* a.send(bytes(4))
        expect(yield* Stream.runCollect(Stream.take(channel.read, 1))).toEqual([bytes(8)])
      }))
  })

  describe("partial reads", () => {
    it.effect("taking 3 bytes at a time from 5-byte messages gives 3,2,3,2", () =>
      Effect.gen(function*() {
        const [a, b] = yield* channels()
        yield* a.send(bytes(1, 2, 3, 4, 5))
        yield* a.send(bytes(6, 7, 8, 9, 10))
        const reads = []
        for (let i = 0; i < 4; i++) reads.push(Option.getOrThrow(yield* b.readChunk(3)))
        expect(reads).toEqual([bytes(1, 2, 3), bytes(4, 5), bytes(6, 7, 8), bytes(9, 10)])
      }))

    it.effect("readChunk(n) never returns more than n bytes, whatever the message sizes, and loses none", () =>
      Effect.gen(function*() {
        const [a, b] = yield* channels({ capacity: 1024 })
        const random = prng(11)
        const pattern = makePattern(64)
        const sizes = Array.from({ length: 400 }, () => Math.floor(random() * 65))
        const total = sizes.reduce((n, size) => n + size, 0)
        let offset = 0
        for (const size of sizes) {
          yield* a.send(pattern.slice(offset, size))
          offset += size
        }
        let read = 0
        let reads = 0
        while (read < total) {
          const limit = 1 + Math.floor(random() * 24)
          const chunk = Option.getOrThrow(yield* b.readChunk(limit))
          expect(chunk.length).toBeLessThanOrEqual(limit)
          expect(pattern.mismatch(read, chunk)).toBe(-1)
          read += chunk.length
          reads++
        }
        expect(read).toBe(total)
        expect(reads).toBeGreaterThan(sizes.length) // messages were cut, not only taken whole
      }))

    it.effect("a Sink that fails midway leaves the rest readable", () =>
      Effect.gen(function*() {
        const [a, b] = yield* channels()
        for (let i = 1; i <= 6; i++) yield* a.send(bytes(i))
        let seen = 0
        const failing = Sink.forEach((_: Uint8Array) => (++seen === 3 ? Effect.fail("enough" as const) : Effect.void))
        const result = yield* Effect.result(Stream.run(b.read, failing))
        expect(result).toEqual(Result.fail("enough"))
        const rest = yield* b.read.pipe(Stream.take(3), Stream.runCollect)
        expect(rest).toEqual([bytes(4), bytes(5), bytes(6)])
      }))

    it.effect("Stream.take on read stops without losing the next message", () =>
      Effect.gen(function*() {
        const [a, b] = yield* channels()
        for (let i = 1; i <= 4; i++) yield* a.send(bytes(i))
        const first = yield* b.read.pipe(Stream.take(2), Stream.runCollect)
        const second = yield* b.read.pipe(Stream.take(2), Stream.runCollect)
        expect([...first, ...second]).toEqual([bytes(1), bytes(2), bytes(3), bytes(4)])
      }))

    it.effect("a leftover of exactly n bytes is one readChunk(n); the empty message after it is one empty chunk, never EOF", () =>
      Effect.gen(function*() {
        const [a, b] = yield* channels()
        const messages = [bytes(1, 2, 3, 4, 5), bytes(), bytes(6), bytes(7, 8, 9, 10), bytes(), bytes(11), bytes(12, 13), bytes(), bytes(14)]
        for (const message of messages) yield* a.send(message)
        const reads: Array<Option.Option<Uint8Array>> = []
        // 3 of 5 bytes leave exactly 2: read whole by readChunk(2), then the empty message, then the next.
        for (const limit of [3, 2, 2, 2]) reads.push(yield* b.readChunk(limit))
        // The same with an unbounded read after the leftover.
        for (const limit of [2, 2, undefined]) reads.push(yield* b.readChunk(limit))
        expect(reads).toEqual([bytes(1, 2, 3), bytes(4, 5), bytes(), bytes(6), bytes(7, 8), bytes(9, 10), bytes()].map(Option.some))
        expect(yield* b.read.pipe(Stream.take(1), Stream.runCollect)).toEqual([bytes(11)])
        // A whole message of exactly n leaves nothing behind either.
        for (const expected of [bytes(12, 13), bytes(), bytes(14)]) expect(yield* b.readChunk(2)).toEqual(Option.some(expected))
        yield* a.close()
        expect(yield* b.readChunk(2)).toEqual(Option.none())
      }))
  })

  describe("backpressure", () => {
    it.effect("send suspends after `capacity` unread messages and resumes when reading starts", () =>
      Effect.gen(function*() {
        const capacity = 4
        const [a, b] = yield* channels({ capacity })
        let sent = 0
        const reachedCapacity = yield* Deferred.make<void>()
        const sender = yield* Effect.forkChild(Effect.gen(function*() {
          for (let i = 0; i < capacity + 3; i++) {
            yield* a.send(bytes(i))
            sent++
            if (sent === capacity) yield* Deferred.succeed(reachedCapacity, undefined)
          }
        }))
        yield* Deferred.await(reachedCapacity)
        yield* awaitSuspended(sender)
        expect(sent).toBe(capacity)
        expect(sender.pollUnsafe()).toBeUndefined()

        const received = yield* b.read.pipe(Stream.take(capacity + 3), Stream.runCollect)
        yield* Fiber.join(sender)
        expect(sent).toBe(capacity + 3)
        expect(received.map((chunk) => chunk[0])).toEqual([0, 1, 2, 3, 4, 5, 6])
      }))

    it.effect("the receiver reports pause and resume as events", () =>
      Effect.gen(function*() {
        const [a, , , rawB] = yield* channels({ capacity: 2 })
        const events = yield* Effect.forkChild(rawB.events.pipe(Stream.take(2), Stream.runCollect))
        yield* awaitSuspended(events)
        yield* a.send(bytes(1))
        yield* a.send(bytes(2))
        yield* rawB.receive
        const tags = (yield* Fiber.join(events)).map((event) => event._tag)
        expect(tags).toEqual(["ReceivePaused", "ReceiveResumed"])
      }))

    it.effect("a send waiting on backpressure fails at once when the connection closes", () =>
      Effect.gen(function*() {
        const [a, b] = yield* channels({ capacity: 1 })
        yield* a.send(bytes(1))
        const blocked = yield* Effect.forkChild(a.send(bytes(2)))
        yield* awaitSuspended(blocked)
        yield* b.close({ code: 4001 })
        const exit = yield* Fiber.await(blocked)
        expect(exit._tag).toBe("Failure")
        const error = yield* Effect.flip(Fiber.join(blocked))
        expect(error.reason).toBe("Closed")
        expect(error.code).toBe(4001)
      }))
  })

  describe("close", () => {
    it.effect("a lost connection fails read with SocketError code 1006 on both sides, even if 1006 is declared clean", () =>
      Effect.gen(function*() {
        const [rawA, rawB] = yield* MemorySocket.pair()
        const a = ByteChannel.fromSocket(rawA, { cleanCloseCodes: [1000, 1006] })
        const b = ByteChannel.fromSocket(rawB)
        const reading = yield* Effect.forkChild(Effect.flip(Stream.runDrain(b.read)))
        yield* awaitSuspended(reading)
        yield* rawA.drop
        expect(yield* Fiber.join(reading)).toMatchObject({ _tag: "SocketError", reason: "Closed", code: 1006 })
        expect(yield* Effect.flip(Stream.runDrain(a.read))).toMatchObject({ reason: "Closed", code: 1006 })
        expect(yield* a.closed).toEqual({ code: 1006, reason: "", wasClean: false, local: false })
      }))

    it.effect("send after close fails at once, on both sides", () =>
      Effect.gen(function*() {
        const [a, b] = yield* channels()
        yield* a.close({ code: 4002, reason: "done" })
        expect(yield* Effect.flip(a.send(bytes(1)))).toMatchObject({ reason: "Closed", code: 4002, closeReason: "done" })
        expect(yield* Effect.flip(b.send(bytes(1)))).toMatchObject({ reason: "Closed", code: 4002 })
      }))

    it.effect("closing the scope closes the socket with 1000", () =>
      Effect.gen(function*() {
        const [a, b] = yield* Effect.scoped(MemorySocket.pair())
        expect(yield* a.closed).toMatchObject({ code: 1000, wasClean: true })
        expect(yield* b.closed).toMatchObject({ code: 1000, wasClean: true })
        expect(yield* Effect.flip(a.send(bytes(1)))).toMatchObject({ reason: "Closed" })
      }))

    it.effect("interrupting a waiting read leaves the channel open and loses nothing (cancel-safe)", () =>
      Effect.gen(function*() {
        const [a, b] = yield* channels()
        const reader = yield* Effect.forkChild(Stream.runDrain(a.read))
        yield* awaitSuspended(reader)
        yield* Fiber.interrupt(reader)
        const chunk = yield* Effect.forkChild(a.readChunk())
        yield* awaitSuspended(chunk)
        yield* Fiber.interrupt(chunk)
        // The next message goes to the next reader, and the channel still sends both ways.
        yield* b.send(bytes(1))
        expect(yield* a.readChunk()).toEqual(Option.some(bytes(1)))
        yield* a.send(bytes(2))
        expect(yield* b.readChunk()).toEqual(Option.some(bytes(2)))
        expect((yield* Effect.forkChild(a.closed, { startImmediately: true })).pollUnsafe()).toBeUndefined()
      }))

    it.effect("a reader woken for a message and interrupted before taking it leaves it for the next", () =>
      Effect.gen(function*() {
        const [a, b] = yield* channels()
        // With an operation budget of one, a woken reader yields to the scheduler before it takes
        // its message: the window in which an interruption (a timeout, a lost race) can land.
        const first = yield* Effect.forkChild(Effect.provideService(a.readChunk(), References.MaxOpsBeforeYield, 1))
        yield* awaitSuspended(first)
        // The message lands (waking `first`) and `first` is interrupted before it runs again.
        yield* b.send(bytes(7))
        first.interruptUnsafe()
        expect((yield* Fiber.await(first))._tag).toBe("Failure")
        expect(yield* a.readChunk()).toEqual(Option.some(bytes(7)))
      }))

    it.effect("cancelling the WHATWG reader closes the channel with 1000", () =>
      Effect.gen(function*() {
        const [a, b] = yield* channels()
        const reader = ByteChannel.toReadableStream(a).getReader()
        yield* Effect.promise(() => reader.cancel())
        expect(yield* a.closed).toMatchObject({ code: 1000, local: true })
        expect(yield* Stream.runCollect(b.read)).toEqual([])
      }))

    it.effect("after our close, a reply that fits the receive bounds is still delivered", () =>
      Effect.gen(function*() {
        const [rawA, rawB] = yield* MemorySocket.makePair({ capacity: 4 })
        const a = ByteChannel.fromSocket(rawA, { closeTimeout: "1 second" })
        const b = ByteChannel.fromSocket(rawB)
        // B goes on sending after A's close frame (as a peer may until it answers).
        yield* rawB.ignoreCloseFrames
        const closing = yield* Effect.forkChild(a.close())
        yield* awaitSuspended(closing)
        for (let i = 0; i < 3; i++) yield* b.send(bytes(i))
        yield* TestClock.adjust("1 second")
        yield* Fiber.join(closing)
        // (Past the bounds a reply is discarded rather than queued: the Node hostile tests show it.)
        const got = yield* Stream.runCollect(a.read)
        expect(got.map((chunk) => chunk[0])).toEqual([0, 1, 2])
      }))

    it.effect("a peer that never answers the close frame: close completes after closeTimeout and drops the transport", () =>
      Effect.gen(function*() {
        const [rawA, rawB] = yield* MemorySocket.makePair()
        const a = ByteChannel.fromSocket(rawA, { closeTimeout: "3 seconds" })
        yield* rawB.ignoreCloseFrames
        const closing = yield* Effect.forkChild(a.close({ code: 4000 }))
        yield* awaitSuspended(closing)
        yield* TestClock.adjust("2999 millis")
        expect(closing.pollUnsafe()).toBeUndefined()
        // Already closing: sends fail at once even before the handshake ends.
        expect(yield* Effect.flip(a.send(bytes(1)))).toMatchObject({ reason: "Closed" })
        yield* TestClock.adjust("1 millis")
        expect(yield* Fiber.join(closing)).toEqual({ code: 1006, reason: "", wasClean: false, local: true })
        expect(yield* rawB.closed).toMatchObject({ code: 1006, wasClean: false, local: false })
      }))

    it.effect("closing the scope while the peer never answers ends after the close timeout (finalizers are uninterruptible)", () =>
      Effect.gen(function*() {
        const closed = yield* Deferred.make<MessageSocket.CloseInfo>()
        const scoped = yield* Effect.forkChild(Effect.scoped(Effect.gen(function*() {
          const [a, b] = yield* MemorySocket.makePair({ closeTimeout: "2 seconds" })
          yield* MessageSocket.closeOnScopeClose(a)
          yield* b.ignoreCloseFrames
          yield* Effect.forkDetach(Effect.flatMap(a.closed, (info) => Deferred.succeed(closed, info)))
        })))
        yield* awaitSuspended(scoped)
        yield* TestClock.adjust("2 seconds")
        yield* Fiber.join(scoped)
        expect(yield* Deferred.await(closed)).toMatchObject({ code: 1006, local: true })
      }))

    it.effect("a scope close that is interrupted still drops a silent peer at the close deadline", () =>
      Effect.gen(function*() {
        const [a, b] = yield* MemorySocket.makePair({ closeTimeout: "2 seconds" })
        yield* b.ignoreCloseFrames
        const scope = yield* Scope.make()
        yield* MessageSocket.closeOnScopeClose(a).pipe(Scope.provide(scope))
        // Closed from ordinary code (a hand-managed scope, a runtime's dispose), then given up on.
        const closer = yield* Effect.forkChild(Scope.close(scope, Exit.void))
        yield* awaitSuspended(closer)
        closer.interruptUnsafe()
        const peerClosed = yield* Effect.forkChild(b.closed)
        yield* TestClock.adjust("2 seconds")
        expect(yield* Fiber.join(peerClosed)).toMatchObject({ code: 1006, local: false })
        expect(yield* a.closed).toMatchObject({ code: 1006, local: true })
      }))

    it.effect("a close whose transport throws on terminate still ends at the deadline", () =>
      Effect.gen(function*() {
        // A transport's bug (or a platform call that throws on a socket in a bad state), with a
        // peer that never answers the close frame.
        const controller = yield* Transport.make(() => ({
          write: () => {},
          bufferedAmount: () => 0,
          sendClose: () => {},
          terminate: () => {
            throw new Error("terminate failed")
          },
          pause: () => {},
          resume: () => {}
        }))
        const closing = yield* Effect.forkChild(controller.socket.close({ timeout: "1 second" }))
        yield* awaitSuspended(closing)
        yield* TestClock.adjust("1 second")
        expect(yield* Fiber.join(closing)).toMatchObject({ code: 1006, local: true })
      }))

    it.effect("close arguments are checked before anything is sent", () =>
      Effect.gen(function*() {
        const [a, b] = yield* channels()
        for (const code of [999, 1001, 1006, 2999, 5000, 4000.5]) {
          expect(yield* Effect.flip(a.close({ code }))).toMatchObject({ _tag: "CloseArgumentError", reason: "InvalidCode", code })
        }
        const long = "é".repeat(62) // 124 UTF-8 bytes
        expect(yield* Effect.flip(a.close({ reason: long }))).toMatchObject({ reason: "ReasonTooLong" })
        // Nothing was sent: both sides still talk.
        yield* a.send(bytes(1))
        yield* b.send(bytes(2))
        expect(yield* b.readChunk()).toEqual(Option.some(bytes(1)))
        expect(yield* a.readChunk()).toEqual(Option.some(bytes(2)))
        // 123 bytes is allowed, and 3000 and 4999 are the limits.
        expect(yield* a.close({ code: 3000, reason: "é".repeat(61) + "a" })).toMatchObject({ code: 3000 })
        expect(MessageSocket.validateClose({ code: 4999 }).pipe(Effect.runSync)).toEqual({ code: 4999, reason: "" })
      }))

    it.effect("closeWithProtocolCode refuses the reserved codes (1004, 1005, 1006, 1015) and undefined ones before anything is sent", () =>
      Effect.gen(function*() {
        const [a, b] = yield* MemorySocket.pair()
        for (const code of [999, 1004, 1005, 1006, 1015, 1016, 2999, 5000]) {
          expect(yield* Effect.flip(a.closeWithProtocolCode({ code }))).toMatchObject({ _tag: "CloseArgumentError", reason: "InvalidCode", code })
        }
        // Every code an endpoint may send is accepted.
        for (const code of [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999]) {
          expect(MessageSocket.validateClose({ code }, true).pipe(Effect.runSync)).toEqual({ code, reason: "" })
        }
        // Nothing was sent: the socket is open; a valid protocol code then closes it.
        yield* a.send(bytes(1))
        expect(yield* b.receive).toEqual(Option.some(bytes(1)))
        expect(yield* a.closeWithProtocolCode({ code: 1011, reason: "oops" })).toMatchObject({ code: 1011, reason: "oops" })
        expect(yield* b.closed).toMatchObject({ code: 1011, reason: "oops", local: false })
      }))

  })

  // The text policy's "bytes" and "ignore", zero-length messages, maxMessageSize splitting and the
  // close table run on every transport in the contract suite (test/contract/suite.ts).
  describe("text policy", () => {
    const text = "héllo € 𝄞"

    it.effect("\"error\" fails read with ProtocolError and closes with 1003", () =>
      Effect.gen(function*() {
        const [rawA, rawB] = yield* MemorySocket.pair()
        yield* rawA.send(bytes(1))
        yield* rawA.send(text)
        const b = ByteChannel.fromSocket(rawB, { text: "error" })
        expect(yield* b.readChunk()).toEqual(Option.some(bytes(1)))
        expect(yield* Effect.flip(b.readChunk())).toMatchObject({ _tag: "ProtocolError", reason: "UnexpectedText" })
        expect(yield* rawA.closed).toMatchObject({ code: 1003, local: false })
      }))
  })

  describe("bridges", () => {
    it.effect("toReadableStream and toWritableStream carry bytes with backpressure", () =>
      Effect.gen(function*() {
        const [a, b] = yield* channels({ capacity: 2 })
        const writable = ByteChannel.toWritableStream(a)
        const readable = ByteChannel.toReadableStream(b)
        const written = Effect.promise(async () => {
          const writer = writable.getWriter()
          for (let i = 0; i < 20; i++) await writer.write(bytes(i, i))
          await writer.close()
        })
        const read = Effect.promise(async () => {
          const out: Array<number> = []
          for await (const chunk of readable as unknown as AsyncIterable<Uint8Array>) out.push(...chunk)
          return out
        })
        const [, out] = yield* Effect.all([written, read], { concurrency: 2 })
        expect(out).toEqual(Array.from({ length: 20 }, (_, i) => [i, i]).flat())
      }))

    it.effect("toAsyncIterable yields the bytes; leaving the loop closes with 1000", () =>
      Effect.gen(function*() {
        const [a, b] = yield* channels()
        yield* a.send(bytes(1))
        yield* a.send(bytes(2))
        const first = yield* Effect.promise(async () => {
          for await (const chunk of ByteChannel.toAsyncIterable(b)) return chunk
          return undefined
        })
        expect(first).toEqual(bytes(1))
        expect(yield* a.closed).toMatchObject({ code: 1000 })
      }))

    it.effect("cancelling a ReadableStream closes the channel with 1000", () =>
      Effect.gen(function*() {
        const [a, b] = yield* channels()
        yield* a.send(bytes(1))
        const reader = ByteChannel.toReadableStream(b).getReader()
        const first = yield* Effect.promise(() => reader.read())
        expect(first).toEqual({ done: false, value: bytes(1) })
        yield* Effect.promise(() => reader.cancel())
        expect(yield* a.closed).toMatchObject({ code: 1000, local: false })
      }))

    it.effect("a WritableStream write after close rejects with the SocketError", () =>
      Effect.gen(function*() {
        const [a, b] = yield* channels()
        yield* b.close({ code: 4005 })
        const error = yield* Effect.promise(() => ByteChannel.toWritableStream(a).getWriter().write(bytes(1)).then(() => undefined, (e) => e))
        expect(error).toMatchObject({ _tag: "SocketError", reason: "Closed", code: 4005 })
      }))
  })
})

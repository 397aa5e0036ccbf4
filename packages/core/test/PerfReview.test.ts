// Adversarial review of the cost-per-connection rewrite (issue #23): the engine's lazily made
// members, deadlines as plain timers, close finalizers made at close time. Seen from outside,
// over a controllable transport (backpressure, a peer that never answers a close).
import * as ByteChannel from "@bytechannel/core/ByteChannel"
import type * as MessageSocket from "@bytechannel/core/MessageSocket"
import * as Transport from "@bytechannel/core/Transport"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Cause from "effect/Cause"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/testing/TestClock"
import { awaitSuspended } from "./utils.js"

/** The fiber's result once it is done, within a bounded number of turns (no clock: a real timer never gets there). */
const doneSoon = <A, E>(fiber: Fiber.Fiber<A, E>) =>
  Effect.gen(function*() {
    for (let i = 0; i < 1_000 && fiber.pollUnsafe() === undefined; i++) yield* Effect.yieldNow
    const exit = fiber.pollUnsafe()
    if (exit === undefined) return yield* Effect.die(new Error("not done: it waits on something other than the TestClock"))
    return yield* exit
  })

/** A transport whose buffer the test fills and drains, and whose peer never answers a close unless told. */
const wired = (options?: Transport.TransportOptions) =>
  Effect.gen(function*() {
    const written: Array<MessageSocket.Message> = []
    const state = { buffered: 0, terminated: 0, closesSent: 0, answerClose: false }
    const controller = yield* Transport.make((controller) => ({
      write: (message) => {
        written.push(message)
      },
      bufferedAmount: () => state.buffered,
      sendClose: (code, reason) => {
        state.closesSent++
        if (state.answerClose) controller.onClose({ code, reason, wasClean: true })
      },
      terminate: () => {
        state.terminated++
        controller.onClose({ code: 1006, reason: "", wasClean: false })
      },
      pause: () => {},
      resume: () => {}
    }), options)
    return { controller, socket: controller.socket, written, state }
  })

describe("perf review: the engine", () => {
  it.effect("a send interrupted while waiting on backpressure leaves no waiter: a later drain wakes only the one still waiting", () =>
    Effect.gen(function*() {
      const { controller, socket, state, written } = yield* wired({ sendHighWaterMark: 10, sendStallTimeout: "1 hour" })
      state.buffered = 100
      const first = yield* Effect.forkChild(socket.send("first"))
      const second = yield* Effect.forkChild(socket.send("second"))
      yield* awaitSuspended(first)
      yield* awaitSuspended(second)
      yield* Fiber.interrupt(first)
      state.buffered = 0
      controller.onDrain()
      yield* Fiber.join(second)
      expect(written).toEqual(["second"])
      // Backpressure again: a new sender waits (no stale waiter got the wake meant for it).
      state.buffered = 100
      const third = yield* Effect.forkChild(socket.send("third"))
      yield* awaitSuspended(third)
      expect(written).toEqual(["second"])
      state.buffered = 0
      controller.onDrain()
      yield* Fiber.join(third)
      expect(written).toEqual(["second", "third"])
    }))

  it.effect("a close while sends wait on backpressure fails them with Closed; none is written", () =>
    Effect.gen(function*() {
      const { socket, state, written } = yield* wired({ sendHighWaterMark: 10, sendStallTimeout: "1 hour" })
      state.buffered = 100
      state.answerClose = true
      const senders = yield* Effect.forEach(["a", "b", "c"], (m) => Effect.forkChild(Effect.exit(socket.send(m))))
      for (const s of senders) yield* awaitSuspended(s)
      yield* socket.close()
      for (const s of senders) expect(Exit.isFailure(yield* Fiber.join(s))).toBe(true)
      expect(written).toEqual([])
    }))

  it.effect("the caller gives up on close (Effect.timeout): the connection still ends at the close deadline (TestClock)", () =>
    Effect.gen(function*() {
      const { socket, state } = yield* wired({ closeTimeout: "5 seconds" })
      const gaveUp = yield* Effect.forkChild(Effect.timeout(socket.close(), "1 second"))
      yield* TestClock.adjust("1 second")
      expect(Exit.isFailure(yield* Fiber.await(gaveUp))).toBe(true)
      expect(state.closesSent).toBe(1)
      expect(state.terminated).toBe(0)
      yield* TestClock.adjust("5 seconds")
      expect(state.terminated).toBe(1)
      expect(yield* socket.closed).toMatchObject({ code: 1006, local: true })
    }))

  it.effect("close called twice concurrently sends one close frame; both complete with the same info", () =>
    Effect.gen(function*() {
      const { socket, state } = yield* wired({ closeTimeout: "5 seconds" })
      const a = yield* Effect.forkChild(socket.close({ code: 4001, reason: "a" }))
      const b = yield* Effect.forkChild(socket.close({ code: 4002, reason: "b" }))
      yield* awaitSuspended(a)
      yield* awaitSuspended(b)
      expect(state.closesSent).toBe(1)
      yield* TestClock.adjust("5 seconds")
      const [ia, ib] = [yield* Fiber.join(a), yield* Fiber.join(b)]
      expect(ia).toEqual(ib)
      expect(state.terminated).toBe(1)
    }))

  it.effect("close from inside an events subscriber completes (no deadlock)", () =>
    Effect.gen(function*() {
      const { controller, socket, state } = yield* wired({ closeTimeout: "5 seconds" })
      state.answerClose = true
      const subscriber = yield* Effect.forkChild(
        socket.events.pipe(
          Stream.tap((event) => event._tag === "Ping" ? Effect.asVoid(socket.close({ code: 4000 })) : Effect.void),
          Stream.runCollect
        )
      )
      yield* awaitSuspended(subscriber)
      controller.emit({ _tag: "Ping", data: new Uint8Array(0) })
      const events = yield* Fiber.join(subscriber)
      expect(events.map((e) => e._tag)).toEqual(["Ping", "Close"])
      expect(yield* socket.closed).toMatchObject({ code: 4000, local: true })
    }))

  it.effect("events subscribed after close end at once", () =>
    Effect.gen(function*() {
      const { socket, state } = yield* wired()
      state.answerClose = true
      yield* socket.close()
      const events = yield* Effect.timeoutOrElse(Stream.runCollect(socket.events), {
        duration: "1 second",
        orElse: () => Effect.die(new Error("events never ended after close"))
      }).pipe(Effect.forkChild)
      yield* TestClock.adjust("1 second")
      expect(Array.from(yield* Fiber.join(events)).every((e) => e._tag === "Close")).toBe(true)
    }))

  it.effect("a ByteChannel read interrupted while waiting loses no bytes; detached members keep working", () =>
    Effect.gen(function*() {
      const { controller, socket } = yield* wired()
      const channel = ByteChannel.fromSocket(socket)
      const { readChunk } = channel
      const waiting = yield* Effect.forkChild(readChunk(4))
      yield* awaitSuspended(waiting)
      yield* Fiber.interrupt(waiting)
      controller.onMessage(new Uint8Array([1, 2, 3, 4, 5, 6]))
      expect(yield* readChunk(4)).toEqual(Option.some(new Uint8Array([1, 2, 3, 4])))
      const again = yield* Effect.forkChild(readChunk(4))
      yield* awaitSuspended(again).pipe(Effect.catchDefect(() => Effect.void))
      expect(yield* Fiber.join(again)).toEqual(Option.some(new Uint8Array([5, 6])))
    }))

  it.effect("concurrent readers of a ByteChannel, one message each, together get every byte once", () =>
    Effect.gen(function*() {
      const { controller, socket } = yield* wired()
      const channel = ByteChannel.fromSocket(socket)
      const readers = yield* Effect.forEach([0, 1, 2], () => Effect.forkChild(channel.readChunk()))
      for (const r of readers) yield* awaitSuspended(r)
      // One waiting reader interrupted: the message it would have had goes to another.
      yield* Fiber.interrupt(readers[0]!)
      controller.onMessage(new Uint8Array([1, 2]))
      controller.onMessage(new Uint8Array([3, 4]))
      controller.onMessage(new Uint8Array([5, 6]))
      const got = yield* Effect.forEach(readers.slice(1), Fiber.join)
      const rest = yield* channel.readChunk()
      const bytes = [...got, rest].flatMap((o) => Option.isSome(o) ? Array.from(o.value) : [])
      expect(bytes.sort()).toEqual([1, 2, 3, 4, 5, 6])
    }))
  it.effect("ByteChannel.handle: a handler that dies closes with 1011 and the defect still ends handle's fiber (not swallowed)", () =>
    Effect.gen(function*() {
      const { socket, state } = yield* wired()
      state.answerClose = true
      const exit = yield* Effect.exit(ByteChannel.handle(socket, () => Effect.die(new Error("boom"))))
      expect(yield* socket.closed).toMatchObject({ code: 1011 })
      expect(Exit.isFailure(exit) && Cause.hasDies(exit.cause), `handle's exit: ${String(exit)}`).toBe(true)
    }))
  it.effect("ByteChannel.handle's effect calls the handler each time it runs", () =>
    Effect.gen(function*() {
      const { socket, state } = yield* wired()
      state.answerClose = true
      let calls = 0
      const served = ByteChannel.handle(socket, () => Effect.sync(() => calls++))
      yield* served
      yield* served
      expect(calls).toBe(2)
    }))
  it.effect("ByteChannel.handle interrupted from outside closes with 1001 and its fiber ends interrupted", () =>
    Effect.gen(function*() {
      const { socket, state } = yield* wired()
      state.answerClose = true
      const fiber = yield* Effect.forkChild(ByteChannel.handle(socket, () => Effect.never))
      yield* awaitSuspended(fiber)
      yield* Fiber.interrupt(fiber)
      const exit = yield* Fiber.await(fiber)
      expect(yield* socket.closed).toMatchObject({ code: 1001 })
      expect(Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause), `handle's exit: ${String(exit)}`).toBe(true)
    }))
  it.live("a close whose caller gave up keeps its deadline timer only until the peer answers: no timer left behind", () =>
    Effect.gen(function*() {
      const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === "Timeout").length
      const { controller, socket, state } = yield* wired({ closeTimeout: "1 hour" })
      const before = timers()
      const gaveUp = yield* Effect.exit(Effect.timeout(socket.close({ code: 4000 }), "10 millis"))
      expect(Exit.isFailure(gaveUp)).toBe(true)
      expect(timers(), "the close deadline kept after its caller gave up").toBeGreaterThan(before)
      controller.onClose({ code: 4000, reason: "", wasClean: true })
      // Whatever else settles on the next turns (Effect.timeout's own timer): a bounded wait, no clock.
      for (let i = 0; i < 100 && timers() > before; i++) yield* Effect.promise(() => new Promise((r) => setImmediate(r)))
      expect(timers(), "the close deadline of a closed socket").toBe(before)
      expect(state.terminated).toBe(0)
    }))

  it.live("a close whose caller gave up still drops a silent peer at the deadline (default clock)", () =>
    Effect.gen(function*() {
      const { socket, state } = yield* wired({ closeTimeout: "50 millis" })
      yield* Effect.exit(Effect.timeout(socket.close(), "1 milli"))
      const info = yield* Effect.timeoutOrElse(socket.closed, {
        duration: "10 seconds",
        orElse: () => Effect.die(new Error("the connection never ended"))
      })
      expect(info).toMatchObject({ code: 1006, local: true })
      expect(state.terminated).toBe(1)
    }))
  it.live("a close interrupted in the same turn as the peer's answer arrives leaves no deadline timer behind", () =>
    Effect.gen(function*() {
      const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === "Timeout").length
      const { controller, socket } = yield* wired({ closeTimeout: "1 hour" })
      const before = timers()
      const closing = yield* Effect.forkChild(socket.close({ code: 4000 }))
      yield* awaitSuspended(closing)
      // The peer's close frame lands and the caller gives up (an Effect.timeout firing) in the same turn.
      yield* Effect.sync(() => {
        controller.onClose({ code: 4000, reason: "", wasClean: true })
        closing.interruptUnsafe()
      })
      yield* Fiber.await(closing)
      for (let i = 0; i < 100 && timers() > before; i++) yield* Effect.promise(() => new Promise((r) => setImmediate(r)))
      expect(timers(), "a 1-hour timer kept for a socket already closed").toBe(before)
    }))
  it.effect("a send stalled on backpressure fails with SendTimeout and closes 1008 at sendStallTimeout (TestClock)", () =>
    Effect.gen(function*() {
      const { socket, state } = yield* wired({ sendHighWaterMark: 10, sendStallTimeout: "2 seconds", closeTimeout: "1 second" })
      state.buffered = 100
      const sender = yield* Effect.forkChild(Effect.flip(socket.send("x")))
      yield* awaitSuspended(sender)
      yield* TestClock.adjust("1 second")
      expect(sender.pollUnsafe(), "failed before the stall timeout").toBeUndefined()
      yield* TestClock.adjust("1 second")
      expect(yield* doneSoon(sender)).toMatchObject({ reason: "SendTimeout", code: 1008 })
      expect(state.closesSent).toBe(1)
      const closed = yield* Effect.forkChild(socket.closed)
      yield* TestClock.adjust("1 second")
      expect(yield* doneSoon(closed)).toMatchObject({ code: 1006 })
    }))
})
